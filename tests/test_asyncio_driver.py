"""The asyncio driver over real loopback sockets, in asyncio's debug mode (which must report
nothing): operations, concurrency, cancellation, graceful shutdown, bad input and
reconnection."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from mcpws import Context, Server
from mcpws.app import ConnectionLost, McpError
from mcpws.asyncio import ConnectError, Reconnect, connect, serve
from mcpws.core.mcp import CallToolResult, ClientCapabilities, ListRootsResult, Root, TextContent
from mcpws.core.websocket import WebSocketConfig

ERAS = [("2025-11-25",), ("2026-07-28",), ("2025-11-25", "2026-07-28")]


@pytest.fixture(autouse=True)
def asyncio_says_nothing(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Debug mode logs slow callbacks and unretrieved task exceptions on the ``asyncio``
    logger (never-awaited coroutines and unclosed transports are warnings, which fail the
    tests by themselves): there must be none."""
    with caplog.at_level(logging.WARNING, logger="asyncio"):
        yield
    records = caplog.get_records("call")
    said = [record.getMessage() for record in records if record.name == "asyncio"]
    assert said == []


def run(main: Callable[[], Awaitable[None]]) -> None:
    """Run *main* in asyncio's debug mode with a hard timeout."""

    async def guarded() -> None:
        async with asyncio.timeout(20):
            await main()

    asyncio.run(guarded(), debug=True)


class Started:
    """A ``task_status``: a future of what ``started`` reports."""

    def __init__(self) -> None:
        self.value: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def started(self, value: Any = None) -> None:
        self.value.set_result(value)


@asynccontextmanager
async def serving(app: Server, **options: Any) -> AsyncIterator[str]:
    """Serve *app* while in the block; yields its URL."""
    status = Started()
    task = asyncio.create_task(serve(app, task_status=status, **options))
    try:
        sockets = await status.value
        yield f"ws://127.0.0.1:{sockets[0].getsockname()[1]}/mcp"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def upgraded(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw connection to *url*'s server, upgraded by hand: frames are the test's to write."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mcp\r\n\r\n"
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    return reader, writer


def text_of(result: CallToolResult) -> str:
    (block,) = result.content
    assert isinstance(block, TextContent)
    return block.text


class Lab:
    """A server whose tools let a test see and steer what runs."""

    def __init__(self) -> None:
        self.app = Server("lab")
        self.gates: dict[int, asyncio.Event] = {}
        self.cancelled: list[int] = []
        self.finished: list[int] = []

        @self.app.tool()
        def add(a: int, b: int) -> int:
            return a + b

        @self.app.tool()
        async def gate(n: int) -> str:
            """Wait for gate n to open."""
            try:
                await self.gates.setdefault(n, asyncio.Event()).wait()
            except asyncio.CancelledError:
                self.cancelled.append(n)
                raise
            self.finished.append(n)
            return f"gate {n}"

        @self.app.tool()
        async def count(ctx: Context, n: int) -> str:
            for step in range(1, n + 1):
                await ctx.report_progress(step, n)
            return "counted"

    async def opened(self, n: int) -> None:
        while n not in self.gates:
            await asyncio.sleep(0.001)


@pytest.mark.parametrize("revisions", ERAS)
def test_operations_in_each_era(revisions: tuple[str, ...]) -> None:
    async def main() -> None:
        lab = Lab()
        async with serving(lab.app) as url, connect(url, revisions=revisions) as client:
            assert [tool.name for tool in await client.list_tools()] == ["add", "gate", "count"]
            assert text_of(await client.call_tool("add", {"a": 2, "b": 3})) == "5"
            seen: list[tuple[float, float | None, str | None]] = []
            result = await client.call_tool(
                "count", {"n": 3}, on_progress=lambda *report: seen.append(report)
            )
            assert text_of(result) == "counted"
            assert seen == [(1, 3, None), (2, 3, None), (3, 3, None)]
            bad = await client.call_tool("add", {"a": "x", "b": 1})
            assert bad.is_error

    run(main)


def test_concurrent_calls_finish_out_of_order() -> None:
    async def main() -> None:
        lab = Lab()
        async with serving(lab.app) as url, connect(url) as client:
            calls = [asyncio.create_task(client.call_tool("gate", {"n": n})) for n in range(5)]
            for n in range(5):
                await lab.opened(n)
            for n in reversed(range(5)):
                lab.gates[n].set()
                assert text_of(await calls[n]) == f"gate {n}"
            assert lab.finished == [4, 3, 2, 1, 0]

    run(main)


def test_cancelling_the_caller_cancels_the_handler() -> None:
    async def main() -> None:
        lab = Lab()
        async with serving(lab.app) as url, connect(url) as client:
            call = asyncio.create_task(client.call_tool("gate", {"n": 1}))
            await lab.opened(1)
            call.cancel()
            await asyncio.gather(call, return_exceptions=True)
            while not lab.cancelled:
                await asyncio.sleep(0.001)
            assert lab.cancelled == [1]
            assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"

    run(main)


def test_a_request_queued_for_a_slot_runs_when_one_frees() -> None:
    async def main() -> None:
        lab = Lab()
        async with serving(lab.app, max_concurrent_requests=1) as url, connect(url) as client:
            first = asyncio.create_task(client.call_tool("gate", {"n": 1}))
            await lab.opened(1)
            second = asyncio.create_task(client.call_tool("gate", {"n": 2}))
            await asyncio.sleep(0.05)
            assert 2 not in lab.gates  # waiting for the slot
            lab.gates[1].set()
            await lab.opened(2)
            lab.gates[2].set()
            assert [text_of(await first), text_of(await second)] == ["gate 1", "gate 2"]

    run(main)


def test_shutdown_lets_requests_finish_then_closes() -> None:
    async def main() -> None:
        lab = Lab()
        status = Started()
        server = asyncio.create_task(serve(lab.app, task_status=status, shutdown_timeout=5))
        url = f"ws://127.0.0.1:{(await status.value)[0].getsockname()[1]}/mcp"
        async with connect(url) as client:
            call = asyncio.create_task(client.call_tool("gate", {"n": 1}))
            await lab.opened(1)
            server.cancel()
            await asyncio.sleep(0.05)
            lab.gates[1].set()
            assert text_of(await call) == "gate 1"
            await asyncio.gather(server, return_exceptions=True)
            with pytest.raises(ConnectionLost):
                await client.call_tool("add", {"a": 1, "b": 1})

    run(main)


def test_a_binary_frame_closes_its_connection_only() -> None:
    async def main() -> None:
        lab = Lab()
        async with serving(lab.app) as url, connect(url) as bystander:
            reader, writer = await upgraded(url)
            writer.write(bytes([0x82, 0x80 | 3]) + b"\0\0\0\0" + b"abc")
            close = await reader.readexactly(4)
            assert close[0] == 0x88
            assert struct.unpack("!H", close[2:4]) == (1003,)
            writer.close()
            await writer.wait_closed()
            assert text_of(await bystander.call_tool("add", {"a": 1, "b": 2})) == "3"

    run(main)


def test_a_refused_or_absent_server_is_a_connect_error() -> None:
    async def main() -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with pytest.raises(ConnectError, match="cannot reach"):
            async with connect(f"ws://127.0.0.1:{port}/mcp"):
                pass
        async with serving(Lab().app) as url:
            with pytest.raises(ConnectError, match="HTTP 404"):
                async with connect(url.replace("/mcp", "/elsewhere")):
                    pass

    run(main)


def test_a_client_comes_back_after_the_server_restarts() -> None:
    async def main() -> None:
        lab = Lab()
        status = Started()
        server = asyncio.create_task(serve(lab.app, task_status=status, shutdown_timeout=0))
        port = (await status.value)[0].getsockname()[1]
        url = f"ws://127.0.0.1:{port}/mcp"
        attempts: list[int] = []
        policy = Reconnect(initial_delay=0.05, jitter=0, max_delay=0.2)
        async with connect(url, reconnect=policy, on_reconnect=attempts.append) as client:
            call = asyncio.create_task(client.call_tool("gate", {"n": 1}))
            await lab.opened(1)
            server.cancel()  # with a request in flight, and no grace period
            await asyncio.gather(server, return_exceptions=True)
            with pytest.raises(McpError, match="shut down before answering"):
                await call
            status = Started()
            server = asyncio.create_task(serve(lab.app, port=port, task_status=status))
            await status.value
            while not attempts:
                await asyncio.sleep(0.01)
            assert text_of(await client.call_tool("add", {"a": 2, "b": 2})) == "4"
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)

    run(main)


