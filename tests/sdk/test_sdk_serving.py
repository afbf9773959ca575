"""Servers of the official SDK 2.x (an ``MCPServer``, a low-level ``Server``) and of fastmcp
(a ``FastMCP``) served by each driver's ``serve()``: called by ``mcp.Client`` in each mode
and by mcpws's client in each era, every option of ``serve()`` holding for them (policy,
authentication, limits, concurrency, bad input, the graceful shutdown), the lifespan
entered once, and the private seams they rest on checked."""

from __future__ import annotations

import importlib.metadata
import json
import runpy
import ssl
from pathlib import Path
from typing import Any

import anyio
import mcp
import mcp_types as types
import pytest
from mcp.server.lowlevel import Server as LowlevelServer
from mcp.shared.exceptions import MCPError

from helpers.network import INITIALIZE, RawClient
from helpers.pairs import Pair
from helpers.peers import upgrade_status
from helpers.tls import contexts
from mcpws.app import ConnectError
from mcpws.core.connection import AuthenticationFailed, ConnectionRequested
from mcpws.core.websocket import ConnectionClosed, TextReceived, WebSocketConfig
from mcpws.lowlevel import serve_options
from mcpws.sdk import TESTED, SdkHost, _serving, lowlevel_server, websocket_client

APPS: dict[str, Any] = runpy.run_path(str(Path(__file__).parents[1] / "interop" / "sdk_apps.py"))
NAMES = ("mcp_server", "lowlevel", "fastmcp_server")
PAIRS = [
    Pair("trio", "trio"),
    Pair("asyncio", "asyncio"),
    Pair(server="asyncio", client="trio"),
    Pair(server="trio", client="asyncio"),
]
ONE_LOOP = PAIRS[:2]
TIMEOUT = 60


def run(pair: Pair, main: Any) -> None:
    """Run the scenario *main* for *pair*, with a hard timeout. On one loop the clock is the
    real one, not the virtual clock of :meth:`Pair.run`: the SDK runs a synchronous tool in
    a worker thread, which a virtual clock cannot see, and it would jump past the wait."""
    if not pair.one_loop:
        pair.run(main)
        return

    async def guarded() -> None:
        with anyio.fail_after(TIMEOUT):
            await main()

    anyio.run(guarded, backend=pair.server)


def text(result: Any) -> str:
    """The text of a tool's result, of the SDK's types or of mcpws's."""
    first = result.content[0]
    assert first.type == "text"
    return str(first.text)


async def until(done: Any) -> None:
    """Wait, turn by turn of the loop's clock, until ``done()``."""
    while not done():
        await anyio.sleep(0.01)


