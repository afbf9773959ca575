"""Serving an :class:`~mcpws.app.Server` over WebSocket with asyncio: :func:`serve`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from mcpws.app import Server, admit
from mcpws.app._pumping import check_port, full, server_policy
from mcpws.asyncio._pump import Pump
from mcpws.core.connection import Authenticate, ConnectionRequested, ServerConnection
from mcpws.core.session import ServerSession
from mcpws.core.websocket import DEFAULT_ORIGINS, WebSocketConfig

__all__ = ["TaskStatus", "serve"]

_log = logging.getLogger("mcpws")


class _Reports(Protocol):
    def started(self, value: Any = None, /) -> None: ...


class TaskStatus:
    """Where :func:`serve` reports its listening sockets once it listens: pass one as
    ``task_status``, then ``await status.wait()`` for them, which raises what stopped
    ``serve`` before it listened (a port in use, say). Anything with a ``started`` method
    will do, as trio's ``task_status`` does, but only a :class:`TaskStatus` hears of a
    failure. (A task cancelled before it ever ran reports nothing: its caller knows.)"""

    def __init__(self) -> None:
        self._value: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def started(self, value: Any = None, /) -> None:
        """Report *value* (the server's listening sockets)."""
        self._value.set_result(value)

    def failed(self, exc: BaseException, /) -> None:
        """Report that the task ended with *exc* before it started, unless it had. A task
        cancelled is reported as a ``RuntimeError``: whoever waits was not cancelled."""
        if self._value.done():
            return
        if isinstance(exc, asyncio.CancelledError):
            exc = RuntimeError("serve() was cancelled before it listened")
        self._value.set_exception(exc)
        self._value.exception()  # the task raises it too: not "never retrieved" here

    async def wait(self) -> Any:
        """The value reported, once it is; raises what ended the task before it started."""
        return await self._value


@contextlib.contextmanager
def _failures_reported(task_status: _Reports | None) -> Iterator[None]:
    """Report an exception raised in the block to *task_status*, and let it go on."""
    try:
        yield
    except BaseException as exc:
        if isinstance(task_status, TaskStatus):
            task_status.failed(exc)
        raise


async def serve(
    app: Server,
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
    task_status: _Reports | None = None,
    **session_options: Any,
) -> None:
    """Serve *app* until cancelled, then shut down gracefully.

    The options are those of :func:`mcpws.trio.serve`. Each request whose handler has to
    wait runs in its own task (at most *max_concurrent_requests* at a time per connection).
    Beyond *max_connections*, an upgrade is answered with HTTP 503. The listening sockets
    are reported to *task_status*, once listening, so that port 0 can be used. Cancelled,
    the server stops accepting, gives the requests in flight *shutdown_timeout* seconds to
    finish, and closes each connection with 1001; cancelled again meanwhile, it drops every
    connection at once.
    """
    with _failures_reported(task_status):
        check_port(port)
        policy = server_policy(host, path, allowed_origins, allowed_hosts)
        session_config = app.session_config(**session_options)
        loop = asyncio.get_running_loop()
        pumps: set[Pump] = set()

        def connection_for_one_client() -> Pump:
            connection = ServerConnection(
                loop.time(), config=config, policy=policy, session=ServerSession(session_config)
            )
            pump = Pump(
                connection,
                app.handle,
                max_concurrent=max_concurrent_requests,
                grace=shutdown_timeout,
            )

            def upgrade(event: Any) -> None:
                if isinstance(event, ConnectionRequested):
                    pump.principal = admit(
                        connection,
                        event,
                        full=full(pumps, max_connections),
                        authenticate=authenticate,
                        now=loop.time(),
                    )

            def lost() -> None:
                pumps.discard(pump)
                app.disconnected(pump)

            pump.on_event = upgrade
            pump.on_lost = lost
            pumps.add(pump)
            app.connected(pump)
            return pump

        server = await loop.create_server(connection_for_one_client, host, port, ssl=ssl_context)
    if task_status is not None:
        task_status.started(server.sockets)
    try:
        await asyncio.Event().wait()  # until cancelled
    finally:
        server.close()
        for pump in pumps:
            pump.session.drain()  # before anything more is read, not once shutting down
        shutting_down = asyncio.ensure_future(_shut_down(server, pumps))
        try:
            await asyncio.shield(shutting_down)
        except asyncio.CancelledError:
            # Cancelled again (as an anyio cancel scope does at every await): at once.
            shutting_down.cancel()
            for pump in list(pumps):
                pump.abort()
            raise


async def _shut_down(server: asyncio.Server, pumps: set[Pump]) -> None:
    results = await asyncio.gather(
        *(pump.shutdown() for pump in list(pumps)), return_exceptions=True
    )
    for result in results:
        if isinstance(result, Exception):
            _log.error("a connection failed to shut down", exc_info=result)
    await server.wait_closed()
