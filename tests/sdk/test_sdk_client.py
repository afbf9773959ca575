"""``mcpws.sdk.websocket_client``: the official SDK 2.x's clients (``mcp.Client`` in each of
its modes, and the 1.x-style ``ClientSession``) over mcpws, on each driver, against
``mcpws serve`` on each driver; a bad frame, a refused upgrade, and reconnection."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import anyio.abc
import mcp
import pytest
from mcp import ClientSession
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage
from mcp_types import JSONRPCNotification, TextContent

from helpers.peers import LOOPS, mcpws_serving, run_on
from mcpws import Context, Server
from mcpws.app import ConnectError, Reconnect
from mcpws.core.connection import AuthenticationFailed, ConnectionRequested
from mcpws.core.websocket import UpgradeRequested, WebSocketServer
from mcpws.lowlevel import Kernel
from mcpws.sdk import NOT_CONNECTED, websocket_client

MODES = ("legacy", "auto", "2026-07-28")
BIG = 1 << 20
TIMEOUT = 60


def run(loop: str, main: Callable[[], Awaitable[None]]) -> None:
    """Run *main* on *loop* (the real clock: children and servers take real time)."""
    run_on(loop, main, timeout=TIMEOUT)


@pytest.fixture(scope="module", params=LOOPS)
def demo(request: pytest.FixtureRequest) -> Iterator[str]:
    """``mcpws serve`` (the demo server) on each driver; its URL."""
    with mcpws_serving(request.param) as port:
        yield f"ws://127.0.0.1:{port}/mcp"


def text(result: Any) -> str:
    first = result.content[0]
    assert isinstance(first, TextContent)
    return first.text


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("mode", MODES)
def test_mcp_client_uses_mcpws_serve(demo: str, loop: str, mode: Any) -> None:
    async def main() -> None:
        async with mcp.Client(websocket_client(demo), mode=mode) as client:
            tools = await client.list_tools()
            assert {"add", "countdown", "echo", "divide"} <= {t.name for t in tools.tools}
            added = await client.call_tool("add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}
            assert not added.is_error
            heard_progress: list[tuple[float, float | None, str | None]] = []

            async def heard(progress: float, total: float | None, message: str | None) -> None:
                heard_progress.append((progress, total, message))

            counted = await client.call_tool("countdown", {"start": 3}, progress_callback=heard)
            assert text(counted) == "lift-off"
            assert [done for done, _, _ in heard_progress] == [1, 2, 3]
            big = "é" * BIG
            echoed = await client.call_tool("echo", {"text": big})
            assert echoed.structured_content == {"text": big, "times": 1}
            divided = await client.call_tool("divide", {"a": 1, "b": 0})
            assert divided.is_error
            assert text(divided) == "ZeroDivisionError: division by zero"
            with pytest.raises(MCPError, match="unknown tool"):
                await client.call_tool("no-such-tool", {})

    run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_1x_style_client_session_uses_mcpws_serve(demo: str, loop: str) -> None:
    async def main() -> None:
        async with websocket_client(demo) as (read, write), ClientSession(read, write) as session:
            opened = await session.initialize()
            assert opened.server_info.name == "mcpws-demo"
            tools = await session.list_tools()
            assert "echo" in {tool.name for tool in tools.tools}
            result = await session.call_tool("echo", {"text": "hi", "times": 2})
            assert result.structured_content == {"text": "hi hi", "times": 2}

    run(loop, main)


# A bad frame, and a refused upgrade ------------------------------------------------------------


async def _serve_raw(
    texts: list[str], *, task_status: anyio.abc.TaskStatus[int] = anyio.TASK_STATUS_IGNORED
) -> None:
    """A WebSocket server (mcpws's sans-IO core, no MCP) that selects ``mcp`` and sends
    *texts* to each client once it is upgraded, then waits for the client to leave."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)

    async def handle(stream: anyio.abc.SocketStream) -> None:
        core = WebSocketServer(anyio.current_time())
        async with stream:
            while True:
                try:
                    data = await stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return
                core.receive_data(data, anyio.current_time())
                for event in core.events_received():
                    if isinstance(event, UpgradeRequested):
                        core.accept(now=anyio.current_time(), subprotocol="mcp")
                        for each in texts:
                            core.send_text(each)
                for chunk in core.data_to_send():
                    if chunk:
                        await stream.send(chunk)
                if core.closed:
                    return

    async with listener:
        task_status.started(listener.extra(anyio.abc.SocketAttribute.local_port))
        await listener.serve(handle)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_bad_frame_reaches_the_sdk_as_an_exception_and_the_stream_goes_on(loop: str) -> None:
    notification = {"jsonrpc": "2.0", "method": "notifications/message", "params": {}}
    texts = ["this is not JSON", json.dumps({"jsonrpc": "2.0", "id": 1}), json.dumps(notification)]

    async def main() -> None:
        async with anyio.create_task_group() as group:
            port = await group.start(_serve_raw, texts)
            async with websocket_client(f"ws://127.0.0.1:{port}/mcp") as (read, _):
                unreadable = await read.receive()
                assert isinstance(unreadable, Exception)
                assert "invalid JSON" in str(unreadable)
                wrong = await read.receive()  # JSON-RPC, but neither an answer nor a request
                assert isinstance(wrong, Exception)
                fine = await read.receive()
                assert isinstance(fine, SessionMessage)
                assert isinstance(fine.message, JSONRPCNotification)
                assert fine.message.method == "notifications/message"
            group.cancel_scope.cancel()

    run(loop, main)


def _refuse(request: ConnectionRequested) -> object:
    if dict(request.request.headers).get("authorization") != "Bearer letmein":
        raise AuthenticationFailed("who are you?")
    return "friend"


@pytest.mark.parametrize("loop", LOOPS)
def test_headers_go_with_the_upgrade_and_a_refusal_is_a_connect_error(loop: str) -> None:
    app = Server("guarded")

    @app.tool()
    def whoami(ctx: Context) -> str:
        return str(ctx.principal)

    async def main() -> None:
        serving: Any = _driver(loop).serving
        async with serving(app, authenticate=_refuse) as listening:
            with pytest.raises(ConnectError, match="HTTP 401"):
                async with websocket_client(listening.url):
                    pass
            headers = [("Authorization", "Bearer letmein")]
            async with mcp.Client(websocket_client(listening.url, headers=headers)) as client:
                assert text(await client.call_tool("whoami", {})) == "friend"

    run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_no_server_is_a_connect_error(loop: str) -> None:
    async def main() -> None:
        with pytest.raises(ConnectError, match="cannot reach"):
            async with websocket_client("ws://127.0.0.1:9/mcp"):
                pass

    run(loop, main)


# Reconnection ----------------------------------------------------------------------------------


def _dropping_server() -> Server:
    """A server whose ``drop`` tool closes its own connection, as a restarting server does,
    and never answers."""
    app = Server("drops")

    @app.tool()
    def add(a: int, b: int) -> int:
        return a + b

    @app.tool()
    async def drop(ctx: Context) -> str:
        link = ctx.link
        assert isinstance(link, Kernel)
        link.connection.close(1012, "restarting", now=link.now())
        link.flush()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    return app


def _driver(loop: str) -> Any:
    import mcpws.asyncio
    import mcpws.trio

    return mcpws.trio if loop == "trio" else mcpws.asyncio


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_a_dropped_connection_comes_back_and_the_session_with_it(loop: str, mode: Any) -> None:
    returns: list[int] = []
    policy = Reconnect(initial_delay=0.01, jitter=0, max_attempts=5)

    async def main() -> None:
        async with _driver(loop).serving(_dropping_server()) as listening:
            transport = websocket_client(
                listening.url, reconnect=policy, on_reconnect=returns.append
            )
            async with mcp.Client(transport, mode=mode) as client:
                assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {
                    "result": 3
                }
                with pytest.raises(MCPError, match="closed before the answer"):
                    await client.call_tool("drop", {})
                while not returns:  # the reconnection's delay, on the loop's clock
                    await anyio.sleep(0.01)
                assert (await client.call_tool("add", {"a": 2, "b": 2})).structured_content == {
                    "result": 4
                }
        assert returns == [1]

    run(loop, main)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_request_made_while_away_fails_at_once(loop: str) -> None:
    policy = Reconnect(initial_delay=3600, jitter=0, max_attempts=1)

    async def main() -> None:
        async with _driver(loop).serving(_dropping_server()) as listening:
            transport = websocket_client(listening.url, reconnect=policy)
            async with mcp.Client(transport, mode="2026-07-28") as client:
                with pytest.raises(MCPError):
                    await client.call_tool("drop", {})
                with pytest.raises(MCPError, match=NOT_CONNECTED.split(":")[0]):
                    await client.call_tool("add", {"a": 1, "b": 1})

    run(loop, main)
