#!/usr/bin/env python3
"""Fuzz the opening handshake of mcpws.core.websocket with atheris, in both roles.

The first byte of the input chooses the role (bit 0), a prefix put before the rest of the
input (bits 1-2: so that the fuzzer reaches the checks that follow parsing without having to
invent a whole request line or status line), whether permessage-deflate is on (bit 3), the
server's policy (bits 4-5), whether the application accepts or rejects (bit 6) and whether the
first chunk of the input ends the HTTP head (bit 7); the rest is cut into chunks and fed with
the clock moving on, so that the handshake deadline fires too.

* Server: a fresh :class:`WebSocketServer` reads the bytes as the client's HTTP request (and
  whatever frames follow it). When it asks, the application accepts or rejects, as the input
  says; ``accept`` must then complete the upgrade that the policy passed.
* Client: a fresh :class:`WebSocketClient` reads the bytes as the server's answer; one prefix
  is a valid ``101`` answer with the right ``Sec-WebSocket-Accept`` for the client's key, so
  that what follows reaches the frame parser.

The invariant, beyond that of ``fuzz_websocket_frames.py`` (whose
:class:`websocket_checks.Watch` checks the events and bytes): no exception escapes
``receive_data``, ``receive_eof``, ``handle_timeout``, ``accept`` or ``reject``, and a refused
request gets a complete HTTP response before the transport closes, as h11 reads it.

Only mcpws is instrumented: h11 and wsproto parse for it, and h11 checks its answers, so that
their branches would only blur what the fuzzer learns of mcpws's. The client, whose key is
random, is built once and copied for each input (:class:`fuzzing.Snapshot`). Run it (pytest
does not collect this file: its name does not start with ``test_``)::

    python tests/fuzz/fuzz_websocket_handshake.py -max_total_time=60
"""

from __future__ import annotations

import base64
import hashlib
import re

import atheris
import h11
from fuzzing import Snapshot, run

with atheris.instrument_imports(include=["mcpws"]):
    from websocket_checks import Watch

    from mcpws.core.websocket import (
        LOOPBACK_HOSTS,
        HttpAnswered,
        ServerPolicy,
        UpgradeRequested,
        WebSocketClient,
        WebSocketConfig,
        WebSocketServer,
    )

_REQUEST_LINE = b"GET /mcp HTTP/1.1\r\n"
_REQUEST = (
    _REQUEST_LINE + b"Host: localhost:8000\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)
_SERVER_PREFIXES = (
    b"",
    _REQUEST_LINE,
    _REQUEST,
    _REQUEST + b"Sec-WebSocket-Protocol: mcp\r\nSec-WebSocket-Extensions: permessage-deflate",
)
_POLICIES = (
    ServerPolicy(),
    ServerPolicy(subprotocols=("mcp",), require_subprotocol=True),
    ServerPolicy(path=None, health_path=None, allowed_hosts=LOOPBACK_HOSTS),
    ServerPolicy(subprotocols=("mcp", "mcp.version.2025-11-25"), allowed_origins=("*",)),
)
#: libFuzzer's options for this harness, before those of the command line.
FLAGS = ("-max_len=512", "-timeout=10")
#: Chunks an input is cut into at most.
MOVES = 6
_STATUS_LINE = b"HTTP/1.1 101 Switching Protocols\r\n"
_KEY = re.compile(rb"(?i)\r\nsec-websocket-key: *([^\r]*)\r\n")
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _accept_header(request: bytes) -> bytes:
    match = _KEY.search(request)
    assert match is not None, request
    digest = hashlib.sha1(match.group(1) + _GUID).digest()
    return b"Sec-WebSocket-Accept: " + base64.b64encode(digest) + b"\r\n"


def _chunks(
    fdp: atheris.FuzzedDataProvider, prefix: bytes, end_head: bool
) -> list[tuple[float, bytes]]:
    """The prefix and the rest of the input, cut into chunks, each with a clock step.

    With *end_head*, the first chunk of the input ends the HTTP head (``\\r\\n\\r\\n``), so
    that header lines the fuzzer appends to the prefix make a whole request or answer."""
    chunks: list[tuple[float, bytes]] = [(0.0, prefix)] if prefix else []
    while fdp.remaining_bytes() and len(chunks) < MOVES:
        step = fdp.ConsumeIntInRange(0, 7) * 1.5
        chunk: bytes = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 512))
        if end_head:
            chunk, end_head = chunk + b"\r\n\r\n", False
        chunks.append((step, chunk))
    return chunks


