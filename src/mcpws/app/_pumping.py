"""What every driver's ``serve()`` and ``connect()`` do the same way, whatever the loop:
the upgrade policy a ``serve()`` builds from its options (:func:`server_policy`,
:func:`check_port`), and a client's reconnection loop (:func:`come_back`), given the loop's
``sleep`` and a way to open a connection."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import attrs

from mcpws.app._client import Client
from mcpws.app._context import Link, McpError
from mcpws.app._driving import (
    Answer,
    ConnectError,
    Reconnect,
    ReconnectCallback,
    is_loopback,
)
from mcpws.app._kernel import Kernel
from mcpws.core.connection import ClientConnection
from mcpws.core.jsonrpc import METHOD_NOT_FOUND
from mcpws.core.session import ClientSession, ClientSessionConfig, RequestReceived
from mcpws.core.websocket import LOOPBACK_HOSTS, ServerPolicy, WebSocketConfig

__all__ = [
    "Dialing",
    "check_port",
    "come_back",
    "for_the_client",
    "full",
    "server_policy",
]

_log = logging.getLogger("mcpws")


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


def full(pumps: Iterable[Kernel], limit: int | None) -> bool:
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
