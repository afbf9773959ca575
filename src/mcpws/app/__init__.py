"""The high-level API, loop-agnostic: :class:`Server` to write an MCP server, :class:`Client`
to use one, and what their handlers see (:class:`Context`).

Nothing here does I/O; the drivers (``mcpws.trio``, ``mcpws.asyncio``) run them over real
connections.
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
    Handler as Handler,
    Opening as Opening,
    Reconnect as Reconnect,
    ReconnectCallback as ReconnectCallback,
    admit as admit,
    answer as answer,
    is_loopback as is_loopback,
    settles as settles,
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
    "Handler",
    "Link",
    "McpError",
    "Opening",
    "ProgressCallback",
    "Reconnect",
    "ReconnectCallback",
    "RequestHandler",
    "SchemaError",
    "Server",
    "admit",
    "answer",
    "check_arguments",
    "input_schema",
    "is_loopback",
    "settles",
]
