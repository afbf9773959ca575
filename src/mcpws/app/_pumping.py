"""What every driver's ``serve()`` and ``connect()`` do the same way, whatever the loop:
the upgrade policy a ``serve()`` builds from its options (:func:`server_policy`,
:func:`check_port`), and a client's reconnection loop (:func:`come_back`), given the loop's
``sleep`` and a way to open a connection."""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import ssl
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, cast

import attrs

from mcpws.app._bus import Bus
from mcpws.app._client import Client
from mcpws.app._context import Link
from mcpws.app._driving import (
    Answer,
    ConnectError,
    Reconnect,
    ReconnectCallback,
    admit,
    is_loopback,
)
from mcpws.app._errors import McpError
from mcpws.app._hosting import Host, hosted
from mcpws.app._kernel import WRITE_LIMIT, Kernel
from mcpws.app._observing import ConnectionInfo, Hooks, Watch
from mcpws.app._proxies import LOCAL_PROXIES, Proxies
from mcpws.app._server import Server
from mcpws.core._checks import positive_int
from mcpws.core.connection import (
    Authenticate,
    ClientConnection,
    ConnectionAccepted,
    ConnectionClosed,
    ConnectionRequested,
    ServerConnection,
)
from mcpws.core.jsonrpc import METHOD_NOT_FOUND
from mcpws.core.messages import MessageConnection
from mcpws.core.session import (
    ClientSession,
    ClientSessionConfig,
    NotificationReceived,
    RequestReceived,
    ServerSession,
    ServerSessionConfig,
)
from mcpws.core.stdio import DEFAULT_MAX_MESSAGE_SIZE, StdioConnection
from mcpws.core.versions import REVISIONS
from mcpws.core.websocket import DEFAULT_ORIGINS, LOOPBACK_HOSTS, ServerPolicy, WebSocketConfig

if TYPE_CHECKING:
    import socket

__all__ = [
    "BoundSocket",
    "Dialing",
    "DialingOut",
    "Listening",
    "OnAsgi",
    "OnStdio",
    "Serving",
    "asgi_options",
    "check_port",
    "come_back",
    "connect_options",
    "dial_options",
    "for_the_client",
    "keep_dialing",
    "same_options",
    "serve_options",
    "server_policy",
    "stdio_options",
]

_log = logging.getLogger("mcpws")

P = ParamSpec("P")
R = TypeVar("R")
K = TypeVar("K", bound=Kernel)


def for_the_client(event: RequestReceived, pump: Link) -> Answer:
    """Answer a server's request with the handlers of the client the pump serves."""
    assert isinstance(pump, Kernel)
    if pump.client is None:
        raise McpError(METHOD_NOT_FOUND, "the client is not ready")
    return pump.client.handle(event)


def check_port(port: int) -> None:
    """Raise ``ValueError`` for a *port* that is not one (a socket would silently take it
    modulo 65536)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"a port is a whole number from 0 to 65535, not {port!r}")


def server_policy(
    host: str, path: str | None, allowed_origins: Sequence[str], allowed_hosts: Sequence[str] | None
) -> ServerPolicy:
    """The upgrade policy of a server bound to *host*: on a loopback address, only loopback
    ``Host`` headers unless *allowed_hosts* says otherwise."""
    if allowed_hosts is None and is_loopback(host):
        allowed_hosts = LOOPBACK_HOSTS
    return ServerPolicy(
        path=path,
        allowed_origins=tuple(allowed_origins),
        allowed_hosts=None if allowed_hosts is None else tuple(allowed_hosts),
    )


def same_options(template: Callable[P, object]) -> Callable[[Callable[..., R]], Callable[P, R]]:
    """Give the decorated function the parameters of *template*, for type checkers and for
    ``help()``: the drivers' ``serve()`` and ``connect()`` take the options that
    :func:`serve_options` and :func:`connect_options` take, declared once."""

    def decorate(function: Callable[..., R]) -> Callable[P, R]:
        signature = inspect.signature(template)
        returns = inspect.signature(function).return_annotation
        function.__signature__ = signature.replace(return_annotation=returns)  # type: ignore[attr-defined]
        return function

    return decorate


class BoundSocket(Protocol):
    """A listening socket, of the standard library or of a loop."""

    def getsockname(self) -> Any: ...


@attrs.frozen
class Listening:
    """What a ``serve()`` reports once it listens: its sockets, the port of the first, and
    the URL a client on this machine connects to."""

    sockets: tuple[BoundSocket, ...]
    url: str

    @property
    def port(self) -> int:
        """The port of the first socket (0 for a unix socket)."""
        address = self.sockets[0].getsockname()
        return int(address[1]) if isinstance(address, tuple) else 0


class _Served:
    """What a ``serve()``, a ``dial()`` and a ``serve_stdio()`` share: the server they
    serve, *app*, and the limits of its connections."""

    app: Server | Host
    max_concurrent: int
    grace: float
    write_limit: int

    def serve_over(
        self,
        connection: ServerConnection | ClientConnection | StdioConnection | MessageConnection,
        make: Callable[..., K],
        *args: Any,
    ) -> K:
        """The pump of *connection*: ``make(*args, connection, handler, max_concurrent=...,
        grace=..., write_limit=..., serving=True)``, with the application's handler (or,
        for a hosted server, its carrier) and these limits; :meth:`closed` once it is
        over."""
        limits = (self.max_concurrent, self.grace, self.write_limit)
        return _pump_of(self.app, make, args, connection, *limits)

    def closed(self, pump: Kernel) -> None:
        """A connection's pump is done."""
        if isinstance(self.app, Server):
            self.app.disconnected(pump)

    @property
    def name(self) -> str:
        """The name of the server served."""
        app = self.app
        return app.name if isinstance(app, Host) else app.info.name

    #: The notification bus the server is on while it serves, if any.
    bus: Bus | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[object]:
        """What a ``serve()``, a ``dial()`` or an ASGI application's lifespan runs within,
        once: the lifespan of a hosted server, the bus a server is on."""
        if isinstance(self.app, Host):
            async with self.app.lifespan():
                yield None
        elif self.bus is not None:
            async with self.app.on_bus(self.bus):
                yield None
        else:
            yield None


