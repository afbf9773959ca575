"""Helpers for the end-to-end tests of the trio driver (``test_trio_driver.py``).

Every test runs under ``trio.testing.MockClock(autojump_threshold=0)`` inside a hard timeout,
over real loopback sockets. The mock clock jumps only when every task is blocked and no I/O
is ready; data written to a loopback socket is readable on the other end as soon as the send
returns, so the clock never jumps while bytes are in flight (checked over thousands of
exchanges, even on a loaded machine). A test that deadlocks thus fails at once with
``TooSlowError`` instead of hanging, and nothing sleeps for real.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import trio
import trio.testing

from mcpws.app import Server
from mcpws.core.mcp import CallToolResult, TextContent
from mcpws.trio import serve

#: Virtual seconds a test may take: more than any timeout a test waits for on purpose, less
#: than the default keepalive interval (20 s), so a stuck test fails before pings begin.
HARD_TIMEOUT = 15.0


def run(main: Callable[[], Awaitable[None]]) -> None:
    """Run *main* under a mock clock, failing after :data:`HARD_TIMEOUT` virtual seconds."""

    async def guarded() -> None:
        with trio.fail_after(HARD_TIMEOUT):
            await main()

    trio.run(guarded, clock=trio.testing.MockClock(autojump_threshold=0))


def text_of(result: CallToolResult) -> str:
    """The text blocks of a tool result, joined with spaces."""
    return " ".join(block.text for block in result.content if isinstance(block, TextContent))


class Watch:
    """Something tasks wait to change: :meth:`poke` after each change, :meth:`until` a
    condition holds."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def poke(self) -> None:
        self._event.set()
        self._event = trio.Event()

    async def until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            await self._event.wait()


class Served:
    """A server running on a loopback port; :meth:`stop` cancels its ``serve`` task."""

    def __init__(self, port: int, scope: trio.CancelScope, stopped: trio.Event) -> None:
        self.port = port
        self.url = f"ws://127.0.0.1:{port}/mcp"
        self._scope = scope
        #: Set when the ``serve`` task has returned.
        self.stopped = stopped

    def stop(self) -> None:
        self._scope.cancel()


@asynccontextmanager
async def serving(app: Server, **options: Any) -> AsyncIterator[Served]:
    """Serve *app* on 127.0.0.1, port 0, for the body of the block; *options* go to
    ``serve``. An exception from the body comes out as it is, not in an exception group."""
    scope = trio.CancelScope()
    stopped = trio.Event()

    async def run_server(*, task_status: trio.TaskStatus[list[trio.SocketListener]]) -> None:
        try:
            with scope:
                await serve(app, task_status=task_status, **options)
        finally:
            stopped.set()

    raised: BaseException | None = None
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(run_server)
        try:
            yield Served(listeners[0].socket.getsockname()[1], scope, stopped)
        except BaseException as exc:  # raised again below, outside the nursery
            raised = exc
        nursery.cancel_scope.cancel()
    if raised is not None:
        raise raised


# Raw clients ---------------------------------------------------------------------------------


def upgrade_request(port: int, path: str = "/mcp") -> bytes:
    """A valid WebSocket upgrade request for the MCP endpoint."""
    return (
        f"GET {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: mcp\r\n"
        "\r\n"
    ).encode()


async def raw_upgrade(port: int) -> tuple[trio.SocketStream, bytes]:
    """Open a TCP stream, upgrade it by hand and return it with the response head."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(upgrade_request(port))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = await stream.receive_some(4096)
        if not chunk:
            break
        head += chunk
    return stream, head


def masked_text_frame_head(length: int, *, fin: bool = True) -> bytes:
    """The head of a masked (client) text frame with a *length*-byte payload (< 65536)."""
    assert 126 <= length < 65536
    first = (0x80 if fin else 0) | 0x1
    return bytes([first, 0x80 | 126]) + length.to_bytes(2, "big") + b"\x01\x02\x03\x04"


# Network trouble -----------------------------------------------------------------------------


class Proxy:
    """A TCP forwarder to a server; :meth:`cut` drops every connection through it at once,
    without a WebSocket close, as a failing network would."""

    def __init__(self, port: int, scope: trio.CancelScope) -> None:
        self.port = port
        self.url = f"ws://127.0.0.1:{port}/mcp"
        self._scope = scope

    def cut(self) -> None:
        self._scope.cancel()


@asynccontextmanager
async def proxy(target: int) -> AsyncIterator[Proxy]:
    """Forward 127.0.0.1:<port of the proxy> to 127.0.0.1:*target*."""
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    scope = trio.CancelScope()

    async def copy(source: trio.SocketStream, sink: trio.SocketStream, done: trio.Nursery) -> None:
        try:
            while data := await source.receive_some(65536):
                await sink.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        done.cancel_scope.cancel()

    async def handle(downstream: trio.SocketStream) -> None:
        upstream = await trio.open_tcp_stream("127.0.0.1", target)
        try:
            async with trio.open_nursery() as pair:
                pair.start_soon(copy, downstream, upstream, pair)
                pair.start_soon(copy, upstream, downstream, pair)
        finally:
            await trio.aclose_forcefully(upstream)
            await trio.aclose_forcefully(downstream)

    async def run_proxy() -> None:
        with scope:
            await trio.serve_listeners(handle, listeners)

    raised: BaseException | None = None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_proxy)
        try:
            yield Proxy(listeners[0].socket.getsockname()[1], scope)
        except BaseException as exc:  # raised again below, outside the nursery
            raised = exc
        nursery.cancel_scope.cancel()
    if raised is not None:
        raise raised


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never says a word; yields its port."""
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")

    async def hold(stream: trio.SocketStream) -> None:
        async with stream:
            await trio.sleep(math.inf)

    raised: BaseException | None = None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, hold, listeners)
        try:
            yield listeners[0].socket.getsockname()[1]
        except BaseException as exc:  # raised again below, outside the nursery
            raised = exc
        nursery.cancel_scope.cancel()
    if raised is not None:
        raise raised
