"""A sans-IO WebSocket connection, for both roles, on wsproto and h11. It knows nothing of MCP.

:class:`WebSocketServer` parses the HTTP request itself (with h11), so that it can answer what
is not a WebSocket upgrade with a complete HTTP response: health checks, unknown paths,
methods other than GET, requests that are too large, plain HTTP, forbidden origins and hosts.
A request that passes becomes an :class:`UpgradeRequested` event; the application then calls
:meth:`~WebSocketServer.accept` or :meth:`~WebSocketServer.reject`, after an authentication
hook as slow as it likes. :class:`WebSocketClient` builds the request from a ``ws://`` or
``wss://`` URL and checks the answer.

Once open, the core reads every frame's header itself. A whole, uncompressed text message (the
usual MCP message) is read here directly; wsproto reads every other frame, handed over byte
for byte, and checks it to the letter. Text messages, compressed or not, are written here.

Both roles deliver whole text and binary messages, reassembled from fragments, and
enforce ``max_message_size`` while the fragments arrive, after permessage-deflate inflation
too. They answer pings and echo close frames themselves, send keepalive pings, and close on
the deadlines of :class:`WebSocketConfig`. Every object speaks one vocabulary:
``receive_data(data, now)``, ``receive_eof(now)``, ``events_received()``, ``data_to_send()``
(where ``b""`` means "close the transport"), ``next_deadline()`` and ``handle_timeout(now)``.
"""

from __future__ import annotations

import enum
import re
import zlib
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, Final, TypeAlias
from urllib.parse import urlsplit

import attrs
import h11
from wsproto import ConnectionType, WSConnection, events as ws
from wsproto.connection import ConnectionState
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import CloseReason, Opcode, RsvBits
from wsproto.utilities import ProtocolError as WsprotoProtocolError

from mcpws.core._checks import positive_int, positive_or_none
from mcpws.core._timers import Timers
from mcpws.core.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from mcpws.core.websocket._frames import FIN_TEXT, RSV1, Header, frame, mask, minimal, read_header

__all__ = [
    "COMPRESSION_THRESHOLD",
    "DEFAULT_ORIGINS",
    "LOOPBACK_HOSTS",
    "BytesReceived",
    "Closing",
    "ConnectionAccepted",
    "ConnectionClosed",
    "ConnectionRejected",
    "HandshakeRequest",
    "HttpAnswered",
    "PingReceived",
    "PongReceived",
    "ServerPolicy",
    "TextReceived",
    "UpgradeRequested",
    "WebSocketClient",
    "WebSocketConfig",
    "WebSocketEvent",
    "WebSocketServer",
    "host_allowed",
    "origin_allowed",
]

# Close codes (RFC 6455, section 7.4.1).
NORMAL: Final = 1000
GOING_AWAY: Final = 1001
PROTOCOL_ERROR: Final = 1002
UNSUPPORTED_DATA: Final = 1003
ABNORMAL: Final = 1006
INVALID_PAYLOAD: Final = 1007
MESSAGE_TOO_BIG: Final = 1009
INTERNAL_ERROR: Final = 1011

#: Host patterns of the loopback names, any port: what a server bound to loopback accepts.
LOOPBACK_HOSTS: Final = ("localhost:*", "127.0.0.1:*", "[::1]:*")
#: Origin patterns allowed by default: pages served from a loopback name, any scheme or port.
DEFAULT_ORIGINS: Final = ("*://localhost:*", "*://127.0.0.1:*", "*://[::1]:*")

_MIB: Final = 1 << 20
#: Messages shorter than this many bytes are sent uncompressed, even with permessage-deflate.
COMPRESSION_THRESHOLD: Final = 1024
#: Bytes of a close frame's reason: 125 bytes of payload less the two of the code.
_MAX_REASON: Final = 123
#: The largest payload read here when no ``max_message_size`` is set.
_NO_LIMIT: Final = 1 << 62


