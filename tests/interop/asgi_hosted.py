"""Servers of other kinds as ASGI applications, for the tests under real ASGI servers: an
official SDK ``MCPServer`` (``asgi_hosted:sdk_app``) and a stdio server behind mcpws's
bridge, a child per connection (``asgi_hosted:stdio_app``, the SDK server of
``stdio_app.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

from mcp.server import MCPServer

from mcpws.app import StdioServer
from mcpws.asgi import App

sdk = MCPServer("sdk-asgi")


@sdk.tool()
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


sdk_app = App(sdk)
stdio_app = App(StdioServer([sys.executable, str(Path(__file__).with_name("stdio_app.py"))]))
