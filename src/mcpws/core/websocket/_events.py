"""What a WebSocket connection reports, in either role: frozen event classes named in the past
tense, and :data:`WebSocketEvent`, their union, for a driver to ``match`` on."""

from __future__ import annotations

from typing import TypeAlias

import attrs

from mcpws.core.errors import ProtocolError

__all__ = [
    "BytesReceived",
    "Closing",
    "ConnectionAccepted",
    "ConnectionClosed",
    "ConnectionRejected",
    "HandshakeRequest",
    "HttpAnswered",
    "PingReceived",
    "PongReceived",
    "TextReceived",
    "UpgradeRequested",
    "WebSocketEvent",
]


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
