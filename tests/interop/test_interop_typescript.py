"""Interoperability with the official MCP TypeScript SDK 1.32.2 as a client: its ``Client``
over its ``WebSocketClientTransport``, under Node 22, on Node's own WebSocket (undici's) and
on the ``ws`` package's, against ``mcpws serve`` on each driver.

:mod:`helpers.typescript` installs them; the client is ``tests/interop/ts_client.mjs``,
which prints what it saw as one JSON object.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mcpws
from helpers.peers import INTEROP, LOOPS, mcpws_serving
from helpers.typescript import NODE, node_packages_folder


@pytest.fixture(scope="module")
def node_packages() -> Path:
    """The folder with the SDK, ws and Node 22 installed, installed if missing."""
    return node_packages_folder()


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