@attrs.define(kw_only=True)
class Serving(_Served):
    """One ``serve()``'s options, checked (made by :func:`serve_options`), and its
    connections: a driver makes the pump of each new connection with :meth:`new_pump`,
    and reports it to :meth:`closed` once it is over."""

    app: Server | Host
    host: str
    port: int
    path: str
    ssl_context: ssl.SSLContext | None
    policy: ServerPolicy
    config: WebSocketConfig | None
    authenticate: Authenticate | None
    max_connections: int | None
    max_concurrent: int
    grace: float
    write_limit: int = attrs.field(validator=positive_int)
    task_status: Any
    session_config: ServerSessionConfig | None
    watch: Watch
    sock: tuple[socket.socket, ...] = ()
    uds: str | None = None
    reuse_port: bool = False
    proxies: Proxies | None = None
    bus: Bus | None = None
    pumps: set[Kernel] = attrs.field(factory=set)
    watched: dict[Kernel, Any] = attrs.field(factory=dict)

    @property
    def resolving(self) -> bool:
        """Whether the driver resolves :attr:`host` for :meth:`bind` (no socket is given)."""
        return not self.sock and self.uds is None

    def bind(self, found: Iterable[tuple[Any, ...]] = ()) -> list[socket.socket]:
        """The listening sockets, non-blocking: those given, a new unix socket, or TCP
        sockets at the addresses *found* for :attr:`host` (``getaddrinfo()``'s answer, which
        the driver gets on its loop)."""
        from mcpws.app._sockets import given_socket, tcp_sockets, unix_socket  # I/O: lazily

        if self.sock:
            return [given_socket(one) for one in self.sock]
        if self.uds is not None:
            return [unix_socket(self.uds)]
        return tcp_sockets(self.host, found, reuse_port=self.reuse_port)

    def unbind(self) -> None:
        """After serving: remove the unix socket's file made by :meth:`bind`."""
        if self.uds is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.uds)

    def new_pump(
        self, now: float, make: Callable[..., K], *args: Any, peer: str | None = None
    ) -> K:
        """The pump of a new connection from *peer* (its address, for the hooks and logs), as
        of *now*: ``make(*args, connection, handler, max_concurrent=..., grace=...,
        write_limit=..., serving=True)``, with a new connection core and session, the
        application's handler and this server's limits; or, for a hosted server, a connection
        without a session, whose messages the host's carrier takes. The pump decides its
        upgrade (:func:`admit`) when asked, and counts among the server's connections
        (:meth:`closed` takes it out)."""
        session = None if self.session_config is None else ServerSession(self.session_config)
        connection = ServerConnection(now, config=self.config, policy=self.policy, session=session)
        pump = self.serve_over(connection, make, *args)
        notified = pump.on_event
        watch = self.watch
        watched = watch.start() if watch.watching() else None
        if watched is not None:
            self.watched[pump] = watched
            if watch.timing():
                pump.handler = watch.timed(watched, pump.handler, pump.now)
        requested: ConnectionRequested | None = None

        def upgrade(event: object) -> None:
            nonlocal requested
            if isinstance(event, ConnectionRequested):
                requested = event
                pump.principal = admit(
                    connection,
                    event,
                    full=self._full(),
                    authenticate=self.authenticate,
                    now=pump.now(),
                )
                return
            if watched is not None:
                if isinstance(event, ConnectionAccepted) and requested is not None:
                    client, scheme = self._client(peer, requested)
                    info = ConnectionInfo(
                        client,
                        requested.request.path,
                        event.subprotocol,
                        requested.revision,
                        pump.principal,
                        pump.now(),
                        scheme,
                    )
                    watch.opened(watched, info)
                elif isinstance(event, ConnectionClosed):
                    watch.closing(watched, event.code, event.reason)
            notified(event)

        pump.on_event = upgrade
        self.pumps.add(pump)
        return pump

    def _client(self, peer: str | None, requested: ConnectionRequested) -> tuple[str | None, str]:
        """The client's address and scheme: *peer*'s, or the client's that a trusted proxy
        at *peer* forwards (with *proxies*)."""
        scheme = "ws" if self.ssl_context is None else "wss"
        if self.proxies is None:
            return peer, scheme
        host = None if peer is None else peer.rsplit(":", 1)[0].strip("[]")
        forwarded = self.proxies.forwarded(host, requested.request.headers)
        if forwarded is None:
            return peer, scheme
        told = {"https": "wss", "wss": "wss", "http": "ws", "ws": "ws"}.get(forwarded.scheme or "")
        return forwarded.client, told or scheme

    def closed(self, pump: Kernel) -> None:
        """A connection's pump is done."""
        if pump in self.pumps:
            self.pumps.discard(pump)
            watched = self.watched.pop(pump, None)
            if watched is not None:
                connection = pump.connection
                session = connection.session
                revision = None if session is None else session.revision
                self.watch.closed(watched, pump.now(), revision, connection.traffic)
            super().closed(pump)

    def _full(self) -> bool:
        """Whether the server is full: more connections than its limit, the one asking
        among them. A connection whose WebSocket has closed counts no more, though its
        transport may still be closing: its peer may be back already."""
        limit = self.max_connections
        return limit is not None and sum(not p.connection.closed for p in self.pumps) > limit

    def listening(self, sockets: Iterable[BoundSocket]) -> Listening:
        """What to report once listening on *sockets*. A unix socket's URL is
        ``ws+unix://`` and its path, percent-encoded, then the endpoint's path."""
        sockets = tuple(sockets)
        address = sockets[0].getsockname()
        host = str(address[0]) if self.sock and isinstance(address, tuple) else self.host
        return Listening(
            sockets, url_of(address, host, self.path, tls=self.ssl_context is not None)
        )


