"""Connecting to an MCP server over WebSocket with trio: :func:`connect`."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import trio

from mcpws.app import Client, ConnectionLost
from mcpws.core.connection import ClientConnection, ConnectionClosed
from mcpws.core.errors import McpwsError
from mcpws.core.session import ClientSession, ClientSessionConfig, SessionFailed, SessionInitialized
from mcpws.core.websocket import ConnectionRejected, WebSocketConfig
from mcpws.trio._pump import Pump

__all__ = ["ConnectError", "connect"]


class ConnectError(McpwsError):
    """The connection or the session could not be opened."""


@asynccontextmanager
async def connect(
    url: str,
    *,
    headers: Sequence[tuple[str, str]] = (),
    ssl_context: ssl.SSLContext | None = None,
    origin: str | None = None,
    config: WebSocketConfig | None = None,
    session: ClientSessionConfig | None = None,
    open_timeout: float = 30.0,
    **session_options: Any,
) -> AsyncIterator[Client]:
    """Open a connection to *url* (``ws://`` or ``wss://``), open the MCP session on it
    (``initialize``, or the ``server/discover`` probe when both eras are configured), and
    yield the ready :class:`~mcpws.app.Client`; close both on exit.

    *session* (or *session_options*, such as ``revisions=``) configures the client session.
    Raises :class:`ConnectError` when the upgrade is refused or the session fails to open.
    """
    if session is None:
        session = ClientSessionConfig(**session_options)
    core = ClientSession(session)
    connection = ClientConnection(
        url, trio.current_time(), config=config, headers=headers, origin=origin, session=core
    )
    with trio.move_on_after(open_timeout) as opening:
        stream = await _open_stream(connection, ssl_context)
    if opening.cancelled_caught:
        raise ConnectError(f"could not connect to {url} in {open_timeout} s")
    pump = Pump(stream, connection, _no_requests)
    client = Client(pump, core)
    pump._handler = lambda event, _: client.handle(event)
    opened = trio.Event()
    failure: list[str] = []

    def note(event: Any) -> None:
        if isinstance(event, SessionInitialized):
            opened.set()
        elif isinstance(event, SessionFailed):
            failure.append(str(event.error))
        elif isinstance(event, ConnectionRejected):
            failure.append(f"the server refused the upgrade with HTTP {event.status_code}")
        elif isinstance(event, ConnectionClosed):
            failure.append(event.reason or "the connection closed")
            opened.set()
        elif client.on_notification is not None and hasattr(event, "params"):
            client.on_notification(event.method, event.params)

    pump.on_event = note
    raised: BaseException | None = None
    async with trio.open_nursery() as nursery:
        await nursery.start(pump.run)
        with trio.move_on_after(open_timeout) as waiting:
            await opened.wait()
        if waiting.cancelled_caught or (failure and not core.revision):
            nursery.cancel_scope.cancel()
            reason = failure[0] if failure else f"the session did not open in {open_timeout} s"
            raised = ConnectError(reason)
        else:
            try:
                yield client
            except BaseException as exc:  # raised again below, outside the nursery
                raised = exc
            finally:
                with trio.CancelScope(shield=True), trio.move_on_after(5):
                    connection.close(now=trio.current_time())
                    await pump.flush()
                    await pump.closed.wait()
                nursery.cancel_scope.cancel()
    if raised is not None:
        raise raised


async def _open_stream(
    connection: ClientConnection, ssl_context: ssl.SSLContext | None
) -> trio.abc.Stream:
    """A TCP stream to the connection's server, with TLS done when the URL is ``wss://``."""
    try:
        stream = await trio.open_tcp_stream(connection.host, connection.port)
    except OSError as exc:
        raise ConnectError(f"cannot reach {connection.host}:{connection.port}: {exc}") from exc
    if not connection.secure:
        return stream
    context = ssl_context or ssl.create_default_context()
    tls = trio.SSLStream(stream, context, server_hostname=connection.host)
    try:
        await tls.do_handshake()
    except BaseException as exc:
        await trio.aclose_forcefully(stream)
        if isinstance(exc, trio.BrokenResourceError):
            raise ConnectError(f"the TLS handshake failed: {exc.__cause__}") from exc
        raise
    return tls


async def _no_requests(event: Any, link: Any) -> Any:
    raise ConnectionLost("the client is not ready")  # pragma: no cover
