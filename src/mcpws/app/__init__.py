"""The high-level API, loop-agnostic: :class:`Server` to write an MCP server, :class:`Client`
to use one, and what their handlers see (:class:`Context`).

Nothing here does I/O; the drivers (``mcpws.trio``, ``mcpws.asyncio``) run them over real
connections, and what a driver is built from is in :mod:`mcpws.lowlevel`.
"""

from mcpws.app._client import Client as Client, RequestHandler as RequestHandler
from mcpws.app._context import (
    LEVELS as LEVELS,
    ConnectionLost as ConnectionLost,
    Context as Context,
    Link as Link,
    McpError as McpError,
    ProgressCallback as ProgressCallback,
)
from mcpws.app._driving import (
    Answer as Answer,
    ConnectError as ConnectError,
    Reconnect as Reconnect,
    ReconnectCallback as ReconnectCallback,
)
from mcpws.app._schema import (
    SchemaError as SchemaError,
    check as check_arguments,
    input_schema as input_schema,
)
from mcpws.app._server import RESOURCE_NOT_FOUND as RESOURCE_NOT_FOUND, Server as Server

__all__ = [
    "LEVELS",
    "RESOURCE_NOT_FOUND",
    "Answer",
    "Client",
    "ConnectError",
    "ConnectionLost",
    "Context",
    "Link",
    "McpError",
    "ProgressCallback",
    "Reconnect",
    "ReconnectCallback",
    "RequestHandler",
    "SchemaError",
    "Server",
    "check_arguments",
    "input_schema",
]
