"""A stdio MCP server served over WebSocket (``mcpws.app.StdioServer``, what ``mcpws expose``
serves), on each driver, with real child processes: one child per connection, in both eras,
ids carried as they are; a child that never starts, that dies mid-answer, that writes what
is not JSON-RPC or a line over the limit, that ignores the end of its input; its standard
error in the log."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import mcp
import pytest
from mcp.shared.exceptions import MCPError

from helpers.network import INITIALIZE, RawClient
from helpers.pairs import Pair
from helpers.peers import LOOPS, run_on
from mcpws.app import StdioServer
from mcpws.core.websocket import ConnectionClosed, TextReceived
from mcpws.lowlevel import DRIVERS
from mcpws.sdk import websocket_client

STDIO_APP = Path(__file__).resolve().parents[1] / "interop" / "stdio_app.py"
TIMEOUT = 60


def run(loop: str, main: Callable[[], Awaitable[None]]) -> None:
    """Run *main* on *loop* (the real clock: children and servers take real time)."""
    run_on(loop, main, timeout=TIMEOUT)


def serving(loop: str, app: Any, **options: Any) -> Any:
    return DRIVERS[loop].load().serving(app, **options)


def python(code: str) -> list[str]:
    """A child running *code*."""
    return [sys.executable, "-c", code]


def sdk_child() -> StdioServer:
    return StdioServer([sys.executable, str(STDIO_APP)])


async def gone(pid: int) -> None:
    """Wait until process *pid* is no more."""
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        await anyio.sleep(0.05)


async def closed(raw: RawClient) -> ConnectionClosed:
    await raw.until(lambda: raw.closed() is not None)
    ended = raw.closed()
    assert isinstance(ended, ConnectionClosed)
    await raw.stream.aclose()
    return ended


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_each_connection_gets_a_child_of_its_own(loop: str, mode: Any) -> None:
    async def main() -> None:
        async with (
            serving(loop, sdk_child()) as listening,
            mcp.Client(websocket_client(listening.url), mode=mode) as first,
            mcp.Client(websocket_client(listening.url), mode=mode) as second,
        ):
            added = await first.call_tool("add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}
            one = await first.call_tool("pid", {})
            other = await second.call_tool("pid", {})
            assert one.structured_content is not None
            assert other.structured_content is not None
            pids = {one.structured_content["result"], other.structured_content["result"]}
            assert len(pids) == 2
            assert os.getpid() not in pids
        for pid in pids:  # each child ends with its connection
            await gone(pid)

    run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_ids_come_back_as_they_went_and_bad_json_is_answered_by_mcpws(loop: str) -> None:
    async def main() -> None:
        async with serving(loop, sdk_child()) as listening:
            raw = await RawClient.open(listening.port)
            assert "result" in await raw.ask(INITIALIZE)
            initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            raw.core.send_text(json.dumps(initialized))
            for request_id in ("abc", 7, "7", 0):
                ping = {"jsonrpc": "2.0", "id": request_id, "method": "ping"}
                answer = await raw.ask(json.dumps(ping))
                assert answer == {"jsonrpc": "2.0", "id": request_id, "result": {}}
            assert (await raw.ask("not json"))["error"]["code"] == -32700
            ping = {"jsonrpc": "2.0", "id": 8, "method": "ping"}
            assert (await raw.ask(json.dumps(ping)))["id"] == 8
            await raw.stream.aclose()

    run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_child_that_cannot_start_closes_its_connection_with_1011(
    loop: str, tmp_path: Path
) -> None:
    async def main() -> None:
        async with serving(loop, StdioServer([str(tmp_path / "no-such-program")])) as listening:
            ended = await closed(await RawClient.open(listening.port))
            assert ended.code == 1011
            assert ended.reason.startswith("the server could not start: No such file")

    run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_child_that_dies_mid_answer_closes_its_connection_and_not_the_others(
    loop: str,
) -> None:
    async def main() -> None:
        async with (
            serving(loop, sdk_child()) as listening,
            mcp.Client(websocket_client(listening.url), mode="legacy") as survivor,
        ):
            raw = await RawClient.open(listening.port)
            assert "result" in await raw.ask(INITIALIZE)
            call = {"name": "exit", "arguments": {}}
            request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call}
            raw.core.send_text(json.dumps(request))
            await raw.flush()
            ended = await closed(raw)
            assert (ended.code, ended.reason) == (1011, "the server closed its output (status 3)")
            added = await survivor.call_tool("add", {"a": 1, "b": 1})
            assert added.structured_content == {"result": 2}

    run(loop, main)


#: A child that answers each request line with a line naming its id but no result, and
#: writes a line that is not JSON at all first.
GARBLING = """
import json, sys
print("this is not JSON", flush=True)
for line in sys.stdin:
    print(json.dumps({"jsonrpc": "2.0", "id": json.loads(line)["id"]}), flush=True)
