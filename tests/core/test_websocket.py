"""The sans-IO WebSocket core: handshakes and HTTP answers, messages and limits, keepalive,
closing, and the deadlines, all with literal clock values."""

from __future__ import annotations

import struct
import tracemalloc
import zlib
from collections.abc import Callable

import h11
import pytest
from hypothesis import given, settings, strategies as st
from wsproto import ConnectionType, WSConnection, events as ws

from helpers.wspair import (
    BINARY,
    CLOSE,
    CONTINUATION,
    KEY,
    PING,
    PONG,
    TEXT,
    Core,
    HttpAnswer,
    Pair,
    accept_token,
    close_payload,
    frame,
    open_pair,
    read_answer,
    request,
    switching_protocols,
)
from mcpws.core._timers import Timers
from mcpws.core.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from mcpws.core.session import ClientSessionConfig
from mcpws.core.websocket import (
    COMPRESSION_THRESHOLD,
    DEFAULT_ORIGINS,
    LOOPBACK_HOSTS,
    BytesReceived,
    Closing,
    ConnectionAccepted,
    ConnectionClosed,
    ConnectionRejected,
    HttpAnswered,
    PingReceived,
    PongReceived,
    ServerPolicy,
    TextReceived,
    UpgradeRequested,
    WebSocketClient,
    WebSocketConfig,
    WebSocketEvent,
    WebSocketServer,
    host_allowed,
    origin_allowed,
    refusal,
)
from mcpws.core.websocket._frames import Header, mask, read_header

MODEST = settings(max_examples=100, deadline=None, database=None)
MIB = 1 << 20
NO_DEFLATE = WebSocketConfig(compression=False)
DEFLATE_OFFER = ("Sec-WebSocket-Extensions", "permessage-deflate")


# Helpers ------------------------------------------------------------------------------------


def answer_to(
    data: bytes,
    *,
    policy: ServerPolicy | None = None,
    config: WebSocketConfig | None = None,
    method: str = "GET",
) -> tuple[HttpAnswer, list[WebSocketEvent]]:
    """What a fresh server answers to *data*: the parsed response and the events."""
    server = WebSocketServer(0.0, config=config, policy=policy)
    server.receive_data(data, 0.0)
    assert server.closed
    return read_answer(server.data_to_send(), method=method), server.events_received()


def assert_refused(
    answer: HttpAnswer,
    events: list[WebSocketEvent],
    status: int,
    reason: str,
    *,
    target: str = "/mcp",
    blamed: bool = True,
) -> None:
    """The server answered *status* with *reason* as the body and closed the connection."""
    assert answer.status == status
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["connection"] == "close"
    assert answer.body == (reason + "\n").encode()
    answered, closed = events
    assert answered == HttpAnswered(status, target, reason)
    assert isinstance(closed, ConnectionClosed)
    assert (closed.code, closed.reason, closed.clean) == (None, reason, False)
    if blamed:
        assert isinstance(closed.cause, RemoteProtocolError)
        assert closed.cause.http_status == status
    else:
        assert closed.cause is None


def pending_server(
    data: bytes | None = None,
    *,
    config: WebSocketConfig | None = None,
    policy: ServerPolicy | None = None,
) -> tuple[WebSocketServer, UpgradeRequested]:
    """A server that read an upgrade request (*data*, or a valid one) and awaits accept()."""
    server = WebSocketServer(0.0, config=config, policy=policy)
    server.receive_data(request() if data is None else data, 0.0)
    (requested,) = server.events_received()
    assert isinstance(requested, UpgradeRequested)
    return server, requested


def open_server(config: WebSocketConfig | None = None, *extra: tuple[str, str]) -> WebSocketServer:
    """A server open to a hand-driven client (frames from :func:`frame`), drained."""
    server, _ = pending_server(request(extra=extra), config=config)
    server.accept(now=0.0)
    assert server.data_to_send()[0].startswith(b"HTTP/1.1 101 ")
    (accepted,) = server.events_received()
    assert isinstance(accepted, ConnectionAccepted)
    return server


def open_client(
    *extra: str, config: WebSocketConfig | None = None, subprotocols: tuple[str, ...] = ()
) -> WebSocketClient:
    """A client open to a hand-driven server that answered with *extra* header lines."""
    client = WebSocketClient("ws://localhost/mcp", 0.0, config=config, subprotocols=subprotocols)
    client.receive_data(switching_protocols(b"".join(client.data_to_send()), *extra), 0.0)
    (accepted,) = client.events_received()
    assert isinstance(accepted, ConnectionAccepted)
    return client


def server_frames(data: list[bytes]) -> list[tuple[int, bytes]]:
    """The (opcode, payload) of each unmasked frame a server sent; ``b""`` must come last."""
    assert b"" not in data[:-1]
    stream = b"".join(data)
    frames = []
    while stream:
        opcode, length = stream[0] & 0x0F, stream[1] & 0x7F
        assert not stream[1] & 0x80, "a server never masks"
        start = 2
        if length == 126:
            (length,) = struct.unpack("!H", stream[2:4])
            start = 4
        frames.append((opcode, stream[start : start + length]))
        stream = stream[start + length :]
    return frames


def failed_with(core: Core, code: int) -> ConnectionClosed:
    """The core failed the connection: it sent a close frame with *code*, closed the
    transport, and reported a ConnectionClosed whose cause carries *code*."""
    data = core.data_to_send()
    assert data[-1] == b""
    if isinstance(core, WebSocketServer):
        ((opcode, payload),) = server_frames(data)
        assert opcode == CLOSE
        assert struct.unpack("!H", payload[:2]) == (code,)
    *_, closed = core.events_received()
    assert isinstance(closed, ConnectionClosed)
    assert (closed.code, closed.clean) == (code, False)
    assert isinstance(closed.cause, RemoteProtocolError)
    assert closed.cause.close_code == code
    assert core.closed
    assert core.next_deadline() is None
    return closed


