"""What a new user meets first, through each driver's ``serve()`` and ``connect()``: the
subprotocol a server selects, a port that is not one, a port in use, a ``connect()``
cancelled from outside, and how long leaving ``connect()`` waits for the close."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager

import anyio
import pytest
import trio

import mcpws.asyncio
import mcpws.trio
from helpers.pairs import SHIPPED, Pair
from helpers.wspair import request
from mcpws import Server
from mcpws.core.connection import ServerConnection
from mcpws.core.mcp import ServerCapabilities
from mcpws.core.session import ServerSession, ServerSessionConfig
from mcpws.core.websocket import WebSocketConfig

#: The drivers whose entry points these tests check.
DRIVERS = SHIPPED


def _app() -> Server:
    app = Server("entry")

    @app.tool()
    async def hang() -> None:
        """Never answer."""
        await anyio.sleep_forever()

    return app


async def _answer_to(port: int, offered: str | None) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body a server on *port* answers an upgrade request with,
    offering the subprotocols *offered* (``None``: no header)."""
    extra = [] if offered is None else [("Sec-WebSocket-Protocol", offered)]
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(request(extra=extra))
        received = b""
        while b"\r\n\r\n" not in received:
            received += await stream.receive()
        if not received.startswith(b"HTTP/1.1 101"):
            try:
                while True:
                    received += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                pass
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    ("offered", "selected"),
    [
        ("mcp", "mcp"),
        ("mcp.auth.s3cret, mcp", "mcp"),
        ("foo, mcp", "mcp"),
        ("mcp.version.2025-06-18", "mcp.version.2025-06-18"),
        ("mcp, mcp.version.2025-03-26", "mcp.version.2025-03-26"),
        (None, None),
    ],
)
def test_serve_selects_the_mcp_subprotocol(
    pair: Pair, offered: str | None, selected: str | None
) -> None:
    async def main() -> None:
        async with pair.serving(_app()) as server:
            status, headers, _ = await _answer_to(server.port, offered)
            assert status == 101
            assert headers.get("sec-websocket-protocol") == selected

    pair.run(main)


@pytest.mark.parametrize("offered", ["foo", "mcp.auth.s3cret", "graphql-ws, MCP"])
def test_serve_refuses_an_offer_without_mcp_with_400(pair: Pair, offered: str) -> None:
    async def main() -> None:
        async with pair.serving(_app()) as server:
            status, headers, body = await _answer_to(server.port, offered)
            assert status == 400
            assert "sec-websocket-protocol" not in headers
            assert body.startswith(b"this endpoint speaks the WebSocket subprotocols 'mcp', ")
            assert b"s3cret" not in body

    pair.run(main)


# A port that is not one, and a port in use ---------------------------------------------------


def _serve_on(driver: str, port: int) -> None:
    """Start serving on *port* with *driver*, the way its README example does: it must fail
    before it listens, and the caller hear why, as it is."""
    app = _app()
    failures: list[Exception] = []
    if driver == "trio":

        async def on_trio() -> None:
            with trio.fail_after(10):
                async with trio.open_nursery() as nursery:
                    try:
                        await nursery.start(mcpws.trio.serve, app, "127.0.0.1", port)
                    except Exception as exc:
                        failures.append(exc)

        trio.run(on_trio)
    else:

        async def on_asyncio() -> None:
            async with asyncio.timeout(10):
                status = mcpws.asyncio.TaskStatus()
                task = asyncio.create_task(mcpws.asyncio.serve(app, port=port, task_status=status))
                try:
                    await status.wait()
                except Exception as exc:
                    failures.append(exc)
                await asyncio.wait([task])
                assert task.exception() is failures[0]

        asyncio.run(on_asyncio())
    (failure,) = failures
    raise failure


@pytest.mark.parametrize("port", [65536, 70000, -1])
@pytest.mark.parametrize("driver", DRIVERS)
def test_a_port_that_is_not_one_is_refused(driver: str, port: int) -> None:
    with pytest.raises(ValueError, match=f"a port is a whole number from 0 to 65535, not {port}"):
        _serve_on(driver, port)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_port_in_use_reaches_the_caller(driver: str, busy_port: int) -> None:
    with pytest.raises(OSError, match="ddress already in use"):
        _serve_on(driver, busy_port)


def test_an_asyncio_serve_cancelled_before_it_listens_says_so() -> None:
    async def main() -> None:
        status = mcpws.asyncio.TaskStatus()
        task = asyncio.create_task(mcpws.asyncio.serve(_app(), "localhost", task_status=status))
        # One turn: serve() has begun, and waits for the name to resolve in a thread.
        await asyncio.sleep(0)
        task.cancel()
        async with asyncio.timeout(10):
            with pytest.raises(RuntimeError, match="serve\\(\\) was cancelled before it listened"):
                await status.wait()
            await asyncio.wait([task])
        assert task.cancelled()

    asyncio.run(main())


