"""What both roles share: the state of a connection, the vocabulary every core object speaks,
sending, reading the frames of an open connection, keepalive and closing.

Reading is the hot path. :meth:`_WebSocket._receive_frames` reads each frame's header itself
(with :mod:`._frames`), and a whole, uncompressed text message, a ping and a pong directly;
every other frame goes to wsproto byte for byte. Pings and pongs are framed here too.
:class:`WebSocketServer` and :class:`WebSocketClient` add the opening handshake of their
role.
"""

from __future__ import annotations

import collections
import enum
from collections.abc import Sequence
from typing import Any, Final

from wsproto import events as ws
from wsproto.connection import Connection, ConnectionState
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import Opcode

from mcpws.core._timers import Timers
from mcpws.core.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from mcpws.core.websocket._config import WebSocketConfig
from mcpws.core.websocket._deflate import _BoundedDeflate
from mcpws.core.websocket._events import (
    BytesReceived,
    Closing,
    ConnectionAccepted,
    ConnectionClosed,
    PingReceived,
    PongReceived,
    TextReceived,
    WebSocketEvent,
)
from mcpws.core.websocket._frames import (
    ABNORMAL,
    FIN_PING,
    FIN_PONG,
    FIN_TEXT,
    INTERNAL_ERROR,
    MESSAGE_TOO_BIG,
    NORMAL,
    POLICY_VIOLATION,
    RSV1,
    Header,
    bare_control,
    frame,
    mask,
    minimal,
    read_header,
)

#: Bytes of a close frame's reason: 125 bytes of payload less the two of the code.
_MAX_REASON: Final = 123
#: The largest payload read here when no ``max_message_size`` is set.
_NO_LIMIT: Final = 1 << 62
#: The opcode of a close frame, and the bits of a frame's first byte that hold an opcode.
_CLOSE: Final = 0x8
_OPCODE: Final = 0x0F
#: Seconds over which ``max_control_frames`` are counted.
_CONTROL_WINDOW: Final = 1.0


class _State(enum.Enum):
    HANDSHAKE = "handshake"
    UPGRADE_PENDING = "upgrade pending"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


def _fit_reason(reason: str) -> str:
    """Cut a close reason to the 123 UTF-8 bytes a close frame has room for, at a character
    boundary, as it will go on the wire."""
    data = reason.encode()
    if len(data) <= _MAX_REASON:
        return reason
    return data[:_MAX_REASON].decode(errors="ignore")


def _fragments(first: int, fragmented: bool) -> bool:
    """Whether a message is still unfinished after a frame whose first byte is *first*, given
    whether one was before it (control frames change nothing)."""
    opcode = first & 0x0F
    if opcode in (Opcode.TEXT, Opcode.BINARY):
        return not first & 0x80
    if opcode == Opcode.CONTINUATION:
        return fragmented and not first & 0x80
    return fragmented