def deflate(data: bytes, compressor: zlib._Compress | None = None) -> bytes:
    """*data* compressed as one permessage-deflate message (the sync-flush tail stripped)."""
    compressor = compressor or zlib.compressobj(wbits=-15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def deflated_zeros(size: int) -> bytes:
    """*size* zero bytes (a multiple of 16 MiB) as one permessage-deflate message.

    Compressing a gigabyte takes seconds; but after a sync flush the compressor's window is
    all zeros, so every later 16 MiB block compresses to the same bytes, which repeat."""
    unit = 16 * MIB
    assert size % unit == 0
    compressor = zlib.compressobj(wbits=-15)
    first = compressor.compress(bytes(unit)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    block = compressor.compress(bytes(unit)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert compressor.compress(bytes(unit)) + compressor.flush(zlib.Z_SYNC_FLUSH) == block
    check = zlib.decompressobj(-15).decompress(first + block + block)
    assert check == bytes(3 * unit)
    return (first + block * (size // unit - 1))[:-4]


# Configuration and timers -------------------------------------------------------------------


def test_the_defaults_are_those_of_the_issue() -> None:
    config = WebSocketConfig()
    assert config.max_message_size == 16 * MIB
    assert (config.ping_interval, config.ping_timeout) == (20.0, 20.0)
    assert (config.handshake_timeout, config.close_timeout) == (10.0, 10.0)
    assert config.max_handshake_size == 16 * 1024
    assert (config.compression, config.compression_level) == (True, 1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("compression_level", -1),
        ("compression_level", 10),
        ("compression_level", True),
        ("compression_level", 1.0),
        ("max_message_size", 0),
        ("max_message_size", -1),
        ("max_message_size", "big"),
        ("ping_interval", 0),
        ("ping_interval", -0.5),
        ("ping_interval", float("nan")),
        ("ping_interval", True),
        ("ping_interval", "20"),
        ("ping_timeout", 0.0),
        ("close_timeout", float("nan")),
        ("handshake_timeout", -1),
        ("close_timeout", 0),
        ("max_handshake_size", 0),
        ("max_handshake_size", None),
        ("max_handshake_size", 1.5),
        ("max_handshake_size", True),
        ("max_handshake_size", -1),
    ],
)
def test_a_config_value_that_is_not_positive_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        WebSocketConfig(**{field: value})  # type: ignore[arg-type]


def test_none_switches_a_limit_or_timer_off() -> None:
    config = WebSocketConfig(
        max_message_size=None,
        ping_interval=None,
        ping_timeout=None,
        handshake_timeout=None,
        close_timeout=None,
    )
    assert WebSocketServer(0.0, config=config).next_deadline() is None


def test_timers_fire_earliest_first_and_only_once() -> None:
    timers = Timers[str]()
    assert timers.next() is None
    timers.set("b", 2.0)
    timers.set("a", 1.0)
    timers.set("c", 3.0)
    assert (timers.next(), timers.get("b"), timers.get("z")) == (1.0, 2.0, None)
    assert (timers.pop_due(2.5), timers.pop_due(2.5), timers.pop_due(2.5)) == ("a", "b", None)
    assert timers.next() == 3.0


def test_timers_are_cleared_by_name_by_none_or_all_at_once() -> None:
    timers = Timers[str]()
    for name in "abc":
        timers.set(name, 1.0)
    timers.set("a", None)
    timers.set("never-set", None)
    timers.clear("b", "never-set")
    assert (timers.pop_due(5.0), timers.pop_due(5.0)) == ("c", None)
    timers.set("d", 4.0)
    timers.set("e", 5.0)
    timers.clear()
    assert timers.next() is None


# Origin and Host patterns -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "patterns", "allowed"),
    [
        ("http://localhost:3000", DEFAULT_ORIGINS, True),
        ("https://127.0.0.1", DEFAULT_ORIGINS, True),
        ("http://[::1]:8080", DEFAULT_ORIGINS, True),
        ("http://[::1]", DEFAULT_ORIGINS, True),
        ("HTTP://LocalHost:3000", DEFAULT_ORIGINS, True),
        ("https://evil.example", DEFAULT_ORIGINS, False),
        ("http://localhost.evil.example", DEFAULT_ORIGINS, False),
        ("http://[::2]:80", DEFAULT_ORIGINS, False),
        ("null", DEFAULT_ORIGINS, False),
        ("null", ("null",), True),
        ("null", ("*",), True),
        ("https://anything.example:1234", ("*",), True),
        ("https://x.example", ("https://y.example", "*"), True),
        ("https://app.example.com", ("https://*.example.com",), True),
        ("https://a.b.example.com", ("https://*.example.com",), True),
        ("https://example.com", ("https://*.example.com",), False),
        ("https://evilexample.com", ("https://*.example.com",), False),
        ("https://example.com", ("https://example.com:443",), True),
        ("https://example.com:443", ("https://example.com",), True),
        ("http://example.com:80", ("http://example.com",), True),
        ("ws://example.com", ("http://example.com:80",), False),
        ("http://example.com", ("https://example.com",), False),
        ("http://example.com:8080", ("http://example.com",), False),
        ("http://example.com:8080", ("*://example.com:*",), True),
        ("https://[::1]:443", ("https://[::1]",), True),
        ("foo://example.com", ("foo://example.com",), True),
        ("foo://example.com", ("foo://example.com:80",), False),
        ("https://example.com", ("example.com", "https://example.com"), True),
        ("https://example.com/page", ("https://example.com",), False),
        ("https://example.com/page", ("https://example.com/page",), True),
    ],
)
def test_origin_patterns(origin: str, patterns: tuple[str, ...], allowed: bool) -> None:
    assert origin_allowed(origin, patterns) is allowed


@pytest.mark.parametrize(
    ("host", "patterns", "allowed"),
    [
        ("localhost:8000", LOOPBACK_HOSTS, True),
        ("LOCALHOST:8000", LOOPBACK_HOSTS, True),
        ("127.0.0.1", LOOPBACK_HOSTS, True),
        ("[::1]:9", LOOPBACK_HOSTS, True),
        ("[::1]", LOOPBACK_HOSTS, True),
        ("evil.example", LOOPBACK_HOSTS, False),
        ("localhost.evil.example:80", LOOPBACK_HOSTS, False),
        ("example.com", ("example.com",), True),
        ("example.com:80", ("example.com",), False),
        ("example.com:8080", ("example.com:8080",), True),
        ("example.com:8081", ("example.com:8080",), False),
        ("api.example.com", ("*.example.com",), True),
        ("example.com", ("*.example.com",), False),
        ("anything:1", ("nothing", "*"), True),
    ],
)
def test_host_patterns(host: str, patterns: tuple[str, ...], allowed: bool) -> None:
    assert host_allowed(host, patterns) is allowed


# The server's HTTP answers ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_the_health_path_is_answered_200_ok(method: str) -> None:
    answer, events = answer_to(request("/healthz", method=method), method=method)
    assert answer.status == 200
    assert answer.headers["content-length"] == "3"
    assert answer.body == (b"ok\n" if method == "GET" else b"")
    assert events == [
        HttpAnswered(200, "/healthz", "ok"),
        ConnectionClosed(None, "ok", False, None),
    ]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_the_readiness_path_is_200_while_ready_then_503_and_health_stays_200(method: str) -> None:
    answer, _ = answer_to(request("/readyz", method=method), method=method)
    assert answer.status == 200
    not_ready = WebSocketServer(0.0)
    not_ready.ready = False
    not_ready.receive_data(request("/readyz", method=method), 0.0)
    answer = read_answer(not_ready.data_to_send(), method=method)
    assert answer.status == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.body == (b"not ready: the server is shutting down\n" if method == "GET" else b"")
    alive = WebSocketServer(0.0)
    alive.ready = False
    alive.receive_data(request("/healthz", method=method), 0.0)
    assert read_answer(alive.data_to_send(), method=method).status == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_probes_answer_only_allowed_hosts_unless_told_otherwise(path: str) -> None:
    strict = ServerPolicy(allowed_hosts=("example.com",))
    answer, events = answer_to(request(path), policy=strict)
    host = dict(_host_of(request(path)))
    assert_refused(answer, events, 403, f"the host {host['host']!r} is not allowed", target=path)
    lax = ServerPolicy(allowed_hosts=("example.com",), probes_any_host=True)
    assert answer_to(request(path), policy=lax)[0].status == 200
    allowed = request(path, replace={"Host": "example.com"})
    assert answer_to(allowed, policy=strict)[0].status == 200


def _host_of(data: bytes) -> list[tuple[str, str]]:
    lines = data.decode("latin-1").split("\r\n")[1:]
    pairs = [line.split(": ", 1) for line in lines if ": " in line]
    return [(name.lower(), value) for name, value in pairs if name.lower() == "host"]


def test_the_health_path_can_be_switched_off() -> None:
    answer, events = answer_to(request("/healthz"), policy=ServerPolicy(health_path=None))
    assert_refused(answer, events, 404, "nothing is served at /healthz", target="/healthz")


def test_another_path_gets_404() -> None:
    answer, events = answer_to(request("/other?x=1"))
    assert_refused(answer, events, 404, "nothing is served at /other", target="/other?x=1")


def test_a_method_other_than_get_gets_405_allowing_get() -> None:
    answer, events = answer_to(request(method="POST"))
    assert_refused(answer, events, 405, "a WebSocket upgrade must be a GET request")
    assert answer.headers["allow"] == "GET"


def test_a_head_request_gets_the_headers_of_the_answer_and_no_body() -> None:
    server = WebSocketServer(0.0)
    server.receive_data(request(method="HEAD"), 0.0)
    data = server.data_to_send()
    answer = read_answer(data, method="HEAD")
    assert (answer.status, answer.headers["allow"], answer.body) == (405, "GET", b"")
    assert answer.headers["content-length"] == "42"
    assert data[0].endswith(b"\r\n\r\n")


def test_a_plain_http_get_gets_426_upgrade_websocket() -> None:
    answer, events = answer_to(request(replace={"Upgrade": None, "Connection": None}))
    assert_refused(answer, events, 426, "this endpoint speaks WebSocket only")
    assert answer.headers["upgrade"] == "websocket"


def test_connection_upgrade_is_found_among_other_tokens() -> None:
    pending_server(request(replace={"Connection": "keep-alive, Upgrade", "Upgrade": "WebSocket"}))


def test_a_wrong_websocket_version_gets_426_naming_version_13() -> None:
    answer, events = answer_to(request(replace={"Sec-WebSocket-Version": "8"}))
    assert_refused(answer, events, 426, "WebSocket version 13 is required")
    assert answer.headers["sec-websocket-version"] == "13"


@pytest.mark.parametrize("key", [None, "", "abc", "dGhlIHNhbXBsZQ==", "dGhlIHNhbXBsZSBub25jZQ="])
def test_a_missing_or_malformed_key_gets_400(key: str | None) -> None:
    answer, events = answer_to(request(replace={"Sec-WebSocket-Key": key}))
    assert_refused(answer, events, 400, "the Sec-WebSocket-Key header is missing or malformed")


def test_a_request_without_host_gets_400() -> None:
    answer, (answered, _) = answer_to(request(replace={"Host": None}))
    assert answer.status == 400
    assert isinstance(answered, HttpAnswered)
    assert "Host" in answered.reason  # h11 refuses HTTP/1.1 without it


@pytest.mark.parametrize("host", [True, False])
def test_an_upgrade_over_http_1_0_gets_505(host: bool) -> None:
    data = request(http_version="1.0", replace={} if host else {"Host": None})
    answer, events = answer_to(data)
    assert_refused(answer, events, 505, "a WebSocket upgrade is an HTTP/1.1 request")


def test_the_health_path_answers_over_http_1_0_too() -> None:
    answer, _ = answer_to(request("/healthz", http_version="1.0"))
    assert (answer.status, answer.body) == (200, b"ok\n")


def test_malformed_http_gets_400() -> None:
    answer, events = answer_to(b"NOT HTTP AT ALL\r\n\r\n")
    assert answer.status == 400
    answered, closed = events
    assert isinstance(answered, HttpAnswered)
    assert answered.target == ""
    assert answered.reason.startswith("bad HTTP request: ")
    assert isinstance(closed, ConnectionClosed)
    assert isinstance(closed.cause, RemoteProtocolError)
    assert closed.cause.http_status == 400


def test_an_oversized_request_head_gets_431_even_when_it_arrives_whole() -> None:
    config = WebSocketConfig(max_handshake_size=512)
    data = request(extra=[("X-Padding", "x" * 600)])
    answer, events = answer_to(data + frame(TEXT, b"early"), config=config)
    reason = "the request head is larger than 512 bytes"
    assert_refused(answer, events, 431, reason, target="")
    padding = "x" * (600 - (len(data) - 512))  # exactly 512 bytes, then early frames
    pending_server(request(extra=[("X-Padding", padding)]) + bytes(600), config=config)


def test_an_oversized_head_is_refused_before_it_ends() -> None:
    server = WebSocketServer(0.0, config=WebSocketConfig(max_handshake_size=512))
    server.receive_data(b"GET /mcp HTTP/1.1\r\nX-Padding: " + b"x" * 600, 0.0)
    assert read_answer(server.data_to_send()).status == 431


def test_a_request_that_does_not_arrive_in_time_gets_408() -> None:
    server = WebSocketServer(0.0)
    assert server.next_deadline() == 10.0
    server.receive_data(b"GET /mcp HTTP/1.1\r\nHost: loc", 1.0)
    server.handle_timeout(9.99)
    assert server.data_to_send() == []
    assert not server.closed
    server.handle_timeout(10.0)
    answer = read_answer(server.data_to_send())
    assert_refused(
        answer, server.events_received(), 408, "the request did not arrive in time", target=""
    )
    assert server.next_deadline() is None


def test_an_upgrade_the_application_does_not_accept_in_time_gets_503() -> None:
    server, _ = pending_server(config=WebSocketConfig(handshake_timeout=3.0))
    assert server.next_deadline() == 3.0
    server.handle_timeout(3.0)
    reason = "the server did not accept the upgrade in time"
    assert_refused(
        read_answer(server.data_to_send()), server.events_received(), 503, reason, blamed=False
    )


def test_a_refusal_is_the_answer_a_rejection_gives_without_a_request() -> None:
    """What a server that will not read the request writes before it closes: the bytes of
    the same answer as a rejection's, head and body."""
    server, _ = pending_server()
    server.reject(503, "full", headers=[("retry-after", "1")])
    data = refusal(503, "full", headers=[("retry-after", "1")])
    assert b"".join(server.data_to_send()) == data
    refused = read_answer([data, b""])
    assert refused.status == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["connection"] == "close"


def test_a_refusal_of_a_status_no_response_can_have_raises() -> None:
    with pytest.raises(LocalProtocolError, match="cannot answer with that response"):
        refusal(99, "no")


@pytest.mark.parametrize(
    "extra",
    [
        [("Origin", "https://evil.example")],
        [("Origin", "null")],
    ],
)
def test_a_foreign_origin_gets_403(extra: list[tuple[str, str]]) -> None:
    answer, events = answer_to(request(extra=extra))
    assert_refused(answer, events, 403, f"the origin {extra[0][1]!r} is not allowed")


@pytest.mark.parametrize(
    "origin", [None, "http://localhost:5173", "https://127.0.0.1:8443", "http://[::1]:3000"]
)
def test_no_origin_or_a_loopback_origin_is_allowed_by_default(origin: str | None) -> None:
    extra = [("Origin", origin)] if origin is not None else []
    _, requested = pending_server(request(extra=extra))
    assert requested.request.header("origin") == origin


def test_a_foreign_host_gets_403_with_loopback_hosts() -> None:
    policy = ServerPolicy(allowed_hosts=LOOPBACK_HOSTS)
    answer, events = answer_to(request(replace={"Host": "evil.example:8000"}), policy=policy)
    assert_refused(answer, events, 403, "the host 'evil.example:8000' is not allowed")
    pending_server(request(replace={"Host": "127.0.0.1:8000"}), policy=policy)


def test_any_host_is_allowed_by_default() -> None:
    pending_server(request(replace={"Host": "mcp.example.com"}))


@pytest.mark.parametrize(
    ("policy", "offered"),
    [
        (ServerPolicy(subprotocols=("mcp",)), "other, another"),
        (ServerPolicy(subprotocols=("mcp", "x"), require_subprotocol=True), None),
    ],
)
def test_a_missing_required_subprotocol_gets_400(policy: ServerPolicy, offered: str | None) -> None:
    answer, events = answer_to(
        request(extra=[("Sec-WebSocket-Protocol", offered)] if offered else []),
        policy=policy,
    )
    spoken = ", ".join(map(repr, policy.subprotocols))
    reason = f"this endpoint speaks the WebSocket subprotocols {spoken} only"
    assert_refused(answer, events, 400, reason)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Host", "xn--zz"),  # not IDNA (bad punycode)
        ("Sec-WebSocket-Protocol", "caf\xe9"),  # not ASCII
        ("Upgrade", "h2c"),  # a second Upgrade header, which wsproto reads instead
        ("Sec-WebSocket-Version", "8"),
    ],
)
def test_a_request_wsproto_cannot_accept_gets_400_before_the_application_is_asked(
    name: str, value: str
) -> None:
    data = request(replace={name: value}) if name == "Host" else request(extra=[(name, value)])
    answer, events = answer_to(data)
    assert answer.status == 400
    answered, closed = events
    assert isinstance(answered, HttpAnswered)
    assert answered.reason.startswith("not a valid WebSocket upgrade request: ")
    assert isinstance(closed, ConnectionClosed)
    assert closed.cause is not None


def test_the_upgrade_request_is_described_to_the_application() -> None:
    extra = [
        ("X-Token", "secret"),
        ("Sec-WebSocket-Protocol", "a, ,b"),
        ("Sec-WebSocket-Protocol", "c"),
    ]
    _, requested = pending_server(request("/mcp?session=1", extra=extra))
    assert requested.subprotocol is None
    described = requested.request
    assert (described.target, described.path) == ("/mcp?session=1", "/mcp")
    assert described.subprotocols == ("a", "b", "c")
    assert described.header("X-TOKEN") == described.header("x-token") == "secret"
    assert described.header("sec-websocket-key") == KEY
    assert described.header("missing") is None
    assert ("host", "localhost") in described.headers


def test_any_path_upgrades_when_the_policy_names_none() -> None:
    _, requested = pending_server(request("/anything"), policy=ServerPolicy(path=None))
    assert requested.request.path == "/anything"


def test_the_application_rejects_with_401_and_www_authenticate() -> None:
    client = WebSocketClient("ws://localhost/mcp", 0.0)
    server = WebSocketServer(0.0)
    server.receive_data(b"".join(client.data_to_send()), 0.0)
    server.events_received()
    challenge = ("WWW-Authenticate", 'Bearer realm="mcp"')
    server.reject(401, "token expired", headers=[challenge])
    data = server.data_to_send()
    answer = read_answer(data)
    assert answer.headers["www-authenticate"] == 'Bearer realm="mcp"'
    assert_refused(answer, server.events_received(), 401, "token expired", blamed=False)

    for chunk in data:
        client.receive_data(chunk, 0.0) if chunk else client.receive_eof(0.0)
    rejected, closed = client.events_received()
    assert isinstance(rejected, ConnectionRejected)
    assert rejected.status_code == 401
    assert rejected.body == b"token expired\n"
    assert ("www-authenticate", 'Bearer realm="mcp"') in rejected.headers
    assert isinstance(closed, ConnectionClosed)
    assert isinstance(closed.cause, RemoteProtocolError)
    assert (closed.code, closed.clean, closed.cause.http_status) == (None, False, 401)
    assert "HTTP 401" in closed.reason
    assert "token expired" in closed.reason
    assert client.data_to_send() == [b""]
    assert client.closed


def test_reject_defaults_to_403_forbidden() -> None:
    server, _ = pending_server()
    server.reject()
    answer = read_answer(server.data_to_send())
    assert_refused(answer, server.events_received(), 403, "Forbidden", blamed=False)


@pytest.mark.parametrize(
    ("status", "status_line", "body"),
    [
        (403, b"HTTP/1.1 403 Forbidden\r\n", b"Forbidden\n"),
        (401, b"HTTP/1.1 401 Unauthorized\r\n", b"Unauthorized\n"),
        (503, b"HTTP/1.1 503 Service Unavailable\r\n", b"Service Unavailable\n"),
        (499, b"HTTP/1.1 499 \r\n", b"Error\n"),  # no standard phrase to send
    ],
)
def test_a_rejection_sends_the_standard_reason_phrase(
    status: int, status_line: bytes, body: bytes
) -> None:
    server, _ = pending_server()
    server.reject(status)
    data = b"".join(server.data_to_send())
    assert data.startswith(status_line)
    assert data.endswith(b"\r\n\r\n" + body)


@pytest.mark.parametrize(
    ("data", "status_line"),
    [
        (request(target="/healthz"), b"HTTP/1.1 200 OK\r\n"),
        (request(target="/elsewhere"), b"HTTP/1.1 404 Not Found\r\n"),
        (b"GET /mcp HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 426 Upgrade Required\r\n"),
        (b"nonsense\r\n\r\n", b"HTTP/1.1 400 Bad Request\r\n"),
    ],
)
def test_every_answer_of_the_policy_has_its_reason_phrase(data: bytes, status_line: bytes) -> None:
    server = WebSocketServer(0.0)
    server.receive_data(data, 0.0)
    assert b"".join(server.data_to_send()).startswith(status_line)


def test_a_rejection_with_status_204_has_no_body() -> None:
    server, _ = pending_server()
    server.reject(204)
    answer = read_answer(server.data_to_send())
    assert (answer.status, answer.body) == (204, b"")


@pytest.mark.parametrize(
    ("status", "headers"), [(101, []), (1000, []), (403, [("bad header", "x")])]
)
def test_a_rejection_h11_cannot_send_raises_and_changes_nothing(
    status: int, headers: list[tuple[str, str]]
) -> None:
    server, _ = pending_server()
    with pytest.raises(LocalProtocolError, match="cannot answer with that response"):
        server.reject(status, headers=headers)
    assert server.data_to_send() == []
    assert server.events_received() == []
    server.reject(403)
    assert read_answer(server.data_to_send()).status == 403


def test_accept_and_reject_are_refused_when_no_upgrade_is_pending() -> None:
    server = WebSocketServer(0.0)
    with pytest.raises(LocalProtocolError, match="no upgrade to accept while handshake"):
        server.accept(now=0.0)
    with pytest.raises(LocalProtocolError, match="no upgrade to reject while handshake"):
        server.reject()
    server = open_server()
    with pytest.raises(LocalProtocolError, match="while open"):
        server.accept(now=0.0)
    with pytest.raises(LocalProtocolError, match="while open"):
        server.reject()
    server.receive_eof(1.0)
    with pytest.raises(LocalProtocolError, match="while closed"):
        server.accept(now=1.0)


# Subprotocols -------------------------------------------------------------------------------


def test_mcp_is_selected_when_offered() -> None:
    pair = open_pair(policy=ServerPolicy(subprotocols=("mcp",)), subprotocols=("other", "mcp"))
    assert pair.server.is_open
    assert pair.client.is_open


def test_the_servers_preference_wins_and_both_sides_learn_it() -> None:
    policy = ServerPolicy(subprotocols=("mcp.v2", "mcp"))
    client = WebSocketClient("ws://localhost/mcp", 0.0, subprotocols=("mcp", "mcp.v2"))
    server = WebSocketServer(0.0, policy=policy)
    pair = Pair(client, server)
    pair.pump(0.0)
    (requested,) = server.events_received()
    assert isinstance(requested, UpgradeRequested)
    assert requested.subprotocol == "mcp.v2"
    server.accept(now=0.0)
    pair.pump(0.0)
    client_events, server_events = pair.events()
    deflate_only = ("permessage-deflate",)
    assert client_events == server_events == [ConnectionAccepted("mcp.v2", deflate_only)]


def test_the_application_may_choose_another_offered_subprotocol() -> None:
    server, _ = pending_server(request(extra=[("Sec-WebSocket-Protocol", "mcp, other")]))
    server.accept(now=0.0, subprotocol="other")
    assert b"Sec-WebSocket-Protocol: other\r\n" in server.data_to_send()[0]
    assert server.events_received() == [ConnectionAccepted("other", ())]


def test_a_subprotocol_the_client_did_not_offer_is_never_selected() -> None:
    server, _ = pending_server(request(extra=[("Sec-WebSocket-Protocol", "mcp")]))
    with pytest.raises(LocalProtocolError, match="did not offer the subprotocol 'other'"):
        server.accept(now=0.0, subprotocol="other")
    assert server.data_to_send() == []
    assert not server.is_open
    server.accept(now=0.0)
    assert server.events_received() == [ConnectionAccepted(None, ())]


def test_a_client_offering_none_is_accepted_without_one() -> None:
    server, requested = pending_server(policy=ServerPolicy(subprotocols=("mcp",)))
    assert requested.subprotocol is None
    server.accept(now=0.0)
    assert b"Sec-WebSocket-Protocol" not in server.data_to_send()[0]
    assert server.events_received() == [ConnectionAccepted(None, ())]


def test_a_server_without_subprotocols_accepts_offers_without_one() -> None:
    pair = open_pair(subprotocols=("mcp",))
    pair.client.send_text("hi")
    pair.pump(0.0)
    assert pair.server.events_received() == [TextReceived("hi")]


def test_accept_sends_extra_headers_and_keeps_the_principal() -> None:
    server, _ = pending_server()
    principal = object()
    server.accept(now=0.0, extra_headers=[("X-Session", "s1")], principal=principal)
    assert b"X-Session: s1\r\n" in server.data_to_send()[0]
    assert server.principal is principal


# Early data -------------------------------------------------------------------------------


def test_frames_sent_before_accept_are_processed_after_it() -> None:
    server = WebSocketServer(0.0)
    server.receive_data(request() + frame(TEXT, b"first"), 0.0)
    server.receive_data(frame(BINARY, b"second"), 0.5)
    assert [type(e) for e in server.events_received()] == [UpgradeRequested]
    server.accept(now=1.0)
    assert server.events_received() == [
        ConnectionAccepted(None, ()),
        TextReceived("first"),
        BytesReceived(b"second"),
    ]


def test_too_much_early_data_gets_400() -> None:
    server, _ = pending_server(config=WebSocketConfig(max_handshake_size=1024))
    server.receive_data(frame(BINARY, bytes(1000)), 0.0)
    assert not server.closed
    server.receive_data(frame(BINARY, bytes(100)), 0.0)
    reason = "the client sent too much before the upgrade was accepted"
    assert_refused(read_answer(server.data_to_send()), server.events_received(), 400, reason)


# The client's handshake ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host", "port", "secure", "target", "host_header"),
    [
        ("ws://localhost/mcp", "localhost", 80, False, "/mcp", "localhost"),
        ("wss://example.com", "example.com", 443, True, "/", "example.com"),
        ("wss://Example.COM:443/x", "example.com", 443, True, "/x", "example.com"),
        ("ws://example.com:80/", "example.com", 80, False, "/", "example.com"),
        (
            "ws://example.com:8080/a/b?x=1&y=2",
            "example.com",
            8080,
            False,
            "/a/b?x=1&y=2",
            "example.com:8080",
        ),
        ("wss://example.com:80/", "example.com", 80, True, "/", "example.com:80"),
        ("wss://[::1]:8443/mcp", "::1", 8443, True, "/mcp", "[::1]:8443"),
        ("ws://[::1]/", "::1", 80, False, "/", "[::1]"),
        ("ws://127.0.0.1:9000?q", "127.0.0.1", 9000, False, "/?q", "127.0.0.1:9000"),
    ],
)
def test_the_client_builds_its_request_from_the_url(
    url: str, host: str, port: int, secure: bool, target: str, host_header: str
) -> None:
    client = WebSocketClient(url, 0.0)
    assert (client.host, client.port, client.secure, client.target) == (host, port, secure, target)
    reader = h11.Connection(h11.SERVER)
    reader.receive_data(b"".join(client.data_to_send()))
    sent = reader.next_event()
    assert isinstance(sent, h11.Request)
    assert (sent.method, sent.target) == (b"GET", target.encode())
    headers = dict(sent.headers)
    assert headers[b"host"] == host_header.encode()
    assert headers[b"upgrade"].lower() == b"websocket"
    assert headers[b"sec-websocket-version"] == b"13"
    assert headers[b"sec-websocket-extensions"].startswith(b"permessage-deflate")