def url_of(address: Any, host: str, path: str, *, tls: bool) -> str:
    """The URL of a server listening at *address* (``getsockname()``'s) as *host*, at
    *path*: a unix socket's is ``ws+unix://`` and its path, percent-encoded, then *path*."""
    scheme = "wss" if tls else "ws"
    if not isinstance(address, tuple):
        where = urllib.parse.quote(os.fsdecode(address), safe="")
        return f"{scheme}+unix://{where}{path}"
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{address[1]}{path}"


def _given(sock: socket.socket | Sequence[socket.socket] | None) -> tuple[socket.socket, ...]:
    """The sockets given as serve()'s *sock*: none, one, or a sequence of them."""
    if sock is None:
        return ()
    if hasattr(sock, "getsockname"):
        return (cast("socket.socket", sock),)
    return tuple(sock)


def serve_options(
    app: Server | object,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    path: str = "/mcp",
    ssl_context: ssl.SSLContext | None = None,
    allowed_origins: Sequence[str] = DEFAULT_ORIGINS,
    allowed_hosts: Sequence[str] | None = None,
    authenticate: Authenticate | None = None,
    config: WebSocketConfig | None = None,
    max_connections: int | None = None,
    max_concurrent_requests: int = 64,
    shutdown_timeout: float = 10.0,
    write_limit: int = WRITE_LIMIT,
    hooks: Sequence[Hooks] = (),
    sock: socket.socket | Sequence[socket.socket] | None = None,
    uds: str | None = None,
    reuse_port: bool = False,
    proxy_headers: bool = False,
    forwarded_allow_ips: Sequence[str] = LOCAL_PROXIES,
    bus: Bus | None = None,
    task_status: Any = None,
    **session_options: Any,
) -> Serving:
    """The options of every driver's ``serve()``, checked.

    *app* (an :class:`~mcpws.app.Server`, or a server of the official SDK or of fastmcp:
    see :mod:`mcpws.sdk`) is served on *host* and *port* (0: a free one), at *path*, over
    TLS with *ssl_context*. Upgrades from browsers are accepted from *allowed_origins*; a server
    bound to a loopback address accepts only loopback ``Host`` headers unless
    *allowed_hosts* says otherwise; *authenticate* decides who may connect (401 or 403
    otherwise). Beyond *max_connections*, an upgrade is answered with HTTP 503. Each
    connection runs at most *max_concurrent_requests* handlers at a time, and acts on none
    of its client's messages while *write_limit* bytes or more wait to be written to that
    client (nor reads more while it holds that much of them). *hooks* (see
    :class:`~mcpws.app.Hooks`) are told of each connection and request. Instead of *host*
    and *port*, it may listen on *sock*, a listening stream socket made elsewhere (an
    inherited descriptor, say) or a sequence of them, or on a unix socket made at the path
    *uds*; bound to neither a loopback address nor a unix socket, it takes any ``Host``
    unless *allowed_hosts* is given. With *reuse_port*, other processes may listen on the same
    port (``SO_REUSEPORT``). With *proxy_headers*, the client's address and scheme that a
    proxy at one of *forwarded_allow_ips* (addresses or networks; ``*``: any) reports in
    ``Forwarded`` or ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are the ones the hooks
    and logs see; from any other peer, those headers are ignored. On a *bus* (see
    :class:`~mcpws.app.Bus`), the server's changes reach the clients of its replicas,
    and theirs its own. Once listening,
    ``serve()`` reports a :class:`Listening` through *task_status*. Cancelled, it stops
    accepting, gives the requests in flight *shutdown_timeout* seconds to finish, and closes
    each connection with 1001. *config* configures the WebSocket layer, and
    *session_options* go to :meth:`~mcpws.app.Server.session_config`.
    """
    check_port(port)
    given = _given(sock)
    if given and uds is not None:
        raise ValueError("serve on sock or on uds, not both")
    served, session_config = _served(app, session_options)
    _check_bus(served, bus)
    bound = host
    if uds is not None:
        bound = _ANYWHERE  # a proxy's Host, whatever it is
    elif given:
        address = given[0].getsockname()
        bound = str(address[0]) if isinstance(address, tuple) else _ANYWHERE
    return Serving(
        app=served,
        host=host,
        port=port,
        path=path,
        ssl_context=ssl_context,
        policy=server_policy(bound, path, allowed_origins, allowed_hosts),
        config=config,
        authenticate=authenticate,
        max_connections=max_connections,
        max_concurrent=max_concurrent_requests,
        grace=shutdown_timeout,
        write_limit=write_limit,
        task_status=task_status,
        session_config=session_config,
        watch=Watch(hooks),
        sock=given,
        uds=uds,
        reuse_port=reuse_port,
        proxies=Proxies(forwarded_allow_ips) if proxy_headers else None,
        bus=bus,
    )