def test_an_asyncio_status_reports_only_the_first_outcome() -> None:
    async def main() -> None:
        status = mcpws.asyncio.TaskStatus()
        status.started(["a socket"])
        status.failed(OSError("too late"))
        assert await status.wait() == ["a socket"]

    asyncio.run(main())


# Cancelling connect() from outside ---------------------------------------------------------


async def _cancelled_plainly(scope: anyio.CancelScope, body: Callable[[], Awaitable[None]]) -> None:
    """Run *body* in *scope*, which cancels it: what comes out of ``connect`` is the
    cancellation itself, never a group of the driver's tasks."""
    seen: list[BaseException] = []
    with scope:
        try:
            await body()
        except BaseException as exc:
            seen.append(exc)
            raise
    assert scope.cancelled_caught
    assert len(seen) == 1
    assert not isinstance(seen[0], BaseExceptionGroup), repr(seen[0])
    assert isinstance(seen[0], anyio.get_cancelled_exc_class())


def test_connect_cancelled_while_the_server_is_silent_is_plain_cancellation(pair: Pair) -> None:
    """A server that accepts the connection and never answers the upgrade: the client
    cancelled meanwhile raises its cancellation, and lets the connection go."""

    async def main() -> None:
        let_go = anyio.Event()

        async def silent(stream: anyio.abc.SocketStream) -> None:
            async with stream:
                with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
                    while True:
                        await stream.receive()
            let_go.set()

        async with (
            await anyio.create_tcp_listener(local_host="127.0.0.1") as listener,
            anyio.create_task_group() as group,
        ):
            group.start_soon(listener.serve, silent)
            port = listener.extra(anyio.abc.SocketAttribute.local_port)

            async def body() -> None:
                # No handshake timeout of its own: only the cancellation ends the wait.
                config = WebSocketConfig(handshake_timeout=None)
                async with pair.connect(f"ws://127.0.0.1:{port}/mcp", config=config):
                    raise AssertionError("a silent server cannot open a session")

            await _cancelled_plainly(anyio.move_on_after(5), body)
            cancelled = anyio.current_time()
            await let_go.wait()
            assert pair.lasted(cancelled, 0)
            group.cancel_scope.cancel()

    pair.run(main)


@pytest.mark.parametrize("when", ["opening", "calling"])
def test_connect_cancelled_from_outside_is_plain_cancellation(pair: Pair, when: str) -> None:
    async def main() -> None:
        async with pair.serving(_app()) as server:

            async def body() -> None:
                async with pair.connect(server.url) as client:
                    await client.call_tool("hang")

            scope = anyio.CancelScope()
            if when == "opening":
                scope.cancel()
            else:
                scope.deadline = anyio.current_time() + 5
            await _cancelled_plainly(scope, body)
            async with pair.connect(server.url) as client:  # the server is still well
                assert [tool.name for tool in await client.list_tools()] == ["hang"]

    pair.run(main)


# Leaving connect() ------------------------------------------------------------------------


@asynccontextmanager
async def _goes_deaf() -> AsyncIterator[tuple[int, anyio.Event]]:
    """A server that opens the session, then, once told to (the event), reads nothing more:
    a close is never answered. Yields its port and the event."""
    deaf = anyio.Event()

    async def serve_one(stream: anyio.abc.SocketStream) -> None:
        session = ServerSession(ServerSessionConfig(capabilities=ServerCapabilities(tools={})))
        connection = ServerConnection(anyio.current_time(), session=session, authenticate=_anyone)
        async with stream:
            with anyio.CancelScope() as reading:

                async def stop_reading() -> None:
                    await deaf.wait()
                    reading.cancel()

                async with anyio.create_task_group() as group:
                    group.start_soon(stop_reading)
                    while True:
                        connection.receive_data(await stream.receive(), anyio.current_time())
                        for chunk in connection.data_to_send():
                            await stream.send(chunk)
            await anyio.sleep_forever()

    async with (
        await anyio.create_tcp_listener(local_host="127.0.0.1") as listener,
        anyio.create_task_group() as group,
    ):
        group.start_soon(listener.serve, serve_one)
        yield listener.extra(anyio.abc.SocketAttribute.local_port), deaf
        group.cancel_scope.cancel()


def _anyone(_: object) -> None:
    return None


@pytest.mark.parametrize("failed", [False, True])
def test_leaving_connect_waits_for_the_close_as_long_as_the_core_says(
    pair: Pair, failed: bool
) -> None:
    """Left normally, the client waits for the close handshake for the configured
    ``close_timeout``; left by an exception, for a second."""

    async def main() -> None:
        async with _goes_deaf() as (port, deaf):
            config = WebSocketConfig(close_timeout=8, ping_interval=None)
            with contextlib.suppress(KeyError):
                async with pair.connect(f"ws://127.0.0.1:{port}/mcp", config=config) as client:
                    assert client.server_info is not None
                    deaf.set()
                    await anyio.sleep(1)  # the server reads no more from now on
                    leaving = anyio.current_time()
                    if failed:
                        raise KeyError("the block failed")
            assert pair.lasted(leaving, 1 if failed else 8)

    pair.run(main)
