"""The asyncio driver: :func:`serve` an :class:`~mcpws.app.Server`, :func:`connect` to get a
:class:`~mcpws.app.Client`, :func:`dial` to serve a client that waits to be connected to,
:func:`serve_stdio` and :func:`connect_stdio` for MCP's stdio transport, with the API of
:mod:`mcpws.trio`. It pumps the sans-IO core as an :class:`asyncio.Protocol`; every protocol
decision is the core's.
"""

from mcpws.app import (
    ConnectError as ConnectError,
    Reconnect as Reconnect,
    ReconnectCallback as ReconnectCallback,
)
from mcpws.asyncio._connect import connect as connect
from mcpws.asyncio._dial import dial as dial
from mcpws.asyncio._serve import TaskStatus as TaskStatus, serve as serve, serving as serving
from mcpws.asyncio._stdio import connect_stdio as connect_stdio, serve_stdio as serve_stdio

__all__ = [
    "ConnectError",
    "Reconnect",
    "ReconnectCallback",
    "TaskStatus",
    "connect",
    "connect_stdio",
    "dial",
    "serve",
    "serve_stdio",
    "serving",
]