"""


@pytest.mark.parametrize("loop", LOOPS)
def test_what_a_child_writes_that_is_not_json_rpc_is_logged_and_the_request_answered(
    loop: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with serving(loop, StdioServer(python(GARBLING))) as listening:
            raw = await RawClient.open(listening.port)
            ping = {"jsonrpc": "2.0", "id": "p1", "method": "ping"}
            answer = await raw.ask(json.dumps(ping))
            assert answer["id"] == "p1"
            assert answer["error"] == {
                "code": -32603,
                "message": "the server wrote something that is not JSON-RPC",
            }
            again = await raw.ask(json.dumps({**ping, "id": 2}))
            assert again["id"] == 2
            await raw.stream.aclose()

    run(loop, main)
    assert "wrote a line that is not JSON-RPC" in caplog.text


#: A child that writes one line over 16 MiB.
FLOODING = """
import sys
sys.stdout.write("x" * (17 * 1024 * 1024) + "\\n")
sys.stdout.flush()
sys.stdin.read()
"""


@pytest.mark.parametrize("loop", LOOPS)
def test_a_line_over_the_limit_closes_the_connection_with_1011(loop: str) -> None:
    async def main() -> None:
        async with serving(loop, StdioServer(python(FLOODING))) as listening:
            ended = await closed(await RawClient.open(listening.port))
            assert ended.code == 1011
            assert ended.reason.startswith("the server failed: a line is longer than")

    run(loop, main)


#: A child that ignores the end of its input and SIGTERM, says so on standard error, and
#: says its pid on standard output (as a notification).
STUBBORN = """
import json, os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("stubborn and proud", file=sys.stderr, flush=True)
note = {"jsonrpc": "2.0", "method": "notifications/pid", "params": {"pid": os.getpid()}}
print(json.dumps(note), flush=True)
while True:
    time.sleep(1)
