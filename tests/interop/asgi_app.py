"""mcpws served as an ASGI application, for the tests that run it under real ASGI servers:
``uvicorn asgi_app:app``, ``hypercorn asgi_app:app``, ``granian --interface asgi
asgi_app:app``. Its tools: ``add``, ``pid`` (the worker's process) and ``hold`` (reports
progress, then answers once a file exists); messages are bounded to 1 MiB."""

from __future__ import annotations

import os
from pathlib import Path

import anyio

from mcpws import Context, Server
from mcpws.asgi import App

server = Server("asgi")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


@server.tool()
def pid() -> int:
    """The process of the worker that answers."""
    return os.getpid()


@server.tool()
async def hold(release: str, ctx: Context) -> str:
    """Report progress, then answer once the file *release* exists."""
    await ctx.report_progress(1, 2, "held")
    while not Path(release).exists():
        await anyio.sleep(0.01)
    return "released"


app = App(server, max_message_size=2**20)
