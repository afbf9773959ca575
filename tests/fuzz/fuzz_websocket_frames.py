#!/usr/bin/env python3
"""Fuzz an open mcpws.core.websocket server with atheris: whatever frames a client sends.

Each input takes a server core just after a valid handshake (permessage-deflate
negotiated or not, limits and timers as its first byte says) and plays a script read from the
input: bytes for the server (raw, or frames built with
:func:`mcpws.core.websocket.encode_frame` from a header byte and a payload, masked as a client
must, deflated on request, or with a length in more bytes than it needs), clock jumps,
deadlines, local sends and closes, and an optional end of stream.

The invariant: ``receive_data``, ``receive_eof`` and ``handle_timeout`` never raise; the server
reports only its documented events, ``ConnectionClosed`` at most once and last, with a close
code in 1000-4999 and, when it failed, a ``ProtocolError`` as the cause; no message is larger
than ``max_message_size``; ``b""`` (close the transport) comes exactly once, when it closes,
and nothing after it; a closed core has no deadline (:class:`websocket_checks.Watch`). What
the server writes must be what RFC 6455 lets a server write, as a reader that shares no code
with it finds (:class:`websocket_checks.Wire`); when the input is whole frames, a
client's answers (pongs, the close echo) go back to the server.

The handshake is done once per configuration and the open server copied for each input
(:class:`fuzzing.Snapshot`). Run it (pytest does not collect this file: its name does not
start with ``test_``)::

    python tests/fuzz/fuzz_websocket_frames.py -max_total_time=60
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

import atheris
import h11
import wsproto.handshake
from fuzzing import Snapshot, run

with atheris.instrument_imports(include=["mcpws", "wsproto"]):
    from websocket_checks import Watch, Wire

    from mcpws.core.websocket import (
        WebSocketClient,
        WebSocketConfig,
        WebSocketServer,
        encode_frame,
    )

#: libFuzzer's options for this harness, before those of the command line.
FLAGS = ("-max_len=256", "-timeout=10")
#: Moves an input makes at most: few, so that each costs little and the fuzzer tries many.
MOVES = 8
_KEYS = (b"\x00\x00\x00\x00", b"\x37\xfa\x21\x3d")  # zero: the payload reads as written
#: What a finished handshake leaves that no copy touches again.
HANDSHAKE_LEFTOVERS = (h11.Connection, wsproto.handshake.H11Handshake)
_servers: dict[int, Snapshot[WebSocketServer]] = {}


def open_pair(
    config: WebSocketConfig, client_config: WebSocketConfig
) -> tuple[WebSocketClient, WebSocketServer]:
    """A client and a server core after a valid handshake."""
    client = WebSocketClient("ws://localhost/mcp", 0.0, config=client_config)
    server = WebSocketServer(0.0, config=config)
    for data in client.data_to_send():
        server.receive_data(data, 0.0)
    server.events_received()
    server.accept(now=0.0)
    for data in server.data_to_send():
        client.receive_data(data, 0.0)
    client.events_received()
    server.events_received()
    if not server.is_open or not client.is_open:
        raise AssertionError("the handshake failed")
    return client, server


def server_for(flags: int) -> WebSocketServer:
    """A fresh copy of the open server configured by bits 0 and 2-6 of *flags*."""
    key = flags & 0b1111101
    snapshot = _servers.get(key)
    if snapshot is None:
        compression = bool(flags & 1)
        config = WebSocketConfig(
            compression=compression,
            max_message_size=200 if flags & 4 else 16 << 20,
            ping_interval=2.0 if flags & 8 else 20.0,
            ping_timeout=1.0 if flags & 16 else None,
            close_timeout=5.0 if flags & 32 else None,
            max_fragments=4 if flags & 64 else 4096,
        )
        _, server = open_pair(config, WebSocketConfig(compression=compression))
        snapshot = _servers[key] = Snapshot(server, HANDSHAKE_LEFTOVERS)
    return snapshot.copy()


def frame(fdp: atheris.FuzzedDataProvider, deflate: Callable[[bytes], bytes] | None) -> bytes:
    """A masked frame: header byte, length and payload from the input.

    The style byte may ask for the payload to be compressed (with *deflate*), with or without
    the four bytes that permessage-deflate strips, for a length in eight bytes whatever it
    is, and for a masking key that is not zero."""
    head = fdp.ConsumeIntInRange(0, 255)
    style = fdp.ConsumeIntInRange(0, 15)
    payload: bytes = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 300))
    if deflate is not None and style & 1:
        payload = deflate(payload)
        if style & 2:
            payload = payload.removesuffix(b"\x00\x00\xff\xff")
    key = _KEYS[style >> 3]
    if not style & 4 or len(payload) > 0xFFFF:
        return encode_frame(head & 15, payload, fin=head > 127, rsv=head >> 4 & 7, masking_key=key)
    length = struct.pack("!BQ", 0x80 | 127, len(payload))
    return bytes([head]) + length + encode_frame(0, payload, masking_key=key)[-len(payload) - 4 :]


class _Deflater:
    """permessage-deflate as a client writes it, made on first use."""

    def __init__(self) -> None:
        self._compressor: zlib._Compress | None = None

    def __call__(self, payload: bytes) -> bytes:
        if self._compressor is None:
            self._compressor = zlib.compressobj(wbits=-15)
        return self._compressor.compress(payload) + self._compressor.flush(zlib.Z_SYNC_FLUSH)


def fuzz_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    flags = fdp.ConsumeIntInRange(0, 255)
    structured = bool(flags & 2)
    server = server_for(flags)
    deflate = _Deflater() if flags & 1 else None
    watch, client = Watch(server), Wire(by_client=False, compression=bool(flags & 1))
    now = 0.0
    for _ in range(MOVES):
        if not fdp.remaining_bytes() or server.closed:
            break
        now += fdp.ConsumeIntInRange(0, 15) * 0.5
        action = fdp.ConsumeIntInRange(0, 15)
        if action < 11:
            if structured:
                chunk = frame(fdp, deflate)
            else:
                chunk = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 256))
            server.receive_data(chunk, now)
        elif action == 11:
            deadline = server.next_deadline()
            if deadline is not None and deadline <= now:
                server.handle_timeout(now)
        elif action == 12:
            server.handle_timeout(now)  # early or late, it must not raise
        elif action == 13 and server.is_open:
            server.send_text("x" * fdp.ConsumeIntInRange(0, 300))
        elif action == 14 and server.is_open:
            server.ping(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 125)))
        elif action == 15:
            server.close(1000 + fdp.ConsumeIntInRange(0, 3), "bye", now=now)
        answers = client.read(b"".join(watch.drain()))
        if answers and structured and not server.closed:  # whole frames: answers fit between
            for out in answers:
                server.receive_data(out, now)
            client.read(b"".join(watch.drain()))
    if not server.closed:
        server.receive_eof(now)
        watch.drain()
        if watch.closed is None:
            raise AssertionError("no ConnectionClosed after the end of the stream")


if __name__ == "__main__":
    run(fuzz_one_input, FLAGS)
