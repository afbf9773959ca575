"""Servers written with the official Python SDK 2.x and with fastmcp 4, which the tests
serve with mcpws (``mcpws serve sdk_apps:NAME``, or a driver's ``serve()``).

* ``mcp_server``: an ``MCPServer`` with ``add``, ``big`` (a result of *size* characters),
  ``count`` (progress, then the count), ``fail`` (raises), ``hold`` (answers once its
  gate in :data:`HELD` is set), ``whoami`` (the connection's principal and its ``x-test``
  header) and ``ask`` (asks the client for a name); its lifespan counts its entries in
  :data:`LIFESPANS`.
* ``lowlevel``: an SDK low-level ``Server`` with ``add``.
* ``fastmcp_server``: a ``fastmcp.FastMCP`` with ``add``, ``fail`` and ``header`` (a header
  of the upgrade, as fastmcp's ``get_http_headers()`` gives it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import fastmcp
import mcp_types as types
from fastmcp.server.dependencies import get_http_headers
from mcp.server import MCPServer
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import Context
from pydantic import BaseModel

from mcpws.sdk import WebSocketRequest

#: How many times the lifespan of ``mcp_server`` was entered, and left.
LIFESPANS: list[str] = []


@asynccontextmanager
async def _lifespan(server: MCPServer) -> AsyncIterator[dict[str, Any]]:
    LIFESPANS.append("entered")
    try:
        yield {"greeting": "hello"}
    finally:
        LIFESPANS.append("left")


mcp_server = MCPServer("sdk-mcpserver", lifespan=_lifespan)


@mcp_server.tool()
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


@mcp_server.tool()
def big(size: int) -> str:
    """A text of *size* characters, none of them repeated in a row."""
    return "".join(chr(0x41 + (i * 7) % 26) for i in range(size))


@mcp_server.tool()
async def count(ctx: Context, steps: int = 3) -> str:
    """Report progress *steps* times, then say how many."""
    for step in range(1, steps + 1):
        await ctx.report_progress(step, steps, f"step {step}")
    return f"counted {steps}"


@mcp_server.tool()
def fail() -> str:
    """Always raise."""
    raise ValueError("this tool always fails")


#: The gates of the ``hold`` calls, in the order they came, and the most held at once.
HELD: list[anyio.Event] = []
PEAK = [0]


@mcp_server.tool()
async def hold() -> str:
    """Answer once the test sets this call's gate."""
    gate = anyio.Event()
    HELD.append(gate)
    PEAK[0] = max(PEAK[0], sum(not each.is_set() for each in HELD))
    await gate.wait()
    return "released"


@mcp_server.tool()
def whoami(ctx: Context) -> str:
    """Who connected, as the authentication hook said, and the ``x-test`` header."""
    request = ctx.request_context.request
    assert isinstance(request, WebSocketRequest)
    return f"{request.principal} {request.headers.get('x-test')}"


class _Name(BaseModel):
    name: str


@mcp_server.tool()
async def ask(ctx: Context) -> str:
    """Ask the client for a name, and greet it."""
    answer = await ctx.elicit("What is your name?", schema=_Name)
    return f"hello {answer.data.name}" if answer.action == "accept" else answer.action


_ADD_SCHEMA = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
}


async def _list_tools(
    ctx: Any, params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[types.Tool(name="add", input_schema=_ADD_SCHEMA)])


async def _call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    if params.name != "add":
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=f"no tool {params.name}")], is_error=True
        )
    arguments = params.arguments or {}
    total = int(arguments["a"]) + int(arguments["b"])
    return types.CallToolResult(content=[types.TextContent(type="text", text=str(total))])


lowlevel: Server[Any] = Server("sdk-lowlevel", on_list_tools=_list_tools, on_call_tool=_call_tool)

fastmcp_server: fastmcp.FastMCP[Any] = fastmcp.FastMCP("fastmcp-demo")


@fastmcp_server.tool(name="add")
def fast_add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


@fastmcp_server.tool(name="fail")
def fast_fail() -> str:
    """Always raise."""
    raise ValueError("this tool always fails")


@fastmcp_server.tool(name="header")
def fast_header(name: str) -> str:
    """A header of the connection's upgrade."""
    return get_http_headers(include_all=True).get(name, "")
