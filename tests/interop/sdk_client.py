"""A client written with the official MCP Python SDK 1.30 (its WebSocket transport), run by
``tests/interop/test_interop_sdk.py`` in the SDK's own virtual environment.

Usage: ``python sdk_client.py URL``. It opens a session, uses the demo server's tools and a
resource, and prints what it saw as one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import sys
import warnings

from mcp import ClientSession
from mcp.client.websocket import websocket_client


async def main(url: str) -> None:
    async with websocket_client(url) as (read, write), ClientSession(read, write) as session:
        opened = await session.initialize()
        tools = await session.list_tools()
        added = await session.call_tool("add", {"a": 2, "b": 3})
        refused = await session.call_tool("add", {"a": "two", "b": 3})
        readme = await session.read_resource("demo://readme")
        seen = {
            "revision": opened.protocolVersion,
            "server": opened.serverInfo.name,
            "tools": [tool.name for tool in tools.tools],
            "add": added.content[0].text,
            "refused": [refused.isError, refused.content[0].text],
            "readme": readme.contents[0].text,
        }
        print(json.dumps(seen))


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # the SDK deprecates its own WebSocket transport
    asyncio.run(main(sys.argv[1]))
