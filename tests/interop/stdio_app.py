"""A stdio MCP server written with the official SDK 2.x's ``MCPServer``, which the tests
put behind ``mcpws expose``: ``python stdio_app.py``. Its tools: ``add``, ``pid`` (the
process's), ``echo``, and ``exit`` (the process ends at once, mid-answer)."""

from __future__ import annotations

import os

from mcp.server import MCPServer

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
def exit() -> str:
    """End the process at once, without answering."""
    os._exit(3)


if __name__ == "__main__":
    server.run("stdio")
