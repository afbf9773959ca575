"""What every driver's pump holds and does the same way, whatever its loop: the state of one
connection seen as a :class:`~mcpws.app.Link` (:class:`PumpBase`), the upgrade policy a
``serve()`` builds from its options (:func:`server_policy`, :func:`check_port`), and a
client's reconnection loop (:func:`come_back`), given the loop's ``sleep`` and a way to open
a connection."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol

import attrs

from mcpws.app._client import Client
from mcpws.app._context import Link, McpError
from mcpws.app._driving import (
    Answer,
    ConnectError,
    Handler,
    Reconnect,
    ReconnectCallback,
    is_loopback,
)
from mcpws.core.connection import ClientConnection, ServerConnection
from mcpws.core.jsonrpc import METHOD_NOT_FOUND
from mcpws.core.mcp import LoggingLevel
from mcpws.core.session import (
    ClientSession,
    ClientSessionConfig,
    NotificationReceived,
    RequestReceived,
    ServerSession,
    State,
)
from mcpws.core.websocket import LOOPBACK_HOSTS, ServerPolicy, WebSocketConfig

__all__ = [
    "Dialing",
    "PumpBase",
    "check_port",
    "come_back",
    "for_the_client",
    "full",
    "server_policy",
]

_log = logging.getLogger("mcpws")

#: What the drivers say when a connection ends or a server stops: the reason of the 1001 close,
#: the error of a request a shutdown cut short, and of the requests a lost connection fails.
SHUTTING_DOWN = "the server is shutting down"
NOT_ANSWERED = "the server shut down before answering"
LOST = "the connection closed before the answer came"
CLOSED = "the connection is closed"
CANCELLED = "cancelled by the caller"

#: Seconds that the bytes still unsent when a connection ends get to go out, and that the
#: answers of handlers cancelled by a shutdown get to be sent, before the stream is cut.
LINGER = 1.0


class _Closed(Protocol):
    """The loop's event for the end of the connection."""

    def is_set(self) -> bool: ...

    def set(self) -> None: ...

    async def wait(self) -> Any: ...


class PumpBase:
    """The state of one connection that a driver pumps, and its :class:`Link` properties.

    A driver's pump adds ``closed`` (its loop's event, set once the connection is over) and
    the Link's coroutines: ``request``, ``notify`` and ``send_progress``."""

    closed: _Closed

    def __init__(self, connection: ServerConnection | ClientConnection, handler: Handler) -> None:
        self.connection = connection
        #: What answers the peer's requests.
        self.handler = handler
        #: Called with each event the pump does not handle itself (lifecycle, notifications).
        self.on_event: Callable[[Any], None] = lambda _: None
        self.principal: object = None
        #: The client this connection serves, on the client side.
        self.client: Client | None = None
        self.log_level: LoggingLevel | None = None

    @property
    def stateless(self) -> bool:
        """Whether the session is in the stateless era."""
        return self.session.state is State.STATELESS

    @property
    def session(self) -> ClientSession | ServerSession:
        session = self.connection.session
        assert session is not None
        return session

    def pass_on(self, event: object) -> None:
        """Give a server's notification to the listener of the client this pump serves."""
        if isinstance(event, NotificationReceived) and self.client is not None:
            listener = self.client.on_notification
            if listener is not None:
                listener(event.method, event.params)


def for_the_client(event: RequestReceived, pump: Link) -> Answer:
    """Answer a server's request with the handlers of the client the pump serves."""
    assert isinstance(pump, PumpBase)
    if pump.client is None:
        raise McpError(METHOD_NOT_FOUND, "the client is not ready")
    return pump.client.handle(event)


def check_port(port: int) -> None:
    """Raise ``ValueError`` for a *port* that is not one (a socket would silently take it
    modulo 65536)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"a port is a whole number from 0 to 65535, not {port!r}")


def server_policy(
    host: str, path: str, allowed_origins: Sequence[str], allowed_hosts: Sequence[str] | None
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


def full(pumps: Iterable[PumpBase], limit: int | None) -> bool:
    """Whether a server of at most *limit* connections is full: *pumps*, the one asking
    among them, are more than *limit*. A connection whose WebSocket has closed counts no
    more, though its transport may still be closing: its peer may be back already."""
    return limit is not None and sum(not pump.connection.closed for pump in pumps) > limit


@attrs.frozen(kw_only=True)
class Dialing:
    """What a client opens each of its connections with: the URL and ``connect()``'s options."""

    url: str
    headers: Sequence[tuple[str, str]]
    ssl_context: ssl.SSLContext | None
    origin: str | None
    config: WebSocketConfig | None
    session: ClientSessionConfig
    open_timeout: float

    def connection(self, now: float) -> tuple[ClientConnection, ClientSession]:
        """A new connection core, with a new session, as of *now*."""
        core = ClientSession(self.session)
        connection = ClientConnection(
            self.url,
            now,
            config=self.config,
            headers=self.headers,
            origin=self.origin,
            session=core,
        )
        return connection, core


async def come_back(
    client: Client,
    open_again: Callable[[], Awaitable[tuple[Link, ClientSession]]],
    sleep: Callable[[float], Awaitable[Any]],
    policy: Reconnect,
    on_reconnect: ReconnectCallback | None,
    url: str,
) -> None:
    """Watch *client*'s connection and open a new one each time it drops, after the
    *policy*'s delays (slept with the loop's *sleep*); report each return to *on_reconnect*.
    Returns when the policy's attempts run out."""
    while True:
        pump = client.link
        assert isinstance(pump, PumpBase)
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
            assert isinstance(new_pump, PumpBase)
            new_pump.client = client
            client.rebind(new_pump, core)
            if on_reconnect is not None:
                on_reconnect(attempts)
            break
        else:
            _log.warning("gave up reconnecting to %s after %d attempts", url, attempts)
            return