#: The address of a server listening where its Host is not checked by default.
_ANYWHERE = "0.0.0.0"


@attrs.frozen(kw_only=True)
class Dialing:
    """What a client opens each of its connections with: the URL and ``connect()``'s
    options, checked (made by :func:`connect_options`)."""

    url: str
    headers: Sequence[tuple[str, str]]
    ssl_context: ssl.SSLContext | None
    origin: str | None
    config: WebSocketConfig | None
    #: The client session's configuration; ``None`` for a connection without one, whose
    #: messages a :class:`~mcpws.lowlevel.Carrier` takes.
    session: ClientSessionConfig | None
    open_timeout: float
    reconnect: Reconnect | None
    on_reconnect: ReconnectCallback | None

    def connection(self, now: float) -> tuple[ClientConnection, ClientSession | None]:
        """A new connection core, with a new session (unless it is to have none), as of
        *now*."""
        core = None if self.session is None else ClientSession(self.session)
        connection = ClientConnection(
            self.url,
            now,
            config=self.config,
            headers=self.headers,
            origin=self.origin,
            session=core,
        )
        return connection, core


def connect_options(
    url: str,
    *,
    headers: Sequence[tuple[str, str]] = (),
    ssl_context: ssl.SSLContext | None = None,
    origin: str | None = None,
    config: WebSocketConfig | None = None,
    session: ClientSessionConfig | None = None,
    open_timeout: float = 30.0,
    reconnect: Reconnect | None = None,
    on_reconnect: ReconnectCallback | None = None,
    **session_options: Any,
) -> Dialing:
    """The options of every driver's ``connect()``, checked.

    ``connect()`` opens a connection to *url* (``ws://`` or ``wss://``, TLS with
    *ssl_context* or the system's defaults), sending *headers* and *origin* with the
    upgrade, opens the MCP session on it (``initialize``, or the ``server/discover`` probe
    when both eras are configured), and yields the ready :class:`~mcpws.app.Client`;
    leaving the block closes both. *session* (or *session_options*, such as
    ``revisions=``) configures the client session, *config* the WebSocket layer.

    It raises :class:`~mcpws.app.ConnectError` when the upgrade is refused or the session
    fails to open within *open_timeout* seconds, connecting included. The close handshake
    gets the ``close_timeout`` of *config* (10 s by default), or a second when the block is
    left by an exception (a cancellation, say).

    With *reconnect*, a dropped connection is opened again (with a new session) after the
    policy's delays; requests in flight at the drop fail with
    :class:`~mcpws.app.ConnectionLost` and are never retried, as are requests made while
    the client is away. *on_reconnect* is called after each reconnection.
    """
    return Dialing(
        url=url,
        headers=headers,
        ssl_context=ssl_context,
        origin=origin,
        config=config,
        session=session if session is not None else ClientSessionConfig(**session_options),
        open_timeout=open_timeout,
        reconnect=reconnect,
        on_reconnect=on_reconnect,
    )


