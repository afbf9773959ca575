"""What the WebSocket harnesses check of a core: :class:`Watch` drains one and holds what
comes out to the invariant of ``fuzz_websocket_frames.py``; :class:`Wire` reads what a core
writes as its peer must, independently of the code under test."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

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
    WebSocketServer,
    encode_frame,
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


class Watch:
    """Drains one core and checks what comes out against the invariant."""

    def __init__(self, core: WebSocketServer | WebSocketClient) -> None:
        self.core = core
        self.closed: ConnectionClosed | None = None
        self.transport_closed = False
        self.events: list[object] = []

    def drain(self) -> list[bytes]:
        """Check the events and the bytes to send; return the bytes, ``b""`` left out."""
        core = self.core
        events = core.events_received()
        if events:
            self._check(events)
        out = core.data_to_send()
        if out and (self.transport_closed or not out[-1] or not all(out)):
            out = self._check_closing(out)
        if core.closed != (self.closed is not None):
            raise AssertionError(f"closed is {core.closed} after events {self.events!r}")
        if core.closed != self.transport_closed:
            raise AssertionError("closed without b'' to close the transport, or the reverse")
        if self.transport_closed and core.next_deadline() is not None:
            raise AssertionError("a closed core still has a deadline")
        return out

    def _check(self, events: Sequence[object]) -> None:
        limit = self.core.config.max_message_size
        for event in events:
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

    def _check_closing(self, data: list[bytes]) -> list[bytes]:
        """The bytes to send up to ``b""``, which must come once and last."""
        out = []
        for chunk in data:
            if self.transport_closed:
                raise AssertionError(f"{chunk!r} to send after the transport closed")
            if chunk:
                out.append(chunk)
            else:
                self.transport_closed = True
        return out

    def check_peer(self) -> None:
        """The core, a peer of the one fuzzed, must find nothing wrong in what it read."""
        closed = self.closed
        if closed is not None and not closed.clean and closed.cause is not None:
            raise AssertionError(f"the peer found fault with what it read: {closed!r}")


_CONTROL = (0x8, 0x9, 0xA)


def _unmask(key: bytes, payload: bytes) -> bytes:
    size = len(payload)
    repeated = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload) ^ int.from_bytes(repeated)).to_bytes(size)


_CLOSE_CODES = (*range(1000, 1004), *range(1007, 1012), *range(3000, 5000))


class Wire:
    """Reads what one core writes as its peer must, to RFC 6455 (and RFC 7692 when
    *compression* was negotiated, with the default window and context takeover), with no
    wsproto: a client's frames are masked and a server's not (*by_client*), their lengths
    minimal, their opcodes and RSV bits known, control frames whole and short, close codes
    valid, texts UTF-8, nothing after a close. It raises :class:`AssertionError` at the
    first fault.

    :meth:`read` returns the frames the peer answers with (a pong, the close echo), masked
    when the peer is a client, and :attr:`texts` keeps the text messages read."""

    def __init__(self, *, by_client: bool, compression: bool) -> None:
        self._inflater = zlib.decompressobj(-15) if compression else None
        self._masked = by_client
        self._key = None if by_client else b"\x00\x00\x00\x00"
        self._buffer = b""
        self._message: list[bytes] | None = None  # the fragments of a message under way
        self._opcode = 0
        self._compressed = False
        self.closed = False
        self.texts: list[str] = []

    def read(self, data: bytes) -> list[bytes]:
        """Take bytes the server wrote; return the client's answers to the frames in them."""
        self._buffer += data
        answers = []
        while (found := self._frame()) is not None:
            answer = self._take(*found)
            if answer is not None:
                answers.append(answer)
        return answers

    def _frame(self) -> tuple[int, bytes] | None:
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        first, second = buffer[0], buffer[1]
        if bool(second & 0x80) != self._masked:
            raise AssertionError(f"a frame masked by a server or unmasked by a client: {buffer!r}")
        length, start = second & 0x7F, 2
        if length >= 126:
            start = 4 if length == 126 else 10
            if len(buffer) < start:
                return None
            length = int.from_bytes(buffer[2:start], "big")
            if length < (126 if start == 4 else 65536):
                raise AssertionError(f"a length in more bytes than it needs: {buffer!r}")
        key = b""
        if self._masked:
            key, start = buffer[start : start + 4], start + 4
        if len(buffer) < start + length:
            return None
        self._buffer = buffer[start + length :]
        payload = buffer[start : start + length]
        return first, _unmask(key, payload) if key else payload

    def _take(self, first: int, payload: bytes) -> bytes | None:
        if self.closed:
            raise AssertionError(f"a frame after the close frame: {first:#x} {payload!r}")
        opcode, fin, rsv = first & 0x0F, bool(first & 0x80), first >> 4 & 7
        if opcode in _CONTROL:
            if not fin or rsv or len(payload) > 125:
                raise AssertionError(f"a control frame fragmented, flagged or long: {first:#x}")
            return self._control(opcode, payload)
        if opcode not in (0, 1, 2):
            raise AssertionError(f"a reserved opcode: {first:#x}")
        if (opcode == 0) != (self._message is not None):
            raise AssertionError(
                f"a continuation out of place, or a message inside one: {first:#x}"
            )
        if rsv & 3 or (rsv and (opcode == 0 or self._inflater is None)):
            raise AssertionError(f"RSV bits no extension allows: {first:#x}")
        if opcode:
            self._message, self._opcode, self._compressed = [], opcode, bool(rsv)
        assert self._message is not None
        self._message.append(payload)
        if fin:
            self._message_done(b"".join(self._message))
        return None

    def _message_done(self, data: bytes) -> None:
        self._message = None
        if self._compressed:
            assert self._inflater is not None
            try:
                data = self._inflater.decompress(data + b"\x00\x00\xff\xff")
            except zlib.error as exc:
                raise AssertionError(f"a compressed message that does not inflate: {exc}") from exc
        if self._opcode == 1:
            try:
                self.texts.append(data.decode())
            except UnicodeDecodeError as exc:
                raise AssertionError(f"a text message that is not UTF-8: {data!r}") from exc

    def _control(self, opcode: int, payload: bytes) -> bytes | None:
        if opcode == 0x9:
            return encode_frame(0xA, payload, masking_key=self._key)
        if opcode == 0xA:
            return None
        self.closed = True
        if payload:
            code = int.from_bytes(payload[:2], "big")
            if len(payload) == 1 or code not in _CLOSE_CODES:
                raise AssertionError(f"an invalid close frame: {payload!r}")
            try:
                payload[2:].decode()
            except UnicodeDecodeError as exc:
                raise AssertionError(f"a close reason that is not UTF-8: {payload!r}") from exc
        return encode_frame(0x8, payload[:2], masking_key=self._key)
