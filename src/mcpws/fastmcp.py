"""fastmcp 4 over mcpws, installed with ``mcpws[fastmcp]``.

* :class:`WebSocketTransport`: the transport of a ``fastmcp.Client`` (and of anything that
  takes fastmcp's transports) to an MCP server over WebSocket, in either era.
* Serving: a driver's ``serve()`` (and ``mcpws serve module:attribute``) takes a
  ``fastmcp.FastMCP`` in place of an :class:`mcpws.Server`, as it takes an SDK server
  (:mod:`mcpws.sdk` serves both): each connection runs the server's own loop, and its
  lifespan runs once for the whole ``serve()``.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastmcp.client.transports import ClientTransport
from fastmcp.client.transports.base import SessionKwargs, TransportOptions
from mcp import ClientSession
from typing_extensions import Unpack

from mcpws.app import Reconnect
from mcpws.core.websocket import WebSocketConfig
from mcpws.sdk import websocket_client

__all__ = ["WebSocketTransport"]


class WebSocketTransport(ClientTransport):
    """A ``fastmcp.Client`` transport to the MCP server at *url*, over mcpws's
    :func:`~mcpws.sdk.websocket_client`, with its options (*headers*, *ssl_context*,
    *origin*, *config*, *open_timeout*, *reconnect*)."""

    def __init__(
        self,
        url: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        ssl_context: ssl.SSLContext | None = None,
        origin: str | None = None,
        config: WebSocketConfig | None = None,
        open_timeout: float = 30.0,
        reconnect: Reconnect | None = None,
    ) -> None:
        self.url = url
        self._options: dict[str, Any] = {
            "headers": headers,
            "ssl_context": ssl_context,
            "origin": origin,
            "config": config,
            "open_timeout": open_timeout,
            "reconnect": reconnect,
        }

    @asynccontextmanager
    async def connect_session(
        self,
        *,
        transport_options: TransportOptions | None = None,
        **session_kwargs: Unpack[SessionKwargs],
    ) -> AsyncIterator[ClientSession]:
        """Open the connection and yield a session on it, not initialized yet (the
        ``fastmcp.Client`` does that)."""
        options = transport_options or TransportOptions()
        async with (
            websocket_client(self.url, **self._options) as (read_stream, write_stream),
            options.session_class(
                read_stream=read_stream, write_stream=write_stream, **session_kwargs
            ) as session,
        ):
            yield session

    def __repr__(self) -> str:
        return f"<WebSocketTransport(url={self.url!r})>"
