"""What only the asyncio driver has, in asyncio's debug mode (which must report nothing):
handler slots handed over under cancellation, and a shutdown cancelled again. Everything
both drivers do is in the scenario suite (``tests/drivers/``, whose tests take the ``pair``
fixture)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager

import pytest

from mcpws import Server
from mcpws.app import ConnectionLost
from mcpws.app._kernel import Slots
from mcpws.asyncio import TaskStatus, connect, serve
from mcpws.asyncio._pump import _Waiter


@pytest.fixture(autouse=True)
def asyncio_says_nothing(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Debug mode logs unretrieved task exceptions on the ``asyncio`` logger (slow callbacks
    too, but :func:`run` switches that off; never-awaited coroutines and unclosed transports
    are warnings, which fail the tests by themselves): there must be none."""
    with caplog.at_level(logging.WARNING, logger="asyncio"):
        yield
    records = caplog.get_records("call")
    assert [record.getMessage() for record in records if record.name == "asyncio"] == []


def run(main: Callable[[], Awaitable[None]]) -> None:
    """Run *main* in asyncio's debug mode with a hard timeout. Debug mode's report of a slow
    callback is off: it measures the machine, not the code."""

    async def guarded() -> None:
        async with asyncio.timeout(20):
            await main()

    with asyncio.Runner(debug=True) as runner:
        runner.get_loop().slow_callback_duration = math.inf
        runner.run(guarded())


@asynccontextmanager
async def serving(app: Server, **options: object) -> AsyncIterator[tuple[str, asyncio.Task[None]]]:
    """Serve *app* while in the block; yields its URL and the ``serve`` task."""
    status = TaskStatus()
    task = asyncio.create_task(serve(app, task_status=status, **options))  # type: ignore[arg-type]
    try:
        yield (await status.wait()).url, task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_a_slot_handed_to_a_waiter_cancelled_meanwhile_goes_to_the_next() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        slots = Slots(1, lambda: _Waiter(loop))
        assert slots.take_now()
        first = asyncio.create_task(slots.take())
        second = asyncio.create_task(slots.take())
        await asyncio.sleep(0)  # both wait
        assert not slots.take_now()
        slots.give()  # handed to the first...
        first.cancel()  # ...which is cancelled before it runs
        await asyncio.gather(first, return_exceptions=True)
        await second  # the slot went on to the second
        assert slots.free == 0
        third = asyncio.create_task(slots.take())
        await asyncio.sleep(0)
        third.cancel()  # cancelled while waiting: it leaves the queue
        await asyncio.gather(third, return_exceptions=True)
        slots.give()
        assert slots.free == 1

    run(main)


def test_a_shutdown_cancelled_again_drops_every_connection_at_once() -> None:
    app = Server("slow")
    started = asyncio.Event()

    @app.tool()
    async def hang() -> str:
        started.set()
        await asyncio.Event().wait()
        return "never"  # pragma: no cover

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with serving(app, shutdown_timeout=60) as (url, task), connect(url) as client:
            call = asyncio.create_task(client.call_tool("hang"))
            await started.wait()
            task.cancel()  # a graceful shutdown begins: a minute for the handler
            await asyncio.sleep(0.1)
            assert not task.done()
            begun = loop.time()
            task.cancel()  # and again: at once
            await asyncio.gather(task, return_exceptions=True)
            assert loop.time() - begun < 1
            with pytest.raises(ConnectionLost):
                await call

    run(main)
