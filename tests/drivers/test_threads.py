"""A plain tool registered with ``thread=True`` runs in a worker thread, end to end on every
pair of drivers: while it blocks, other calls are answered; its result, or its exception as
an error result, comes back when it is done. An ``async`` tool takes no thread."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest

from helpers.pairs import Pair
from mcpws.app import Server
from mcpws.core.mcp import CallToolResult

#: Real seconds a thread waits at most for what the test does next.
HARD = 30.0
#: Real seconds the loop waits, with nothing to do, before its virtual clock jumps: the
#: worker thread's news reaches the loop from outside it.
IDLE = 5.0


def test_a_threaded_tool_blocks_no_other_call(pair: Pair) -> None:
    app = Server("threads")
    entered, gate = threading.Event(), threading.Event()
    threads: list[str] = []

    @app.tool(thread=True)
    def blocking(fail: bool = False) -> str:
        threads.append(threading.current_thread().name)
        entered.set()
        if not gate.wait(HARD):
            return "never released"
        if fail:
            raise OSError("the disk is gone")
        return "released"

    @app.tool()
    def quick() -> str:
        return "quick"

    async def main() -> None:
        results: dict[str, CallToolResult] = {}
        async with (
            pair.serving(app) as served,
            pair.connect(served.url) as slow,
            pair.connect(served.url) as other,
        ):

            async def call(key: str, arguments: dict[str, Any]) -> None:
                results[key] = await slow.call_tool("blocking", arguments)

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(call, "ok", {})
                tasks.start_soon(call, "failed", {"fail": True})
                assert await anyio.to_thread.run_sync(entered.wait, HARD)
                assert (await other.call_tool("quick")).text == "quick"
                assert results == {}  # still blocked, and the server answered meanwhile
                gate.set()
        assert results["ok"].text == "released"
        assert results["failed"].is_error is True
        assert results["failed"].text == "OSError: the disk is gone"

    pair.run(main, idle=IDLE)
    assert len(threads) == 2
    assert threading.main_thread().name not in threads


def test_an_async_tool_takes_no_thread() -> None:
    app = Server("threads")

    async def waits() -> str:
        return "waited"

    with pytest.raises(ValueError, match="an async tool runs on the loop"):
        app.add_tool(waits, thread=True)
