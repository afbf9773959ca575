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

The package owns the WebSocket layer; its private modules split it by concern:

* ``_config``: :class:`WebSocketConfig`, the limits and timers of a connection.
* ``_policy``: :class:`ServerPolicy`, what a server accepts before the application sees an
  upgrade; :func:`origin_allowed`, :func:`host_allowed` and the choice of a subprotocol.
* ``_events``: the events of both roles and their union, :data:`WebSocketEvent`.
* ``_frames``: frame headers read and written for the common case, and the close codes
  (``NORMAL``, ``GOING_AWAY``, ...), which this package exports too, with
  :func:`encode_frame`, which builds any frame, valid or not, for tests and fuzzers.
* ``_deflate``: permessage-deflate bounded by ``max_message_size``, and
  :data:`COMPRESSION_THRESHOLD`.
* ``_base``: what both roles share once open: sending, reading frames (the fast path of a
  whole text message), keepalive and closing.
* ``_server`` and ``_client``: :class:`WebSocketServer` and :class:`WebSocketClient`, each
  with the opening handshake of its role; :func:`refusal`, the answer of a server that will
  not read the request.
"""

from mcpws.core.websocket._client import WebSocketClient as WebSocketClient
from mcpws.core.websocket._config import WebSocketConfig as WebSocketConfig
from mcpws.core.websocket._deflate import COMPRESSION_THRESHOLD as COMPRESSION_THRESHOLD
from mcpws.core.websocket._events import (
    BytesReceived as BytesReceived,
    Closing as Closing,
    ConnectionAccepted as ConnectionAccepted,
    ConnectionClosed as ConnectionClosed,
    ConnectionRejected as ConnectionRejected,
    HandshakeRequest as HandshakeRequest,
    HttpAnswered as HttpAnswered,
    PingReceived as PingReceived,
    PongReceived as PongReceived,
    TextReceived as TextReceived,
    UpgradeRequested as UpgradeRequested,
    WebSocketEvent as WebSocketEvent,
)
from mcpws.core.websocket._frames import (
    ABNORMAL as ABNORMAL,
    GOING_AWAY as GOING_AWAY,
    INTERNAL_ERROR as INTERNAL_ERROR,
    INVALID_PAYLOAD as INVALID_PAYLOAD,
    MESSAGE_TOO_BIG as MESSAGE_TOO_BIG,
    NORMAL as NORMAL,
    POLICY_VIOLATION as POLICY_VIOLATION,
    PROTOCOL_ERROR as PROTOCOL_ERROR,
    UNSUPPORTED_DATA as UNSUPPORTED_DATA,
    encode_frame as encode_frame,
)
from mcpws.core.websocket._policy import (
    DEFAULT_ORIGINS as DEFAULT_ORIGINS,
    LOOPBACK_HOSTS as LOOPBACK_HOSTS,
    ServerPolicy as ServerPolicy,
    host_allowed as host_allowed,
    origin_allowed as origin_allowed,
)
from mcpws.core.websocket._server import (
    WebSocketServer as WebSocketServer,
    refusal as refusal,
)

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
    "encode_frame",
    "host_allowed",
    "origin_allowed",
    "refusal",
]
