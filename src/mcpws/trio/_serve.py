"""Serving an :class:`~mcpws.app.Server` over WebSocket with trio: :func:`serve`."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Sequence
from typing import Any

import trio

from mcpws.app import Server, admit
from mcpws.app._pumping import check_port, full, server_policy
from mcpws.core.connection import (
    Authenticate,
    ConnectionRequested,
    ServerConnection,
)
from mcpws.core.session import ServerSession
from mcpws.core.websocket import DEFAULT_ORIGINS, WebSocketConfig
from mcpws.trio._pump import Pump

__all__ = ["serve"]

_log = logging.getLogger("mcpws")


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
    task_status: trio.TaskStatus[list[trio.SocketListener]] = trio.TASK_STATUS_IGNORED,
    **session_options: Any,
) -> None:
    """Serve *app* until cancelled, then shut down gracefully.

    Each connection runs in its own task, and each request in its own task within it (at
    most *max_concurrent_requests* at a time). Beyond *max_connections*, an upgrade is
    answered with HTTP 503. A server bound to a loopback address accepts only loopback
    ``Host`` headers unless *allowed_hosts* says otherwise. The listeners are reported
    through *task_status* (``await nursery.start(serve, app)``), so that port 0 can be used.
    Cancelled, the server stops accepting, gives the requests in flight *shutdown_timeout*
    seconds to finish, and closes each connection with 1001. *session_options* go to
    :meth:`~mcpws.app.Server.session_config`.
    """
    check_port(port)
    policy = server_policy(host, path, allowed_origins, allowed_hosts)
    session_config = app.session_config(**session_options)
    listeners = await trio.open_tcp_listeners(port, host=host)
    pumps: set[Pump] = set()

    async def handle(stream: trio.abc.Stream) -> None:
        if ssl_context is not None:
            stream = trio.SSLStream(stream, ssl_context, server_side=True)
        connection = ServerConnection(
            trio.current_time(), config=config, policy=policy, session=ServerSession(session_config)
        )
        pump = Pump(
            stream,
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
                    now=trio.current_time(),
                )

        pump.on_event = upgrade
        pumps.add(pump)
        app.connected(pump)
        try:
            await pump.run()
        except Exception:  # one connection's failure must not end the others
            _log.exception("a connection failed")
        finally:
            app.disconnected(pump)
            pumps.discard(pump)

    task_status.started(listeners)
    await trio.serve_listeners(handle, listeners)
