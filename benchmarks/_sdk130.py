"""The official Python SDK 1.30's side of ``bench_roundtrip.py``: its servers (the low-level
``Server``, and the high-level ``FastMCP``, which 2.x renamed ``MCPServer``) over its own
WebSocket transport under uvicorn, and its client over its ``websocket_client``. Run in the
SDK's own virtual environment, never imported by the tests' one (whose SDK is 2.x)."""

from __future__ import annotations

import asyncio
import functools
import time
import warnings
from collections.abc import Callable
from typing import Any

warnings.simplefilter("ignore")  # the SDK deprecates its own WebSocket transport


def _serve(server: Any, port: int, serve: Callable[[Any, int], None] | None = None) -> None:
    """Serve *server* through the SDK's ASGI endpoint: under uvicorn, or with *serve*."""
    import uvicorn
    from mcp.server.websocket import websocket_server

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            async with websocket_server(scope, receive, send) as (read, write):
                await server.run(read, write, server.create_initialization_options())

    if serve is not None:
        serve(app, port)
        return
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="error", lifespan="off", ws_max_size=1 << 26
    )


def server_lowlevel(port: int, serve: Callable[[Any, int], None] | None = None) -> None:
    """The low-level server, with one tool, ``echo`` (under uvicorn, or with *serve*)."""
    import mcp.types as types
    from mcp.server.lowlevel import Server

    server: Any = Server("bench")

    @server.list_tools()
    async def list_tools() -> list[Any]:
        schema = {"type": "object", "properties": {"text": {"type": "string"}}}
        return [types.Tool(name="echo", inputSchema=schema)]

    @server.call_tool()
    async def call_tool(name: str, arguments: dict[str, Any]) -> list[Any]:
        return [types.TextContent(type="text", text=arguments["text"])]

    _serve(server, port, serve)


def server_high(port: int) -> None:
    """The high-level server, with the tool of ``bench_roundtrip.high_level_echo``'s code."""
    from mcp.server.fastmcp import FastMCP

    high = FastMCP("bench", log_level="WARNING")  # as quiet as the others: no line a call

    @high.tool()
    def echo(text: str) -> str:
        return text

    _serve(high._mcp_server, port)


def client(url: str, text: str, more: Callable[[int, float], bool]) -> tuple[int, float]:
    """Call ``echo`` with *text* while ``more(calls, start)``; the calls and the seconds."""
    import mcp.client.websocket as transport
    from mcp import ClientSession
    from websockets.asyncio.client import connect as ws_connect

    transport.ws_connect = functools.partial(ws_connect, max_size=None)  # raise the 1 MiB cap

    async def main() -> tuple[int, float]:
        connection = transport.websocket_client(url)
        async with connection as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await session.call_tool("echo", {"text": text})
            calls, start = 0, time.perf_counter()
            while more(calls, start):
                result = await session.call_tool("echo", {"text": text})
                assert not result.isError
                calls += 1
            return calls, time.perf_counter() - start

    return asyncio.run(main())