def test_the_client_sends_subprotocols_extra_headers_and_origin() -> None:
    client = WebSocketClient(
        "ws://localhost/mcp",
        0.0,
        config=NO_DEFLATE,
        subprotocols=("mcp", "mcp.v2"),
        extra_headers=[("Authorization", "Bearer t")],
        origin="http://localhost:5173",
    )
    server, requested = pending_server(b"".join(client.data_to_send()))
    assert requested.request.subprotocols == ("mcp", "mcp.v2")
    assert requested.request.header("authorization") == "Bearer t"
    assert requested.request.header("origin") == "http://localhost:5173"
    assert requested.request.header("sec-websocket-extensions") is None
    assert server.is_open is False


@pytest.mark.parametrize(
    "url", ["http://localhost/mcp", "https://localhost/", "ws://", "wss:///mcp", "localhost:80"]
)
def test_a_url_that_is_not_ws_or_wss_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="not a ws:// or wss:// URL"):
        WebSocketClient(url, 0.0)


def test_compression_false_negotiates_no_extension() -> None:
    for client_config, server_config in ((NO_DEFLATE, None), (None, NO_DEFLATE)):
        client = WebSocketClient("ws://localhost/mcp", 0.0, config=client_config)
        server = WebSocketServer(0.0, config=server_config)
        pair = Pair(client, server)
        pair.pump(0.0)
        server.events_received()
        server.accept(now=0.0)
        pair.pump(0.0)
        assert pair.events() == ([ConnectionAccepted(None, ())], [ConnectionAccepted(None, ())])


