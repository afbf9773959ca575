"""Servers of other libraries served by ``mcpws serve module:attribute`` on each driver (an
SDK 2.x ``MCPServer`` and low-level ``Server``, a fastmcp ``FastMCP``: ``sdk_apps.py``),
called by clients nobody here wrote: the official TypeScript SDK client over ``ws``, the
official Python SDK's ``mcp.Client`` and ``fastmcp.Client`` over mcpws's transports; and
``fastmcp.Client`` against ``mcpws serve`` with an mcpws server."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import fastmcp
import mcp
import pytest

from helpers.peers import INTEROP, LOOPS, mcpws_serving
from helpers.typescript import NODE, node_packages_folder
from mcpws.fastmcp import WebSocketTransport
from mcpws.sdk import websocket_client

#: The servers of ``sdk_apps.py``, with the name each says it has.
APPS = {"mcp_server": "sdk-mcpserver", "lowlevel": "sdk-lowlevel", "fastmcp_server": "fastmcp-demo"}
TIMEOUT = 60


@pytest.fixture(scope="module", params=[(loop, app) for loop in LOOPS for app in APPS], ids=str)
def hosted(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """``mcpws serve sdk_apps:APP`` on each driver: its URL, and the app's name."""
    loop, app = request.param
    with mcpws_serving(loop, f"sdk_apps:{app}") as port:
        yield f"ws://127.0.0.1:{port}/mcp", app


@pytest.fixture(scope="module")
def node_packages() -> Path:
    return node_packages_folder()


def _ts_client(packages: Path, url: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    command: list[str | Path] = [
        packages / NODE,
        INTEROP / "ts_tools.mjs",
        packages,
        url,
        tool,
        json.dumps(arguments),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    seen: dict[str, Any] = json.loads(done.stdout)
    return seen


def test_the_typescript_sdk_client_calls_a_served_sdk_or_fastmcp_server(
    node_packages: Path, hosted: tuple[str, str]
) -> None:
    url, app = hosted
    seen = _ts_client(node_packages, url, "add", {"a": 2, "b": 3})
    assert seen["server"] == APPS[app]
    assert seen["subprotocol"] == "mcp"
    assert "add" in seen["tools"]
    assert seen["result"]["isError"] is False
    assert seen["result"]["text"] == "5"
    # An unknown tool: a JSON-RPC error from the low-level server, a tool error from the rest.
    assert seen["unknown"] in ({"isError": True}, {"code": -32602})


@pytest.mark.parametrize("client_loop", LOOPS)
def test_mcp_client_calls_a_served_sdk_or_fastmcp_server(
    hosted: tuple[str, str], client_loop: str
) -> None:
    url, app = hosted

    async def main() -> None:
        with anyio.fail_after(TIMEOUT):
            for mode in ("legacy", "2026-07-28"):
                async with mcp.Client(websocket_client(url), mode=mode) as client:
                    if mode == "legacy":  # the stateless era's stamp of it is optional
                        assert client.server_info is not None
                        assert client.server_info.name == APPS[app]
                    else:
                        assert client.protocol_version == mode
                    result = await client.call_tool("add", {"a": 2, "b": 3})
                    first = result.content[0]
                    assert first.type == "text"
                    assert first.text == "5"

    anyio.run(main, backend=client_loop)


def test_fastmcp_client_calls_a_served_sdk_or_fastmcp_server(hosted: tuple[str, str]) -> None:
    url, app = hosted

    async def main() -> None:
        with anyio.fail_after(TIMEOUT):
            async with fastmcp.Client(WebSocketTransport(url)) as client:
                assert "add" in {tool.name for tool in await client.list_tools()}
                result = await client.call_tool("add", {"a": 2, "b": 3})
                # Typed by the tool's output schema: fastmcp unwraps a result it wrapped
                # itself, and gives the wrapping object of another server's.
                if app == "fastmcp_server":
                    assert result.data == 5
                elif app == "mcp_server":
                    assert result.data.result == 5
                else:  # the low-level server declares no output schema
                    assert result.data is None

    anyio.run(main, backend="asyncio")  # fastmcp's client runs on asyncio only


@pytest.fixture(scope="module", params=LOOPS)
def demo(request: pytest.FixtureRequest) -> Iterator[str]:
    """``mcpws serve`` with the demo server (an mcpws server) on each driver; its URL."""
    with mcpws_serving(request.param) as port:
        yield f"ws://127.0.0.1:{port}/mcp"


def test_fastmcp_client_uses_an_mcpws_server(demo: str) -> None:
    async def main() -> None:
        with anyio.fail_after(TIMEOUT):
            async with fastmcp.Client(WebSocketTransport(demo)) as client:
                added = await client.call_tool("add", {"a": 2, "b": 3})
                assert added.data.result == 5  # typed by the tool's output schema
                echoed = await client.call_tool("echo", {"text": "hi", "times": 2})
                assert echoed.structured_content == {"text": "hi hi", "times": 2}
                with pytest.raises(fastmcp.exceptions.ToolError, match="division by zero"):
                    await client.call_tool("divide", {"a": 1, "b": 0})
                prompt = await client.get_prompt("review", {"code": "x = 1"})
                assert prompt.messages

    anyio.run(main, backend="asyncio")
