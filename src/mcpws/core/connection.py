"""MCP over WebSocket: the objects a driver pumps, :class:`ServerConnection` and
:class:`ClientConnection`.

Each frames a :class:`~mcpws.core.channel.MessageChannel` over a :mod:`mcpws.core.websocket`
core: the channel owns the rules of MCP over messages (one JSON-RPC message, or batch, per
text message; the JSON-RPC error that answers an invalid one, the connection staying open; a
binary message refused; the session's messages and its failure), and the connection adds
those of WebSocket:

* the subprotocol is ``mcp``; SEP-1288's ``mcp.version.<revision>`` is selected when offered
  and supported, and ``mcp.auth.<token>`` is handed to the application (on the
  :class:`ConnectionRequested` event) and never echoed back; the rule is
  :func:`~mcpws.core.channel.select_subprotocol`;
* a binary message closes the connection with 1003;
* a failed session closes the connection with 1002, the error riding on
  :class:`ConnectionClosed`.

A connection may own a session (:mod:`mcpws.core.session`): the messages then go to the
session, whose events are reported in their place, and the session's messages are sent. A
client connection starts its session when the server accepts.

The vocabulary is that of every core object: ``receive_data(data, now)``,
``receive_eof(now)``, ``events_received()``, ``data_to_send()``, ``next_deadline()``,
``handle_timeout(now)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import attrs

from mcpws.core import jsonrpc, websocket as wsc
from mcpws.core._framing import Traffic
from mcpws.core.channel import (
    AUTH_PREFIX,
    SUBPROTOCOL,
    VERSION_PREFIX,
    ChannelEvent,
    ChannelFailed,
    InvalidMessageAnswered,
    MessageChannel,
    MessageReceived,
    select_subprotocol,
    spoken_subprotocols,
)
from mcpws.core.errors import LocalProtocolError
from mcpws.core.session import ClientSession, ServerSession, SessionEvent
from mcpws.core.versions import REVISIONS
from mcpws.core.websocket import (
    Closing,
    ConnectionAccepted,
    ConnectionClosed,
    ConnectionRejected,
    HandshakeRequest,
    HttpAnswered,
    PingReceived,
    PongReceived,
    ServerPolicy,
    WebSocketConfig,
)

__all__ = [
    "SUBPROTOCOL",
    "Authenticate",
    "AuthenticationFailed",
    "ClientConnection",
    "Closing",
    "ConnectionAccepted",
    "ConnectionClosed",
    "ConnectionEvent",
    "ConnectionRejected",
    "ConnectionRequested",
    "HttpAnswered",
    "InvalidMessageAnswered",
    "MessageReceived",
    "PingReceived",
    "PongReceived",
    "ServerConnection",
    "Traffic",
]


@attrs.frozen
class ConnectionRequested:
    """Server: a client asks to open an MCP connection; call ``accept()`` or ``reject()``.

    ``auth_token`` is the token of an offered ``mcp.auth.<token>`` subprotocol, ``revision``
    the supported revision of an offered ``mcp.version.<revision>``, and ``subprotocol`` the
    one ``accept()`` selects by default.
    """

    request: HandshakeRequest
    subprotocol: str | None
    auth_token: str | None
    revision: str | None


class AuthenticationFailed(Exception):
    """Raised by an ``authenticate`` hook to refuse a connection: 401 (the default, sent with
    ``WWW-Authenticate: Bearer``) when credentials are missing or wrong, 403 when they are
    valid but not enough."""

    def __init__(self, message: str = "authentication required", *, status_code: int = 401):
        if status_code not in (401, 403):
            raise ValueError("an authentication failure is answered with 401 or 403")
        super().__init__(message)
        self.message = message
        self.status_code = status_code


#: An authentication hook: it returns the principal to attach to the connection, or raises
#: :class:`AuthenticationFailed`.
Authenticate: TypeAlias = Callable[[ConnectionRequested], object]


ConnectionEvent: TypeAlias = (
    ConnectionRequested
    | HttpAnswered
    | ConnectionAccepted
    | ConnectionRejected
    | MessageReceived
    | InvalidMessageAnswered
    | PingReceived
    | PongReceived
    | Closing
    | ConnectionClosed
    | SessionEvent
)


class _Connection:
    """What both roles share: framing a :class:`~mcpws.core.channel.MessageChannel` over the
    WebSocket core, turning its events into MCP ones, and sending messages."""

    _ws: wsc.WebSocketServer | wsc.WebSocketClient
    session: ClientSession | ServerSession | None

    def __init__(self, session: ClientSession | ServerSession | None, *, max_depth: int) -> None:
        self._channel = MessageChannel(session, max_depth=max_depth)
        self._events: list[ConnectionEvent] = []
        self._bytes_in = self._bytes_out = 0

    @property
    def allow_batches(self) -> bool:
        """Whether a text message may hold a batch (revision 2025-03-26 only); a session
        decides it when there is one."""
        return self._channel.allow_batches

    @allow_batches.setter
    def allow_batches(self, value: bool) -> None:
        self._channel.allow_batches = value

    def receive_data(self, data: bytes, now: float) -> None:
        """Take bytes from the peer."""
        self._bytes_in += len(data)
        self._ws.receive_data(data, now)
        self._translate(now)

    def receive_eof(self, now: float) -> None:
        """The peer closed its side of the transport."""
        self._ws.receive_eof(now)
        self._translate(now)

    @property
    def hold(self) -> bool:
        """Whether the peer's messages wait for :meth:`resume` (off by default): a driver
        sets it to act on one message at a time, and on the next only when it has room for
        its answer, while the frames around them are read on (pings answered, pongs noted).
        What ends the connection behind a held message waits for it."""
        return self._ws.hold

    @hold.setter
    def hold(self, value: bool) -> None:
        self._ws.hold = value

    @property
    def held(self) -> int:
        """The size of what is held (see :attr:`hold`): a driver reads no more from a peer
        while it holds enough."""
        return self._ws.held

    @property
    def holding(self) -> bool:
        """Whether :meth:`resume` has something to act on."""
        return self._ws.holding

    def resume(self, now: float) -> bool:
        """Act on the next held message (or, once none is left, on what waited behind them);
        whether there was anything."""
        if not self._ws.resume(now):
            return False
        self._translate(now)
        return True

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before *now*."""
        self._ws.handle_timeout(now)
        self._translate(now)
        if self.session is not None:
            self._channel.handle_timeout(now)
            self._sync(now)

    def events_received(self) -> list[ConnectionEvent]:
        """Return and forget the events so far."""
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> list[bytes]:
        """Return and forget the bytes to write; ``b""`` means close the transport."""
        self._send_texts()
        data = self._ws.data_to_send()
        self._bytes_out += sum(map(len, data))
        return data

    @property
    def traffic(self) -> Traffic:
        """What the connection has carried so far (sent: handed to :meth:`data_to_send`)."""
        ws = self._ws
        return Traffic(ws.messages_received, ws.messages_sent, self._bytes_in, self._bytes_out)

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` must next be called, or ``None``."""
        ws = self._ws.next_deadline()
        if (channel := self._channel.next_deadline()) is None:
            return ws
        return channel if ws is None else min(ws, channel)

    @property
    def buffered_amount(self) -> int:
        """Bytes waiting in :meth:`data_to_send`."""
        self._send_texts()
        return self._ws.buffered_amount

    @property
    def closed(self) -> bool:
        """Whether the connection is over."""
        return self._ws.closed

    @property
    def is_open(self) -> bool:
        """Whether messages may be sent: the upgrade is done and no close has started."""
        return self._ws.is_open

    def send(self, message: jsonrpc.Message | Sequence[jsonrpc.Message]) -> None:
        """Send one JSON-RPC message, or a batch (only where :attr:`allow_batches` is set)."""
        self._ws.send_text(self._channel.encode(message))

    def send_text(self, text: str) -> None:
        """Send one message as JSON text that the caller encoded and vouches for: an
        adapter carrying another library's messages, which that library has checked."""
        self._ws.send_text(text)

    def ping(self, payload: bytes = b"") -> None:
        """Send a WebSocket ping."""
        self._ws.ping(payload)

    def close(self, code: int = wsc.NORMAL, reason: str = "", *, now: float) -> None:
        """Start the close handshake, after sending what the session has queued."""
        self._send_texts()
        self._ws.close(code, reason, now=now)

    def _translate(self, now: float | None) -> None:
        """Hand the WebSocket core's messages to the channel, and report its other events.

        *now* is ``None`` only after a command that cannot have received a message."""
        ws = self._ws
        channel = self._channel
        for event in ws.events_received():
            if isinstance(event, wsc.TextReceived):
                assert now is not None
                channel.receive_text(event.text, now)
                for text in channel.texts_to_send():  # as _sync, inlined on a message's path
                    if ws.is_open:
                        ws.send_text(text)
                # Typed Any, not cast at a call's cost: with no failure, each event is ours.
                events: list[Any] = channel.events_received()
                if channel.failure is None:
                    self._events += events
                else:
                    self._failed(events, channel.failure, now)
            elif isinstance(event, wsc.BytesReceived):
                assert now is not None
                channel.receive_bytes(event.data, now)
                assert channel.failure is not None  # the channel stays open while the ws is
                # The close goes out before anything the session still had queued (dropped).
                self._failed(channel.events_received(), channel.failure, now)
            elif isinstance(event, wsc.UpgradeRequested):
                assert now is not None
                self._requested(event, now)
            else:
                self._events.append(event)
                self._follow(event, now)

    def _follow(self, event: ConnectionEvent, now: float | None) -> None:
        """React to a WebSocket event: the channel, and its session, end with the connection."""
        if isinstance(event, ConnectionClosed):
            self._channel.receive_eof()

    def _send_texts(self) -> None:
        """Send the channel's texts while the connection is open; drop them after. Without
        a session, :meth:`_sync` has sent them already."""
        if self.session is None:
            return
        ws = self._ws
        for text in self._channel.texts_to_send():
            if ws.is_open:
                ws.send_text(text)

    def _sync(self, now: float) -> None:
        """After a timeout, send the channel's texts, then report its events; close the
        connection as a failed channel asks (:meth:`_translate` does the same for a message)."""
        self._send_texts()
        channel = self._channel
        events: list[Any] = channel.events_received()
        if channel.failure is None:
            self._events += events
        else:
            self._failed(events, channel.failure, now)

    def _failed(self, events: list[ChannelEvent], failure: ChannelFailed, now: float) -> None:
        """Report the events of a failed channel, and close the connection as it asks while
        the connection is open (once, then)."""
        self._events += [e for e in events if not isinstance(e, ChannelFailed)]
        if self._ws.is_open:
            error = failure.error
            self._ws.close(failure.close_code, error.message, now=now, cause=error)
            self._translate(now)

    def _requested(self, event: wsc.UpgradeRequested, now: float) -> None:
        raise AssertionError("only a server sees upgrade requests")  # pragma: no cover


def _mcp_policy(policy: ServerPolicy | None, revisions: Sequence[str]) -> ServerPolicy:
    """*policy* (the default one if ``None``) with the subprotocols of MCP, those of
    :func:`~mcpws.core.channel.spoken_subprotocols`, for the WebSocket core to refuse an
    offer of none of them (with the refusal :func:`~mcpws.core.channel.select_subprotocol`
    gives). They are the connection's to decide, so that no policy can leave them out: a
    policy naming others is refused."""
    global _last_policy
    policy = policy or _DEFAULT_POLICY
    if policy.subprotocols:
        raise LocalProtocolError(
            "an MCP server connection selects its WebSocket subprotocols itself"
        )
    spoken = spoken_subprotocols(revisions)
    last = _last_policy
    if last is not None and last[0] is policy and last[1] == spoken:
        return last[2]  # the connections of one server share theirs
    made = attrs.evolve(policy, subprotocols=spoken)
    _last_policy = (policy, spoken, made)
    return made


_DEFAULT_POLICY = ServerPolicy()
#: The last policy given, its subprotocols, and the policy made of the two: the next
#: connection of the same server takes it as it is.
_last_policy: tuple[ServerPolicy, tuple[str, ...], ServerPolicy] | None = None


class ServerConnection(_Connection):
    """The server side of one MCP connection over WebSocket.

    Whatever *policy* it is given, it selects the subprotocols of MCP (see the module's
    docstring); a policy naming subprotocols of its own raises :class:`LocalProtocolError`.

    With an *authenticate* hook, the core answers each :class:`ConnectionRequested` itself:
    it accepts with the principal the hook returns, or rejects with the status of the
    :class:`AuthenticationFailed` it raises (the event is still reported). Without one, the
    application calls :meth:`accept` or :meth:`reject`, which suits a hook that must wait.
    """

    session: ServerSession | None

    def __init__(
        self,
        now: float,
        *,
        config: WebSocketConfig | None = None,
        policy: ServerPolicy | None = None,
        revisions: Sequence[str] = REVISIONS,
        max_depth: int = jsonrpc.DEFAULT_MAX_DEPTH,
        authenticate: Authenticate | None = None,
        session: ServerSession | None = None,
    ) -> None:
        super().__init__(session, max_depth=max_depth)
        self.session = session
        if session is not None and revisions is REVISIONS:
            revisions = session.config.revisions
        self._authenticate = authenticate
        self._ws = wsc.WebSocketServer(now, config=config, policy=_mcp_policy(policy, revisions))
        self._revisions = tuple(revisions)
        self._default: str | None = None

    @property
    def principal(self) -> object:
        """What the application passed to :meth:`accept` as the authenticated identity."""
        assert isinstance(self._ws, wsc.WebSocketServer)
        return self._ws.principal

    @property
    def ready(self) -> bool:
        """Whether the server takes new connections (by default): the policy's readiness
        path answers 503 when not, as a driver's server says once it shuts down."""
        assert isinstance(self._ws, wsc.WebSocketServer)
        return self._ws.ready

    @ready.setter
    def ready(self, value: bool) -> None:
        assert isinstance(self._ws, wsc.WebSocketServer)
        self._ws.ready = value

    def _requested(self, event: wsc.UpgradeRequested, now: float) -> None:
        """Report the upgrade request, and answer it with the authentication hook if any;
        refuse it with 503 instead once the session drains (the server is shutting down)."""
        if self.session is not None and self.session.draining:
            self.reject(503, "the server is shutting down", headers=[("retry-after", "1")])
            return
        choice = select_subprotocol(event.request.subprotocols, self._revisions)
        self._default = choice.subprotocol
        requested = ConnectionRequested(
            event.request, choice.subprotocol, choice.auth_token, choice.revision
        )
        self._events.append(requested)
        if self._authenticate is None:
            return
        try:
            principal = self._authenticate(requested)
        except AuthenticationFailed as exc:
            self.reject(exc.status_code, exc.message)
        else:
            self.accept(now=now, principal=principal)

    def accept(
        self, *, now: float, principal: object = None, subprotocol: str | None = None
    ) -> None:
        """Open the connection asked for by :class:`ConnectionRequested`."""
        assert isinstance(self._ws, wsc.WebSocketServer)
        chosen = subprotocol if subprotocol is not None else self._default
        if chosen is not None and chosen.startswith(AUTH_PREFIX):
            raise LocalProtocolError("an mcp.auth subprotocol carries a secret: never select it")
        self._ws.accept(now=now, subprotocol=chosen, principal=principal)
        self._translate(now)

    def reject(
        self, status_code: int = 403, body: str = "", *, headers: Sequence[tuple[str, str]] = ()
    ) -> None:
        """Refuse the connection asked for by :class:`ConnectionRequested` with an HTTP
        response; for 401, a ``WWW-Authenticate: Bearer`` header is added when missing."""
        assert isinstance(self._ws, wsc.WebSocketServer)
        extra = list(headers)
        if status_code == 401 and not any(k.lower() == "www-authenticate" for k, _ in extra):
            extra.append(("www-authenticate", "Bearer"))
        self._ws.reject(status_code, body, headers=extra)
        self._translate(None)


class ClientConnection(_Connection):
    """The client side of one MCP connection over WebSocket.

    It offers ``mcp``, and ``mcp.version.<revision>`` when *revision* is given; the server
    must select one of those or none. ``host``, ``port`` and ``secure`` tell the driver where
    to connect and whether to use TLS. Its *session* is a client's, started once the
    connection opens; or a server's, for a server that dials out to its client (the
    WebSocket server there is the MCP client); or none.
    """

    session: ClientSession | ServerSession | None

    def __init__(
        self,
        url: str,
        now: float,
        *,
        config: WebSocketConfig | None = None,
        revision: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
        origin: str | None = None,
        max_depth: int = jsonrpc.DEFAULT_MAX_DEPTH,
        session: ClientSession | ServerSession | None = None,
    ) -> None:
        super().__init__(session, max_depth=max_depth)
        self.session = session
        offered = [SUBPROTOCOL, *((f"{VERSION_PREFIX}{revision}",) if revision else ())]
        self._ws = wsc.WebSocketClient(
            url, now, config=config, subprotocols=offered, extra_headers=headers, origin=origin
        )
        self.host = self._ws.host
        self.port = self._ws.port
        self.secure = self._ws.secure
        #: The subprotocol the server selected, once the connection is open.
        self.subprotocol: str | None = None

    def _follow(self, event: ConnectionEvent, now: float | None) -> None:
        """Note the subprotocol and start the session once the connection opens."""
        super()._follow(event, now)
        if isinstance(event, ConnectionAccepted):
            self.subprotocol = event.subprotocol
            if isinstance(self.session, ClientSession):
                assert now is not None
                self.session.start(now)
