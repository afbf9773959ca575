"""Fuzz an open mcpws.core.websocket server with atheris: whatever frames a client sends.

Each input opens a fresh client and server core (the handshake is valid, permessage-deflate
negotiated or not) and then plays a script read from the input: bytes for the server (raw, or
frames built from a header byte, a length and a payload, masked as a client must, deflated on
request), clock jumps, deadlines, local sends and closes, and an optional end of stream.

The invariant: ``receive_data``, ``receive_eof`` and ``handle_timeout`` never raise; the server
reports only its documented events, ``ConnectionClosed`` at most once and last, with a close
code in 1000-4999 and, when it failed, a ``ProtocolError`` as the cause; no message is larger
than ``max_message_size``; ``b""`` (close the transport) comes exactly once, when it closes,
and nothing after it; a closed core has no deadline. What the server writes goes to the client
core, which must read it without raising and without finding a protocol error in it; when the
input is whole frames, the client's answers (pongs, the close echo) go back to the server.

Run it (pytest does not collect this file: its name does not start with ``test_``)::

    python tests/fuzz/fuzz_websocket_frames.py -max_total_time=60

A script needs room: ``-len_control=0 -max_len=2048`` lets the inputs grow long at once.
:class:`Watch` is shared with ``fuzz_websocket_handshake.py``.
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections.abc import Callable

import atheris

with atheris.instrument_imports():
    from mcpws.core.errors import ProtocolError
    from mcpws.core.websocket import (
        BytesReceived,
        Closing,
        ConnectionAccepted,
        ConnectionClosed,
        ConnectionRejected,
        HttpAnswered,
        PingReceived,
        PongReceived,
        TextReceived,
        UpgradeRequested,
        WebSocketClient,
        WebSocketConfig,
        WebSocketServer,
    )

EVENT_TYPES = (
    UpgradeRequested,
    HttpAnswered,
    ConnectionAccepted,
    ConnectionRejected,
    TextReceived,
    BytesReceived,
    PingReceived,
    PongReceived,
    Closing,
    ConnectionClosed,
)
_MASK = b"\x00\x00\x00\x00"  # a zero masking key: the payload reads as it is written


class Watch:
    """Drains one core and checks what comes out against the invariant."""

    def __init__(self, core: WebSocketServer | WebSocketClient) -> None:
        self.core = core
        self.closed: ConnectionClosed | None = None
        self.transport_closed = False
        self.events: list[object] = []

    def drain(self) -> list[bytes]:
        """Check the events and the bytes to send; return the bytes, ``b""`` left out."""
        limit = self.core.config.max_message_size
        for event in self.core.events_received():
            self.events.append(event)
            if self.closed is not None:
                raise AssertionError(f"{event!r} after {self.closed!r}")
            if not isinstance(event, EVENT_TYPES):
                raise AssertionError(f"undocumented event {event!r}")
            if isinstance(event, ConnectionClosed):
                self.closed = event
                if event.code is not None and not 1000 <= event.code <= 4999:
                    raise AssertionError(f"close code out of range in {event!r}")
                if event.cause is not None and not isinstance(event.cause, ProtocolError):
                    raise AssertionError(f"cause of another kind in {event!r}")
            size = None
            if isinstance(event, TextReceived):
                size = len(event.text.encode())
            elif isinstance(event, BytesReceived):
                size = len(event.data)
            if size is not None and limit is not None and size > limit:
                raise AssertionError(f"a message of {size} bytes passed the limit {limit}")
        out = []
        for data in self.core.data_to_send():
            if self.transport_closed:
                raise AssertionError(f"{data!r} to send after the transport closed")
            if not isinstance(data, bytes):
                raise AssertionError(f"{data!r} to send is not bytes")
            if data:
                out.append(data)
            else:
                self.transport_closed = True
        if self.core.closed != (self.closed is not None):
            raise AssertionError(f"closed is {self.core.closed} after events {self.events!r}")
        if self.core.closed != self.transport_closed:
            raise AssertionError("closed without b'' to close the transport, or the reverse")
        if self.core.closed and self.core.next_deadline() is not None:
            raise AssertionError("a closed core still has a deadline")
        return out


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
    if not server.is_open or not client.is_open:
        raise AssertionError("the handshake failed")
    return client, server


def frame(fdp: atheris.FuzzedDataProvider, deflate: Callable[[bytes], bytes] | None) -> bytes:
    """A masked frame: header byte, length and payload from the input.

    With *deflate*, the style byte may ask for the payload to be compressed, with or without
    the four bytes that permessage-deflate strips."""
    head = fdp.ConsumeIntInRange(0, 255)
    style = fdp.ConsumeIntInRange(0, 7)
    payload: bytes = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 300))
    if deflate is not None and style & 1:
        payload = deflate(payload)
        if style & 2:
            payload = payload.removesuffix(b"\x00\x00\xff\xff")
    size = len(payload)
    if style & 4 or size > 0xFFFF:
        length = struct.pack("!BQ", 0x80 | 127, size)
    elif size >= 126:
        length = struct.pack("!BH", 0x80 | 126, size)
    else:
        length = bytes([0x80 | size])
    return bytes([head]) + length + _MASK + payload


def fuzz_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    flags = fdp.ConsumeIntInRange(0, 255)
    compression = bool(flags & 1)
    structured = bool(flags & 2)
    config = WebSocketConfig(
        compression=compression,
        max_message_size=200 if flags & 4 else 16 << 20,
        ping_interval=2.0 if flags & 8 else 20.0,
        ping_timeout=1.0 if flags & 16 else None,
        close_timeout=5.0 if flags & 32 else None,
    )
    client, server = open_pair(config, WebSocketConfig(compression=compression))
    deflate = None
    if compression:
        compressor = zlib.compressobj(wbits=-15)

        def deflate(payload: bytes) -> bytes:
            return compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)

    watch, client_watch = Watch(server), Watch(client)
    now = 0.0
    while fdp.remaining_bytes() and not server.closed:
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
        for out in watch.drain():
            client.receive_data(out, now)
        answers = client_watch.drain()
        check_client(client_watch)
        if structured and not server.closed:  # whole frames: the client's answers fit between
            for out in answers:
                server.receive_data(out, now)
            for out in watch.drain():
                client.receive_data(out, now)
            client_watch.drain()
    if not server.closed:
        server.receive_eof(now)
        watch.drain()
        if watch.closed is None:
            raise AssertionError("no ConnectionClosed after the end of the stream")


def check_client(watch: Watch) -> None:
    """The client must find nothing wrong in what the server wrote."""
    closed = watch.closed
    if closed is not None and not closed.clean and closed.cause is not None:
        raise AssertionError(f"the client found fault with the server: {closed!r}")


def main() -> None:
    atheris.Setup(sys.argv, fuzz_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
