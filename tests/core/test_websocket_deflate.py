"""permessage-deflate's negotiation (RFC 7692, section 7.1) in both roles, and the windows
and memory level that the messages are then compressed and inflated with."""

from __future__ import annotations

import random
import re
import zlib

import pytest

from helpers.wspair import TEXT, accept_token, frame, open_pair, request
from mcpws.core.errors import RemoteProtocolError
from mcpws.core.websocket import (
    ConnectionAccepted,
    ConnectionClosed,
    TextReceived,
    UpgradeRequested,
    WebSocketClient,
    WebSocketConfig,
    WebSocketServer,
)


def accepted_by_server(offer: str, config: WebSocketConfig | None = None) -> WebSocketServer:
    server = WebSocketServer(0.0, config=config)
    server.receive_data(request(extra=[("Sec-WebSocket-Extensions", offer)]), 0.0)
    (requested,) = server.events_received()
    assert isinstance(requested, UpgradeRequested)
    server.accept(now=0.0)
    return server


def opened(offer: str, config: WebSocketConfig | None = None) -> WebSocketServer:
    """A server open after *offer*, its answer and events drained."""
    server = accepted_by_server(offer, config)
    server.data_to_send()
    server.events_received()
    return server


def answer_to(
    offer: str, config: WebSocketConfig | None = None
) -> tuple[str | None, tuple[str, ...]]:
    """The server's ``Sec-WebSocket-Extensions`` answer to *offer* (``None`` if it has none),
    and the extensions its ``ConnectionAccepted`` names."""
    server = accepted_by_server(offer, config)
    head = b"".join(server.data_to_send()).split(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.1 101 ")
    found = re.search(r"(?im)^sec-websocket-extensions: *(.*?)\r?$", head)
    (accepted,) = server.events_received()
    assert isinstance(accepted, ConnectionAccepted)
    return (found.group(1) if found else None), accepted.extensions


@pytest.mark.parametrize(
    ("offer", "answer"),
    [
        ("permessage-deflate", "server_max_window_bits=12"),
        (
            "permessage-deflate; client_max_window_bits",
            "server_max_window_bits=12; client_max_window_bits=12",
        ),
        (
            "permessage-deflate; client_max_window_bits=10",
            "server_max_window_bits=12; client_max_window_bits=10",
        ),
        (
            "permessage-deflate; client_max_window_bits=15; server_max_window_bits=10",
            "server_max_window_bits=10; client_max_window_bits=12",
        ),
        (
            'permessage-deflate; client_max_window_bits="11"',
            "server_max_window_bits=12; client_max_window_bits=11",
        ),
        (
            "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
            "server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12",
        ),
        ("permessage-deflate; server_max_window_bits=8", "server_max_window_bits=8"),
        # The first offer the server can take is the one it takes.
        (
            "permessage-deflate; client_max_window_bits=9, permessage-deflate",
            "server_max_window_bits=12; client_max_window_bits=9",
        ),
        (
            "permessage-deflate; client_max_window_bits=lots, permessage-deflate",
            "server_max_window_bits=12",
        ),
    ],
)
def test_a_server_answers_with_its_small_windows_where_the_offer_lets_it(
    offer: str, answer: str
) -> None:
    assert answer_to(offer) == (f"permessage-deflate; {answer}", ("permessage-deflate",))


@pytest.mark.parametrize(
    "offer",
    [
        "permessage-deflate; client_max_window_bits=lots",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_max_window_bits=10; client_max_window_bits=11",
        "permessage-deflate; x-unknown=1",
    ],
)
def test_a_server_declines_an_invalid_offer_and_opens_without_compression(offer: str) -> None:
    assert answer_to(offer) == (None, ())


def test_the_window_and_memory_level_are_configurable() -> None:
    config = WebSocketConfig(compression_window_bits=15, compression_memory_level=9)
    offer = "permessage-deflate; client_max_window_bits"
    answer = "permessage-deflate; server_max_window_bits=15; client_max_window_bits=15"
    assert answer_to(offer, config) == (answer, ("permessage-deflate",))
    default = WebSocketConfig()
    assert (default.compression_window_bits, default.compression_memory_level) == (12, 5)


def _sent_payload(core: WebSocketServer | WebSocketClient, text: str) -> bytes:
    """The payload of the one compressed frame *core* sends for *text*, unmasked."""
    core.send_text(text)
    (data,) = core.data_to_send()
    assert data[0] == 0xC1  # FIN, RSV1, text
    assert data[1] & 0x7F == 126  # a length in two bytes: the tests' texts compress to that
    masked = bool(data[1] & 0x80)
    body = data[8:] if masked else data[4:]
    assert len(body) == int.from_bytes(data[2:4], "big")
    if not masked:
        return body
    key = data[4:8]
    return bytes(byte ^ key[i % 4] for i, byte in enumerate(body))


def _noise(size: int, seed: int) -> str:
    return "".join(random.Random(seed).choices("abcdefghijklmnopqrstuvwxyz0123456789", k=size))


def window_used(core: WebSocketServer | WebSocketClient) -> int:
    """The bits of the window *core* compresses in, as its messages show: the largest for
    which a text repeated at half the window's size shrinks to less than the text (zlib
    reaches back 262 bytes less than the window)."""
    used = 0
    for bits in range(10, 16):  # from the first whose texts are not too short to compress
        size = 2 ** (bits - 1)
        noise = _noise(size, bits)  # each its own, so no message reaches into another
        if len(_sent_payload(core, noise + noise)) < size:
            used = bits
    return used


def test_a_server_compresses_in_the_window_it_announced() -> None:
    server = opened("permessage-deflate; client_max_window_bits")
    assert window_used(server) == 12
    offer = "permessage-deflate; server_max_window_bits=10"
    server = opened(offer, WebSocketConfig(compression_window_bits=15))
    assert window_used(server) == 10
    server = opened("permessage-deflate", WebSocketConfig(compression_window_bits=15))
    assert window_used(server) == 15


def test_a_server_allowed_only_8_bits_sends_its_messages_uncompressed() -> None:
    server = opened("permessage-deflate; server_max_window_bits=8")
    server.send_text("x" * 2000)
    (data,) = server.data_to_send()
    assert data[0] == 0x81  # FIN, text, no RSV1


def _in_fragments(payload: bytes, size: int) -> bytes:
    """A compressed message's *payload* in frames of *size* bytes: each is inflated apart,
    so that the window must hold what a later one refers back to."""
    pieces = [payload[at : at + size] for at in range(0, len(payload), size)]
    frames = [frame(TEXT if i == 0 else 0, piece, fin=i == len(pieces) - 1, rsv1=i == 0)
              for i, piece in enumerate(pieces)]  # fmt: skip
    return b"".join(frames)


def test_a_server_inflates_in_the_window_it_asked_the_client_for() -> None:
    noise = _noise(6144, 1)
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    wide = compressor.compress((noise + noise).encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
    # Asked for 12 bits, a client that refers back 6 KiB has broken the agreement: 1007.
    server = opened("permessage-deflate; client_max_window_bits")
    server.receive_data(_in_fragments(wide[:-4], 1024), 1.0)
    (closed,) = server.events_received()
    assert isinstance(closed, ConnectionClosed)
    assert closed.code == 1007
    # Without the parameter in the offer, the client's window is its own: 15 bits.
    server = opened("permessage-deflate")
    server.receive_data(_in_fragments(wide[:-4], 1024), 1.0)
    assert server.events_received() == [TextReceived(noise + noise)]


def client_answered(*extensions: str, config: WebSocketConfig | None = None) -> WebSocketClient:
    """A client whose server answered its request with *extensions* (header values)."""
    client = WebSocketClient("ws://localhost/mcp", 0.0, config=config)
    request_head = b"".join(client.data_to_send()).decode()
    assert "\r\nsec-websocket-extensions: permessage-deflate; client_max_window_bits\r\n" in (
        request_head.lower()
    )
    key = re.search(r"(?im)^sec-websocket-key: *(\S+)", request_head)
    assert key is not None
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {accept_token(key.group(1))}",
        *(f"Sec-WebSocket-Extensions: {value}" for value in extensions),
    ]
    client.receive_data(("\r\n".join(lines) + "\r\n\r\n").encode(), 0.0)
    return client


@pytest.mark.parametrize(
    ("answer", "bits"),
    [
        ("permessage-deflate", 12),
        ("permessage-deflate; client_max_window_bits=10", 10),
        ("permessage-deflate; client_max_window_bits=15; server_max_window_bits=9", 12),
    ],
)
def test_a_client_compresses_in_the_smaller_of_its_window_and_the_servers(
    answer: str, bits: int
) -> None:
    client = client_answered(answer)
    (accepted,) = client.events_received()
    assert accepted == ConnectionAccepted(None, ("permessage-deflate",))
    assert window_used(client) == bits


def test_a_client_allowed_only_8_bits_sends_uncompressed_and_reads_compressed() -> None:
    answer = "permessage-deflate; client_max_window_bits=8; server_max_window_bits=8"
    client = client_answered(answer)
    client.events_received()
    client.send_text("x" * 2000)
    (data,) = client.data_to_send()
    assert data[0] == 0x81
    compressor = zlib.compressobj(1, zlib.DEFLATED, -9)
    payload = compressor.compress(b"y" * 3000) + compressor.flush(zlib.Z_SYNC_FLUSH)
    client.receive_data(frame(TEXT, payload[:-4], rsv1=True, masked=False), 1.0)
    assert client.events_received() == [TextReceived("y" * 3000)]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("permessage-deflate; client_max_window_bits", "parameter 'client_max_window_bits'"),
        ("permessage-deflate; server_max_window_bits=99", "'server_max_window_bits=99'"),
        ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", "twice"),
        ("permessage-deflate; x-unknown", "invalid parameter 'x-unknown'"),
    ],
)
def test_a_client_fails_an_invalid_answer_naming_the_problem(answer: str, problem: str) -> None:
    client = client_answered(answer)
    (closed,) = client.events_received()
    assert isinstance(closed, ConnectionClosed)
    assert isinstance(closed.cause, RemoteProtocolError)
    assert problem in closed.reason
    assert closed.reason.startswith("the server's answer is not a valid WebSocket upgrade")


def test_two_mcpws_peers_agree_on_12_bits_and_exchange_messages() -> None:
    pair = open_pair()
    text = _noise(3000, 2) * 3
    for sender, receiver in ((pair.client, pair.server), (pair.server, pair.client)):
        for _ in range(2):
            sender.send_text(text)
        pair.pump(1.0)
        assert receiver.events_received() == [TextReceived(text)] * 2