#: How a ``dial()`` connects again by default: ever more slowly, up to 30 s, without end.
DIAL_AGAIN = Reconnect()


@attrs.frozen(kw_only=True)
class DialingOut(_Served):
    """One ``dial()``'s options, checked (made by :func:`dial_options`): the server, and
    the connections it opens to its client."""

    app: Server | Host
    #: Where to connect, and how; ``reconnect`` says when to connect again.
    dialing: Dialing
    session_config: ServerSessionConfig | None
    max_concurrent: int
    grace: float
    write_limit: int = attrs.field(validator=positive_int)
    task_status: Any
    bus: Bus | None = None

    def connection(self, now: float) -> ClientConnection:
        """A new connection core, as of *now*, with a new server session (none for a hosted
        server, whose carrier takes the messages)."""
        session = None if self.session_config is None else ServerSession(self.session_config)
        dialing = self.dialing
        return ClientConnection(
            dialing.url,
            now,
            config=dialing.config,
            headers=dialing.headers,
            origin=dialing.origin,
            session=session,
        )


def dial_options(
    app: Server | object,
    url: str,
    *,
    headers: Sequence[tuple[str, str]] = (),
    ssl_context: ssl.SSLContext | None = None,
    origin: str | None = None,
    config: WebSocketConfig | None = None,
    open_timeout: float = 30.0,
    reconnect: Reconnect | None = DIAL_AGAIN,
    on_reconnect: ReconnectCallback | None = None,
    max_concurrent_requests: int = 64,
    shutdown_timeout: float = 10.0,
    write_limit: int = WRITE_LIMIT,
    bus: Bus | None = None,
    task_status: Any = None,
    **session_options: Any,
) -> DialingOut:
    """The options of every driver's ``dial()``, checked.

    ``dial()`` serves *app* (what ``serve()`` serves) to a client that does not connect
    but waits to be connected to: it opens a WebSocket connection to *url* (``ws://`` or
    ``wss://``; the WebSocket server there is the MCP client), as ``connect()`` does, with
    *headers*, *origin*, *ssl_context*, *config* and *open_timeout*, and answers the
    client's requests over it with the limits of ``serve()`` (*max_concurrent_requests*,
    *write_limit*). Once the first connection is open, it reports so through
    *task_status*. When a connection drops, or cannot open, it connects again after the
    delays of *reconnect* (by default ever more slowly, up to 30 s, without end), calling
    *on_reconnect* with the attempts it took; with *reconnect* ``None``, a connection that
    cannot open raises :class:`~mcpws.app.ConnectError`, and one that drops ends
    ``dial()``; so does a policy's last attempt. Cancelled, it shuts the connection down as
    ``serve()`` does (*shutdown_timeout*). On a *bus*, the server's changes reach the
    clients of its replicas, and theirs its own, as with ``serve()``. *session_options* go
    to :meth:`~mcpws.app.Server.session_config`.
    """
    served, session_config = _served(app, session_options)
    _check_bus(served, bus)
    dialing = Dialing(
        url=url,
        headers=headers,
        ssl_context=ssl_context,
        origin=origin,
        config=config,
        session=None,
        open_timeout=open_timeout,
        reconnect=reconnect,
        on_reconnect=on_reconnect,
    )
    return DialingOut(
        app=served,
        dialing=dialing,
        session_config=session_config,
        max_concurrent=max_concurrent_requests,
        grace=shutdown_timeout,
        write_limit=write_limit,
        task_status=task_status,
        bus=bus,
    )


