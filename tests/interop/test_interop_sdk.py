"""Interoperability with a peer nobody here wrote: the official MCP Python SDK 1.30, the last
with a WebSocket transport.

The SDK needs pydantic and starlette, which mcpws does not depend on, so it runs in its own
virtual environment, made once in the peers' cache folder (:data:`peers.CACHE`) and kept; its
client and server are the scripts in ``tests/interop``, run as separate processes. When the
SDK cannot be installed, :func:`peers.peer_missing` says why.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.peers import (
    CACHE,
    INTEROP,
    LOOPS,
    free_port,
    last_line,
    mcpws_serving,
    peer_missing,
    run_on,
    stop,
    wait_for_port,
)
from mcpws.core.session import ClientSessionConfig
from mcpws.core.versions import HANDSHAKE_REVISIONS

SDK = "mcp==1.30.0"
_CHECK = "import importlib.metadata as m, uvicorn, websockets; assert m.version('mcp') == '1.30.0'"


def _ready(python: Path) -> bool:
    if not python.exists():
        return False
    done = subprocess.run([python, "-c", _CHECK], capture_output=True, timeout=60, check=False)
    return done.returncode == 0


@pytest.fixture(scope="module")
def sdk_python() -> Path:
    """The Python of a virtual environment with the SDK, made if missing."""
    venv = CACHE / "mcp-1.30.0"
    python = venv / "bin" / "python"
    if not _ready(python):
        made = subprocess.run(
            [sys.executable, "-m", "venv", "--clear", venv],
            capture_output=True,
            timeout=300,
            check=False,
        )
        if made.returncode != 0:
            peer_missing(f"{SDK} cannot be installed here: no venv: {last_line(made.stderr)}")
        install = [str(python), "-m", "pip", "install", "-q", SDK, "uvicorn", "websockets"]
        done = subprocess.run(install, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0 or not _ready(python):
            peer_missing(f"{SDK} cannot be installed here: {last_line(done.stderr)}")
    return python


@pytest.fixture(params=LOOPS)
def mcpws_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """``mcpws serve`` (the demo server) in a process of its own, on each loop; its URL."""
    with mcpws_serving(request.param) as port:
        yield f"ws://127.0.0.1:{port}/mcp"


@pytest.fixture
def sdk_server(sdk_python: Path) -> Iterator[str]:
    """The SDK's WebSocket server under uvicorn, in its environment; its URL."""
    port = free_port()
    process = subprocess.Popen([sdk_python, INTEROP / "sdk_server.py", str(port)])
    try:
        wait_for_port(port, process)
        yield f"ws://127.0.0.1:{port}/mcp"
    finally:
        stop(process)


def test_the_sdk_client_uses_an_mcpws_server(sdk_python: Path, mcpws_server: str) -> None:
    done = subprocess.run(
        [sdk_python, INTEROP / "sdk_client.py", mcpws_server],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["revision"] in HANDSHAKE_REVISIONS
    assert seen["server"] == "mcpws-demo"
    assert seen["tools"] == ["add", "divide", "countdown", "echo", "greet", "bump"]
    assert seen["add"] == "5"
    assert seen["refused"] == [True, "invalid arguments: argument 'a' must be of type number"]
    assert seen["readme"].startswith("# mcpws demo")


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("revisions", [None, *((revision,) for revision in HANDSHAKE_REVISIONS)])
def test_the_mcpws_client_uses_the_sdk_server(
    sdk_server: str, revisions: tuple[str, ...] | None, loop: str
) -> None:
    """With both eras on, the client's server/discover probe is refused and it falls back."""
    connect = importlib.import_module(f"mcpws.{loop}").connect

    async def main() -> None:
        session = (
            ClientSessionConfig() if revisions is None else ClientSessionConfig(revisions=revisions)
        )
        async with connect(sdk_server, session=session) as client:
            assert client.server_info is not None
            assert client.server_info.name == "sdk-echo"
            assert client.revision in HANDSHAKE_REVISIONS
            tools = await client.list_tools()
            assert [tool.name for tool in tools] == ["echo"]
            result = await client.call_tool("echo", {"text": "hello"})
            assert result.content[0].to_json() == {"type": "text", "text": "hello"}

    run_on(loop, main)
