"""A server written with the official MCP Python SDK 1.30 (its low-level server and its
WebSocket transport, under uvicorn), run by ``tests/interop/test_interop_sdk.py`` in the
SDK's own virtual environment.

Usage: ``python sdk_server.py PORT``. It offers one tool, ``echo``.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import mcp.types as types
import uvicorn
from mcp.server.lowlevel import Server
from mcp.server.websocket import websocket_server

server: Any = Server("sdk-echo")


@server.list_tools()  # type: ignore[untyped-decorator]
async def list_tools() -> list[Any]:
    schema = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    return [types.Tool(name="echo", description="Echo a text.", inputSchema=schema)]


@server.call_tool()  # type: ignore[untyped-decorator]
async def call_tool(name: str, arguments: dict[str, Any]) -> list[Any]:
    return [types.TextContent(type="text", text=arguments["text"])]


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        async with websocket_server(scope, receive, send) as (read, write):
            await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # the SDK deprecates its own WebSocket transport
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", lifespan="off")