async def keep_dialing(
    out: DialingOut,
    serve_one: Callable[[Callable[[], None]], Awaitable[None]],
    sleep: Callable[[float], Awaitable[Any]],
) -> None:
    """A ``dial()``'s loop: ``serve_one(now_open)`` opens one connection (raising
    ConnectError when it cannot; calling ``now_open()`` once it is open) and serves over it
    until it is over; after each, wait (with the loop's *sleep*) the next delay of the
    policy and dial again. The first open connection is reported to ``out.task_status``,
    each one after it to ``on_reconnect``."""
    dialing = out.dialing
    policy = dialing.reconnect
    started = False
    attempts = 0

    def now_open() -> None:
        nonlocal started, attempts
        if not started:
            started = True
            if out.task_status is not None:
                out.task_status.started()
        elif dialing.on_reconnect is not None:
            dialing.on_reconnect(attempts)
        attempts = 0
        _log.info("connected to %s", dialing.url)

    delays = None
    while True:
        try:
            await serve_one(now_open)
        except ConnectError as exc:
            if policy is None:
                raise
            _log.info("dialing %s failed: %s", dialing.url, exc)
        else:
            if policy is None:
                return
            _log.warning("the connection to %s is over; dialing again", dialing.url)
            delays = None
        if delays is None:
            delays = policy.delays()
        delay = next(delays, None)
        if delay is None:
            raise ConnectError(f"gave up dialing {dialing.url} after {attempts} attempts")
        attempts += 1
        await sleep(delay)


@attrs.frozen(kw_only=True)
class OnStdio(_Served):
    """One ``serve_stdio()``'s options, checked (made by :func:`stdio_options`)."""

    app: Server
    session_config: ServerSessionConfig
    max_concurrent: int
    grace: float
    write_limit: int = attrs.field(validator=positive_int)
    max_message_size: int | None
    #: The descriptors read and written.
    stdin: int
    stdout: int

    def connection(self, now: float) -> StdioConnection:
        """The stream's core, as of *now*, with a new server session."""
        session = ServerSession(self.session_config)
        return StdioConnection(session, now, max_message_size=self.max_message_size)


def stdio_options(
    app: Server,
    *,
    max_concurrent_requests: int = 64,
    shutdown_timeout: float = 10.0,
    write_limit: int = WRITE_LIMIT,
    max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
    stdin: int = 0,
    stdout: int = 1,
    **session_options: Any,
) -> OnStdio:
    """The options of every driver's ``serve_stdio()``, checked.

    ``serve_stdio()`` serves *app*, an :class:`~mcpws.app.Server`, to the one client on
    the other end of this process's standard input and output (the descriptors *stdin*
    and *stdout*; newline-delimited JSON-RPC, MCP's stdio transport), with the limits of
    ``serve()`` (*max_concurrent_requests*, *write_limit*) and lines of at most
    *max_message_size* bytes, until the input ends (which ends the session, as MCP's stdio
    transport has it); cancelled, it shuts down as ``serve()`` does (*shutdown_timeout*),
    then ends its output. *session_options* go to
    :meth:`~mcpws.app.Server.session_config`. A server of another library is served on
    stdio by that library.
    """
    if not isinstance(app, Server):
        raise TypeError(
            f"serve_stdio() serves an mcpws.Server, not a {type(app).__name__}: a server of "
            "another library has a stdio transport of its own"
        )
    return OnStdio(
        app=app,
        session_config=app.session_config(**session_options),
        max_concurrent=max_concurrent_requests,
        grace=shutdown_timeout,
        write_limit=write_limit,
        max_message_size=max_message_size,
        stdin=stdin,
        stdout=stdout,
    )


