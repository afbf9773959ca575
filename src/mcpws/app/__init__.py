"""The high-level API, loop-agnostic: :class:`Server` to write an MCP server, :class:`Client`
to use one, and what their handlers see (:class:`Context`).

Nothing here does I/O; the drivers (``mcpws.trio``, ``mcpws.asyncio``) run them over real
connections, and what a driver is built from is in :mod:`mcpws.lowlevel`.
"""

from mcpws.app._asking import (
    STATE_SECRET_VARIABLE as STATE_SECRET_VARIABLE,
    InputRequired as InputRequired,
    Rounds as Rounds,
    StateSeal as StateSeal,
)
from mcpws.app._bridging import StdioCommand as StdioCommand, StdioServer as StdioServer
from mcpws.app._bus import (
    Bus as Bus,
    Change as Change,
    Channel as Channel,
    LocalBus as LocalBus,
)
from mcpws.app._client import (
    MAX_INPUT_ROUNDS as MAX_INPUT_ROUNDS,
    Client as Client,
    RequestHandler as RequestHandler,
)
from mcpws.app._context import (
    LEVELS as LEVELS,
    Context as Context,
    Link as Link,
    NotificationCallback as NotificationCallback,
    ProgressCallback as ProgressCallback,
)
from mcpws.app._driving import (
    Answer as Answer,
    ConnectError as ConnectError,
    Reconnect as Reconnect,
    ReconnectCallback as ReconnectCallback,
)
from mcpws.app._errors import (
    ConnectionLost as ConnectionLost,
    McpError as McpError,
    UnexpectedResult as UnexpectedResult,
)
from mcpws.app._observing import (
    ConnectionEnded as ConnectionEnded,
    ConnectionInfo as ConnectionInfo,
    Hooks as Hooks,
    Outcome as Outcome,
    RequestDone as RequestDone,
)
from mcpws.app._schema import (
    SchemaError as SchemaError,
    check as check_arguments,
    input_schema as input_schema,
)
from mcpws.app._server import (
    MAX_STREAMS as MAX_STREAMS,
    RESOURCE_NOT_FOUND as RESOURCE_NOT_FOUND,
    Server as Server,
)
from mcpws.app._sharing import SharedStdioServer as SharedStdioServer

__all__ = [
    "LEVELS",
    "MAX_INPUT_ROUNDS",
    "MAX_STREAMS",
    "RESOURCE_NOT_FOUND",
    "STATE_SECRET_VARIABLE",
    "Answer",
    "Bus",
    "Change",
    "Channel",
    "Client",
    "ConnectError",
    "ConnectionEnded",
    "ConnectionInfo",
    "ConnectionLost",
    "Context",
    "Hooks",
    "InputRequired",
    "Link",
    "LocalBus",
    "McpError",
    "NotificationCallback",
    "Outcome",
    "ProgressCallback",
    "Reconnect",
    "ReconnectCallback",
    "RequestDone",
    "RequestHandler",
    "Rounds",
    "SchemaError",
    "Server",
    "SharedStdioServer",
    "StateSeal",
    "StdioCommand",
    "StdioServer",
    "UnexpectedResult",
    "check_arguments",
    "input_schema",
]