@pytest.mark.parametrize("pair", PAIRS, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_mcp_client_calls_a_served_sdk_server_in_every_mode(pair: Pair, name: str) -> None:
    async def main() -> None:
        async with pair.serving(APPS[name]) as served:
            for mode in ("legacy", "auto", "2026-07-28"):
                async with mcp.Client(websocket_client(served.url), mode=mode) as client:
                    tools = await client.list_tools()
                    assert "add" in {tool.name for tool in tools.tools}
                    assert text(await client.call_tool("add", {"a": 2, "b": 3})) == "5"

    run(pair, main)


@pytest.mark.parametrize("pair", PAIRS, ids=str)
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_an_mcpserver_served_by_mcpws_gives_progress_a_large_result_and_errors(
    pair: Pair, mode: Any
) -> None:
    async def main() -> None:
        async with (
            pair.serving(APPS["mcp_server"]) as served,
            mcp.Client(websocket_client(served.url), mode=mode) as client,
        ):
            heard: list[float] = []

            async def progressed(progress: float, total: float | None, message: str | None) -> None:
                heard.append(progress)

            counted = await client.call_tool("count", {"steps": 3}, progress_callback=progressed)
            assert text(counted) == "counted 3"
            assert heard == [1, 2, 3]
            big = await client.call_tool("big", {"size": 1 << 20})
            assert len(text(big)) == 1 << 20
            failed = await client.call_tool("fail", {})
            assert failed.is_error
            assert "fail" in text(failed)
            refused = await client.call_tool("add", {"a": "not a number", "b": 1})
            assert refused.is_error
            assert "validation error" in text(refused)
            with pytest.raises(MCPError):
                await client.get_prompt("no-such-prompt")

    run(pair, main)


@pytest.mark.parametrize("pair", PAIRS, ids=str)
def test_an_sdk_server_asks_its_client_over_the_connection(pair: Pair) -> None:
    """A request of the server's own (``elicitation/create``) crosses the carried connection
    and its answer comes back. (In the 2026-07-28 era the SDK refuses to send one: that era
    has no requests from the server.)"""

    async def elicited(context: Any, params: Any) -> types.ElicitResult:
        assert params.message == "What is your name?"
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    async def main() -> None:
        async with (
            pair.serving(APPS["mcp_server"]) as served,
            mcp.Client(
                websocket_client(served.url), mode="legacy", elicitation_callback=elicited
            ) as client,
        ):
            assert text(await client.call_tool("ask", {})) == "hello Ada"

    run(pair, main)


@pytest.mark.parametrize("pair", PAIRS, ids=str)
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("revisions", [None, ("2025-11-25",), ("2026-07-28",)])
def test_the_mcpws_client_calls_a_served_sdk_server_in_each_era(
    pair: Pair, name: str, revisions: tuple[str, ...] | None
) -> None:
    options = {} if revisions is None else {"revisions": revisions}

    async def main() -> None:
        async with (
            pair.serving(APPS[name]) as served,
            pair.connect(served.url, **options) as client,
        ):
            assert client.revision == (revisions or ("2026-07-28",))[0]
            assert "add" in {tool.name for tool in await client.list_tools()}
            result = await client.call_tool("add", {"a": 2, "b": 3})
            assert text(result) == "5"

    run(pair, main)


@pytest.mark.parametrize("pair", ONE_LOOP, ids=str)
def test_the_lifespan_is_entered_once_for_the_whole_serve(pair: Pair) -> None:
    lifespans: list[str] = APPS["LIFESPANS"]
    lifespans.clear()

    async def call(url: str) -> None:
        async with mcp.Client(websocket_client(url)) as client:
            assert text(await client.call_tool("add", {"a": 1, "b": 1})) == "2"

    async def main() -> None:
        async with pair.serving(APPS["mcp_server"]) as served:
            async with anyio.create_task_group() as group:
                for _ in range(3):
                    group.start_soon(call, served.url)
            await call(served.url)
            assert lifespans == ["entered"]
        assert lifespans == ["entered", "left"]

    run(pair, main)


# The options of serve() ------------------------------------------------------------------------


def _only_friends(request: ConnectionRequested) -> object:
    if dict(request.request.headers).get("authorization") != "Bearer friend":
        raise AuthenticationFailed("not a friend")
    return "friend"


@pytest.mark.parametrize("pair", ONE_LOOP, ids=str)
def test_the_upgrade_policy_authentication_and_connection_limit_hold(pair: Pair) -> None:
    async def main() -> None:
        options = {"authenticate": _only_friends, "max_connections": 1}
        async with pair.serving(APPS["mcp_server"], **options) as served:
            port = served.port
            status = await anyio.to_thread.run_sync(lambda: upgrade_status(port))
            assert status == 401
            foreign = await anyio.to_thread.run_sync(
                lambda: upgrade_status(port, origin="https://elsewhere.example")
            )
            assert foreign == 403
            host = await anyio.to_thread.run_sync(lambda: upgrade_status(port, host="evil:80"))
            assert host == 403
            friend = [("Authorization", "Bearer friend"), ("X-Test", "hello")]
            async with mcp.Client(websocket_client(served.url, headers=friend)) as client:
                assert text(await client.call_tool("whoami", {})) == "friend hello"
                full = await anyio.to_thread.run_sync(lambda: upgrade_status(port))
                assert full == 503

    run(pair, main)


@pytest.mark.parametrize("pair", ONE_LOOP, ids=str)
def test_a_fastmcp_tool_reads_the_headers_of_the_upgrade(pair: Pair) -> None:
    async def main() -> None:
        headers = [("X-Test", "from the upgrade")]
        async with (
            pair.serving(APPS["fastmcp_server"]) as served,
            mcp.Client(websocket_client(served.url, headers=headers)) as client,
        ):
            result = await client.call_tool("header", {"name": "x-test"})
            assert text(result) == "from the upgrade"

    run(pair, main)


@pytest.mark.parametrize("pair", ONE_LOOP, ids=str)
def test_bad_input_gets_mcpws_answers_and_the_connection_survives(pair: Pair) -> None:
    config = WebSocketConfig(max_message_size=4096)

    async def main() -> None:
        async with pair.serving(APPS["mcp_server"], config=config) as served:
            raw = await RawClient.open(served.port)
            assert (await raw.ask("not json"))["error"]["code"] == -32700
            batch = json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "ping"}])
            assert (await raw.ask(batch))["error"]["code"] == -32600
            odd_id = json.dumps({"jsonrpc": "2.0", "id": 1.5, "method": "ping"})
            assert (await raw.ask(odd_id))["error"]["code"] == -32600
            ping = json.dumps({"jsonrpc": "2.0", "id": "p", "method": "ping"})
            assert (await raw.ask(ping)) == {"jsonrpc": "2.0", "id": "p", "result": {}}
            raw.core.send_bytes(b"\x00binary")
            await raw.flush()
            await raw.until(lambda: raw.closed() is not None)
            closed = raw.closed()
            assert isinstance(closed, ConnectionClosed)
            assert closed.code == 1003
            await raw.stream.aclose()
            big = await RawClient.open(served.port)
            big.core.send_text(json.dumps({"jsonrpc": "2.0", "method": "x", "params": "y" * 5000}))
            await big.flush()
            await big.until(lambda: big.closed() is not None)
            too_big = big.closed()
            assert isinstance(too_big, ConnectionClosed)
            assert too_big.code == 1009
            await big.stream.aclose()
            async with mcp.Client(websocket_client(served.url)) as client:
                assert text(await client.call_tool("add", {"a": 1, "b": 1})) == "2"

    run(pair, main)