@attrs.define(kw_only=True)
class OnAsgi(_Served):
    """An ASGI application's options, checked (made by :func:`asgi_options`), and its
    connections (the pumps running, and whether it has stopped taking new ones)."""

    app: Server | Host
    session_config: ServerSessionConfig | None
    #: The upgrade policy where the ASGI server listens elsewhere, and on a loopback address.
    policy: ServerPolicy
    loopback_policy: ServerPolicy
    authenticate: Authenticate | None
    max_connections: int | None
    max_concurrent: int
    grace: float
    write_limit: int = attrs.field(validator=positive_int)
    max_message_size: int | None
    watch: Watch
    pumps: set[Kernel] = attrs.field(factory=set)
    watched: dict[Kernel, Any] = attrs.field(factory=dict)
    stopping: bool = False
    bus: Bus | None = None

    def policy_at(self, host: str | None) -> ServerPolicy:
        """The upgrade policy of an ASGI server listening on *host* (``None``: unknown)."""
        return self.loopback_policy if host is not None and is_loopback(host) else self.policy

    @property
    def revisions(self) -> Sequence[str]:
        """The revisions the subprotocol may name: those of the sessions, or all."""
        return REVISIONS if self.session_config is None else self.session_config.revisions

    def connection(self, now: float) -> MessageConnection:
        """A new connection's core, as of *now*, with a new session (none for a hosted
        server, whose carrier takes its messages)."""
        config = self.session_config
        session = None if config is None else ServerSession(config)
        return MessageConnection(session, now, max_message_size=self.max_message_size)

    def opened(
        self, pump: Kernel, principal: object, requested: ConnectionRequested, peer: str | None
    ) -> None:
        """*pump*'s connection, upgraded as *requested* by *peer* (its address, for the hooks
        and logs), is about to run for *principal*: it counts among the connections."""
        pump.principal = principal
        self.pumps.add(pump)
        watch = self.watch
        if not watch.watching():
            return
        self.watched[pump] = watched = watch.start()
        if watch.timing():
            pump.handler = watch.timed(watched, pump.handler, pump.now)
        info = ConnectionInfo(
            peer,
            requested.request.path,
            requested.subprotocol,
            requested.revision,
            principal,
            pump.now(),
        )
        watch.opened(watched, info)

    def closed(self, pump: Kernel) -> None:
        """A connection's pump is done."""
        self.pumps.discard(pump)
        watched = self.watched.pop(pump, None)
        if watched is not None:
            connection = pump.connection
            assert isinstance(connection, MessageConnection)
            if connection.close_code is not None:
                self.watch.closing(watched, connection.close_code, connection.close_reason)
            else:
                self.watch.closing(watched, connection.peer_close_code, "")
            session = connection.session
            revision = None if session is None else session.revision
            self.watch.closed(watched, pump.now(), revision, connection.traffic)
        super().closed(pump)

    @staticmethod
    def upgraded(pump: Kernel, requested: ConnectionRequested) -> None:
        """*pump* runs (it can start tasks): a hosted server's carrier hears of the upgrade
        *requested* and of its acceptance, as over ``serve()``'s WebSocket."""
        carrier = pump.carrier
        if carrier is not None:
            carrier.take(requested)
            carrier.take(ConnectionAccepted(requested.subprotocol, ()))

    @property
    def full(self) -> bool:
        """Whether a new connection would be one more than the limit."""
        limit = self.max_connections
        return limit is not None and sum(not p.connection.closed for p in self.pumps) >= limit


def disconnect_code(message: Mapping[str, Any]) -> int:
    """The close code of an ASGI ``websocket.disconnect`` (1005, "no status", when it names
    none, as ASGI has it)."""
    code = message.get("code", 1005)
    return code if isinstance(code, int) else 1005


def asgi_options(
    app: Server | object,
    *,
    path: str | None = "/mcp",
    allowed_origins: Sequence[str] = DEFAULT_ORIGINS,
    allowed_hosts: Sequence[str] | None = None,
    authenticate: Authenticate | None = None,
    max_connections: int | None = None,
    max_concurrent_requests: int = 64,
    shutdown_timeout: float = 10.0,
    write_limit: int = WRITE_LIMIT,
    max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
    hooks: Sequence[Hooks] = (),
    bus: Bus | None = None,
    **session_options: Any,
) -> OnAsgi:
    """The options of :class:`mcpws.asgi.App`, checked: those of ``serve()`` that an ASGI
    server leaves to its application (the ASGI server listens, speaks TLS and frames the
    WebSocket), and *max_message_size*, the bytes one message may hold. ``Host`` headers
    are checked against *allowed_hosts*, or, when that is ``None`` and the ASGI server
    listens on a loopback address, against the loopback names. The server is on *bus*
    during the lifespan."""
    served, session_config = _served(app, session_options)
    _check_bus(served, bus)
    return OnAsgi(
        app=served,
        session_config=session_config,
        policy=server_policy(_ANYWHERE, path, allowed_origins, allowed_hosts),
        loopback_policy=server_policy("127.0.0.1", path, allowed_origins, allowed_hosts),
        authenticate=authenticate,
        max_connections=max_connections,
        max_concurrent=max_concurrent_requests,
        grace=shutdown_timeout,
        write_limit=write_limit,
        max_message_size=max_message_size,
        watch=Watch(hooks),
        bus=bus,
    )


