"""What only the asyncio driver has, in asyncio's debug mode (which must report nothing):
flow control against a peer that does not read, handler slots handed over under
cancellation, and a shutdown cancelled again. Everything both drivers do is in the scenario
suite (``test_end_to_end.py`` and its neighbours, which take the ``pair`` fixture)."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager

import pytest

from mcpws import Server
from mcpws.app import ConnectionLost
from mcpws.asyncio import TaskStatus, connect, serve
from mcpws.asyncio._pump import _Slots
from mcpws.core._frames import FIN_TEXT, frame, read_header
from network import INITIALIZE, upgrade_request


@pytest.fixture(autouse=True)
def asyncio_says_nothing(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Debug mode logs slow callbacks and unretrieved task exceptions on the ``asyncio``
    logger (never-awaited coroutines and unclosed transports are warnings, which fail the
    tests by themselves): there must be none."""
    with caplog.at_level(logging.WARNING, logger="asyncio"):
        yield
    records = caplog.get_records("call")
    assert [record.getMessage() for record in records if record.name == "asyncio"] == []


def run(main: Callable[[], Awaitable[None]]) -> None:
    """Run *main* in asyncio's debug mode with a hard timeout, the garbage collector held
    meanwhile (one full collection can take longer than debug mode lets a callback take)."""

    async def guarded() -> None:
        async with asyncio.timeout(20):
            await main()

    gc.disable()
    try:
        asyncio.run(guarded(), debug=True)
    finally:
        gc.enable()


@asynccontextmanager
async def serving(app: Server, **options: object) -> AsyncIterator[tuple[str, asyncio.Task[None]]]:
    """Serve *app* while in the block; yields its URL and the ``serve`` task."""
    status = TaskStatus()
    task = asyncio.create_task(serve(app, task_status=status, **options))  # type: ignore[arg-type]
    try:
        sockets = await status.wait()
        yield f"ws://127.0.0.1:{sockets[0].getsockname()[1]}/mcp", task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def upgraded(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw connection to *url*'s server, upgraded by hand: frames are the test's to write."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(upgrade_request(port))
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    return reader, writer


def big_call(n: int) -> dict[str, object]:
    return {
        "jsonrpc": "2.0",
        "id": n,
        "method": "tools/call",
        "params": {"name": "big", "arguments": {"n": n}},
    }


def send(writer: asyncio.StreamWriter, message: dict[str, object]) -> None:
    writer.write(frame(FIN_TEXT, json.dumps(message).encode(), masked=True))


async def receive(reader: asyncio.StreamReader) -> dict[str, object]:
    """The next whole text message from the server."""
    start = await reader.readexactly(2)
    more = {126: 2, 127: 8}.get(start[1] & 0x7F, 0)
    head = start + await reader.readexactly(more)
    header = read_header(head, 0)
    assert header is not None
    assert header.first == FIN_TEXT
    message: dict[str, object] = json.loads(await reader.readexactly(header.length))
    return message


def test_a_peer_that_does_not_read_is_not_read_from_until_it_does() -> None:
    """Answers pile up in the transport's buffer while the client reads nothing: the server
    stops reading from it (and so stops taking new requests) until the buffer drains,
    serving every other connection meanwhile."""
    app = Server("big")
    handled: list[int] = []

    @app.tool()
    def big(n: int) -> str:
        handled.append(n)
        return "x" * 1_000_000

    @app.tool()
    def add(a: int, b: int) -> int:
        return a + b

    async def main() -> None:
        # The server answers twelve calls read at once, 12 MB, in one callback: on a busy
        # machine that can take longer than debug mode's 0.1 s.
        asyncio.get_running_loop().slow_callback_duration = 0.5
        async with serving(app) as (url, _), connect(url) as bystander:
            reader, writer = await upgraded(url)
            writer.write(frame(FIN_TEXT, INITIALIZE.encode(), masked=True))
            assert "result" in await receive(reader)
            send(writer, {"jsonrpc": "2.0", "method": "notifications/initialized"})

            def calls(numbers: range) -> None:
                """Send the calls in one write: the server reads them at once."""
                writer.write(
                    b"".join(
                        frame(FIN_TEXT, json.dumps(big_call(n)).encode(), masked=True)
                        for n in numbers
                    )
                )

            calls(range(12))  # 12 MB of answers: more than the sockets hold
            while len(handled) < 12:
                await asyncio.sleep(0.01)
            calls(range(12, 20))
            await writer.drain()
            await asyncio.sleep(0.2)
            # Paused: the later calls wait unread, and other connections are served.
            assert len(handled) == 12
            assert (await bystander.call_tool("add", {"a": 1, "b": 2})).is_error is None
            answered = [(await receive(reader))["id"] for _ in range(20)]
            assert answered == list(range(20))
            assert handled == list(range(20))
            writer.close()
            await writer.wait_closed()

    run(main)


def test_a_slot_handed_to_a_waiter_cancelled_meanwhile_goes_to_the_next() -> None:
    async def main() -> None:
        slots = _Slots(1)
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
