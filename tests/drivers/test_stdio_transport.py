"""MCP's stdio transport on each driver: an ``mcpws.Server`` served on standard input and
output (``serve_stdio``, ``mcpws serve --stdio``) to the official SDK's stdio client and the
MCP Inspector's command line, and ``connect_stdio`` starting stdio servers nobody here wrote
(an SDK ``MCPServer``, the reference server) in both eras; what cannot start or exits at
once, and the child's end with the block."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import mcp
import pytest
from mcp.client.stdio import StdioServerParameters

from helpers.peers import INTEROP, LOOPS, run_on
from helpers.typescript import EVERYTHING, INSPECTOR, NODE, node_packages_folder
from mcpws._demo import demo_server
from mcpws.app import ConnectError, StdioServer
from mcpws.lowlevel import DRIVERS, stdio_options

TIMEOUT = 60
STDIO_APP = [sys.executable, str(INTEROP / "stdio_app.py")]
SERVE_STDIO = [sys.executable, "-m", "mcpws", "serve", "--stdio"]
ERAS = {"handshake": ("2025-11-25",), "stateless": ("2026-07-28",)}


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_the_sdk_stdio_client_uses_mcpws_serve_stdio(loop: str, mode: Any) -> None:
    async def main() -> None:
        command = StdioServerParameters(
            command=SERVE_STDIO[0], args=[*SERVE_STDIO[1:], "--loop", loop], env=dict(os.environ)
        )
        async with mcp.Client(command, mode=mode) as client:
            assert "add" in {tool.name for tool in (await client.list_tools()).tools}
            added = await client.call_tool("add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}

    run_on(loop, main, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def node_packages() -> Path:
    return node_packages_folder()


def test_the_inspector_cli_uses_mcpws_serve_stdio(node_packages: Path, tmp_path: Path) -> None:
    inspector = [str(node_packages / NODE), str(node_packages / INSPECTOR), "--cli"]
    done = subprocess.run(
        [*inspector, *SERVE_STDIO, "--method", "tools/call", "--tool-name", "add",
         "--tool-arg", "a=40", "b=2"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "MCP_CATALOG_PATH": str(tmp_path / "catalog.json")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["structuredContent"] == {"result": 42}


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("era", ERAS)
def test_connect_stdio_reaches_an_sdk_server_and_ends_it(loop: str, era: str) -> None:
    pids: list[int] = []

    async def main() -> None:
        connect_stdio = DRIVERS[loop].load().connect_stdio
        async with connect_stdio(STDIO_APP, revisions=ERAS[era]) as client:
            added = await client.call_tool("add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}
            pids.append(int((await client.call_tool("pid", {})).structured_content["result"]))
        with pytest.raises(ProcessLookupError):
            os.kill(pids[0], 0)  # ended (and reaped) with the block

    run_on(loop, main, timeout=TIMEOUT)


@pytest.mark.parametrize("loop", LOOPS)
def test_connect_stdio_reaches_the_reference_server(loop: str, node_packages: Path) -> None:
    command = [str(node_packages / NODE), str(node_packages / EVERYTHING), "stdio"]

    async def main() -> None:
        connect_stdio = DRIVERS[loop].load().connect_stdio
        async with connect_stdio(command, revisions=("2025-11-25",)) as client:
            summed = await client.call_tool("get-sum", {"a": 2, "b": 3})
            assert "5" in summed.text

    run_on(loop, main, timeout=TIMEOUT)


@pytest.mark.parametrize("loop", LOOPS)
def test_connect_stdio_refuses_what_cannot_start_or_exits_at_once(loop: str) -> None:
    async def main() -> None:
        connect_stdio = DRIVERS[loop].load().connect_stdio
        with pytest.raises(ConnectError, match="cannot start no-such-program"):
            async with connect_stdio(["/no/such/no-such-program"]):
                pass
        with pytest.raises(ConnectError, match="ended its output"):
            async with connect_stdio([sys.executable, "-c", "import sys; sys.exit(3)"]):
                pass

    run_on(loop, main, timeout=TIMEOUT)


@pytest.mark.parametrize("loop", LOOPS)
def test_serve_stdio_answers_on_any_pair_of_descriptors_until_the_input_ends(loop: str) -> None:
    """In process, on pipes: a session opened, a call answered; the end of the input ends
    ``serve_stdio``."""
    into, their_input = os.pipe()
    their_output, out_of = os.pipe()
    initialize = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "pipes", "version": "1"}},
    }  # fmt: skip
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    call = {"jsonrpc": "2.0", "id": "add", "method": "tools/call",
            "params": {"name": "add", "arguments": {"a": 1, "b": 2}}}  # fmt: skip

    def client() -> list[Any]:
        with os.fdopen(their_input, "wb", 0) as writing, os.fdopen(their_output, "rb") as reading:
            answers = []
            for message in (initialize, initialized, call):
                writing.write(json.dumps(message).encode() + b"\n")
                if "id" in message:
                    answers.append(json.loads(reading.readline()))
        return answers

    async def main() -> None:
        serve_stdio = DRIVERS[loop].load().serve_stdio
        async with anyio.create_task_group() as group:
            group.start_soon(
                functools.partial(serve_stdio, demo_server(), stdin=into, stdout=out_of)
            )
            answers = await anyio.to_thread.run_sync(client)
        assert answers[0]["result"]["protocolVersion"] == "2025-11-25"
        assert answers[1]["result"]["structuredContent"] == {"result": 3}

    try:
        run_on(loop, main, timeout=TIMEOUT)
    finally:
        os.close(into)
        os.close(out_of)


def test_only_an_mcpws_server_is_served_on_stdio() -> None:
    with pytest.raises(TypeError, match=r"serves an mcpws\.Server, not a StdioServer"):
        stdio_options(StdioServer(STDIO_APP))  # type: ignore[arg-type]
    done = subprocess.run(
        [*SERVE_STDIO, "sdk_apps:mcp_server"],
        cwd=INTEROP, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert "--stdio serves an mcpws.Server" in done.stderr