def test_the_client_answers_the_servers_requests() -> None:
    async def main() -> None:
        app = Server("asks")

        @app.tool()
        async def roots(ctx: Context) -> str:
            listed = await ctx.list_roots()
            return ",".join(root.uri for root in listed.roots)

        capabilities = ClientCapabilities(roots={})
        async with (
            serving(app) as url,
            connect(url, revisions=("2025-11-25",), capabilities=capabilities) as client,
        ):
            client.handlers["roots/list"] = lambda params: ListRootsResult(
                roots=[Root(uri="file:///a")]
            )
            assert text_of(await client.call_tool("roots")) == "file:///a"

    run(main)


def test_a_request_times_out_on_the_timer() -> None:
    async def main() -> None:
        lab = Lab()
        async with serving(lab.app) as url, connect(url) as client:
            loop = asyncio.get_running_loop()
            start = loop.time()
            with pytest.raises(TimeoutError, match="tools/call got no answer in time"):
                await client.call_tool("gate", {"n": 1}, timeout=0.2)
            assert 0.2 <= loop.time() - start < 2
            assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"

    run(main)


def test_a_peer_that_does_not_answer_pings_is_dropped() -> None:
    async def main() -> None:
        config = WebSocketConfig(ping_interval=0.1, ping_timeout=0.1)
        async with serving(Lab().app, config=config) as url:
            reader, writer = await upgraded(url)
            ping = await reader.readexactly(2)
            assert ping[0] == 0x89
            await reader.readexactly(ping[1])
            close = await reader.readexactly(4)  # after the pong timeout
            assert close[0] == 0x88
            assert struct.unpack("!H", close[2:4]) == (1011,)
            writer.close()
            await writer.wait_closed()

    run(main)