class _WebSocket:
    """What both roles share: the open connection, its limits, keepalive and closing.

    With :attr:`hold` set, the messages read wait in order for :meth:`resume` instead of
    becoming events at once, while the frames around them are read on: pings are answered
    and pongs noted. What would end the connection behind a held message (a close frame,
    the end of the stream, a protocol error) waits for the messages before it, so that
    every message is acted on before whatever came after it, as it was sent.
    """

    # Slots, not a dict: a server holds one of these per connection.
    __slots__ = (
        "_buffered",
        "_close_cause",
        "_close_code",
        "_close_reason",
        "_controls",
        "_deflate",
        "_eof_held",
        "_events",
        "_failure",
        "_fragmented",
        "_frames",
        "_held",
        "_held_size",
        "_message",
        "_message_size",
        "_outgoing",
        "_owed",
        "_pings_sent",
        "_stalled",
        "_state",
        "_timers",
        "_window",
        "_ws",
        "config",
        "hold",
        "messages_received",
        "messages_sent",
    )

    #: Whether the frames this side receives are masked (a server's), and those it sends.
    _MASKED_IN: bool
    _MASK_OUT: bool

    def __init__(self, config: WebSocketConfig, now: float) -> None:
        self.config = config
        self._state = _State.HANDSHAKE
        self._ws: Connection | None = None  # wsproto's, for the frames, once open
        self._events: list[WebSocketEvent] = []
        self._outgoing: list[bytes] = []
        self._buffered = 0
        self._timers = Timers[str]()
        self._message: list[Any] = []
        self._message_size = 0
        self._frames = bytearray()  # the start of a frame not yet complete
        self._owed = 0  # bytes of the current frame still to go to wsproto
        self._fragmented = False  # whether wsproto is amid a fragmented message
        self._deflate: _BoundedDeflate | None = None  # permessage-deflate, if negotiated
        self._pings_sent = 0
        #: The data messages received (held ones included) and sent so far.
        self.messages_received = self.messages_sent = 0
        self._close_code: int | None = None
        self._close_reason = ""
        self._close_cause: ProtocolError | None = None
        #: Whether messages wait for :meth:`resume`; those that do, and their size.
        self.hold = False
        #: Only while messages wait: an empty deque costs each connection 600 bytes.
        self._held: collections.deque[TextReceived | BytesReceived] | None = None
        self._held_size = 0
        self._stalled = False  # a close frame waits, unread, behind held messages
        self._eof_held = False  # the end of the stream came behind held messages
        self._failure: tuple[int, str, ProtocolError] | None = None  # likewise a failure
        self._controls = 0  # control frames received since the window began
        self._window = float("-inf")  # when it began
        if config.handshake_timeout is not None:
            self._timers.set("handshake", now + config.handshake_timeout)

    # The vocabulary ---------------------------------------------------------------------------

    def events_received(self) -> list[WebSocketEvent]:
        """Return and forget the events so far."""
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> list[bytes]:
        """Return and forget the bytes to write, in order; ``b""`` means close the transport."""
        out, self._outgoing = self._outgoing, []
        self._buffered = 0
        return out

    @property
    def buffered_amount(self) -> int:
        """How many bytes wait in :meth:`data_to_send`."""
        return self._buffered

    @property
    def closed(self) -> bool:
        """Whether the connection is over."""
        return self._state is _State.CLOSED

    @property
    def is_open(self) -> bool:
        """Whether messages may be sent."""
        return self._state is _State.OPEN

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` must next be called, or ``None``."""
        return self._timers.next()

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before *now*."""
        while (name := self._timers.pop_due(now)) is not None:
            if name == "handshake":
                self._handshake_timed_out()
            elif name == "ping":
                self._send_ping(now)
            elif name == "pong":
                cause = RemoteProtocolError(
                    f"no pong within {self.config.ping_timeout} s", close_code=INTERNAL_ERROR
                )
                self._fail(INTERNAL_ERROR, "keepalive ping timed out", cause)
            else:
                assert name == "close"
                reason = "the peer did not answer the close frame in time"
                self._finish(ABNORMAL, reason, False, self._close_cause)

    @property
    def held(self) -> int:
        """The size of the held messages (characters of text, bytes of binary), and of the
        bytes read behind a close frame that waits for them."""
        return self._held_size + (len(self._frames) if self._stalled else 0)

    @property
    def holding(self) -> bool:
        """Whether :meth:`resume` has something to act on."""
        return bool(self._held) or self._stalled or self._eof_held or self._failure is not None

    def resume(self, now: float) -> bool:
        """Act on the next held thing: the next held message becomes an event; once none is
        left, what waited behind them is read and acted on (a close frame, the end of the
        stream, a protocol error). Whether there was anything."""
        if self._held:
            message = self._held.popleft()
            if not self._held:
                self._held = None  # an idle connection holds no deque
            self._held_size -= _size(message)
            self._events.append(message)
            return True
        if self._failure is not None:
            failure, self._failure = self._failure, None
            self._fail(*failure)
            return True
        if self._stalled:
            self._stalled = False
            self._receive_frames(b"", now)  # the close frame, and what came after it
            return True
        if self._eof_held:
            self._eof_held = False
            self.receive_eof(now)
            return True
        return False

    def receive_eof(self, now: float) -> None:
        """The peer closed its side of the transport."""
        if self._state is _State.CLOSED:
            return
        if self._held:
            self._eof_held = True
            return
        opened = self._state in (_State.OPEN, _State.CLOSING)
        reason = (
            "the connection was lost" if opened else "the connection closed during the handshake"
        )
        code = ABNORMAL if opened else None
        self._finish(code, reason, False, RemoteProtocolError(reason, close_code=code))

    # Sending ----------------------------------------------------------------------------------

    def send_text(self, text: str) -> None:
        """Send a text message."""
        self._require_open()
        self.messages_sent += 1
        data = text.encode()
        if self._deflate is not None and self._deflate.compresses(len(data)):
            compressed = self._deflate.deflate(data, client=self._MASK_OUT)
            self._queue(frame(FIN_TEXT | RSV1, compressed, masked=self._MASK_OUT))
        else:  # a message that goes out uncompressed, in one frame
            self._queue(frame(FIN_TEXT, data, masked=self._MASK_OUT))

    def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        self._require_open()
        self.messages_sent += 1
        self._queue(self._send_ws(ws.BytesMessage(data=bytes(data))))

    def ping(self, payload: bytes = b"") -> None:
        """Send a ping (at most 125 bytes of payload)."""
        if len(payload) > 125:
            raise LocalProtocolError("a ping payload is at most 125 bytes")
        self._require_open()
        self._queue(frame(FIN_PING, bytes(payload), masked=self._MASK_OUT))

    def close(
        self,
        code: int = NORMAL,
        reason: str = "",
        *,
        now: float,
        cause: ProtocolError | None = None,
    ) -> None:
        """Start the close handshake; before the connection opened, just close the transport.

        The peer has ``config.close_timeout`` seconds from *now* to answer. *cause*, the error
        that made the application close, if one did, rides on the final ConnectionClosed."""
        if self._state in (_State.CLOSING, _State.CLOSED):
            return
        if self._state is not _State.OPEN:
            self._finish(None, reason or "closed before the connection opened", False, cause)
            return
        self._close_cause = cause
        self._start_close(code, reason, now)

    def _require_open(self) -> None:
        if self._state is not _State.OPEN:
            raise LocalProtocolError(f"cannot send while the connection is {self._state.value}")

    def _send_ws(self, event: ws.Event) -> bytes:
        assert self._ws is not None
        return self._ws.send(event)

    def _queue(self, data: bytes) -> None:
        self._outgoing.append(data)
        self._buffered += len(data)

    # Opening ----------------------------------------------------------------------------------

    def _opened(
        self, now: float, subprotocol: str | None, extensions: Sequence[Any], frames: Connection
    ) -> None:
        """Open, framing with wsproto's *frames* (its handshake, done, is not kept)."""
        self._ws = frames
        self._state = _State.OPEN
        self._timers.clear("handshake")
        if self.config.ping_interval is not None:
            self._timers.set("ping", now + self.config.ping_interval)
        names = tuple(extension.name for extension in extensions)
        self._deflate = next((e for e in extensions if isinstance(e, _BoundedDeflate)), None)
        self._events.append(ConnectionAccepted(subprotocol, names))

    def _extensions(self) -> list[PerMessageDeflate]:
        if not self.config.compression:
            return []
        config = self.config
        return [
            _BoundedDeflate(
                config.max_message_size,
                config.compression_level,
                config.compression_window_bits,
                config.compression_memory_level,
            )
        ]

    def _handshake_timed_out(self) -> None:
        raise NotImplementedError

    # Receiving on an open connection ----------------------------------------------------------

    def _receive_frames(self, data: bytes, now: float) -> None:
        """Read the frames in *data*: a whole, unfragmented, uncompressed text message here,
        every other frame through wsproto, byte for byte as it arrives."""
        buffer: bytes | bytearray = data
        if self._frames:
            buffer = self._frames
            buffer += data
        offset = 0
        while offset < len(buffer) and self._state is not _State.CLOSED and not self._failure:
            if self._owed:
                end = offset + min(self._owed, len(buffer) - offset)
                self._owed -= end - offset
                self._to_wsproto(bytes(buffer[offset:end]), now)
                offset = end
                continue
            header = read_header(buffer, offset)
            if header is None:
                break
            end = offset + header.size + header.length
            if self._state is _State.OPEN and bare_control(header, self._MASKED_IN):
                if end > len(buffer):
                    break
                self._control_received(header, buffer[offset:end], now)
                offset = end
                continue
            if not self._is_simple_text(header):
                if self._too_big(header):
                    break
                if header.first & _OPCODE == _CLOSE and self._held:
                    self._stalled = True  # read once the messages before it are
                    break
                self._fragmented = _fragments(header.first, self._fragmented)
                self._owed = header.size + header.length
                continue
            if end > len(buffer):
                break
            payload = buffer[offset + header.size : end]
            if header.masked:
                payload = mask(buffer[offset + header.size - 4 : offset + header.size], payload)
            try:
                text = payload.decode()
            except UnicodeDecodeError:  # wsproto says what is wrong
                self._owed = end - offset
                continue
            offset = end
            self._message_received(TextReceived(text))
        if self._failure is not None:
            offset = len(buffer)  # nothing after a protocol error is read
        if buffer is self._frames:
            del buffer[:offset]
        elif offset < len(buffer):
            self._frames = bytearray(buffer[offset:])

    def _is_simple_text(self, header: Header) -> bool:
        """Whether the frame is a whole text message to read here, not through wsproto."""
        limit = self.config.max_message_size
        return (
            header.first == FIN_TEXT
            and header.masked is self._MASKED_IN
            and self._state is _State.OPEN
            and not self._fragmented
            and header.length <= (limit if limit is not None else _NO_LIMIT)
            and minimal(header)
        )

    def _control_received(self, header: Header, data: bytes | bytearray, now: float) -> None:
        """A ping or a pong read here (see :func:`bare_control`), *data* being the whole frame:
        wsproto, between two frames, is none the wiser, also amid a fragmented message."""
        if not self._control_allowed(now):
            return
        payload = data[header.size :]
        payload = mask(data[2:6], payload) if header.masked else bytes(payload)
        if header.first == FIN_PING:
            self._events.append(PingReceived(payload))
            self._queue(frame(FIN_PONG, payload, masked=self._MASK_OUT))
        else:
            self._events.append(PongReceived(payload))
            self._pong_received(now)

    def _too_big(self, header: Header) -> bool:
        """Refuse an uncompressed message whose first frame says it is over the limit, at
        once, before its payload is read."""
        limit = self.config.max_message_size
        if limit is None or header.length <= limit or header.first & RSV1:
            return False
        if header.first & _OPCODE not in (Opcode.TEXT, Opcode.BINARY):
            return False
        cause = RemoteProtocolError(
            f"a message is larger than the limit of {limit} bytes", close_code=MESSAGE_TOO_BIG
        )
        self._refuse(MESSAGE_TOO_BIG, "message too big", cause)
        return True

    def _to_wsproto(self, data: bytes, now: float) -> None:
        """Give wsproto bytes of one frame: it has at most one event to report."""
        assert self._ws is not None
        self._ws.receive_data(data)
        for event in self._ws.events():
            self._dispatch(event, now)

    def _message_received(self, message: TextReceived | BytesReceived) -> None:
        self.messages_received += 1
        if self.hold:
            if self._held is None:
                self._held = collections.deque()
            self._held.append(message)
            self._held_size += _size(message)
        else:
            self._events.append(message)

    def _dispatch(self, event: ws.Event, now: float) -> None:
        if isinstance(event, ws.Message):
            self._receive_fragment(event)
            return
        if not self._control_allowed(now):
            return
        if isinstance(event, ws.Ping):  # closing: while open, _control_received answers
            self._events.append(PingReceived(bytes(event.payload)))
        elif isinstance(event, ws.Pong):
            self._events.append(PongReceived(bytes(event.payload)))
            self._pong_received(now)
        else:
            assert isinstance(event, ws.CloseConnection)
            self._close_received(event)

    def _receive_fragment(self, event: ws.Message[Any]) -> None:
        data = event.data
        self._message.append(data)
        # The limit is in bytes: a text fragment counts its UTF-8 length, not its characters.
        ascii_only = not isinstance(data, str) or data.isascii()
        self._message_size += len(data) if ascii_only else len(data.encode())
        limit = self.config.max_message_size
        if limit is not None and self._message_size > limit:
            cause = RemoteProtocolError(
                f"a message is larger than the limit of {limit} bytes", close_code=MESSAGE_TOO_BIG
            )
            self._refuse(MESSAGE_TOO_BIG, "message too big", cause)
            return
        if not event.message_finished:
            most = self.config.max_fragments
            if most is not None and len(self._message) >= most:
                cause = RemoteProtocolError(
                    f"a message comes in more than {most} fragments", close_code=MESSAGE_TOO_BIG
                )
                self._refuse(MESSAGE_TOO_BIG, "too many fragments", cause)
            return
        parts, self._message, self._message_size = self._message, [], 0
        if isinstance(event, ws.TextMessage):
            self._message_received(TextReceived("".join(parts)))
        else:
            self._message_received(BytesReceived(b"".join(parts)))

    def _control_allowed(self, now: float) -> bool:
        """Count a control frame against ``max_control_frames``; past it, refuse the peer."""
        most = self.config.max_control_frames
        if most is None:
            return True
        if now - self._window >= _CONTROL_WINDOW:
            self._window, self._controls = now, 0
        self._controls += 1
        if self._controls <= most:
            return True
        cause = RemoteProtocolError(
            f"more than {most} control frames in a second", close_code=POLICY_VIOLATION
        )
        self._refuse(POLICY_VIOLATION, "too many control frames", cause)
        return False

    def _close_received(self, event: ws.CloseConnection) -> None:
        assert self._ws is not None
        if self._ws.state in (ConnectionState.OPEN, ConnectionState.LOCAL_CLOSING):
            # wsproto reports a frame it could not parse as a close event without a state change.
            code = int(event.code)
            cause = RemoteProtocolError(event.reason or "protocol error", close_code=code)
            self._refuse(code, event.reason or "", cause)
            return
        if self._state is _State.OPEN:
            self._queue(self._send_ws(event.response()))
            self._events.append(Closing(int(event.code), event.reason or "", True))
            self._finish(int(event.code), event.reason or "", True)
        else:
            self._finish(self._close_code, self._close_reason, True, self._close_cause)

    # Keepalive --------------------------------------------------------------------------------

    def _send_ping(self, now: float) -> None:
        self._pings_sent += 1
        self._queue(frame(FIN_PING, self._pings_sent.to_bytes(4, "big"), masked=self._MASK_OUT))
        if self.config.ping_timeout is not None:
            self._timers.set("pong", now + self.config.ping_timeout)
        else:  # no pong to wait for: the next ping is due an interval on
            assert self.config.ping_interval is not None  # as this ping's timer was set
            self._timers.set("ping", now + self.config.ping_interval)

    def _pong_received(self, now: float) -> None:
        if self._timers.get("pong") is None:
            return  # an unsolicited pong (RFC 6455 allows them) changes nothing
        self._timers.clear("pong")
        assert self.config.ping_interval is not None  # a ping went out on its timer
        self._timers.set("ping", now + self.config.ping_interval)

    # Closing ----------------------------------------------------------------------------------

    def _start_close(self, code: int, reason: str, now: float) -> None:
        reason = _fit_reason(reason)
        self._queue(self._send_ws(ws.CloseConnection(code=code, reason=reason)))
        self._state = _State.CLOSING
        self._close_code, self._close_reason = code, reason
        self._events.append(Closing(code, reason, False))
        self._timers.clear("ping", "pong")
        if self.config.close_timeout is not None:
            self._timers.set("close", now + self.config.close_timeout)

    def _refuse(self, code: int, reason: str, cause: ProtocolError) -> None:
        """Fail the connection for what the peer sent, once the messages it sent before are
        acted on: nothing after it is read."""
        if self._held:
            self._failure = (code, reason, cause)
        else:
            self._fail(code, reason, cause)

    def _fail(self, code: int, reason: str, cause: ProtocolError) -> None:
        """Fail the connection (RFC 6455, 7.1.7): send a close frame, then close the transport."""
        reason = _fit_reason(reason)
        if self._state is _State.OPEN:
            self._queue(self._send_ws(ws.CloseConnection(code=code, reason=reason)))
        self._finish(code, reason, False, cause)

    def _finish(
        self,
        code: int | None,
        reason: str,
        clean: bool,
        cause: ProtocolError | None = None,
    ) -> None:
        self._state = _State.CLOSED
        self._timers.clear()
        self._message, self._message_size = [], 0
        self._held = None
        self._held_size = 0
        self._failure, self._stalled, self._eof_held = None, False, False
        self._events.append(ConnectionClosed(code, reason, clean, cause))
        self._outgoing.append(b"")


def _size(message: TextReceived | BytesReceived) -> int:
    return len(message.text) if isinstance(message, TextReceived) else len(message.data)