def _level(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 9:
        raise ValueError(f"{attribute.name} must be an integer from 0 to 9, not {value!r}")


@attrs.frozen(kw_only=True)
class WebSocketConfig:
    """Limits and timers of a WebSocket connection, for either role. ``None`` switches one off.

    * ``max_message_size``: bytes of one reassembled (and inflated) message; over it, close
      1009. Enforced while the fragments arrive.
    * ``compression``: negotiate permessage-deflate when the peer offers it (server) or offer
      it (client); messages under :data:`COMPRESSION_THRESHOLD` bytes still go uncompressed.
    * ``compression_level``: zlib's level for the messages sent, 0 (none) to 9 (smallest,
      slowest). The default, 1, deflates JSON 2 to 3 times as fast as zlib's default (6) for
      output up to 1.5 times as large, and base64 data, which hardly shrinks, 3 times as fast.
    * ``ping_interval``, ``ping_timeout``: seconds between keepalive pings, and how long to
      wait for the pong before failing the connection with 1011.
    * ``handshake_timeout``: seconds for the opening handshake to complete.
    * ``close_timeout``: seconds to wait for the peer's close frame after sending ours.
    * ``max_handshake_size``: bytes of the HTTP request or response head; over it, 431.
    * ``max_buffer``: the high-water mark of unsent bytes (:attr:`buffered_amount`) above
      which a driver should stop reading from the peer until it has written; the core itself
      never drops data.
    """

    max_message_size: int | None = attrs.field(default=16 * _MIB, validator=positive_or_none)
    compression: bool = True
    compression_level: int = attrs.field(default=1, validator=_level)
    ping_interval: float | None = attrs.field(default=20.0, validator=positive_or_none)
    ping_timeout: float | None = attrs.field(default=20.0, validator=positive_or_none)
    handshake_timeout: float | None = attrs.field(default=10.0, validator=positive_or_none)
    close_timeout: float | None = attrs.field(default=10.0, validator=positive_or_none)
    max_handshake_size: int = attrs.field(default=16 * 1024, validator=positive_int)
    max_buffer: int = attrs.field(default=4 * _MIB, validator=positive_int)


@attrs.frozen(kw_only=True)
class ServerPolicy:
    """What a server accepts before an upgrade is even offered to the application.

    * ``path``: the one request path that may upgrade (``None``: any); others get 404.
    * ``health_path``: a path answered ``200 ok`` to a plain GET, for load balancers
      (``None``: off).
    * ``allowed_origins``: patterns for the ``Origin`` header, ``scheme://host:port``, where the
      scheme or the port may be ``*`` and a host may start with ``*.`` for any subdomain; ``*``
      alone allows every origin. A request with no ``Origin`` (not from a browser) is always
      allowed; any other origin gets 403. The default allows the loopback names only.
    * ``allowed_hosts``: patterns for the ``Host`` header, ``host`` or ``host:port`` (port
      ``*`` for any); ``None`` allows every host. A server bound to a loopback address should
      use :data:`LOOPBACK_HOSTS`, which defeats DNS rebinding.
    * ``subprotocols``: the subprotocols the server speaks, preferred first. A client that
      offers some of them gets the first; one that offers only others gets 400; one that
      offers none is accepted without one unless ``require_subprotocol``.
    """

    path: str | None = "/mcp"
    health_path: str | None = "/healthz"
    allowed_origins: tuple[str, ...] = DEFAULT_ORIGINS
    allowed_hosts: tuple[str, ...] | None = None
    subprotocols: tuple[str, ...] = ()
    require_subprotocol: bool = False


def _fit_reason(reason: str) -> str:
    """Cut a close reason to the 123 UTF-8 bytes a close frame has room for, at a character
    boundary, as it will go on the wire."""
    data = reason.encode()
    if len(data) <= _MAX_REASON:
        return reason
    return data[:_MAX_REASON].decode(errors="ignore")


def _split_host_port(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        host, _, rest = authority.partition("]")
        host += "]"
        return host.lower(), rest[1:] if rest.startswith(":") else None
    host, colon, port = authority.rpartition(":")
    if not colon or (not port.isdigit() and port != "*"):
        return authority.lower(), None
    return host.lower(), port


def _host_matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return pattern == host


_DEFAULT_PORTS: Final = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def origin_allowed(origin: str, patterns: Sequence[str]) -> bool:
    """Tell whether an ``Origin`` header value matches one of the *patterns*."""
    scheme, sep, authority = origin.strip().partition("://")
    if not sep or "/" in authority:
        return "*" in patterns or origin in patterns
    scheme = scheme.lower()
    host, port = _split_host_port(authority)
    port = port or _DEFAULT_PORTS.get(scheme)
    for pattern in patterns:
        if pattern == "*":
            return True
        p_scheme, p_sep, p_authority = pattern.partition("://")
        if not p_sep:
            continue
        p_host, p_port = _split_host_port(p_authority)
        p_port = p_port or _DEFAULT_PORTS.get(p_scheme.lower())
        if (
            p_scheme in ("*", scheme)
            and _host_matches(p_host, host)
            and (p_port == "*" or p_port == port)
        ):
            return True
    return False


def host_allowed(host: str, patterns: Sequence[str]) -> bool:
    """Tell whether a ``Host`` header value matches one of the *patterns*."""
    name, port = _split_host_port(host.strip())
    for pattern in patterns:
        if pattern == "*":
            return True
        p_name, p_port = _split_host_port(pattern)
        if _host_matches(p_name, name) and (
            p_port in ("*", port) or (p_port is None and port is None)
        ):
            return True
    return False


# Events -----------------------------------------------------------------------------------------


@attrs.frozen
class HandshakeRequest:
    """The HTTP request that asks a server to upgrade. Header names are lower case."""

    target: str
    path: str
    headers: tuple[tuple[str, str], ...]
    subprotocols: tuple[str, ...]

    def header(self, name: str) -> str | None:
        """Return the first value of header *name* (any case), or ``None``."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)


@attrs.frozen
class UpgradeRequested:
    """Server: a request passed the policy; call ``accept()`` or ``reject()``.

    ``subprotocol`` is the one the policy would select (``None``: none)."""

    request: HandshakeRequest
    subprotocol: str | None


@attrs.frozen
class HttpAnswered:
    """Server: a request was answered with a plain HTTP response, not upgraded."""

    status_code: int
    target: str
    reason: str


@attrs.frozen
class ConnectionAccepted:
    """The WebSocket is open, with this subprotocol (or none) and these extensions."""

    subprotocol: str | None
    extensions: tuple[str, ...]


@attrs.frozen
class ConnectionRejected:
    """Client: the server refused the upgrade. ``body`` is at most the first 4 KiB."""

    status_code: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@attrs.frozen
class TextReceived:
    """A whole text message."""

    text: str


@attrs.frozen
class BytesReceived:
    """A whole binary message."""

    data: bytes


@attrs.frozen
class PingReceived:
    """A ping; the core has answered it already."""

    payload: bytes


@attrs.frozen
class PongReceived:
    """A pong."""

    payload: bytes


@attrs.frozen
class Closing:
    """The close handshake started: by the peer's close frame (the core has answered it), or
    by this side's ``close()``. :class:`ConnectionClosed` follows when it ends."""

    code: int
    reason: str
    by_peer: bool


@attrs.frozen
class ConnectionClosed:
    """The connection is over; nothing more will be sent or received.

    ``code`` is the WebSocket close code (``None`` when no WebSocket ever opened), ``reason``
    its text, ``clean`` whether the close handshake completed, and ``cause`` the error that
    ended it, if one did.
    """

    code: int | None
    reason: str
    clean: bool
    cause: ProtocolError | None = None


WebSocketEvent: TypeAlias = (
    UpgradeRequested
    | HttpAnswered
    | ConnectionAccepted
    | ConnectionRejected
    | TextReceived
    | BytesReceived
    | PingReceived
    | PongReceived
    | Closing
    | ConnectionClosed
)


class _State(enum.Enum):
    HANDSHAKE = "handshake"
    UPGRADE_PENDING = "upgrade pending"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class _BoundedDeflate(PerMessageDeflate):
    """permessage-deflate that never inflates more than ``limit`` bytes of one message.

    wsproto inflates a frame whole; a few kilobytes can inflate to gigabytes. This inflates
    at most one byte past the limit and then fails the connection with 1009.
    """

    def __init__(self, limit: int | None, level: int) -> None:
        super().__init__()
        self._limit = limit
        self._level = level
        self._inflated = 0

    def frame_outbound(
        self, proto: Any, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
    ) -> tuple[RsvBits, bytes]:
        if opcode not in (Opcode.TEXT, Opcode.BINARY) or not fin:
            return super().frame_outbound(proto, opcode, rsv, data, fin)
        # A small message goes out as it is: deflating it costs more than it saves, and
        # RFC 7692 compresses message by message.
        if len(data) < COMPRESSION_THRESHOLD:
            return (rsv, data)
        return (RsvBits(True, rsv.rsv2, rsv.rsv3), self.deflate(data, client=proto.client))

    def deflate(self, data: bytes, *, client: bool) -> bytes:
        """The payload of one whole message compressed (RFC 7692, section 7.2.1), at our
        level, in the window the peers agreed on."""
        if self._compressor is None:
            bits = self.client_max_window_bits if client else self.server_max_window_bits
            self._compressor = zlib.compressobj(self._level, zlib.DEFLATED, -bits)
        out = self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        if self.client_no_context_takeover if client else self.server_no_context_takeover:
            self._compressor = None
        return out[:-4]

    def frame_inbound_payload_data(self, proto: Any, data: bytes) -> bytes | CloseReason:
        if self._limit is None or not self._inbound_compressed or not self._inbound_is_compressible:
            return super().frame_inbound_payload_data(proto, data)
        return self._inflate(bytes(data))

    def frame_inbound_complete(self, proto: Any, fin: bool) -> bytes | CloseReason | None:
        if not self._inbound_is_compressible:
            # A control frame, perhaps between the fragments of a compressed message: it must
            # not end that message, only the state its own header began between messages.
            if not self._inbound_compressed:
                self._inbound_compressed = None
            return None
        if self._limit is None or not fin or not self._inbound_compressed:
            self._inflated = 0 if fin else self._inflated
            return super().frame_inbound_complete(proto, fin)
        tail = self._inflate(b"\x00\x00\xff\xff")
        self._inflated = 0
        if isinstance(tail, CloseReason):
            return tail
        if (proto.client and self.server_no_context_takeover) or (
            not proto.client and self.client_no_context_takeover
        ):
            self._decompressor = None
        self._inbound_compressed = None
        return tail

    def _inflate(self, data: bytes) -> bytes | CloseReason:
        assert self._decompressor is not None
        assert self._limit is not None
        try:
            out = self._decompressor.decompress(data, self._limit - self._inflated + 1)
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        self._inflated += len(out)
        if self._inflated > self._limit:
            return CloseReason.MESSAGE_TOO_BIG
        return out


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
    """What both roles share: the open connection, its limits, keepalive and closing."""

    #: Whether the frames this side receives are masked (a server's), and those it sends.
    _MASKED_IN: bool
    _MASK_OUT: bool

    def __init__(self, config: WebSocketConfig, now: float) -> None:
        self.config = config
        self._state = _State.HANDSHAKE
        self._ws: WSConnection | None = None
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
        self._close_code: int | None = None
        self._close_reason = ""
        self._close_cause: ProtocolError | None = None
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
        """How many bytes wait in :meth:`data_to_send`; compare with ``config.max_buffer``."""
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

    def receive_eof(self, now: float) -> None:
        """The peer closed its side of the transport."""
        if self._state is _State.CLOSED:
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
        data = text.encode()
        if self._deflate is not None and len(data) >= COMPRESSION_THRESHOLD:
            compressed = self._deflate.deflate(data, client=self._MASK_OUT)
            self._queue(frame(FIN_TEXT | RSV1, compressed, masked=self._MASK_OUT))
        else:  # a message that goes out uncompressed, in one frame
            self._queue(frame(FIN_TEXT, data, masked=self._MASK_OUT))

    def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        self._require_open()
        self._queue(self._send_ws(ws.BytesMessage(data=bytes(data))))

    def ping(self, payload: bytes = b"") -> None:
        """Send a ping (at most 125 bytes of payload)."""
        if len(payload) > 125:
            raise LocalProtocolError("a ping payload is at most 125 bytes")
        self._require_open()
        self._queue(self._send_ws(ws.Ping(payload=bytes(payload))))

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

    def _opened(self, now: float, subprotocol: str | None, extensions: Sequence[Any]) -> None:
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
        return [_BoundedDeflate(self.config.max_message_size, self.config.compression_level)]

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
        while offset < len(buffer) and self._state is not _State.CLOSED:
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
            if not self._is_simple_text(header):
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
            self._events.append(TextReceived(text))
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

    def _to_wsproto(self, data: bytes, now: float) -> None:
        """Give wsproto bytes of one frame: it has at most one event to report."""
        assert self._ws is not None
        self._ws.receive_data(data)
        for event in self._ws.events():
            self._dispatch(event, now)

    def _dispatch(self, event: ws.Event, now: float) -> None:
        if isinstance(event, ws.Message):
            self._receive_fragment(event)
        elif isinstance(event, ws.Ping):
            self._events.append(PingReceived(bytes(event.payload)))
            if self._state is _State.OPEN:
                self._queue(self._send_ws(event.response()))
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
            self._fail(MESSAGE_TOO_BIG, "message too big", cause)
            return
        if not event.message_finished:
            return
        parts, self._message, self._message_size = self._message, [], 0
        if isinstance(event, ws.TextMessage):
            self._events.append(TextReceived("".join(parts)))
        else:
            self._events.append(BytesReceived(b"".join(parts)))

    def _close_received(self, event: ws.CloseConnection) -> None:
        assert self._ws is not None
        if self._ws.state in (ConnectionState.OPEN, ConnectionState.LOCAL_CLOSING):
            # wsproto reports a frame it could not parse as a close event without a state change.
            code = int(event.code)
            cause = RemoteProtocolError(event.reason or "protocol error", close_code=code)
            self._fail(code, event.reason or "", cause)
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
        self._queue(self._send_ws(ws.Ping(payload=self._pings_sent.to_bytes(4, "big"))))
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
        self._events.append(ConnectionClosed(code, reason, clean, cause))
        self._outgoing.append(b"")


# The server -------------------------------------------------------------------------------------

_TEXT_PLAIN: Final = ("content-type", "text/plain; charset=utf-8")
_KEY: Final = re.compile(r"^[A-Za-z0-9+/]{22}==$")
#: The end of an HTTP head, as h11 finds it.
_BLANK_LINE: Final = re.compile(rb"\n\r?\n")


def _select(policy: ServerPolicy, offered: Sequence[str]) -> tuple[str | None, str | None]:
    """The subprotocol the policy selects, and why the request fails when it fails."""
    chosen = next((name for name in policy.subprotocols if name in offered), None)
    if chosen is not None or not policy.subprotocols:
        return chosen, None
    if offered or policy.require_subprotocol:
        spoken = ", ".join(repr(name) for name in policy.subprotocols)
        return None, f"this endpoint speaks the WebSocket subprotocols {spoken} only"
    return None, None


class WebSocketServer(_WebSocket):
    """The server side of one WebSocket connection, from the first byte of the request on.

    ``principal`` is whatever the application passed to :meth:`accept`: the identity that an
    authentication hook established.
    """

    _MASKED_IN = True
    _MASK_OUT = False

    def __init__(
        self,
        now: float,
        *,
        config: WebSocketConfig | None = None,
        policy: ServerPolicy | None = None,
    ) -> None:
        super().__init__(config or WebSocketConfig(), now)
        self.policy = policy or ServerPolicy()
        self.principal: object = None
        self._h11 = h11.Connection(
            h11.SERVER, max_incomplete_event_size=self.config.max_handshake_size
        )
        self._request: HandshakeRequest | None = None
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self._early = b""
        self._received = 0  # bytes of the request so far, to measure a head h11 read whole

    def receive_data(self, data: bytes, now: float) -> None:
        """Take bytes from the client."""
        if not data:
            return  # not the end of the stream: that is receive_eof
        if self._state is _State.HANDSHAKE:
            self._receive_request(bytes(data))
        elif self._state is _State.UPGRADE_PENDING:
            self._early += data
            if len(self._early) > self.config.max_handshake_size:
                self._answer(400, "the client sent too much before the upgrade was accepted")
        elif self._state is not _State.CLOSED:
            self._receive_frames(bytes(data), now)

    def accept(
        self,
        *,
        now: float,
        subprotocol: str | None = None,
        extra_headers: Sequence[tuple[str, str]] = (),
        principal: object = None,
    ) -> None:
        """Complete the upgrade asked for by the :class:`UpgradeRequested` event.

        *subprotocol* defaults to the one the policy selected; it must be one the client
        offered.
        """
        if self._state is not _State.UPGRADE_PENDING or self._request is None:
            raise LocalProtocolError(f"no upgrade to accept while {self._state.value}")
        offered = self._request.subprotocols
        chosen = subprotocol if subprotocol is not None else self._selected
        if chosen is not None and chosen not in offered:
            raise LocalProtocolError(f"the client did not offer the subprotocol {chosen!r}")
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra_headers]
        connection, extensions, data = self._upgrade(self._request.target, chosen, headers)
        self._ws = connection
        self._queue(data)
        self.principal = principal
        self._opened(now, chosen, [e for e in extensions if e.enabled()])
        early, self._early = self._early, b""
        if early:
            self._receive_frames(early, now)

    def reject(
        self,
        status_code: int = 403,
        body: str = "",
        *,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Refuse the upgrade asked for by the :class:`UpgradeRequested` event, with an HTTP
        response (401 should carry a ``WWW-Authenticate`` header)."""
        if self._state is not _State.UPGRADE_PENDING:
            raise LocalProtocolError(f"no upgrade to reject while {self._state.value}")
        try:
            self._answer(
                status_code,
                body or _reason(status_code) or "Error",
                headers=headers,
                blame_client=False,
            )
        except h11.LocalProtocolError as exc:  # raised by h11.Response(): nothing was sent
            raise LocalProtocolError(f"cannot answer with that response: {exc}") from None

    # The request ------------------------------------------------------------------------------

    def _receive_request(self, data: bytes) -> None:
        self._h11.receive_data(data)
        self._received += len(data)
        try:
            event = self._h11.next_event()
        except h11.RemoteProtocolError as exc:
            self._answer(exc.error_status_hint, f"bad HTTP request: {exc}")
            return
        if event is h11.NEED_DATA:
            return
        assert isinstance(event, h11.Request)
        limit = self.config.max_handshake_size
        if self._received - len(self._h11.trailing_data[0]) > limit:
            # h11 limits only a head that is still incomplete; this one arrived whole.
            self._answer(431, f"the request head is larger than {limit} bytes")
            return
        target = event.target.decode("ascii", "replace")
        path = target.partition("?")[0]
        self._raw_headers = list(event.headers)
        self._method = event.method
        headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers
        )
        offered = tuple(
            token.strip()
            for name, value in headers
            if name == "sec-websocket-protocol"
            for token in value.split(",")
            if token.strip()
        )
        request = HandshakeRequest(target, path, headers, offered)
        self._request = request
        refusal = self._check(event.method, request)
        if refusal is not None:
            status, reason, extra = refusal
            self._answer(status, reason, target=target, headers=extra)
            return
        self._selected, _ = _select(self.policy, offered)
        self._early = self._h11.trailing_data[0]
        self._state = _State.UPGRADE_PENDING
        self._events.append(UpgradeRequested(request, self._selected))

    _selected: str | None = None
    _method: bytes = b""

    def _check(
        self, method: bytes, request: HandshakeRequest
    ) -> tuple[int, str, tuple[tuple[str, str], ...]] | None:
        """Return why the request may not upgrade (status, reason, headers), or ``None``."""
        policy = self.policy
        health = policy.health_path is not None and request.path == policy.health_path
        if health and method in (b"GET", b"HEAD"):
            return 200, "ok", ()
        if policy.path is not None and request.path != policy.path:
            return 404, f"nothing is served at {request.path}", ()
        if method != b"GET":
            return 405, "a WebSocket upgrade must be a GET request", (("allow", "GET"),)
        connection = (request.header("connection") or "").lower()
        upgrade = (request.header("upgrade") or "").lower()
        if "upgrade" not in {t.strip() for t in connection.split(",")} or upgrade != "websocket":
            return 426, "this endpoint speaks WebSocket only", (("upgrade", "websocket"),)
        if request.header("sec-websocket-version") != "13":
            return 426, "WebSocket version 13 is required", (("sec-websocket-version", "13"),)
        if not _KEY.match(request.header("sec-websocket-key") or ""):
            return 400, "the Sec-WebSocket-Key header is missing or malformed", ()
        host = request.header("host")
        if host is None:
            return 400, "the Host header is missing", ()
        if policy.allowed_hosts is not None and not host_allowed(host, policy.allowed_hosts):
            return 403, f"the host {host!r} is not allowed", ()
        origin = request.header("origin")
        if origin is not None and not origin_allowed(origin, policy.allowed_origins):
            return 403, f"the origin {origin!r} is not allowed", ()
        chosen, refusal = _select(policy, request.subprotocols)
        if refusal is not None:
            return 400, refusal, ()
        try:  # wsproto reads the request again, more strictly: IDNA hosts, ASCII tokens, ...
            self._upgrade(request.target, chosen, [])
        except (WsprotoProtocolError, ValueError) as exc:  # UnicodeError is a ValueError
            return 400, f"not a valid WebSocket upgrade request: {exc}", ()
        return None

    def _upgrade(
        self, target: str, subprotocol: str | None, headers: list[tuple[bytes, bytes]]
    ) -> tuple[WSConnection, list[PerMessageDeflate], bytes]:
        """Answer the request with wsproto: its connection, extensions and ``101`` response."""
        extensions = self._extensions()
        connection = WSConnection(ConnectionType.SERVER)
        connection.initiate_upgrade_connection(self._raw_headers, target)
        for _ in connection.events():
            pass  # the Request this server has already checked
        data = connection.send(
            ws.AcceptConnection(
                subprotocol=subprotocol, extensions=list(extensions), extra_headers=headers
            )
        )
        return connection, extensions, data

    def _answer(
        self,
        status: int,
        reason: str,
        *,
        target: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
        blame_client: bool = True,
    ) -> None:
        """Answer with a complete HTTP response and close the connection.

        An error status is the client's fault, and so the cause of the close, unless
        *blame_client* is false (the application refused, or the server ran out of time)."""
        body = (reason + "\n").encode()
        head = [_TEXT_PLAIN, ("content-length", str(len(body))), ("connection", "close")]
        # h11 answers in every state, even before or after a bad request.
        response = h11.Response(
            status_code=status, headers=[*head, *headers], reason=_reason(status)
        )
        data = self._h11.send(response) or b""
        if self._method != b"HEAD" and status not in (204, 304):  # these have no body
            data += self._h11.send(h11.Data(data=body)) or b""
        data += self._h11.send(h11.EndOfMessage()) or b""
        self._queue(data)
        request_target = (
            target if target is not None else self._request.target if self._request else ""
        )
        self._events.append(HttpAnswered(status, request_target, reason))
        fault = blame_client and status >= 400
        self._finish(
            None, reason, False, RemoteProtocolError(reason, http_status=status) if fault else None
        )

    def _handshake_timed_out(self) -> None:
        if self._state is _State.HANDSHAKE:
            self._answer(408, "the request did not arrive in time")
        else:
            self._answer(503, "the server did not accept the upgrade in time", blame_client=False)


def _reason(status: int) -> str:
    """The standard reason phrase of *status*, or ``""`` for a status the standard lacks."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


# The client -------------------------------------------------------------------------------------

_BODY_SNIPPET: Final = 4096


class WebSocketClient(_WebSocket):
    """The client side of one WebSocket connection, to a ``ws://`` or ``wss://`` URL.

    The request is queued in :meth:`data_to_send` at once. ``host``, ``port`` and ``secure``
    tell the driver where to connect and whether to wrap the transport in TLS.
    """

    _MASKED_IN = False
    _MASK_OUT = True

    def __init__(
        self,
        url: str,
        now: float,
        *,
        config: WebSocketConfig | None = None,
        subprotocols: Sequence[str] = (),
        extra_headers: Sequence[tuple[str, str]] = (),
        origin: str | None = None,
    ) -> None:
        super().__init__(config or WebSocketConfig(), now)
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
        self.secure = parts.scheme == "wss"
        self.host = parts.hostname
        default_port = 443 if self.secure else 80
        self.port = parts.port or default_port
        name = f"[{self.host}]" if ":" in self.host else self.host
        authority = name if self.port == default_port else f"{name}:{self.port}"
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._offered = tuple(subprotocols)
        headers = [*extra_headers, *((("origin", origin),) if origin is not None else ())]
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._queue(
            self._ws.send(
                ws.Request(
                    host=authority,
                    target=self.target,
                    subprotocols=list(self._offered),
                    extensions=list(self._extensions()),
                    extra_headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
                )
            )
        )
        self._rejection: tuple[int, tuple[tuple[str, str], ...]] | None = None
        self._tail = b""  # the end of the answer so far, where a blank line may begin
        self._rejection_body = b""

    def receive_data(self, data: bytes, now: float) -> None:
        """Take bytes from the server."""
        if not data:
            return  # not the end of the stream: that is receive_eof
        if self._state is _State.HANDSHAKE:
            self._receive_answer(bytes(data), now)
        elif self._state is not _State.CLOSED:
            self._receive_frames(bytes(data), now)

    def _receive_answer(self, data: bytes, now: float) -> None:
        """Give wsproto the answer one head at a time: the frames after a ``101`` are read as
        every frame is, and wsproto must not hold any of them."""
        while data and self._state is _State.HANDSHAKE:
            found = _BLANK_LINE.search(self._tail + data)
            if found is None:
                head, data = data, b""
                self._tail = (self._tail + head)[-2:]
            else:
                cut = found.end() - len(self._tail)
                head, data = data[:cut], data[cut:]
                self._tail = b""
            self._read_answer(head, now)
        if data and self._state is _State.OPEN:
            self._receive_frames(data, now)

    def _read_answer(self, data: bytes, now: float) -> None:
        assert self._ws is not None
        try:
            self._ws.receive_data(data)
            events = self._ws.events()
            for event in events:
                if isinstance(event, ws.AcceptConnection):
                    self._opened(now, event.subprotocol, event.extensions)
                elif isinstance(event, ws.RejectConnection):
                    headers = tuple(
                        (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in event.headers
                    )
                    self._rejection = (event.status_code, headers)
                    if not event.has_body:
                        self._rejected()
                else:  # wsproto is given no frame before the 101 is read
                    assert isinstance(event, ws.RejectData)
                    self._rejection_body += event.data
                    if event.body_finished or len(self._rejection_body) >= _BODY_SNIPPET:
                        self._rejected()
                if self._state is _State.CLOSED:
                    return
        except (WsprotoProtocolError, ValueError) as exc:  # ValueError: bad header values
            reason = f"the server's answer is not a valid WebSocket upgrade: {exc}"
            self._finish(None, reason, False, RemoteProtocolError(reason))

    def _rejected(self) -> None:
        assert self._rejection is not None
        status, headers = self._rejection
        body = self._rejection_body[:_BODY_SNIPPET]
        self._events.append(ConnectionRejected(status, headers, body))
        snippet = body[:200].decode("utf-8", "replace")
        reason = f"the server refused the upgrade with HTTP {status}: {snippet!r}"
        self._finish(None, reason, False, RemoteProtocolError(reason, http_status=status))

    def _handshake_timed_out(self) -> None:
        reason = "the server did not complete the handshake in time"
        self._finish(None, reason, False, RemoteProtocolError(reason))
