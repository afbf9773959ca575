"""The trio driver: :func:`serve` an :class:`~mcpws.app.Server`, :func:`connect` to get a
:class:`~mcpws.app.Client`, :func:`dial` to serve a client that waits to be connected to;
:func:`serve_stdio` and :func:`connect_stdio` for MCP's stdio transport. It pumps the
sans-IO core; every protocol decision is the core's.
"""

from mcpws.app import (
    ConnectError as ConnectError,
    Reconnect as Reconnect,
    ReconnectCallback as ReconnectCallback,
)
from mcpws.trio._connect import connect as connect
from mcpws.trio._dial import dial as dial
from mcpws.trio._serve import serve as serve, serving as serving
from mcpws.trio._stdio import connect_stdio as connect_stdio, serve_stdio as serve_stdio

__all__ = [
    "ConnectError",
    "Reconnect",
    "ReconnectCallback",
    "connect",
    "connect_stdio",
    "dial",
    "serve",
    "serve_stdio",
    "serving",
]
