"""The reference stdio server, ``@modelcontextprotocol/server-everything`` (npm, run by Node
22), behind ``mcpws expose`` on each driver: the official TypeScript SDK client over ``ws``
and mcpws's client call its tools, and ids of either JSON type come back unchanged."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from helpers.network import INITIALIZE, RawClient
from helpers.peers import INTEROP, LOOPS, mcpws_serving
from helpers.typescript import EVERYTHING, NODE, node_packages_folder
from mcpws.core.websocket import TextReceived
from mcpws.trio import connect

TIMEOUT = 60


@pytest.fixture(scope="module")
def node_packages() -> Path:
    return node_packages_folder()


@pytest.fixture(scope="module", params=LOOPS)
def exposed(node_packages: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """``mcpws expose -- node server-everything stdio`` on each driver; its URL."""
    child = [str(node_packages / NODE), str(node_packages / EVERYTHING), "stdio"]
    with mcpws_serving(request.param, child=child) as port:
        yield f"ws://127.0.0.1:{port}/mcp"


def test_the_typescript_sdk_client_calls_the_reference_server_through_expose(
    node_packages: Path, exposed: str
) -> None:
    script: list[str | Path] = [node_packages / NODE, INTEROP / "ts_tools.mjs", node_packages]
    arguments = json.dumps({"message": "hi"})
    done = subprocess.run(
        [*script, exposed, "echo", arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen: dict[str, Any] = json.loads(done.stdout)
    assert seen["server"] == "mcp-servers/everything"
    assert seen["subprotocol"] == "mcp"
    assert {"echo", "get-sum"} <= set(seen["tools"])
    assert seen["result"] == {"isError": False, "text": "Echo: hi", "structured": None}


def test_the_mcpws_client_calls_the_reference_server_through_expose(exposed: str) -> None:
    async def main() -> None:
        with anyio.fail_after(TIMEOUT):
            async with connect(exposed, revisions=("2025-11-25",)) as client:
                assert "get-sum" in {tool.name for tool in await client.list_tools()}
                summed = await client.call_tool("get-sum", {"a": 2, "b": 3})
                assert "5" in summed.text

    anyio.run(main, backend="trio")


def test_ids_of_either_type_come_back_unchanged_through_expose(exposed: str) -> None:
    port = int(exposed.rsplit(":", 1)[1].split("/")[0])

    async def main() -> None:
        with anyio.fail_after(TIMEOUT):
            raw = await RawClient.open(port)
            assert "result" in await raw.ask(INITIALIZE)
            initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            raw.core.send_text(json.dumps(initialized))
            for request_id in ("abc", 7, "7"):
                ping = {"jsonrpc": "2.0", "id": request_id, "method": "ping"}
                answer = await _answer_to(raw, json.dumps(ping), request_id)
                assert answer == {"jsonrpc": "2.0", "id": request_id, "result": {}}
            await raw.stream.aclose()

    anyio.run(main, backend="trio")


async def _answer_to(raw: RawClient, text: str, request_id: object) -> Any:
    """Send *text*, and return the answer to *request_id* (the server's notifications,
    which may come first, are passed over)."""
    mark = len(raw.events)
    raw.core.send_text(text)
    await raw.flush()

    def found() -> Any:
        for event in raw.events[mark:]:
            if isinstance(event, TextReceived):
                message = json.loads(event.text)
                if message.get("id") == request_id and "method" not in message:
                    return message
        return None

    await raw.until(lambda: found() is not None)
    return found()


def _children_of_the_server(port: int) -> set[int]:
    """The pids of the children of the ``mcpws expose`` process listening on *port*."""
    exposing: set[int] = set()
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if b"expose" in command and str(port).encode() in command:
            exposing.add(int(entry.name))
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return {pid for pid, parent in parents.items() if parent in exposing}


async def _opened(port: int) -> RawClient:
    raw = await RawClient.open(port)
    assert "result" in await raw.ask(INITIALIZE)
    raw.core.send_text(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    return raw


def _notified(raw: RawClient, method: str) -> list[Any]:
    texts = [json.loads(e.text) for e in raw.events if isinstance(e, TextReceived)]
    return [message for message in texts if message.get("method") == method]


def test_two_clients_get_two_children_and_only_their_own_notifications(exposed: str) -> None:
    """One client turns on the reference server's simulated logging: its child sends it a
    log message at once; the other client's child, a process of its own, sends it none."""
    port = int(exposed.rsplit(":", 1)[1].split("/")[0])

    async def main() -> None:
        with anyio.fail_after(TIMEOUT):
            first, second = await _opened(port), await _opened(port)
            for raw, request_id in ((first, 1), (second, 2)):  # both children are up
                ping = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "ping"})
                assert "result" in await _answer_to(raw, ping, request_id)
            children = await anyio.to_thread.run_sync(_children_of_the_server, port)
            assert len(children) == 2
            level = {"level": "debug"}
            for raw in (first, second):
                request = {"jsonrpc": "2.0", "id": 3, "method": "logging/setLevel", "params": level}
                assert "result" in await _answer_to(raw, json.dumps(request), 3)
            toggle = {"name": "toggle-simulated-logging", "arguments": {}}
            call = {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": toggle}
            assert "result" in await _answer_to(first, json.dumps(call), 4)
            await first.until(lambda: bool(_notified(first, "notifications/message")))
            ping = json.dumps({"jsonrpc": "2.0", "id": 5, "method": "ping"})
            assert "result" in await _answer_to(second, ping, 5)  # after the first's message
            assert _notified(second, "notifications/message") == []
            for raw in (first, second):
                await raw.stream.aclose()

    anyio.run(main, backend="trio")


def test_a_message_over_the_limit_closes_only_its_connection(exposed: str) -> None:
    """17 MiB from a client: its connection closes with 1009; another one goes on."""
    port = int(exposed.rsplit(":", 1)[1].split("/")[0])

    async def main() -> None:
        with anyio.fail_after(TIMEOUT):
            big, other = await _opened(port), await _opened(port)
            echo = {"name": "echo", "arguments": {"message": "x" * (17 * 2**20)}}
            big.core.send_text(
                json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": echo})
            )
            await big.flush()
            await big.until(lambda: big.closed() is not None)
            closed = big.closed()
            assert closed is not None
            assert closed.code == 1009
            ping = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "ping"})
            assert "result" in await _answer_to(other, ping, 2)
            for raw in (big, other):
                await raw.stream.aclose()

    anyio.run(main, backend="trio")