def test_a_long_rejection_body_is_cut_to_4_kib() -> None:
    client = WebSocketClient("ws://localhost/mcp", 0.0)
    answer = b"HTTP/1.1 500 Oops\r\ncontent-length: 10000\r\n\r\n" + b"x" * 10000
    for start in range(0, len(answer), 1000):
        client.receive_data(answer[start : start + 1000], 0.0)
    rejected, closed = client.events_received()
    assert rejected == ConnectionRejected(500, (("content-length", "10000"),), b"x" * 4096)
    assert isinstance(closed, ConnectionClosed)
    assert closed.cause is not None
    assert closed.cause.http_status == 500


def test_an_informational_answer_other_than_101_is_a_rejection() -> None:
    client = WebSocketClient("ws://localhost/mcp", 0.0)
    client.receive_data(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n", 0.0)
    rejected, closed = client.events_received()
    assert rejected == ConnectionRejected(103, (("link", "</style.css>"),), b"")
    assert isinstance(closed, ConnectionClosed)
    assert closed.cause is not None
    assert closed.cause.http_status == 103


@pytest.mark.parametrize(
    ("extra", "accept", "problem"),
    [
        ((), "c3VyZWx5IG5vdCB0aGUga2V5Cg==", "Bad accept token"),
        (("Sec-WebSocket-Protocol: other",), None, "unrecognized subprotocol other"),
        (("Sec-WebSocket-Protocol: caf\xe9",), None, "can't decode byte 0xe9"),
        (("Sec-WebSocket-Extensions: x-unknown",), None, "unrecognized extension x-unknown"),
        (
            ("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99",),
            None,
            "invalid parameter 'server_max_window_bits=99'",
        ),
    ],
)
def test_an_invalid_101_closes_naming_the_problem(
    extra: tuple[str, ...], accept: str | None, problem: str
) -> None:
    client = WebSocketClient("ws://localhost/mcp", 0.0, subprotocols=("mcp",))
    client.receive_data(
        switching_protocols(b"".join(client.data_to_send()), *extra, accept=accept), 0.0
    )
    (closed,) = client.events_received()
    assert isinstance(closed, ConnectionClosed)
    assert (closed.code, closed.clean) == (None, False)
    assert closed.reason.startswith("the server's answer is not a valid WebSocket upgrade: ")
    assert isinstance(closed.cause, RemoteProtocolError)
    assert problem in str(closed.cause)
    assert client.data_to_send() == [b""]
    assert client.closed


def test_frames_in_the_same_chunk_as_the_101_are_delivered() -> None:
    client = WebSocketClient("ws://localhost/mcp", 0.0, config=NO_DEFLATE)
    answer = switching_protocols(b"".join(client.data_to_send()))
    client.receive_data(answer + frame(TEXT, b"welcome", masked=False), 0.0)
    assert client.events_received() == [ConnectionAccepted(None, ()), TextReceived("welcome")]


def test_the_client_gives_up_when_the_handshake_takes_too_long() -> None:
    client = WebSocketClient("ws://localhost/mcp", 0.0, config=WebSocketConfig(handshake_timeout=5))
    client.data_to_send()
    assert client.next_deadline() == 5.0
    client.receive_data(b"HTTP/1.1 101 Switching", 1.0)
    client.handle_timeout(4.99)
    assert client.events_received() == []
    client.handle_timeout(5.0)
    (closed,) = client.events_received()
    assert isinstance(closed, ConnectionClosed)
    reason = "the server did not complete the handshake in time"
    assert closed == ConnectionClosed(None, reason, False, closed.cause)
    assert isinstance(closed.cause, RemoteProtocolError)
    assert client.data_to_send() == [b""]
    assert client.next_deadline() is None


def test_a_valid_101_answer_opens_the_client() -> None:
    client = open_client("Sec-WebSocket-Protocol: mcp", subprotocols=("mcp",))
    assert client.is_open
    assert client.next_deadline() == 20.0


# Messages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("config", [WebSocketConfig(), NO_DEFLATE])
def test_text_and_binary_messages_flow_both_ways(config: WebSocketConfig) -> None:
    pair = open_pair(config=config)
    pair.client.send_text("héllo")
    pair.client.send_bytes(b"\x00\x01" * 1000)
    pair.server.send_text("")
    pair.server.send_bytes(bytearray(b"back"))  # type: ignore[arg-type]
    pair.pump(1.0)
    assert pair.server.events_received() == [
        TextReceived("héllo"),
        BytesReceived(b"\x00\x01" * 1000),
    ]
    assert pair.client.events_received() == [TextReceived(""), BytesReceived(b"back")]


def test_fragments_are_reassembled_around_a_ping() -> None:
    server = open_server()
    snowman = "☃".encode()
    server.receive_data(frame(TEXT, b"Hello, " + snowman[:1], fin=False), 1.0)
    server.receive_data(frame(PING, b"mid"), 1.0)
    server.receive_data(frame(CONTINUATION, snowman[1:], fin=False), 1.0)
    assert server.events_received() == [PingReceived(b"mid")]
    server.receive_data(frame(CONTINUATION, b" world"), 1.0)
    assert server.events_received() == [TextReceived("Hello, ☃ world")]
    assert server_frames(server.data_to_send()) == [(PONG, b"mid")]
    server.receive_data(frame(BINARY, b"ab", fin=False) + frame(CONTINUATION, b"cd"), 1.0)
    assert server.events_received() == [BytesReceived(b"abcd")]


def test_the_client_reassembles_fragments_too() -> None:
    client = open_client(config=NO_DEFLATE)
    client.receive_data(frame(BINARY, b"ab", fin=False, masked=False), 1.0)
    client.receive_data(frame(CONTINUATION, b"cd", masked=False), 1.0)
    assert client.events_received() == [BytesReceived(b"abcd")]


def test_a_compressed_message_in_fragments_is_reassembled_around_a_ping() -> None:
    server = open_server(None, DEFLATE_OFFER)
    message = b'{"jsonrpc": "2.0", "method": "ping"} ' * 50
    compressed = deflate(message)
    half = len(compressed) // 2
    server.receive_data(frame(TEXT, compressed[:half], fin=False, rsv1=True), 1.0)
    server.receive_data(frame(PING, b"keep"), 1.0)
    server.receive_data(frame(CONTINUATION, compressed[half:]), 1.0)
    assert server.events_received() == [PingReceived(b"keep"), TextReceived(message.decode())]


def test_compressed_messages_share_the_window_or_not_as_negotiated() -> None:
    shared = zlib.compressobj(wbits=-15)
    server = open_server(None, DEFLATE_OFFER)
    server.receive_data(frame(TEXT, deflate(b"one " * 100, shared), rsv1=True), 1.0)
    server.receive_data(frame(TEXT, deflate(b"one " * 100, shared), rsv1=True), 1.0)
    assert server.events_received() == [TextReceived("one " * 100)] * 2

    offer = ("Sec-WebSocket-Extensions", "permessage-deflate; client_no_context_takeover")
    server = open_server(None, offer)
    for _ in range(2):
        server.receive_data(frame(TEXT, deflate(b"two " * 100), rsv1=True), 1.0)
    assert server.events_received() == [TextReceived("two " * 100)] * 2

    client = open_client("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover")
    for _ in range(2):
        client.receive_data(frame(BINARY, deflate(b"\x03" * 300), rsv1=True, masked=False), 1.0)
    assert client.events_received() == [BytesReceived(b"\x03" * 300)] * 2


def _sent_size(level: int, texts: list[str]) -> int:
    """Bytes a client at *level* sends for *texts*, which the server must receive whole."""
    pair = open_pair(config=WebSocketConfig(compression_level=level))
    for text in texts:
        pair.client.send_text(text)
    sent = b"".join(pair.client.data_to_send())
    pair.server.receive_data(sent, 1.0)
    assert pair.server.events_received() == [TextReceived(text) for text in texts]
    return len(sent)


def test_the_compression_level_is_zlibs_for_every_message_sent() -> None:
    texts = [f"line {n}: {n * n} is the square of {n}\n" * 40 for n in range(2)]
    sizes = {level: _sent_size(level, texts) for level in (0, 1, 9)}
    raw = sum(map(len, texts))
    assert sizes[9] < sizes[1] < raw < sizes[0]  # level 0 stores the bytes, framed


@pytest.mark.parametrize("takeover", [True, False])
def test_messages_sent_share_the_window_unless_negotiated_otherwise(takeover: bool) -> None:
    offer = "permessage-deflate" + ("" if takeover else "; server_no_context_takeover")
    server = open_server(None, ("Sec-WebSocket-Extensions", offer))
    text = " ".join(str(n * 7919 % 10007) for n in range(400))  # hardly repeats itself
    sent = []
    for _ in range(2):
        server.send_text(text)
        (data,) = server.data_to_send()
        sent.append(data)
    assert [data[0] for data in sent] == [0xC1, 0xC1]  # FIN, RSV1 (compressed), text
    # Sharing the window, the second says "the same as before" in a few bytes.
    assert (len(sent[1]) < len(sent[0]) // 2) is takeover
    inflater = zlib.decompressobj(-15)
    for data in sent:
        (_, payload), *_ = server_frames([data, b""])
        assert inflater.decompress(payload + b"\x00\x00\xff\xff").decode() == text
        if not takeover:
            inflater = zlib.decompressobj(-15)


def test_a_compressed_message_after_a_control_frame_is_inflated() -> None:
    pair = open_pair()
    pair.client.ping(b"")
    pair.client.send_text("after the ping")
    pair.pump(1.0)
    assert pair.server.events_received() == [PingReceived(b""), TextReceived("after the ping")]


def test_an_uncompressed_message_passes_on_a_deflate_connection() -> None:
    server = open_server(None, DEFLATE_OFFER)
    server.receive_data(frame(TEXT, b"plain"), 1.0)
    assert server.events_received() == [TextReceived("plain")]


def test_without_a_limit_compressed_messages_of_any_size_arrive() -> None:
    pair = open_pair(config=WebSocketConfig(max_message_size=None))
    pair.client.send_bytes(bytes(3 * MIB))
    pair.pump(1.0)
    assert pair.server.events_received() == [BytesReceived(bytes(3 * MIB))]


# Limits -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        WebSocketConfig(max_message_size=1000),
        WebSocketConfig(max_message_size=1000, compression=False),
    ],
)
def test_a_message_of_exactly_the_limit_arrives(config: WebSocketConfig) -> None:
    pair = open_pair(config=config)
    pair.client.send_bytes(b"\x07" * 1000)
    pair.client.send_text("a" * 1000)
    pair.pump(1.0)
    assert pair.server.events_received() == [
        BytesReceived(b"\x07" * 1000),
        TextReceived("a" * 1000),
    ]


