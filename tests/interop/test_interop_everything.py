"""The reference stdio server, ``@modelcontextprotocol/server-everything`` (npm, run by Node
22), behind ``mcpws expose`` on each driver, with a child per connection and with one child
shared (``--shared``): the official TypeScript SDK client over ``ws`` and mcpws's client call
its tools, and ids of either JSON type come back unchanged, also when two clients of the
shared child use the same ones."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
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


MODES = {"per-connection": (), "shared": ("--shared",)}


@contextmanager
def exposing(node_packages: Path, loop: str, mode: str) -> Iterator[str]:
    """``mcpws expose [--shared] -- node server-everything stdio`` on *loop*; its URL."""
    child = [str(node_packages / NODE), str(node_packages / EVERYTHING), "stdio"]
    with mcpws_serving(loop, *MODES[mode], child=child) as port:
        yield f"ws://127.0.0.1:{port}/mcp"


@pytest.fixture(
    scope="module",
    params=[(loop, mode) for loop in LOOPS for mode in MODES],
    ids=lambda param: "-".join(param),
)
def exposed(node_packages: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The reference server behind ``mcpws expose`` on each driver, in each mode."""
    with exposing(node_packages, *request.param) as url:
        yield url


@pytest.fixture(scope="module", params=LOOPS)
def exposed_apart(node_packages: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The reference server behind ``mcpws expose``, a child per connection."""
    with exposing(node_packages, request.param, "per-connection") as url:
        yield url


@pytest.fixture(scope="module", params=LOOPS)
def exposed_shared(node_packages: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The reference server behind ``mcpws expose --shared``."""
    with exposing(node_packages, request.param, "shared") as url:
        yield url


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


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
    port = port_of(exposed)

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
    await raw.until(lambda: _answered(raw, request_id, mark) is not None)
    return _answered(raw, request_id, mark)


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


def test_two_clients_get_two_children_and_only_their_own_notifications(
    exposed_apart: str,
) -> None:
    """One client turns on the reference server's simulated logging: its child sends it a
    log message at once; the other client's child, a process of its own, sends it none."""
    port = port_of(exposed_apart)

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


def test_two_clients_of_the_shared_child_use_the_same_ids(exposed_shared: str) -> None:
    """Both clients send requests under the same ids, of both types, at once, to the one
    child: each gets its own answers, under its ids."""
    port = port_of(exposed_shared)

    async def main() -> None:
        with anyio.fail_after(TIMEOUT):
            first, second = await _opened(port), await _opened(port)
            for request_id in ("abc", 7):
                for raw, (a, b) in ((first, (2, 3)), (second, (20, 30))):
                    arguments = {"a": a, "b": b}
                    call = {"name": "get-sum", "arguments": arguments}
                    request = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call"}
                    raw.core.send_text(json.dumps({**request, "params": call}))
                    await raw.flush()
                for raw, total in ((first, "5"), (second, "50")):
                    await raw.until(partial(_has_answer, raw, request_id))
                    found = _answered(raw, request_id)
                    assert found is not None
                    assert found["id"] == request_id
                    assert total in json.dumps(found["result"])
                    raw.events.clear()
            children = await anyio.to_thread.run_sync(_children_of_the_server, port)
            assert len(children) == 1
            for raw in (first, second):
                await raw.stream.aclose()

    anyio.run(main, backend="trio")


def _has_answer(raw: RawClient, request_id: object) -> bool:
    return _answered(raw, request_id) is not None


def _answered(raw: RawClient, request_id: object, mark: int = 0) -> Any:
    """The answer to *request_id* among what *raw* received after its first *mark* events."""
    for event in raw.events[mark:]:
        if isinstance(event, TextReceived):
            message = json.loads(event.text)
            if message.get("id") == request_id and "method" not in message:
                return message
    return None


def test_a_message_over_the_limit_closes_only_its_connection(exposed: str) -> None:
    """17 MiB from a client: its connection closes with 1009; another one goes on."""
    port = port_of(exposed)

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