def _check_bus(served: Server | Host, bus: Bus | None) -> None:
    if bus is not None and isinstance(served, Host):
        raise TypeError(f"{served.name} notifies its clients itself: a bus is for an mcpws.Server")


def _served(
    app: object, session_options: dict[str, Any]
) -> tuple[Server | Host, ServerSessionConfig | None]:
    """The server *app* names (:func:`hosted`), and the configuration of its sessions (none
    for a hosted server, which refuses *session_options*)."""
    served = hosted(app)
    if isinstance(served, Host):
        if session_options:
            unknown = ", ".join(sorted(session_options))
            raise TypeError(f"{served.name} is served by its own library: no {unknown} here")
        return served, None
    return served, served.session_config(**session_options)


def _pump_of(
    app: Server | Host,
    make: Callable[..., K],
    args: tuple[Any, ...],
    connection: ServerConnection | ClientConnection | StdioConnection | MessageConnection,
    max_concurrent: int,
    grace: float,
    write_limit: int,
) -> K:
    """``make(*args, connection, handler, ...)``: the pump of a connection to a client of
    *app*, whose requests *app* answers (or whose messages its host's carrier takes), whose
    notifications *app* hears (:attr:`Kernel.on_event`), and which *app* counts among its
    connections."""
    options = {"max_concurrent": max_concurrent, "grace": grace, "write_limit": write_limit}
    if isinstance(app, Host):
        pump = make(*args, connection, _carried, serving=True, **options)
        pump.carrier = app.carrier(pump, max_concurrent=max_concurrent)
        return pump
    pump = make(*args, connection, app.handle, serving=True, **options)

    def notified(event: object) -> None:
        if isinstance(event, NotificationReceived):
            later = app.notified(pump, event.method, event.params)
            if later is not None:
                pump.spawn(later, _ignore)

    pump.on_event = notified
    app.connected(pump)
    return pump


def _carried(event: RequestReceived, pump: Link) -> Answer:
    """The handler of a connection without a session, which never has a request to answer:
    its carrier takes every message."""
    raise AssertionError("a carried connection has no session")  # pragma: no cover


def _ignore(cancelled: bool) -> None:
    """The end of a task whose outcome nobody waits for."""


async def come_back(
    client: Client,
    open_again: Callable[[], Awaitable[tuple[Link, ClientSession]]],
    sleep: Callable[[float], Awaitable[Any]],
    dialing: Dialing,
) -> None:
    """Watch *client*'s connection and open a new one each time it drops, after the delays
    of the *dialing*'s reconnection policy (slept with the loop's *sleep*); report each
    return to its ``on_reconnect``. Returns when the policy's attempts run out."""
    policy, on_reconnect, url = dialing.reconnect, dialing.on_reconnect, dialing.url
    assert policy is not None
    client.reconnecting(True)
    try:
        await _come_back(client, open_again, sleep, policy, on_reconnect, url)
    finally:
        client.reconnecting(False)


async def _come_back(
    client: Client,
    open_again: Callable[[], Awaitable[tuple[Link, ClientSession]]],
    sleep: Callable[[float], Awaitable[Any]],
    policy: Reconnect,
    on_reconnect: ReconnectCallback | None,
    url: str,
) -> None:
    while True:
        pump = client.link
        assert isinstance(pump, Kernel)
        await pump.closed.wait()
        attempts = 0
        for delay in policy.delays():
            attempts += 1
            await sleep(delay)
            try:
                new_pump, core = await open_again()
            except ConnectError as exc:
                _log.info("reconnecting to %s failed: %s", url, exc)
                continue
            assert isinstance(new_pump, Kernel)
            new_pump.client = client
            client.rebind(new_pump, core)
            if on_reconnect is not None:
                on_reconnect(attempts)
            break
        else:
            _log.warning("gave up reconnecting to %s after %d attempts", url, attempts)
            return
