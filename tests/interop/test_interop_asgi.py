"""``mcpws.asgi.App`` under real ASGI servers, each in a process of its own: uvicorn with each
of its WebSocket backends, hypercorn with its asyncio and its trio workers, and granian. The
mcpws client calls tools in both eras, and the bad input ``serve()`` is tested with gets the
same answers: a foreign Origin or Host, an offer without MCP, bad JSON, a binary message, a
message over the limit; ``/healthz`` and a plain GET of the endpoint are answered as
``serve()`` answers them."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import mcp
import pytest

from helpers.network import INITIALIZE, RawClient
from helpers.peers import ASGI_SERVERS, INTEROP, RedisServer, asgi_serving, upgrade_status
from helpers.typescript import NODE, node_packages_folder
from mcpws.core.websocket import ConnectionClosed, TextReceived
from mcpws.sdk import websocket_client
from mcpws.trio import connect

TIMEOUT = 60

SERVERS = ASGI_SERVERS


@pytest.fixture(scope="module", params=sorted(SERVERS))
def asgi_server(request: pytest.FixtureRequest) -> Iterator[int]:
    """``asgi_app:app`` under one ASGI server; its port."""
    with asgi_serving("asgi_app:app", *SERVERS[request.param]) as port:
        yield port


@pytest.mark.parametrize("revision", ["2025-11-25", "2026-07-28"])
def test_the_mcpws_client_calls_tools(asgi_server: int, revision: str) -> None:
    async def main() -> None:
        with anyio.fail_after(TIMEOUT):
            url = f"ws://127.0.0.1:{asgi_server}/mcp"
            async with connect(url, revisions=(revision,)) as client:
                assert client.revision == revision
                assert {"add", "pid", "hold"} <= {t.name for t in await client.list_tools()}
                added = await client.call_tool("add", {"a": 2, "b": 3})
                assert added.structured_content == {"result": 5}

    anyio.run(main, backend="trio")


@pytest.mark.parametrize(
    ("options", "status"),
    [
        ({"origin": "https://evil.example"}, 403),
        ({"host": "evil.example"}, 403),
        ({"subprotocol": "chat"}, 400),
        ({"path": "/elsewhere"}, 404),
    ],
)
def test_a_refused_upgrade_gets_the_status_serve_answers(
    asgi_server: int, options: dict[str, str], status: int
) -> None:
    assert upgrade_status(asgi_server, **options) == status


def test_health_and_a_plain_get_are_answered(asgi_server: int) -> None:
    base = f"http://127.0.0.1:{asgi_server}"
    with urllib.request.urlopen(f"{base}/healthz", timeout=30) as health:
        assert (health.status, health.read()) == (200, b"ok\n")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/mcp", timeout=30)
    with refused.value as answer:
        assert (answer.code, answer.headers["upgrade"]) == (426, "websocket")


def test_bad_json_is_answered_and_the_connection_goes_on(asgi_server: int) -> None:
    async def main() -> None:
        with anyio.fail_after(TIMEOUT):
            raw = await RawClient.open(asgi_server)
            assert "result" in await raw.ask(INITIALIZE)
            assert (await raw.ask("not json"))["error"]["code"] == -32700
            ping = {"jsonrpc": "2.0", "id": "abc", "method": "ping"}
            assert await raw.ask(json.dumps(ping)) == {"jsonrpc": "2.0", "id": "abc", "result": {}}
            await raw.stream.aclose()

    anyio.run(main, backend="trio")


@pytest.mark.parametrize(
    ("message", "code"),
    [(b"\x00binary", 1003), ("x" * (2**20 + 1), 1009)],
    ids=["binary", "over-the-limit"],
)
def test_a_message_mcp_cannot_take_closes_the_connection(
    asgi_server: int, message: bytes | str, code: int
) -> None:
    async def main() -> None:
        with anyio.fail_after(TIMEOUT):
            raw = await RawClient.open(asgi_server)
            assert "result" in await raw.ask(INITIALIZE)
            if isinstance(message, bytes):
                raw.core.send_bytes(message)
            else:
                raw.core.send_text(message)
            await raw.flush()
            await raw.until(partial(_has_closed, raw))
            closed = raw.closed()
            assert isinstance(closed, ConnectionClosed)
            assert closed.code == code
            texts = [e for e in raw.events if isinstance(e, TextReceived)]
            assert len(texts) == 1  # the answer to initialize, and nothing else
            await raw.stream.aclose()

    anyio.run(main, backend="trio")


def _has_closed(raw: RawClient) -> bool:
    return raw.closed() is not None


def test_the_typescript_sdk_client_calls_tools(asgi_server: int, node_packages: Path) -> None:
    script: list[str | Path] = [node_packages / NODE, INTEROP / "ts_tools.mjs", node_packages]
    url = f"ws://127.0.0.1:{asgi_server}/mcp"
    done = subprocess.run(
        [*script, url, "add", json.dumps({"a": 2, "b": 3})],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert (seen["server"], seen["subprotocol"]) == ("asgi", "mcp")
    assert seen["result"]["structured"] == {"result": 5}


@pytest.fixture(scope="module")
def node_packages() -> Path:
    return node_packages_folder()


def uvicorn(app: str, *options: str) -> AbstractContextManager[int]:
    """``uvicorn app`` in a process of its own while in the block; its port."""
    return asgi_serving(app, *SERVERS["uvicorn-websockets"], *options)


@pytest.mark.parametrize("host", ["starlette_app", "fastapi_app"])
def test_mounted_beside_the_sdk_streamable_http_endpoint_in_one_lifespan(host: str) -> None:
    """Both endpoints of one process answer; the mount point is no part of the path the
    WebSocket application matches."""
    with uvicorn(f"asgi_mounted:{host}") as port:

        async def main() -> None:
            with anyio.fail_after(TIMEOUT):
                async with connect(f"ws://127.0.0.1:{port}/ws/mcp") as client:
                    added = await client.call_tool("add", {"a": 2, "b": 3})
                    assert added.structured_content == {"result": 5}
                async with mcp.Client(f"http://127.0.0.1:{port}/http/mcp") as sdk_client:
                    product = await sdk_client.call_tool("multiply", {"a": 6, "b": 7})
                    assert product.structured_content == {"result": 42}

        anyio.run(main, backend="trio")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ws/healthz", timeout=30) as up:
            assert up.read() == b"ok\n"


def test_uvicorn_workers_share_the_clients_and_answer_every_call() -> None:
    """Under ``uvicorn --workers 4``, 32 clients at once land on more than one worker
    (their ``pid`` tool says which), and every call is answered. Which worker accepts is
    the kernel's choice: a batch that all went to one is followed by another, three at
    most."""
    with uvicorn("asgi_app:app", "--workers", "4") as port:

        async def one(number: int, pids: list[int]) -> None:
            async with connect(f"ws://127.0.0.1:{port}/mcp") as client:
                answered = await client.call_tool("pid", {})
                assert answered.structured_content is not None
                pids.append(answered.structured_content["result"])
                added = await client.call_tool("add", {"a": number, "b": 1})
                assert added.structured_content == {"result": number + 1}

        async def main() -> list[int]:
            pids: list[int] = []
            with anyio.fail_after(TIMEOUT):
                async with anyio.create_task_group() as group:
                    for number in range(32):
                        group.start_soon(one, number, pids)
            return pids

        seen: set[int] = set()
        for _ in range(3):
            pids = anyio.run(main, backend="trio")
            assert len(pids) == 32
            seen.update(pids)
            if len(seen) > 1:
                break
        assert len(seen) > 1


@pytest.mark.parametrize("worker", ["asyncio", "trio"])
@pytest.mark.parametrize("app", ["sdk_app", "stdio_app"])
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_an_sdk_server_and_a_stdio_bridge_as_asgi_applications(
    worker: str, app: str, mode: Any
) -> None:
    """Under hypercorn's asyncio and trio workers, an SDK ``MCPServer`` and a stdio server
    behind the bridge serve the SDK client in both eras."""
    with asgi_serving(f"asgi_hosted:{app}", *SERVERS[f"hypercorn-{worker}"]) as port:

        async def main() -> None:
            with anyio.fail_after(TIMEOUT):
                transport = websocket_client(f"ws://127.0.0.1:{port}/mcp")
                async with mcp.Client(transport, mode=mode) as client:
                    added = await client.call_tool("add", {"a": 2, "b": 3})
                    assert added.structured_content == {"result": 5}

        anyio.run(main)


@pytest.mark.parametrize("server", ["uvicorn-websockets", "hypercorn-trio"])
def test_a_server_written_for_the_sdk_1x_websocket_server_serves_the_sdk_client(
    server: str,
) -> None:
    """``mcpws.sdk.websocket_server`` in a Starlette ``WebSocketRoute``, as 1.x code used
    ``mcp.server.websocket.websocket_server``; and its upgrade checks, which 1.x had not."""
    with asgi_serving("asgi_sdk1:app", *SERVERS[server]) as port:

        async def main() -> None:
            with anyio.fail_after(TIMEOUT):
                transport = websocket_client(f"ws://127.0.0.1:{port}/ws")
                async with mcp.Client(transport, mode="legacy") as client:
                    added = await client.call_tool("add", {"a": 2, "b": 3})
                    assert added.structured_content == {"result": 5}

        anyio.run(main)
        assert upgrade_status(port, path="/ws", origin="https://evil.example") == 403
        assert upgrade_status(port, path="/ws", subprotocol="chat") == 400


@pytest.mark.parametrize("server", ["uvicorn-websockets", "hypercorn-trio"])
def test_replicas_under_an_asgi_server_tell_each_others_clients_through_redis(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes of one ASGI server (asyncio, or trio), each running ``App(...,
    bus=RedisBus(url))``: a client subscribed on A is told of the changes a call on B
    makes."""
    redis = RedisServer(tmp_path)
    redis.start()
    monkeypatch.setenv("MCPWS_TEST_BUS", redis.url)
    heard: list[str] = []

    async def main(first: int, second: int) -> None:
        told = anyio.Event()

        def noted(method: str, params: object) -> None:
            heard.append(method)
            if len(heard) == 2:
                told.set()

        with anyio.fail_after(TIMEOUT):
            async with (
                connect(f"ws://127.0.0.1:{first}/mcp", revisions=("2025-11-25",)) as listener,
                connect(f"ws://127.0.0.1:{second}/mcp") as caller,
            ):
                listener.on_notification = noted
                await listener.subscribe_resource("news://today")
                await caller.call_tool("publish", {"uri": "news://today"})
                await told.wait()

    try:
        with (
            asgi_serving("asgi_news:app", *SERVERS[server]) as first,
            asgi_serving("asgi_news:app", *SERVERS[server]) as second,
        ):
            redis.wait_for_subscribers("mcpws:news", 2)  # both lifespans have begun
            anyio.run(main, first, second, backend="trio")
    finally:
        redis.stop()
    assert heard == ["notifications/resources/updated", "notifications/tools/list_changed"]
