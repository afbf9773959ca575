"""One stdio server's child shared by every connection (``mcpws.app.SharedStdioServer``,
what ``mcpws expose --shared`` serves), on each driver: one pid for all, ids of either type
back as they went although the child sees its own, one ``initialize`` for the child, progress
to the connection that asked for it only, a child that exits closing every connection and
the next one starting another."""

from __future__ import annotations

import itertools
import json
import sys
from functools import partial
from pathlib import Path
from typing import Any

import mcp
import pytest

from helpers.network import INITIALIZE, RawClient
from helpers.peers import INTEROP, LOOPS, run_on
from mcpws.app import SharedStdioServer
from mcpws.core.websocket import ConnectionClosed, TextReceived
from mcpws.lowlevel import DRIVERS
from mcpws.sdk import websocket_client

TIMEOUT = 60
STDIO_APP = [sys.executable, str(INTEROP / "stdio_app.py")]


def serving(loop: str, **options: Any) -> Any:
    return DRIVERS[loop].load().serving(SharedStdioServer(STDIO_APP), **options)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


async def opened(port: int) -> RawClient:
    raw = await RawClient.open(port)
    answer = await raw.ask(INITIALIZE)
    assert "result" in answer, answer
    raw.core.send_text(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    return raw


def has_closed(raw: RawClient) -> bool:
    return raw.closed() is not None


def messages(raw: RawClient) -> list[Any]:
    return [json.loads(e.text) for e in raw.events if isinstance(e, TextReceived)]


async def answer(raw: RawClient, message: dict[str, Any]) -> Any:
    """Send *message*; the answer to its id."""
    raw.core.send_text(json.dumps(message))
    await raw.flush()
    return await answered(raw, message["id"])


async def answered(raw: RawClient, request_id: object) -> Any:
    """The answer to *request_id*, once it has come."""

    def found() -> Any:
        for seen in messages(raw):
            if seen.get("id") == request_id and "method" not in seen:
                return seen
        return None

    await raw.until(lambda: found() is not None)
    return found()


def call(request_id: object, name: str, **arguments: Any) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


@pytest.mark.parametrize("loop", LOOPS)
def test_every_connection_shares_one_child_and_keeps_its_ids(loop: str) -> None:
    async def main() -> None:
        async with serving(loop) as listening:
            port = port_of(listening.url)
            first, second = await opened(port), await opened(port)
            pids = set()
            for raw in (first, second):
                for request_id in ("abc", 7, "7"):  # the same ids on both: no clash
                    got = await answer(raw, call(request_id, "pid"))
                    assert got["id"] == request_id
                    pids.add(got["result"]["structuredContent"]["result"])
            assert len(pids) == 1
            for raw in (first, second):
                await raw.stream.aclose()

    run_on(loop, main, timeout=TIMEOUT)


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_sdk_clients_of_either_era_share_the_child(loop: str, mode: Any) -> None:
    async def main() -> None:
        async with (
            serving(loop) as listening,
            mcp.Client(websocket_client(listening.url), mode=mode) as one,
            mcp.Client(websocket_client(listening.url), mode=mode) as other,
        ):
            first = await one.call_tool("pid", {})
            second = await other.call_tool("pid", {})
            assert first.structured_content == second.structured_content
            added = await other.call_tool("add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}

    run_on(loop, main, timeout=TIMEOUT)


@pytest.mark.parametrize("loop", LOOPS)
def test_progress_reaches_only_the_connection_that_asked(loop: str, tmp_path: Path) -> None:
    gate = tmp_path / "gate"

    async def main() -> None:
        async with serving(loop) as listening:
            port = port_of(listening.url)
            asking, other = await opened(port), await opened(port)
            held = call("held", "hold", path=str(gate))
            held["params"]["_meta"] = {"progressToken": "mine"}
            asking.core.send_text(json.dumps(held))
            await asking.flush()

            def progressed() -> list[Any]:
                return [m for m in messages(asking) if m.get("method") == "notifications/progress"]

            await asking.until(lambda: bool(progressed()))
            assert progressed()[0]["params"]["progressToken"] == "mine"
            assert (await answer(other, {"jsonrpc": "2.0", "id": 1, "method": "ping"}))[
                "result"
            ] == {}
            assert [m for m in messages(other) if "method" in m] == []
            gate.touch()
            released = await answered(asking, "held")
            assert released["result"]["structuredContent"] == {"result": "released"}
            for raw in (asking, other):
                await raw.stream.aclose()

    run_on(loop, main, timeout=TIMEOUT)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_child_that_exits_closes_every_connection_and_the_next_starts_another(loop: str) -> None:
    async def main() -> None:
        async with serving(loop) as listening:
            port = port_of(listening.url)
            first, second = await opened(port), await opened(port)
            before = (await answer(first, call(1, "pid")))["result"]["structuredContent"]
            first.core.send_text(json.dumps(call(2, "exit")))
            await first.flush()
            for raw in (first, second):
                await raw.until(partial(has_closed, raw))
                closed = raw.closed()
                assert isinstance(closed, ConnectionClosed)
                assert closed.code == 1011
                assert "status" in closed.reason
                await raw.stream.aclose()
            again = await opened(port)
            after = (await answer(again, call(3, "pid")))["result"]["structuredContent"]
            assert after != before
            await again.stream.aclose()

    run_on(loop, main, timeout=TIMEOUT)


@pytest.mark.parametrize("loop", LOOPS)
def test_an_idle_connection_is_closed_and_the_child_goes_on(loop: str) -> None:
    async def main() -> None:
        app = SharedStdioServer(STDIO_APP, idle_timeout=0.5)
        async with DRIVERS[loop].load().serving(app) as listening:
            port = port_of(listening.url)
            first = await opened(port)
            before = (await answer(first, call(1, "pid")))["result"]["structuredContent"]
            await first.until(partial(has_closed, first))
            ended = first.closed()
            assert isinstance(ended, ConnectionClosed)
            assert (ended.code, ended.reason) == (1001, "idle for 0.5 s")
            await first.stream.aclose()
            again = await opened(port)
            after = (await answer(again, call(2, "pid")))["result"]["structuredContent"]
            assert after == before
            await again.stream.aclose()

    run_on(loop, main, timeout=TIMEOUT)


#: A child that answers ``initialize`` and these tools: ``garble`` (a line naming the
#: request but no result, then one that is not JSON), ``ask`` (asks the client for its roots
#: and answers with what came back), ``spontaneous`` (answers, then asks for roots when no
#: request is in flight), ``wait`` (never answers) and ``got`` (answers with every answer
#: and notification it has been sent).
SCRIPTED = """
import json, sys
got = []
def send(message):
    print(json.dumps(message), flush=True)
def result(request, text):
    send({"jsonrpc": "2.0", "id": request["id"],
          "result": {"content": [{"type": "text", "text": text}]}})
while line := sys.stdin.readline():
    message = json.loads(line)
    method = message.get("method")
    if method is None or "id" not in message:
        got.append(message)
    elif method == "initialize":
        info = {"name": "scripted", "version": "1"}
        opened = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}}
        opened["serverInfo"] = info
        send({"jsonrpc": "2.0", "id": message["id"], "result": opened})
    elif method != "tools/call":
        send({"jsonrpc": "2.0", "id": message["id"], "result": {}})
    elif (name := message["params"]["name"]) == "garble":
        send({"jsonrpc": "2.0", "id": message["id"]})
        print("this is not JSON", flush=True)
    elif name == "ask":
        send({"jsonrpc": "2.0", "id": "child-1", "method": "roots/list"})
        result(message, sys.stdin.readline())
    elif name == "spontaneous":
        result(message, "ok")
        send({"jsonrpc": "2.0", "id": "child-2", "method": "roots/list"})
    elif name == "got":
        result(message, json.dumps(got))
"""


def scripted(loop: str) -> Any:
    return DRIVERS[loop].load().serving(SharedStdioServer([sys.executable, "-c", SCRIPTED]))


def text_of(answer: Any) -> str:
    text: str = answer["result"]["content"][0]["text"]
    return text


@pytest.mark.parametrize("loop", LOOPS)
def test_what_the_child_garbles_and_bad_json_from_a_client_get_errors_and_nothing_ends(
    loop: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with scripted(loop) as listening:
            raw = await opened(port_of(listening.url))
            garbled = await answer(raw, call("g", "garble"))
            assert garbled["error"]["code"] == -32603
            assert "not JSON-RPC" in garbled["error"]["message"]
            assert (await raw.ask("not json"))["error"]["code"] == -32700
            assert (await answer(raw, {"jsonrpc": "2.0", "id": 2, "method": "ping"}))[
                "result"
            ] == {}
            assert raw.closed() is None
            await raw.stream.aclose()

    run_on(loop, main, timeout=TIMEOUT)
    assert "wrote a line that is not JSON-RPC" in caplog.text


@pytest.mark.parametrize("loop", LOOPS)
def test_a_request_of_the_child_goes_to_the_connection_it_is_for_or_is_refused(
    loop: str,
) -> None:
    """Asked while a call of one connection runs, the request goes to that connection,
    whose answer reaches the child; asked when nothing runs and two connections are open,
    the child hears it is for none of them."""

    async def main() -> None:
        async with scripted(loop) as listening:
            port = port_of(listening.url)
            asking, other = await opened(port), await opened(port)
            asking.core.send_text(json.dumps(call(1, "ask")))
            await asking.flush()
            await asking.until(
                lambda: any(m.get("method") == "roots/list" for m in messages(asking))
            )
            (asked,) = [m for m in messages(asking) if m.get("method") == "roots/list"]
            roots = {"roots": [{"uri": "file:///here"}]}
            asking.core.send_text(
                json.dumps({"jsonrpc": "2.0", "id": asked["id"], "result": roots})
            )
            await asking.flush()
            answered_by_child = json.loads(text_of(await answered(asking, 1)))
            assert answered_by_child["result"] == roots
            assert text_of(await answer(other, call(2, "spontaneous"))) == "ok"
            got = json.loads(text_of(await answer(other, call(3, "got"))))
            refused = [m for m in got if m.get("id") == "child-2"]
            assert refused[0]["error"]["code"] == -32603
            for raw in (asking, other):
                assert [m for m in messages(raw) if m.get("id") == "child-2"] == []
                await raw.stream.aclose()

    run_on(loop, main, timeout=TIMEOUT)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_connection_that_goes_away_has_its_requests_cancelled_in_the_child(loop: str) -> None:
    async def main() -> None:
        async with scripted(loop) as listening:
            port = port_of(listening.url)
            leaving, staying = await opened(port), await opened(port)
            leaving.core.send_text(json.dumps(call("mine", "wait")))
            await leaving.flush()
            await leaving.stream.aclose()
            cancelled: list[Any] = []
            for number in itertools.count(1):  # until the child has heard of it
                got = json.loads(text_of(await answer(staying, call(number, "got"))))
                cancelled = [m for m in got if m.get("method") == "notifications/cancelled"]
                if cancelled:
                    break
            assert isinstance(cancelled[0]["params"]["requestId"], int)
            await staying.stream.aclose()

    run_on(loop, main, timeout=TIMEOUT)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_shared_child_that_cannot_start_closes_the_connection_with_1011(
    loop: str, tmp_path: Path
) -> None:
    async def main() -> None:
        app = SharedStdioServer([str(tmp_path / "no-such-program")])
        async with DRIVERS[loop].load().serving(app) as listening:
            raw = await RawClient.open(port_of(listening.url))
            await raw.until(partial(has_closed, raw))
            ended = raw.closed()
            assert isinstance(ended, ConnectionClosed)
            assert ended.code == 1011
            assert ended.reason.startswith("the server could not start: No such file")
            await raw.stream.aclose()

    run_on(loop, main, timeout=TIMEOUT)
