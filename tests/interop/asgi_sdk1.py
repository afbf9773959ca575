"""A server written the SDK 1.x way, with the one import changed: a Starlette
``WebSocketRoute`` whose endpoint runs a low-level server over the streams of
``mcpws.sdk.websocket_server`` (was ``mcp.server.websocket.websocket_server``), served by
``uvicorn asgi_sdk1:app`` at ``/ws``."""

from __future__ import annotations

from mcp.server import MCPServer
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from mcpws.sdk import websocket_server  # was: from mcp.server.websocket import ...

tools = MCPServer("sdk-1x-style")


@tools.tool()
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


server = tools._lowlevel_server  # what 1.x code ran: a low-level server


async def endpoint(websocket: WebSocket) -> None:
    async with websocket_server(websocket.scope, websocket.receive, websocket.send) as streams:
        await server.run(streams[0], streams[1], server.create_initialization_options())


app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