@pytest.mark.parametrize(
    "config",
    [
        WebSocketConfig(max_message_size=1000),
        WebSocketConfig(max_message_size=1000, compression=False),
    ],
)
def test_a_message_over_the_limit_closes_with_1009(config: WebSocketConfig) -> None:
    pair = open_pair(config=config)
    pair.client.send_bytes(b"\x07" * 1001)
    pair.server.receive_data(b"".join(pair.client.data_to_send()), 1.0)
    closed = failed_with(pair.server, 1009)
    assert pair.server.events_received() == []
    assert closed.cause is not None


def test_the_limit_counts_utf8_bytes_not_characters() -> None:
    pair = open_pair(config=WebSocketConfig(max_message_size=10, compression=False))
    pair.client.send_text("€€€")  # 9 bytes
    pair.pump(1.0)
    assert pair.server.events_received() == [TextReceived("€€€")]
    pair.client.send_text("€€€€")  # 4 characters, 12 bytes
    pair.server.receive_data(b"".join(pair.client.data_to_send()), 1.0)
    failed_with(pair.server, 1009)


def test_the_limit_is_enforced_while_fragments_arrive() -> None:
    server = open_server(WebSocketConfig(max_message_size=1000))
    server.receive_data(frame(BINARY, bytes(600), fin=False), 1.0)
    assert server.events_received() == []
    assert not server.closed
    server.receive_data(frame(CONTINUATION, bytes(600), fin=False), 1.0)  # not the last
    closed = failed_with(server, 1009)
    assert closed.reason == "message too big"
    assert closed.cause is not None
    assert "limit of 1000 bytes" in str(closed.cause)


@pytest.mark.parametrize("payload", [b"", b"x"])
def test_a_message_in_more_fragments_than_the_limit_closes_with_1009(payload: bytes) -> None:
    server = open_server(WebSocketConfig(max_fragments=4, compression=False))
    server.receive_data(frame(TEXT, payload, fin=False), 1.0)
    server.receive_data(frame(CONTINUATION, payload, fin=False) * 2, 1.0)
    assert not server.closed
    server.receive_data(frame(CONTINUATION, payload), 1.0)  # the fourth and last: whole
    assert server.events_received() == [TextReceived(payload.decode() * 4)]
    server.receive_data(frame(TEXT, payload, fin=False), 1.0)
    server.receive_data(frame(CONTINUATION, payload, fin=False) * 3, 1.0)  # a fifth to come
    closed = failed_with(server, 1009)
    assert closed.reason == "too many fragments"
    assert "more than 4 fragments" in str(closed.cause)


def test_the_fragment_limit_can_be_switched_off() -> None:
    server = open_server(WebSocketConfig(max_fragments=None, compression=False))
    server.receive_data(frame(BINARY, b"a", fin=False), 1.0)
    server.receive_data(frame(CONTINUATION, b"b", fin=False) * 5000 + frame(CONTINUATION), 1.0)
    assert server.events_received() == [BytesReceived(b"a" + b"b" * 5000)]


def test_a_huge_frame_is_refused_as_soon_as_its_header_says_so() -> None:
    server = open_server(WebSocketConfig(max_message_size=1000))
    announced = frame(BINARY, bytes(1200), length=10 * MIB)[: 14 + 1200]
    server.receive_data(announced[:20], 1.0)  # 10 MiB announced; 6 bytes of it arrived
    failed_with(server, 1009)


def read_as_a_driver(server: WebSocketServer, data: bytes) -> tuple[int, int]:
    """Feed *data* to *server* in 64 KiB reads, as a driver reads its socket, until it
    closes; return how many reads it took and the peak of the memory allocated meanwhile."""
    reads = [data[start : start + 65536] for start in range(0, len(data), 65536)]
    tracemalloc.start()
    try:
        delivered = 0
        for chunk in reads:
            server.receive_data(chunk, 1.0)
            delivered += 1
            if server.closed:
                break
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return delivered, peak


def test_a_decompression_bomb_is_refused_with_1009_allocating_about_the_limit() -> None:
    limit = MIB
    server = open_server(WebSocketConfig(max_message_size=limit), DEFLATE_OFFER)
    bomb = frame(BINARY, deflated_zeros(1 << 30), rsv1=True)  # 1 GiB in about 1 MB
    delivered, peak = read_as_a_driver(server, bomb)
    assert delivered < len(bomb) / 65536  # refused long before the whole frame arrived
    assert peak < 4 * limit
    failed_with(server, 1009)


