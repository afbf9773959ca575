"""One stdio server's child shared by every connection (``mcpws.app.SharedStdioServer``,
what ``mcpws expose --shared`` serves), on each driver: one pid for all, ids of either type
back as they went although the child sees its own, one ``initialize`` for the child, progress
to the connection that asked for it only, a child that exits closing every connection and
the next one starting another."""

from __future__ import annotations

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
