"""``mcpws.asgi.App`` mounted in a host application beside the official SDK's Streamable
HTTP endpoint, one lifespan for both: ``uvicorn asgi_mounted:starlette_app`` (Starlette) or
``asgi_mounted:fastapi_app`` (FastAPI). The WebSocket endpoint is ``/ws/mcp`` (the mcpws
server of ``asgi_app``), the Streamable HTTP one ``/http/mcp`` (an SDK ``MCPServer`` with a
``multiply`` tool)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from asgi_app import app as websocket_app
from fastapi import FastAPI
from mcp.server import MCPServer
from starlette.applications import Starlette
from starlette.routing import Mount

sdk = MCPServer("streamable")


@sdk.tool()
def multiply(a: int, b: int) -> int:
    """Multiply two whole numbers."""
    return a * b


streamable = sdk.streamable_http_app()


@contextlib.asynccontextmanager
async def lifespan(host: Any) -> AsyncIterator[None]:
    """Both endpoints' lifespans, entered once by the host application."""
    async with websocket_app.lifespan(), sdk.session_manager.run():
        yield


starlette_app = Starlette(
    routes=[Mount("/ws", app=websocket_app), Mount("/http", app=streamable)], lifespan=lifespan
)

fastapi_app = FastAPI(lifespan=lifespan)
fastapi_app.mount("/ws", websocket_app)
fastapi_app.mount("/http", streamable)