async def _release(held: list[anyio.Event], count: int) -> None:
    """Once the *count*-th ``hold`` call is held, release it."""
    await until(lambda: len(held) >= count)
    held[count - 1].set()


@pytest.mark.parametrize("pair", ONE_LOOP, ids=str)
def test_at_most_max_concurrent_requests_are_handed_to_the_sdk(pair: Pair) -> None:
    held: list[anyio.Event] = APPS["HELD"]
    peak: list[int] = APPS["PEAK"]
    held.clear()
    peak[0] = 0

    async def main() -> None:
        async with (
            pair.serving(APPS["mcp_server"], max_concurrent_requests=2) as served,
            mcp.Client(websocket_client(served.url)) as client,
        ):
            answers: list[str] = []

            async def hold() -> None:
                answers.append(text(await client.call_tool("hold", {})))

            async with anyio.create_task_group() as group:
                for _ in range(5):
                    group.start_soon(hold)
                for count in range(1, 6):
                    await _release(held, count)
            assert answers == ["released"] * 5
            assert peak[0] == 2

    run(pair, main)


@pytest.mark.parametrize("pair", ONE_LOOP, ids=str)
def test_a_graceful_shutdown_lets_calls_in_flight_finish_and_refuses_new_ones(
    pair: Pair,
) -> None:
    held: list[anyio.Event] = APPS["HELD"]
    held.clear()

    async def main() -> None:
        async with (
            pair.serving(APPS["mcp_server"], shutdown_timeout=30) as served,
            mcp.Client(websocket_client(served.url), mode="legacy") as client,
        ):
            answers: list[str] = []
            await client.list_tools()  # the output schemas, which it checks results against
            async with anyio.create_task_group() as group:

                async def hold() -> None:
                    answers.append(text(await client.call_tool("hold", {})))

                group.start_soon(hold)
                await until(lambda: len(held) == 1)
                await served.stop()
                with pytest.raises(MCPError, match="shutting down"):
                    await client.call_tool("add", {"a": 1, "b": 1})
                held[0].set()
            assert answers == ["released"]
            await served.stopped()

    run(pair, main)


@pytest.mark.parametrize("pair", ONE_LOOP, ids=str)
def test_calls_still_running_after_the_grace_get_an_error(pair: Pair) -> None:
    held: list[anyio.Event] = APPS["HELD"]
    held.clear()

    async def main() -> None:
        async with (
            pair.serving(APPS["mcp_server"], shutdown_timeout=0.5) as served,
            mcp.Client(websocket_client(served.url), mode="legacy") as client,
        ):
            async with anyio.create_task_group() as group:

                async def hold() -> None:
                    with pytest.raises(MCPError, match="shut down before answering"):
                        await client.call_tool("hold", {})

                group.start_soon(hold)
                await until(lambda: len(held) == 1)
                await served.stop()
            await served.stopped()

    run(pair, main)


def test_options_of_mcpws_sessions_are_refused_for_an_sdk_server() -> None:
    with pytest.raises(TypeError, match="no revisions here"):
        serve_options(APPS["mcp_server"], revisions=("2025-11-25",))


def test_serve_refuses_what_it_cannot_serve() -> None:
    with pytest.raises(TypeError, match="cannot serve a dict"):
        serve_options({"not": "a server"})


# The private seams -----------------------------------------------------------------------------


def test_the_private_seams_hold_in_the_versions_pinned() -> None:
    """Fails loudly when an upgrade of the SDK or fastmcp moves what mcpws reaches into:
    update ``mcpws.sdk._seams`` (and its pins) then."""
    assert importlib.metadata.version("mcp") == TESTED["mcp"]
    assert importlib.metadata.version("fastmcp") == TESTED["fastmcp"]
    for name in NAMES:
        inner = lowlevel_server(APPS[name])
        assert isinstance(inner, LowlevelServer)
        assert inner.name == APPS[name].name
    assert isinstance(serve_options(APPS["fastmcp_server"]).app, SdkHost)