@pytest.mark.parametrize("size", [MIB, 0], ids=["1-mib-fragments", "one-frame"])
@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_a_17_mib_message_closes_with_1009_holding_no_more_than_the_default_limit(
    opcode: int, size: int
) -> None:
    """What a message over the limit costs is what arrived of it, up to the limit: in many
    frames, it is refused as the byte past the limit arrives; in one, as soon as its header
    says so."""
    server = open_server()
    limit = server.config.max_message_size
    assert limit == 16 * MIB
    payload = b"x" * (17 * MIB)
    size = size or len(payload)
    pieces = [payload[start : start + size] for start in range(0, len(payload), size)]
    data = b"".join(
        frame(opcode if n == 0 else CONTINUATION, piece, fin=n == len(pieces) - 1)
        for n, piece in enumerate(pieces)
    )
    del payload, pieces
    delivered, peak = read_as_a_driver(server, data)
    assert delivered == (limit // 65536 + 1 if size < len(data) // 2 else 1)
    assert peak < limit + MIB
    closed = failed_with(server, 1009)
    assert closed.reason == "message too big"


def test_a_1_gib_decompression_bomb_closes_with_1009_at_about_twice_the_default_limit() -> None:
    """The first read inflates to just past the limit, and for a moment zlib holds what it
    inflated twice over, as it hands it over: the peak is twice the limit, not more."""
    limit = WebSocketConfig().max_message_size
    assert limit == 16 * MIB
    server = open_server(None, DEFLATE_OFFER)
    bomb = frame(BINARY, deflated_zeros(1 << 30), rsv1=True)
    delivered, peak = read_as_a_driver(server, bomb)
    assert delivered == 1  # the first 64 KiB inflate to more than the limit
    assert peak < 2 * limit + MIB
    failed_with(server, 1009)


def test_nothing_after_a_fatal_frame_is_delivered() -> None:
    server = open_server(WebSocketConfig(max_message_size=10))
    server.receive_data(frame(BINARY, bytes(11)) + frame(TEXT, b"after") + frame(PING), 1.0)
    failed_with(server, 1009)


def test_invalid_utf8_closes_with_1007() -> None:
    pair = open_pair(config=NO_DEFLATE)
    pair.server.receive_data(frame(TEXT, b"ok \xff"), 1.0)
    closed = failed_with(pair.server, 1007)
    assert "utf-8" in closed.reason


@pytest.mark.parametrize(
    "payload",
    [b"\xff\xff\xff\xff", b"\x00\x01"],  # a bad block; a stored block the tail makes bad
    ids=["bad-data", "bad-at-the-end"],
)
def test_invalid_compressed_data_closes_with_1007(payload: bytes) -> None:
    server = open_server(None, DEFLATE_OFFER)
    server.receive_data(frame(BINARY, payload, rsv1=True), 1.0)
    failed_with(server, 1007)


def test_invalid_compressed_data_closes_with_1007_without_a_limit_too() -> None:
    server = open_server(WebSocketConfig(max_message_size=None), DEFLATE_OFFER)
    server.receive_data(frame(BINARY, b"\xff\xff\xff\xff", rsv1=True), 1.0)
    failed_with(server, 1007)


@pytest.mark.parametrize(
    "bad",
    [
        frame(TEXT, b"hi", masked=False),
        frame(0x3, b"reserved opcode"),
        frame(0xB, b"reserved control opcode"),
        frame(TEXT, b"x", rsv2=True),
        frame(TEXT, b"x", rsv1=True),  # no extension negotiated
        frame(CONTINUATION, b"nothing to continue"),
        frame(TEXT, b"a", fin=False) + frame(TEXT, b"b"),
        frame(PING, b"", fin=False),
        frame(PING, bytes(126)),
        frame(CLOSE, b"\x03"),
        frame(CLOSE, close_payload(999)),
    ],
    ids=[
        "unmasked",
        "opcode-3",
        "opcode-b",
        "rsv2",
        "rsv1",
        "continuation",
        "interleaved",
        "fragmented-ping",
        "long-ping",
        "short-close",
        "close-999",
    ],
)
def test_a_protocol_violation_closes_with_1002(bad: bytes) -> None:
    pair = open_pair(config=NO_DEFLATE)
    pair.server.receive_data(bad, 1.0)
    failed_with(pair.server, 1002)


def test_a_masked_frame_from_the_server_closes_with_1002() -> None:
    client = open_client(config=NO_DEFLATE)
    client.receive_data(frame(TEXT, b"masked"), 1.0)
    failed_with(client, 1002)


def test_a_failure_reaches_the_peer_as_a_close_frame() -> None:
    pair = open_pair(config=NO_DEFLATE)
    pair.server.receive_data(frame(TEXT, b"\xc3"), 1.0)
    pair.pump(1.0)
    closing, closed = pair.client.events_received()
    assert isinstance(closing, Closing)
    assert (closing.code, closing.by_peer) == (1007, True)
    assert isinstance(closed, ConnectionClosed)
    assert (closed.code, closed.clean) == (1007, True)


# Control frames and keepalive ---------------------------------------------------------------


def test_a_ping_is_answered_by_the_core() -> None:
    pair = open_pair()
    pair.client.ping(b"abc")
    pair.pump(1.0)
    assert pair.server.events_received() == [PingReceived(b"abc")]
    assert pair.client.events_received() == [PongReceived(b"abc")]


def test_a_ping_payload_is_at_most_125_bytes() -> None:
    pair = open_pair()
    pair.client.ping(bytes(125))
    with pytest.raises(LocalProtocolError, match="at most 125 bytes"):
        pair.client.ping(bytes(126))
    pair.pump(1.0)
    assert pair.server.events_received() == [PingReceived(bytes(125))]


def test_keepalive_pings_and_fails_with_1011_without_a_pong() -> None:
    pair = open_pair(10.0, config=WebSocketConfig(ping_interval=5.0, ping_timeout=2.0))
    server = pair.server
    assert server.next_deadline() == 15.0
    server.handle_timeout(14.99)
    assert server.data_to_send() == []
    server.handle_timeout(15.0)
    assert server.next_deadline() == 17.0
    pair.pump(16.0)  # the client answers
    assert server.events_received() == [PongReceived(b"\x00\x00\x00\x01")]
    assert pair.client.events_received() == [PingReceived(b"\x00\x00\x00\x01")]
    assert server.next_deadline() == 21.0

    server.handle_timeout(21.0)
    assert server_frames(server.data_to_send()) == [(PING, b"\x00\x00\x00\x02")]
    assert server.next_deadline() == 23.0
    server.handle_timeout(23.0)  # and now the client is silent
    closed = failed_with(server, 1011)
    assert closed.reason == "keepalive ping timed out"
    assert closed.cause is not None
    assert str(closed.cause) == "no pong within 2.0 s"


@pytest.mark.parametrize("side", ["client", "server"])
def test_by_default_a_peer_mute_to_pings_is_dropped_with_1011_at_40_s(side: str) -> None:
    """20 s to the ping, 20 s more for its pong: a peer that never answers (or a path that
    silently failed) is given up on 40 s after the last sign of life."""
    pair = open_pair()
    core: Core = getattr(pair, side)
    assert core.next_deadline() == 20.0
    core.handle_timeout(20.0)
    assert len(core.data_to_send()) == 1  # the ping, which nobody answers
    assert core.next_deadline() == 40.0
    core.handle_timeout(39.99)
    assert core.data_to_send() == []
    core.handle_timeout(40.0)
    closed = failed_with(core, 1011)
    assert closed.reason == "keepalive ping timed out"


def test_the_default_keepalive_is_20_s() -> None:
    pair = open_pair(100.0)
    assert pair.server.next_deadline() == pair.client.next_deadline() == 120.0
    pair.client.handle_timeout(120.0)
    assert pair.client.next_deadline() == 140.0


def test_keepalive_without_a_timeout_keeps_pinging() -> None:
    server = open_server(WebSocketConfig(ping_interval=5.0, ping_timeout=None))
    for n, now in enumerate((5.0, 10.0, 15.0), start=1):
        assert server.next_deadline() == now
        server.handle_timeout(now)
        assert server_frames(server.data_to_send()) == [(PING, n.to_bytes(4, "big"))]
    server.receive_data(frame(PONG, b"\x00\x00\x00\x03"), 16.0)
    assert server.next_deadline() == 20.0


def test_ping_interval_none_means_no_deadline_once_open() -> None:
    pair = open_pair(config=WebSocketConfig(ping_interval=None))
    assert pair.server.next_deadline() is None
    assert pair.client.next_deadline() is None


def test_an_unsolicited_pong_is_reported_and_moves_no_deadline() -> None:
    server = open_server()
    server.receive_data(frame(PONG, b"heartbeat"), 3.0)
    assert server.events_received() == [PongReceived(b"heartbeat")]
    assert server.next_deadline() == 20.0


def test_handle_timeout_before_any_deadline_does_nothing() -> None:
    pair = open_pair()
    pair.server.handle_timeout(1.0)
    assert pair.server.data_to_send() == []
    assert pair.server.events_received() == []


# Pings and pongs read without wsproto -------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 4, 125])
@pytest.mark.parametrize("step", [1, 5, 1000])
def test_a_ping_of_up_to_125_bytes_is_answered_however_it_arrives(size: int, step: int) -> None:
    server = open_server(NO_DEFLATE)
    payload = bytes(range(size))
    stream = frame(PING, payload) + frame(TEXT, b"after") + frame(PING, b"again")
    for start in range(0, len(stream), step):
        server.receive_data(stream[start : start + step], 1.0)
    assert server.events_received() == [
        PingReceived(payload),
        TextReceived("after"),
        PingReceived(b"again"),
    ]
    assert server_frames(server.data_to_send()) == [(PONG, payload), (PONG, b"again")]


@pytest.mark.parametrize("size", [0, 3, 125])
def test_the_client_answers_a_ping_with_a_masked_pong(size: int) -> None:
    client = open_client(config=NO_DEFLATE)
    payload = bytes(range(size))
    client.receive_data(frame(PING, payload, masked=False), 1.0)
    assert client.events_received() == [PingReceived(payload)]
    (pong,) = client.data_to_send()
    assert read_header(pong, 0) == Header(0x8A, 6, size, True)
    assert mask(pong[2:6], pong[6:]) == payload


@pytest.mark.parametrize("size", [4, 125])
def test_a_pong_between_fragments_is_the_answer_the_keepalive_waits_for(size: int) -> None:
    server = open_server(WebSocketConfig(ping_interval=5.0, ping_timeout=2.0))
    server.handle_timeout(5.0)
    server.data_to_send()
    stream = (
        frame(TEXT, b"one ", fin=False)
        + frame(PONG, b"\x00\x00\x00\x01".ljust(size, b"."))
        + frame(CONTINUATION, b"two")
    )
    for byte in range(len(stream)):
        server.receive_data(stream[byte : byte + 1], 6.0)
    assert server.events_received() == [
        PongReceived(b"\x00\x00\x00\x01".ljust(size, b".")),
        TextReceived("one two"),
    ]
    assert server.next_deadline() == 11.0


def test_the_clients_keepalive_takes_the_servers_pong() -> None:
    client = open_client(config=WebSocketConfig(ping_interval=5.0, ping_timeout=2.0))
    client.handle_timeout(5.0)
    (ping,) = client.data_to_send()
    assert read_header(ping, 0) == Header(0x89, 6, 4, True)
    assert mask(ping[2:6], ping[6:]) == b"\x00\x00\x00\x01"
    client.receive_data(frame(PONG, b"\x00\x00\x00\x01", masked=False), 5.5)
    assert client.events_received() == [PongReceived(b"\x00\x00\x00\x01")]
    assert client.next_deadline() == 10.5


def test_a_compressed_message_in_fragments_is_reassembled_around_a_ping_while_closing() -> None:
    server = open_server(None, DEFLATE_OFFER)
    server.close(now=1.0)
    server.data_to_send()
    message = b'{"jsonrpc": "2.0", "method": "ping"} ' * 50
    compressed = deflate(message)
    half = len(compressed) // 2
    server.receive_data(frame(TEXT, compressed[:half], fin=False, rsv1=True), 1.0)
    server.receive_data(frame(PING, b"keep"), 1.0)
    server.receive_data(frame(CONTINUATION, compressed[half:]), 1.0)
    assert server.events_received() == [
        Closing(1000, "", False),
        PingReceived(b"keep"),
        TextReceived(message.decode()),
    ]
    assert server.data_to_send() == []


_KEY = b"\x01\x02\x03\x04"


@pytest.mark.parametrize(
    "bad",
    [
        frame(PING, bytes(126)),
        frame(PONG, bytes(126)),
        frame(PING, b"", fin=False),
        frame(PONG, b"x", fin=False),
        frame(PING, b"x", masked=False),
        frame(PONG, b"x", masked=False),
        frame(PING, b"x", rsv1=True),
        frame(PONG, b"x", rsv2=True),
        bytes([0x89, 0x80 | 126]) + struct.pack("!H", 5) + _KEY + mask(_KEY, b"hello"),
        bytes([0x8A, 0x80 | 127]) + struct.pack("!Q", 5) + _KEY + mask(_KEY, b"hello"),
    ],
    ids=[
        "long-ping",
        "long-pong",
        "fragmented-ping",
        "fragmented-pong",
        "unmasked-ping",
        "unmasked-pong",
        "rsv1-ping",
        "rsv2-pong",
        "padded-ping",
        "padded-pong",
    ],
)
@pytest.mark.parametrize("compression", [False, True])
def test_an_invalid_ping_or_pong_closes_with_1002(bad: bytes, compression: bool) -> None:
    server = open_server(WebSocketConfig(compression=compression), DEFLATE_OFFER)
    server.receive_data(frame(TEXT, b"before", fin=False), 1.0)
    server.receive_data(bad, 1.0)
    failed_with(server, 1002)


@pytest.mark.parametrize("opcode", [PING, PONG])
def test_a_masked_ping_or_pong_from_the_server_closes_with_1002(opcode: int) -> None:
    client = open_client(config=NO_DEFLATE)
    client.receive_data(frame(opcode, b"masked"), 1.0)
    failed_with(client, 1002)


_control_frames = st.builds(
    lambda first, payload, masked, length_size, split: (
        bytes([first, (0x80 if masked else 0) | {0: len(payload), 2: 126, 8: 127}[length_size]])
        + (len(payload).to_bytes(length_size, "big") if length_size else b"")
        + (_KEY + mask(_KEY, payload) if masked else payload),
        split,
    ),
    first=st.sampled_from([0x89, 0x8A, 0x09, 0x0A, 0xC9, 0xAA, 0x99, 0x8B]),
    payload=st.binary(max_size=130),
    masked=st.booleans(),
    length_size=st.sampled_from([0, 0, 2, 8]),
    split=st.integers(0, 140),
)


def _wsproto_verdict(data: bytes) -> list[object]:
    """What wsproto alone makes of *data* after an upgrade: pings and pongs, or the code it
    fails with."""
    connection = WSConnection(ConnectionType.SERVER)
    connection.receive_data(request())
    (requested,) = connection.events()
    assert isinstance(requested, ws.Request)
    connection.send(ws.AcceptConnection())
    connection.receive_data(data)
    verdict: list[object] = []
    for event in connection.events():
        if isinstance(event, ws.Ping):
            verdict.append(PingReceived(bytes(event.payload)))
        elif isinstance(event, ws.Pong):
            verdict.append(PongReceived(bytes(event.payload)))
        else:
            assert isinstance(event, ws.CloseConnection)
            verdict.append(int(event.code))
    return verdict


@MODEST
@given(case=_control_frames)
def test_a_control_frame_is_read_as_wsproto_reads_it(case: tuple[bytes, int]) -> None:
    data, split = case
    server = open_server(NO_DEFLATE)
    server.receive_data(data[:split], 1.0)
    server.receive_data(data[split:], 1.0)
    verdict = [
        event.code if isinstance(event, ConnectionClosed) else event
        for event in server.events_received()
    ]
    assert verdict == _wsproto_verdict(data)


# Closing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("initiator", ["client", "server"])
def test_the_close_handshake_is_clean_and_echoes_the_code(initiator: str) -> None:
    pair = open_pair()
    closer, peer = (
        (pair.client, pair.server) if initiator == "client" else (pair.server, pair.client)
    )
    closer.close(1001, "going away", now=1.0)
    assert (closer.is_open, closer.closed) == (False, False)  # closing
    assert closer.next_deadline() == 11.0  # the close timeout; no more keepalive
    peer.receive_data(b"".join(closer.data_to_send()), 1.5)
    echo = peer.data_to_send()
    assert echo[-1] == b""
    assert peer.closed
    assert peer.events_received() == [
        Closing(1001, "going away", True),
        ConnectionClosed(1001, "going away", True),
    ]
    closer.receive_data(echo[0], 2.0)
    assert closer.events_received() == [
        Closing(1001, "going away", False),
        ConnectionClosed(1001, "going away", True),
    ]
    assert closer.data_to_send() == [b""]
    assert closer.closed
    assert closer.next_deadline() is None


def test_a_close_frame_without_a_code_is_echoed() -> None:
    server = open_server()
    server.receive_data(frame(CLOSE), 1.0)
    assert server_frames(server.data_to_send()) == [(CLOSE, b"")]
    assert server.events_received() == [Closing(1005, "", True), ConnectionClosed(1005, "", True)]


def test_a_peer_that_never_answers_the_close_frame_is_given_up_on_with_1006() -> None:
    pair = open_pair()
    cause = RemoteProtocolError("the application gave up", close_code=1008)
    pair.server.close(1008, "policy", now=2.0, cause=cause)
    pair.server.data_to_send()  # lost
    pair.server.handle_timeout(11.99)
    assert pair.server.events_received() == [Closing(1008, "policy", False)]
    pair.server.handle_timeout(12.0)
    reason = "the peer did not answer the close frame in time"
    assert pair.server.events_received() == [ConnectionClosed(1006, reason, False, cause)]
    assert pair.server.data_to_send() == [b""]


def test_the_close_cause_rides_on_a_clean_close_too() -> None:
    pair = open_pair()
    cause = ProtocolError("bad session")
    pair.client.close(1008, now=1.0, cause=cause)
    pair.pump(1.0)
    assert pair.client.events_received() == [
        Closing(1008, "", False),
        ConnectionClosed(1008, "", True, cause),
    ]


def test_close_timeout_none_waits_for_the_peer_forever() -> None:
    pair = open_pair(config=WebSocketConfig(close_timeout=None, ping_interval=None))
    pair.client.close(now=1.0)
    assert pair.client.next_deadline() is None


def test_closing_twice_does_nothing() -> None:
    pair = open_pair()
    pair.client.close(now=1.0)
    sent = pair.client.data_to_send()
    pair.client.close(1011, now=2.0)
    assert pair.client.data_to_send() == []
    assert pair.client.next_deadline() == 11.0
    pair.server.receive_data(sent[0], 2.0)
    pair.pump(2.0)
    pair.client.close(now=3.0)
    assert pair.client.data_to_send() == []
    assert pair.client.events_received() == [  # one close handshake: the second call did nothing
        Closing(1000, "", False),
        ConnectionClosed(1000, "", True),
    ]


@pytest.mark.parametrize("reason", ["", "no thanks"])
def test_closing_before_the_connection_opened_just_closes_the_transport(reason: str) -> None:
    for core in (WebSocketClient("ws://localhost/", 0.0), pending_server()[0]):
        core.data_to_send()
        core.close(1000, reason, now=1.0)
        expected = reason or "closed before the connection opened"
        assert core.events_received() == [ConnectionClosed(None, expected, False)]
        assert core.data_to_send() == [b""]
        assert core.closed


def test_messages_still_arrive_while_closing_but_pings_go_unanswered() -> None:
    server = open_server()
    server.close(now=1.0)
    server.data_to_send()
    server.receive_data(frame(TEXT, b"late") + frame(PING, b"p"), 1.5)
    assert server.events_received() == [
        Closing(1000, "", False),
        TextReceived("late"),
        PingReceived(b"p"),
    ]
    assert server.data_to_send() == []
    server.receive_data(frame(PONG, b"q"), 1.6)
    assert server.events_received() == [PongReceived(b"q")]
    server.receive_data(frame(CLOSE, close_payload(1000)), 2.0)
    assert server.events_received() == [ConnectionClosed(1000, "", True)]


def test_a_protocol_violation_while_closing_is_not_a_clean_close() -> None:
    server = open_server()
    server.close(now=1.0)
    server.data_to_send()
    server.receive_data(frame(0x3, b"junk"), 1.5)
    closing, closed = server.events_received()
    assert closing == Closing(1000, "", False)
    assert isinstance(closed, ConnectionClosed)
    assert (closed.code, closed.clean) == (1002, False)
    assert isinstance(closed.cause, RemoteProtocolError)
    assert closed.cause.close_code == 1002
    assert server.data_to_send() == [b""]  # the close frame was sent already


def _handshake_server() -> Core:
    return WebSocketServer(0.0)


def _pending_server() -> Core:
    return pending_server()[0]


def _open_server() -> Core:
    return open_server()


def _closing_server() -> Core:
    server = open_server()
    server.close(now=0.0)
    return server


def _handshake_client() -> Core:
    return WebSocketClient("ws://localhost/mcp", 0.0)


def _open_client() -> Core:
    return open_client()


def _closing_client() -> Core:
    client = open_client()
    client.close(now=0.0)
    return client


@pytest.mark.parametrize(
    ("make", "code", "reason"),
    [
        (_handshake_server, None, "the connection closed during the handshake"),
        (_pending_server, None, "the connection closed during the handshake"),
        (_open_server, 1006, "the connection was lost"),
        (_closing_server, 1006, "the connection was lost"),
        (_handshake_client, None, "the connection closed during the handshake"),
        (_open_client, 1006, "the connection was lost"),
        (_closing_client, 1006, "the connection was lost"),
    ],
    ids=[
        "server-handshake",
        "server-upgrade-pending",
        "server-open",
        "server-closing",
        "client-handshake",
        "client-open",
        "client-closing",
    ],
)
def test_end_of_stream_at_any_stage_closes_with_a_reason(
    make: Callable[[], Core], code: int | None, reason: str
) -> None:
    core = make()
    core.data_to_send()
    core.receive_eof(5.0)
    *closing, closed = core.events_received()
    assert all(isinstance(event, Closing) for event in closing)
    assert isinstance(closed, ConnectionClosed)
    assert (closed.code, closed.reason, closed.clean) == (code, reason, False)
    assert isinstance(closed.cause, RemoteProtocolError)
    assert closed.cause.close_code == code
    assert core.data_to_send() == [b""]
    assert core.closed
    assert core.next_deadline() is None
    core.receive_eof(6.0)
    core.receive_data(frame(TEXT, b"after"), 6.0)
    core.handle_timeout(100.0)
    assert core.events_received() == []
    assert core.data_to_send() == []


def test_an_empty_chunk_is_not_the_end_of_the_stream() -> None:
    client = WebSocketClient("ws://localhost/mcp", 0.0)
    server = WebSocketServer(0.0)
    for core in (client, server):
        core.receive_data(b"", 0.0)
    pair = Pair(client, server)
    pair.pump(0.0)
    server.receive_data(b"", 0.0)
    server.events_received()
    server.accept(now=0.0)
    pair.pump(0.0)
    for core in (client, server):
        core.receive_data(b"", 0.0)
        assert core.is_open


# Sending and backpressure -------------------------------------------------------------------


def test_sending_while_not_open_is_refused() -> None:
    client = WebSocketClient("ws://localhost/mcp", 0.0)
    with pytest.raises(LocalProtocolError, match="while the connection is handshake"):
        client.send_text("early")
    with pytest.raises(LocalProtocolError, match="while the connection is handshake"):
        client.send_bytes(b"early")
    with pytest.raises(LocalProtocolError, match="while the connection is handshake"):
        client.ping(b"early")
    assert client.data_to_send()[0].startswith(b"GET /mcp HTTP/1.1\r\n")
    pair = open_pair()
    pair.client.close(now=1.0)
    with pytest.raises(LocalProtocolError, match="while the connection is closing"):
        pair.client.send_text("late")
    pair.pump(1.0)
    with pytest.raises(LocalProtocolError, match="while the connection is closed"):
        pair.client.send_bytes(b"late")


def test_buffered_amount_counts_unsent_bytes_until_they_are_taken() -> None:
    pair = open_pair(config=NO_DEFLATE)
    client = pair.client
    assert client.buffered_amount == 0
    client.send_text("x" * 1000)
    assert client.buffered_amount == 2 + 2 + 4 + 1000  # header, length, mask, payload
    client.send_bytes(bytes(100))
    assert client.buffered_amount == 1008 + 2 + 4 + 100
    assert sum(map(len, client.data_to_send())) == 1114
    assert client.buffered_amount == 0


def test_data_after_the_connection_closed_is_ignored() -> None:
    pair = open_pair()
    pair.client.close(now=1.0)
    pair.pump(1.0)
    pair.events()
    for core in (pair.client, pair.server):
        core.receive_data(frame(TEXT, b"ghost", masked=core is pair.server), 2.0)
        assert core.events_received() == []
        assert core.data_to_send() == []


# Properties ---------------------------------------------------------------------------------

#: What a client sends: text (str), binary (bytes) and pings (as the event they cause).
Sent = str | bytes | PingReceived
_messages = st.lists(
    st.one_of(
        st.text(max_size=300),
        st.binary(max_size=300),
        st.binary(max_size=20).map(PingReceived),
    ),
    max_size=6,
)


def _client_stream(messages: list[Sent], config: WebSocketConfig) -> bytes:
    """Everything a client sends: its request, the messages, and a close frame."""
    client = WebSocketClient("ws://localhost/mcp", 0.0, config=config)
    request_bytes = b"".join(client.data_to_send())
    server, _ = pending_server(request_bytes, config=config)
    server.accept(now=0.0)
    client.receive_data(b"".join(server.data_to_send()), 0.0)
    for message in messages:
        if isinstance(message, str):
            client.send_text(message)
        elif isinstance(message, bytes):
            client.send_bytes(message)
        else:
            client.ping(message.payload)
    client.close(now=0.0)
    return request_bytes + b"".join(client.data_to_send())


def _server_events(chunks: list[bytes], config: WebSocketConfig) -> list[object]:
    """What a server reports on reading *chunks*, accepting as soon as it is asked; a
    ConnectionClosed's cause as its type and text (exceptions compare by identity)."""
    server = WebSocketServer(0.0, config=config)
    events: list[WebSocketEvent] = []
    for chunk in chunks:
        server.receive_data(chunk, 0.0)
        new = server.events_received()
        events += new
        if any(isinstance(event, UpgradeRequested) for event in new):
            server.accept(now=0.0)
            events += server.events_received()
    return [
        (event.code, event.reason, event.clean, repr(event.cause))
        if isinstance(event, ConnectionClosed)
        else event
        for event in events
    ]


@MODEST
@given(messages=_messages, compression=st.booleans(), data=st.data())
def test_any_split_of_the_client_stream_gives_the_same_events(
    messages: list[Sent], compression: bool, data: st.DataObject
) -> None:
    config = WebSocketConfig(compression=compression)
    stream = _client_stream(messages, config)
    cuts = data.draw(
        st.lists(st.integers(1, len(stream) - 1), unique=True, max_size=40).map(sorted)
    )
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    whole = _server_events([stream], config)
    assert _server_events(chunks, config) == whole
    expected = [
        TextReceived(message)
        if isinstance(message, str)
        else BytesReceived(message)
        if isinstance(message, bytes)
        else message
        for message in messages
    ]
    assert whole[2:] == [*expected, Closing(1000, "", True), (1000, "", True, "None")]


_mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 16), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 16), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 16), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 1 << 16), st.just(0)),
)


