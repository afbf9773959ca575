"""Helpers for the WebSocket core tests: a client and a server joined by a pump, hand-built
requests and frames, and a strict reader of HTTP answers.

Not a test module (pytest collects ``test_*.py`` only); the tests import it as
``helpers.wspair``, from the ``tests`` directory that the pytest configuration puts on
``sys.path`` (``pythonpath``).
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import h11

from mcpws.core.websocket import (
    ConnectionAccepted,
    ServerPolicy,
    UpgradeRequested,
    WebSocketClient,
    WebSocketConfig,
    WebSocketEvent,
    WebSocketServer,
)


class Pumpable(Protocol):
    """What a pump needs of a sans-IO object: the WebSocket cores and the MCP connections."""

    def data_to_send(self) -> list[bytes]: ...
    def receive_data(self, data: bytes, now: float) -> None: ...
    def receive_eof(self, now: float) -> None: ...


Core = WebSocketClient | WebSocketServer

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

#: The sample key of RFC 6455, section 1.3, and the answer it must get.
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_token(key: str | bytes) -> str:
    """The ``Sec-WebSocket-Accept`` value that answers *key*."""
    raw = key.encode() if isinstance(key, str) else key
    return base64.b64encode(hashlib.sha1(raw + _GUID).digest()).decode()


def pump(client: Pumpable, server: Pumpable, now: float) -> None:
    """Move bytes both ways until neither side has any; ``b""`` becomes ``receive_eof``."""
    moved = True
    while moved:
        moved = False
        for source, sink in ((client, server), (server, client)):
            for data in source.data_to_send():
                moved = True
                if data:
                    sink.receive_data(data, now)
                else:
                    sink.receive_eof(now)


@dataclass
class Pair:
    """A client and a server, joined."""

    client: WebSocketClient
    server: WebSocketServer

    def pump(self, now: float) -> None:
        pump(self.client, self.server, now)

    def events(self) -> tuple[list[WebSocketEvent], list[WebSocketEvent]]:
        """Drain the events of both sides: (client's, server's)."""
        return self.client.events_received(), self.server.events_received()


def open_pair(
    now: float = 0.0,
    *,
    config: WebSocketConfig | None = None,
    client_config: WebSocketConfig | None = None,
    policy: ServerPolicy | None = None,
    subprotocols: Sequence[str] = (),
    url: str = "ws://localhost/mcp",
) -> Pair:
    """A pair whose WebSocket is open at *now*, with no events or bytes left over.

    *config* is the server's, and the client's too unless *client_config* is given."""
    client = WebSocketClient(url, now, config=client_config or config, subprotocols=subprotocols)
    server = WebSocketServer(now, config=config, policy=policy)
    pair = Pair(client, server)
    pair.pump(now)
    (requested,) = server.events_received()
    assert isinstance(requested, UpgradeRequested)
    server.accept(now=now)
    pair.pump(now)
    client_events, server_events = pair.events()
    assert len(client_events) == 1
    assert isinstance(client_events[0], ConnectionAccepted)
    assert len(server_events) == 1
    assert isinstance(server_events[0], ConnectionAccepted)
    return pair


# Hand-built bytes ---------------------------------------------------------------------------

_REQUEST_HEADERS: Final = (
    ("Host", "localhost"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", KEY),
    ("Sec-WebSocket-Version", "13"),
)


def request(
    target: str = "/mcp",
    *,
    method: str = "GET",
    http_version: str = "1.1",
    replace: Mapping[str, str | None] | None = None,
    extra: Sequence[tuple[str, str]] = (),
) -> bytes:
    """A valid upgrade request, with headers replaced (``None``: left out) or added.

    Header values are sent as latin-1, so ``"\\xe9"`` is the byte 0xE9."""
    replace = replace or {}
    headers = [(name, replace.get(name, value)) for name, value in _REQUEST_HEADERS]
    lines = [f"{method} {target} HTTP/{http_version}"]
    lines += [f"{name}: {value}" for name, value in [*headers, *extra] if value is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR *payload* with the 4-byte masking *key* (RFC 6455, section 5.3)."""
    n = len(payload)
    if not n:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    masked: bool = True,
    length: int | None = None,
    key: bytes = b"\x37\xfa\x21\x3d",
) -> bytes:
    """One frame, built by hand; masked (as a client sends) unless *masked* is false.

    *length* overrides the payload length in the header (to announce more than is sent)."""
    n = len(payload) if length is None else length
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | (0x20 if rsv2 else 0) | opcode
    bit = 0x80 if masked else 0
    if n < 126:
        head = bytes([first, bit | n])
    elif n < 1 << 16:
        head = bytes([first, bit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([first, bit | 127]) + struct.pack("!Q", n)
    return head + key + mask(payload, key) if masked else head + payload


def close_payload(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode()


# HTTP answers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpAnswer:
    """A complete HTTP response, read with h11, that the server then closed."""

    status: int
    headers: dict[str, str]
    body: bytes


def read_answer(chunks: Sequence[bytes], *, method: str = "GET") -> HttpAnswer:
    """Read a server's ``data_to_send()``: one whole HTTP response, then ``b""`` and nothing
    else. h11 reads it as a client that sent a *method* request would."""
    assert chunks, "nothing was sent"
    assert chunks[-1] == b"", chunks
    assert b"" not in chunks[:-1], chunks
    reader = h11.Connection(h11.CLIENT)
    reader.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
    reader.send(h11.EndOfMessage())
    reader.receive_data(b"".join(chunks))
    reader.receive_data(b"")
    response = reader.next_event()
    assert isinstance(response, h11.Response), response
    body = b""
    while isinstance(event := reader.next_event(), h11.Data):
        body += event.data
    assert isinstance(event, h11.EndOfMessage), event
    assert isinstance(reader.next_event(), h11.ConnectionClosed)  # nothing follows
    headers = {name.decode(): value.decode("latin-1") for name, value in response.headers}
    return HttpAnswer(response.status_code, headers, body)


def request_key(request_bytes: bytes) -> str:
    """The ``Sec-WebSocket-Key`` of a request that a client sent."""
    found = re.search(rb"(?im)^sec-websocket-key: *([^\r]*)\r$", request_bytes)
    assert found is not None, request_bytes
    return found.group(1).decode()


def switching_protocols(request_bytes: bytes, *extra: str, accept: str | None = None) -> bytes:
    """A ``101`` answer to *request_bytes*, with *extra* header lines."""
    token = accept if accept is not None else accept_token(request_key(request_bytes))
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {token}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