def _check_http_response(data: bytes) -> None:
    """*data* must be one complete HTTP response (read as the answer to a GET)."""
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
    client.send(h11.EndOfMessage())
    client.receive_data(data)
    client.receive_data(b"")
    while True:
        try:
            event = client.next_event()
        except h11.RemoteProtocolError as exc:
            raise AssertionError(f"an invalid HTTP response {data!r}") from exc
        if event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
            raise AssertionError(f"an incomplete HTTP response {data!r}")
        if isinstance(event, h11.EndOfMessage):
            return


_SERVER_CONFIGS = {
    compression: WebSocketConfig(compression=compression, max_handshake_size=2048)
    for compression in (False, True)
}


def fuzz_server(fdp: atheris.FuzzedDataProvider, flags: int) -> None:
    config = _SERVER_CONFIGS[bool(flags & 8)]
    server = WebSocketServer(0.0, config=config, policy=_POLICIES[flags >> 4 & 3])
    watch = Watch(server)
    accept = bool(flags & 64)
    written = b""
    now = 0.0
    for step, chunk in _chunks(fdp, _SERVER_PREFIXES[flags >> 1 & 3], bool(flags & 128)):
        now += step
        deadline = server.next_deadline()
        if deadline is not None and deadline <= now:
            server.handle_timeout(now)
        else:
            server.receive_data(chunk, now)
        written += b"".join(watch.drain())
        if any(isinstance(event, UpgradeRequested) for event in watch.events) and not (
            server.is_open or server.closed
        ):
            if accept:
                server.accept(now=now)
            else:
                server.reject(401, headers=[("www-authenticate", "Bearer")])
            written += b"".join(watch.drain())
        if server.closed:
            break
    if not server.closed:
        server.receive_eof(now)
        watch.drain()
    answered = [event for event in watch.events if isinstance(event, HttpAnswered)]
    if answered:
        if not 100 <= answered[0].status_code <= 599:
            raise AssertionError(f"an HTTP status out of range: {answered[0]!r}")
        _check_http_response(written)


def _client_and_prefixes(compression: bool) -> tuple[WebSocketClient, tuple[bytes, ...]]:
    """A new client, and the prefixes of its server's answer: nothing, a status line, the
    head of a valid ``101`` without its end, and a whole valid ``101``."""
    config = WebSocketConfig(compression=compression)
    client = WebSocketClient("ws://localhost:8000/mcp", 0.0, config=config, subprotocols=["mcp"])
    request = b"".join(client.data_to_send())
    head = _STATUS_LINE + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
    head += _accept_header(request)
    return client, (b"", _STATUS_LINE, head, head + b"Sec-WebSocket-Protocol: mcp\r\n\r\n")


_CLIENTS = {
    compression: (Snapshot(client), prefixes)
    for compression in (False, True)
    for client, prefixes in [_client_and_prefixes(compression)]
}


def fuzz_client(fdp: atheris.FuzzedDataProvider, flags: int) -> None:
    snapshot, prefixes = _CLIENTS[bool(flags & 8)]
    client = snapshot.copy()
    prefix = prefixes[flags >> 1 & 3]
    watch = Watch(client)
    now = 0.0
    for step, chunk in _chunks(fdp, prefix, bool(flags & 128)):
        now += step
        deadline = client.next_deadline()
        if deadline is not None and deadline <= now:
            client.handle_timeout(now)
        else:
            client.receive_data(chunk, now)
        watch.drain()
        if client.closed:
            break
    if not client.closed:
        client.receive_eof(now)
        watch.drain()


def fuzz_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    flags = fdp.ConsumeIntInRange(0, 255)
    if flags & 1:
        fuzz_client(fdp, flags)
    else:
        fuzz_server(fdp, flags)


if __name__ == "__main__":
    run(fuzz_one_input, FLAGS)
