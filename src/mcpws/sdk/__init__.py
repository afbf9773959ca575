"""The official MCP SDK (``mcp`` 2.x) over mcpws, installed with ``mcpws[sdk]``.

* :func:`websocket_client`: the transport of an ``mcp.Client`` or a ``ClientSession``, and
  the drop-in replacement for ``mcp.client.websocket.websocket_client``, which ``mcp`` 2.0
  removed.
* :func:`websocket_server`: the ASGI endpoint that ``mcp.server.websocket.websocket_server``
  was (``mcp`` 2.0 removed it), yielding the SDK's streams for the caller's own server loop,
  with mcpws's transport and upgrade checks.
* Serving: a driver's ``serve()`` (and ``mcpws serve module:attribute``) takes an SDK
  low-level ``Server`` or an ``MCPServer`` (or a ``fastmcp.FastMCP``, whose low-level
  server is the SDK's) in place of an :class:`mcpws.Server`; each
  connection runs the SDK's own loop, both eras on one endpoint, and the server's lifespan
  runs once for the whole ``serve()``. :func:`host` is what ``serve()`` calls for it. The
  handlers see the connection's upgrade, and the principal the ``authenticate`` hook gave,
  as a :class:`WebSocketRequest` (``ctx.request_context.request``).

Nothing else in mcpws imports this package or the SDK: ``import mcpws`` and the drivers stay
free of ``mcp``, ``mcp_types`` and ``pydantic``.
"""

from mcpws.sdk._asgi import websocket_server as websocket_server
from mcpws.sdk._client import NOT_CONNECTED as NOT_CONNECTED, websocket_client as websocket_client
from mcpws.sdk._messages import WebSocketRequest as WebSocketRequest
from mcpws.sdk._seams import TESTED as TESTED, lowlevel_server as lowlevel_server
from mcpws.sdk._serving import SdkHost as SdkHost, host as host

__all__ = [
    "NOT_CONNECTED",
    "TESTED",
    "SdkHost",
    "WebSocketRequest",
    "host",
    "lowlevel_server",
    "websocket_client",
    "websocket_server",
]
