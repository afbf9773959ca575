"""A stdio MCP server written with the official SDK 2.x's ``MCPServer``, which the tests
put behind ``mcpws expose``: ``python stdio_app.py``. Its tools: ``add``, ``pid`` (the
process's), ``echo``, ``hold`` (reports progress, then answers once a file exists) and
``exit`` (the process ends at once, mid-answer)."""

from __future__ import annotations

import os

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver import Context

server = MCPServer("stdio-sdk")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


@server.tool()
def pid() -> int:
    """The id of this server's process."""
    return os.getpid()


@server.tool()
def echo(text: str) -> str:
    """The text, as it came."""
    return text


@server.tool()
async def hold(ctx: Context, path: str) -> str:
    """Report progress, then answer once *path* exists."""
    await ctx.report_progress(0, 1)
    while not os.path.exists(path):
        await anyio.sleep(0.02)
    return "released"


@server.tool()
def exit() -> str:
    """End the process at once, without answering."""
    os._exit(3)


if __name__ == "__main__":
    server.run("stdio")