def test_a_moved_seam_is_a_clear_error() -> None:
    class Moved(type(APPS["mcp_server"])):  # type: ignore[misc]
        pass

    moved = Moved("moved")
    del moved._lowlevel_server
    with pytest.raises(TypeError, match=r"tested with mcp 2\.3\.0"):
        lowlevel_server(moved)


# What the carrier holds back ----------------------------------------------------------------


def _request(request_id: int, tool: str) -> str:
    params = {"name": tool, "arguments": {}}
    return json.dumps(
        {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}
    )


async def _texts(raw: RawClient, mark: int, count: int) -> list[Any]:
    """The first *count* text messages *raw* receives after its event number *mark*."""

    def texts() -> list[Any]:
        return [json.loads(e.text) for e in raw.events[mark:] if isinstance(e, TextReceived)]

    await raw.until(lambda: len(texts()) >= count)
    return texts()[:count]


async def _send(raw: RawClient, text: str) -> None:
    raw.core.send_text(text)
    await raw.flush()


@pytest.mark.parametrize("pair", ONE_LOOP, ids=str)
def test_requests_wait_their_turn_a_cancelled_one_is_dropped_and_too_many_are_refused(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_serving, "MAX_PENDING", 3)
    held: list[anyio.Event] = APPS["HELD"]
    held.clear()

    async def main() -> None:
        async with pair.serving(APPS["mcp_server"], max_concurrent_requests=1) as served:
            raw = await RawClient.open(served.port)
            assert "result" in await raw.ask(INITIALIZE)
            await _send(raw, json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            await _send(raw, _request(1, "hold"))
            await until(lambda: len(held) == 1)
            await _send(raw, _request(2, "hold"))  # waits its turn
            duplicate = await raw.ask(_request(1, "add"))
            assert (duplicate["id"], duplicate["error"]["code"]) == (1, -32600)
            await _send(raw, _request(3, "hold"))  # waits its turn too: three in flight
            too_many = await raw.ask(_request(4, "add"))
            assert (too_many["id"], too_many["error"]["code"]) == (4, -32005)
            cancel = {"requestId": 2, "reason": "changed my mind"}
            notification = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": cancel}
            await _send(raw, json.dumps(notification))
            mark = len(raw.events)
            held[0].set()
            assert [answer["id"] for answer in await _texts(raw, mark, 1)] == [1]
            await until(lambda: len(held) == 2)  # the third: the second was dropped
            mark = len(raw.events)
            held[1].set()
            assert [answer["id"] for answer in await _texts(raw, mark, 1)] == [3]
            pong = await raw.ask(json.dumps({"jsonrpc": "2.0", "id": 5, "method": "ping"}))
            assert pong == {"jsonrpc": "2.0", "id": 5, "result": {}}
            assert len(held) == 2
            await raw.stream.aclose()

    run(pair, main)


class _Failing(SdkHost):
    """A host whose library fails on every connection."""

    async def serve_connection(self, read_stream: Any, write_stream: Any) -> None:
        raise RuntimeError("the library broke")


@pytest.mark.parametrize("pair", ONE_LOOP, ids=str)
def test_a_library_that_fails_closes_its_connection_with_1011(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with pair.serving(_Failing(lowlevel_server(APPS["lowlevel"]))) as served:
            raw = await RawClient.open(served.port)
            await _send(raw, INITIALIZE)
            await raw.until(lambda: raw.closed() is not None)
            closed = raw.closed()
            assert isinstance(closed, ConnectionClosed)
            assert (closed.code, closed.reason) == (1011, "the server failed")
            await raw.stream.aclose()

    run(pair, main)
    assert "the loop of sdk-lowlevel failed" in caplog.text


@pytest.mark.parametrize("pair", ONE_LOOP, ids=str)
def test_an_sdk_server_and_client_talk_over_tls(pair: Pair) -> None:
    server_context, client_context = contexts()

    async def main() -> None:
        async with pair.serving(APPS["mcp_server"], ssl_context=server_context) as served:
            url = served.url.replace("ws://", "wss://")
            transport = websocket_client(url, ssl_context=client_context)
            async with mcp.Client(transport) as client:
                assert text(await client.call_tool("add", {"a": 2, "b": 3})) == "5"
            with pytest.raises(ConnectError, match="TLS"):
                async with websocket_client(url, ssl_context=ssl.create_default_context()):
                    pass

    run(pair, main)