"""


@pytest.mark.parametrize("loop", LOOPS)
def test_a_child_that_ignores_its_end_is_killed_and_its_errors_are_logged(
    loop: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="mcpws")
    pids: list[int] = []

    async def main() -> None:
        async with serving(loop, StdioServer(python(STUBBORN), grace=0.2)) as listening:
            raw = await RawClient.open(listening.port)
            await raw.until(lambda: any(isinstance(e, TextReceived) for e in raw.events))
            text = next(e.text for e in raw.events if isinstance(e, TextReceived))
            pids.append(json.loads(text)["params"]["pid"])
            raw.core.close(1000, "bye", now=anyio.current_time())
            await raw.flush()
            await closed(raw)
            with anyio.fail_after(10):
                await gone(pids[0])

    run(loop, main)
    name = StdioServer(python(STUBBORN)).name
    assert f"{name}[1]: stubborn and proud" in caplog.text
    assert f"{name}[1] started, pid {pids[0]}" in caplog.text


#: A child that says its environment's MCPWS_TEST and its working folder, as a notification.
SAYING = """
import json, os, sys
params = {"value": os.environ.get("MCPWS_TEST"), "cwd": os.getcwd()}
print(json.dumps({"jsonrpc": "2.0", "method": "notifications/said", "params": params}), flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize("loop", LOOPS)
def test_the_child_gets_the_environment_and_folder_given(loop: str, tmp_path: Path) -> None:
    said: list[Any] = []

    async def main() -> None:
        env = {**os.environ, "MCPWS_TEST": "given"}
        app = StdioServer(python(SAYING), env=env, cwd=str(tmp_path))
        async with serving(loop, app) as listening:
            raw = await RawClient.open(listening.port)
            await raw.until(lambda: any(isinstance(e, TextReceived) for e in raw.events))
            said.append(json.loads(next(e.text for e in raw.events if isinstance(e, TextReceived))))
            await raw.stream.aclose()

    run(loop, main)
    assert said[0]["params"] == {"value": "given", "cwd": str(tmp_path)}


def test_a_stdio_server_needs_a_command() -> None:
    with pytest.raises(ValueError, match="name its program"):
        StdioServer([])


#: A child that never reads its input.
DEAF = """
import time
while True:
    time.sleep(1)
"""


@pytest.mark.parametrize("loop", LOOPS)
def test_a_child_that_does_not_read_is_given_no_more_than_the_write_limit(loop: str) -> None:
    async def main() -> None:
        app = StdioServer(python(DEAF), grace=0.2)
        async with serving(loop, app, write_limit=65536) as listening:
            raw = await RawClient.open(listening.port)
            arguments = {"text": "x" * 32768}
            mark = len(raw.events)
            for request_id in range(64):  # 2 MiB, where the pipe holds some 64 KiB
                params = {"name": "echo", "arguments": arguments}
                request = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call"}
                raw.core.send_text(json.dumps({**request, "params": params}))
                await raw.flush()
            await raw.until(lambda: any(isinstance(e, TextReceived) for e in raw.events[mark:]))
            text = next(e.text for e in raw.events[mark:] if isinstance(e, TextReceived))
            refused = json.loads(text)
            assert refused["error"] == {
                "code": -32005,
                "message": "the server is not reading its input",
            }
            await raw.stream.aclose()

    run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_shutdown_lets_the_child_answer_and_refuses_new_requests(
    loop: str, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    answers: list[Any] = []

    async def main() -> None:
        heard = anyio.Event()

        async def progressed(progress: float, total: float | None, message: str | None) -> None:
            heard.set()

        async with (
            Pair(loop, loop).serving(sdk_child(), shutdown_timeout=30) as served,
            mcp.Client(websocket_client(served.url), mode="legacy") as client,
        ):
            await client.list_tools()  # the output schemas, which it checks results against

            async def hold() -> None:
                result = await client.call_tool(
                    "hold", {"path": str(gate)}, progress_callback=progressed
                )
                answers.append(result.structured_content)

            async with anyio.create_task_group() as group:
                group.start_soon(hold)
                await heard.wait()
                await served.stop()
                with pytest.raises(MCPError, match="shutting down"):
                    await client.call_tool("add", {"a": 1, "b": 1})
                gate.touch()
            await served.stopped()

    run(loop, main)
    assert answers == [{"result": "released"}]


@pytest.mark.parametrize("loop", LOOPS)
def test_an_idle_connection_is_closed_and_its_child_ended_but_not_while_a_call_runs(
    loop: str, tmp_path: Path
) -> None:
    """With an idle timeout, a connection is closed with 1001 once it has carried nothing for
    that long, and its child ends; a call that takes longer holds it open. The second
    connection, opened after the first's call began, being closed for idleness first shows
    the first has been quiet as long, and kept open by its call only."""
    release = tmp_path / "release"

    async def main() -> None:
        server = StdioServer([sys.executable, str(STDIO_APP)], idle_timeout=0.5)
        async with serving(loop, server) as listening:
            busy = await RawClient.open(listening.port)
            assert "result" in await busy.ask(INITIALIZE)
            pid = (await busy.ask(json.dumps(_call(1, "pid"))))["result"]["structuredContent"]
            hold = _call(2, "hold", path=str(release))
            hold["params"]["_meta"] = {"progressToken": "p"}
            busy.core.send_text(json.dumps(hold))
            await busy.flush()
            await busy.until(lambda: any("progress" in m.get("method", "") for m in _seen(busy)))
            quiet = await RawClient.open(listening.port)
            assert "result" in await quiet.ask(INITIALIZE)
            ended = await closed(quiet)
            assert (ended.code, ended.reason) == (1001, "idle for 0.5 s")
            assert busy.closed() is None
            release.touch()
            await busy.until(lambda: any(m.get("id") == 2 for m in _seen(busy)))
            (answer,) = [m for m in _seen(busy) if m.get("id") == 2]
            assert answer["result"]["content"][0]["text"] == "released"
            ended = await closed(busy)
            assert (ended.code, ended.reason) == (1001, "idle for 0.5 s")
            await gone(pid["result"])

    run(loop, main)


def test_an_idle_timeout_is_a_positive_number_of_seconds() -> None:
    with pytest.raises(ValueError, match="idle timeout"):
        StdioServer(["x"], idle_timeout=0)


def _call(request_id: object, name: str, **arguments: Any) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def _seen(raw: RawClient) -> list[dict[str, Any]]:
    """The messages *raw* has received."""
    return [json.loads(event.text) for event in raw.events if isinstance(event, TextReceived)]