def _mutate(stream: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    data = bytearray(stream)
    for kind, where, value in mutations:
        at = where % (len(data) + 1)
        if kind == "flip" and at < len(data):
            data[at] ^= 1 << value
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = bytes([value])
        elif kind == "delete":
            del data[at : at + 1]
    return bytes(data)


@MODEST
@given(
    messages=_messages,
    compression=st.booleans(),
    mutations=st.lists(_mutation, min_size=1, max_size=5),
    step=st.integers(1, 64),
)
def test_mutated_frames_never_raise_from_receive_data(
    messages: list[Sent],
    compression: bool,
    mutations: list[tuple[str, int, int]],
    step: int,
) -> None:
    config = WebSocketConfig(compression=compression, max_message_size=200)
    stream = _client_stream(messages, config)
    head = stream.index(b"\r\n\r\n") + 4
    server, _ = pending_server(stream[:head], config=config)
    server.accept(now=0.0)
    server.events_received()
    frames = _mutate(stream[head:], mutations)
    for start in range(0, len(frames), step):
        server.receive_data(frames[start : start + step], 1.0)
    server.receive_eof(2.0)
    events = server.events_received()
    allowed = (TextReceived, BytesReceived, PingReceived, PongReceived, Closing)
    assert all(isinstance(event, allowed) for event in events[:-1])
    (closed,) = [event for event in events if isinstance(event, ConnectionClosed)]
    assert closed is events[-1]
    assert closed.clean or isinstance(closed.cause, RemoteProtocolError)
    assert server.closed
    assert server.data_to_send()[-1] == b""


def test_the_accept_token_helper_matches_rfc_6455() -> None:
    assert accept_token(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize("payload", [b"hello" * 10, "h\u00e9llo" * 10])
def test_compressed_messages_after_a_ping_are_inflated(payload: str | bytes) -> None:
    pair = open_pair()
    pair.client.ping(b"")
    if isinstance(payload, str):
        pair.client.send_text(payload)
    else:
        pair.client.send_bytes(payload)
    pair.pump(1.0)
    _, server_events = pair.events()
    messages = [e for e in server_events if isinstance(e, TextReceived | BytesReceived)]
    expected = TextReceived(payload) if isinstance(payload, str) else BytesReceived(payload)
    assert messages == [expected]


def test_small_messages_go_out_uncompressed_and_large_ones_compressed() -> None:
    pair = open_pair()
    for text, compressed in (("x" * (COMPRESSION_THRESHOLD - 1), False), ("y" * 4096, True)):
        pair.client.send_text(text)
        (data,) = pair.client.data_to_send()
        assert bool(data[0] & 0x40) is compressed  # RSV1 marks a compressed message
        pair.server.receive_data(data, 1.0)
        assert pair.server.events_received() == [TextReceived(text)]


# Frames read by the core itself or by wsproto -------------------------------------------------


@pytest.mark.parametrize("length", [0, 125, 126, 65535, 65536])
@pytest.mark.parametrize("masked", [True, False])
def test_a_frame_header_is_read_only_once_whole(length: int, masked: bool) -> None:
    data = frame(TEXT, bytes(length), masked=masked)
    size = len(data) - length
    for cut in range(size):
        assert read_header(data[:cut], 0) is None
    assert read_header(b"xx" + data[:size], 2) == Header(0x81, size, length, masked)


@pytest.mark.parametrize("size", [5, 200, 70_000])
def test_text_of_every_length_class_crosses_both_ways_in_any_chunks(size: int) -> None:
    pair = open_pair(config=NO_DEFLATE)
    text = ("é" * size)[:size]
    pair.client.send_text(text)
    data = b"".join(pair.client.data_to_send())
    for start in range(0, len(data), 999):
        pair.server.receive_data(data[start : start + 999], 1.0)
    assert pair.server.events_received() == [TextReceived(text)]
    pair.server.send_text(text)
    data = b"".join(pair.server.data_to_send())
    assert data[1] & 0x80 == 0  # a server never masks
    for byte in range(0, len(data), 4096):
        pair.client.receive_data(data[byte : byte + 4096], 1.0)
    assert pair.client.events_received() == [TextReceived(text)]


def test_a_client_masks_each_frame_with_a_fresh_key() -> None:
    pair = open_pair(config=NO_DEFLATE)
    pair.client.send_text("same")
    pair.client.send_text("same")
    first, second = pair.client.data_to_send()
    assert first[1] & second[1] & 0x80
    assert first[2:6] != second[2:6]


def test_a_length_in_more_bytes_than_needed_closes_with_1002() -> None:
    pair = open_pair(config=NO_DEFLATE)
    key = b"\x01\x02\x03\x04"
    padded = bytes([0x81, 0x80 | 126]) + struct.pack("!H", 5) + key + mask(key, b"hello")
    pair.server.receive_data(padded, 1.0)
    failed_with(pair.server, 1002)


def test_an_unmasked_frame_from_the_client_closes_with_1002() -> None:
    server = open_server(NO_DEFLATE)
    server.receive_data(frame(TEXT, b"plain", masked=False), 1.0)
    failed_with(server, 1002)


def test_invalid_utf8_split_across_chunks_closes_with_1007() -> None:
    server = open_server(NO_DEFLATE)
    data = frame(TEXT, b"ok \xff")
    server.receive_data(data[:3], 1.0)
    server.receive_data(data[3:], 1.0)
    failed_with(server, 1007)


def test_a_message_in_fragments_around_a_ping_then_a_whole_one() -> None:
    server = open_server(NO_DEFLATE)
    stream = (
        frame(TEXT, b"one ", fin=False)
        + frame(PING, b"p")
        + frame(CONTINUATION, b"two", fin=False)
        + frame(CONTINUATION, b" three")
        + frame(TEXT, b"whole")
    )
    for byte in range(len(stream)):
        server.receive_data(stream[byte : byte + 1], 1.0)
    assert server.events_received() == [
        PingReceived(b"p"),
        TextReceived("one two three"),
        TextReceived("whole"),
    ]
    assert server_frames(server.data_to_send()) == [(PONG, b"p")]


def test_frames_that_arrive_with_the_101_are_read_however_the_answer_is_split() -> None:
    for step in (1, 7, 1000):
        client = WebSocketClient("ws://localhost/mcp", 0.0, config=NO_DEFLATE)
        answer = switching_protocols(b"".join(client.data_to_send()))
        stream = answer + frame(TEXT, b"first", masked=False) + frame(PING, masked=False)
        for start in range(0, len(stream), step):
            client.receive_data(stream[start : start + step], 0.0)
        accepted, *rest = client.events_received()
        assert isinstance(accepted, ConnectionAccepted)
        assert rest == [TextReceived("first"), PingReceived(b"")]


@pytest.mark.parametrize("value", [float("nan"), True, 0, -1.0, "5"])
def test_the_websocket_and_the_session_refuse_the_same_durations(value: object) -> None:
    with pytest.raises(ValueError, match="must be a positive number or None"):
        WebSocketConfig(ping_interval=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be a positive number or None"):
        ClientSessionConfig(request_timeout=value)  # type: ignore[arg-type]
