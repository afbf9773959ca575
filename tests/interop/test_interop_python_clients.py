"""Interoperability with the WebSocket clients of Python that nobody here wrote: websockets
(asyncio) and trio-websocket (trio), against ``mcpws serve`` on each driver and against
``serve()`` of the driver of their own loop, in process.

Each offers subprotocols as an MCP client may, and does an ``initialize`` round trip and a
``tools/call`` when the server accepts: ``mcp`` is selected, and so is SEP-1288's
``mcp.version.<revision>``; ``mcp.auth.<token>`` is never echoed back; no offer at all is
accepted without a subprotocol, and an offer without an MCP subprotocol gets HTTP 400.
websockets also speaks the stateless era: ``server/discover``, then a ``tools/call``. Both
clients are test requirements, so these tests never skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import warnings
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeAlias

import pytest
import trio
from trio_websocket import ConnectionRejected, open_websocket_url
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

import mcpws.asyncio
import mcpws.trio
from helpers.peers import LOOPS, mcpws_serving, run_on
from mcpws._demo import demo_server

#: What a client saw: the subprotocol selected and the replies to ``initialize`` and
#: ``tools/call``, or the HTTP status of the refusal.
Outcome: TypeAlias = tuple[str | None, dict[str, Any], dict[str, Any]] | int
Client: TypeAlias = Callable[[str, Sequence[str] | None, str], Awaitable[Outcome]]


def _initialize(revision: str) -> str:
    client_info = {"name": "python-peer", "version": "1"}
    params = {"protocolVersion": revision, "capabilities": {}, "clientInfo": client_info}
    return json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params})


INITIALIZED = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
CALL = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 2, "b": 3}},
    }
)


async def with_websockets(url: str, offer: Sequence[str] | None, revision: str) -> Outcome:
    """Use the server at *url* with websockets, offering *offer* (``None``: no header)."""
    subprotocols = None if offer is None else [Subprotocol(name) for name in offer]
    try:
        async with connect(url, subprotocols=subprotocols) as websocket:
            await websocket.send(_initialize(revision))
            opened = json.loads(await websocket.recv())
            await websocket.send(INITIALIZED)
            await websocket.send(CALL)
            called = json.loads(await websocket.recv())
            return websocket.subprotocol, opened, called
    except InvalidStatus as exc:
        return exc.response.status_code


async def with_trio_websocket(url: str, offer: Sequence[str] | None, revision: str) -> Outcome:
    """Use the server at *url* with trio-websocket, offering *offer* (``None``: no header)."""
    try:
        async with open_websocket_url(url, subprotocols=offer) as websocket:
            await websocket.send_message(_initialize(revision))
            opened = json.loads(await websocket.get_message())
            await websocket.send_message(INITIALIZED)
            await websocket.send_message(CALL)
            called = json.loads(await websocket.get_message())
            return websocket.subprotocol, opened, called
    except ConnectionRejected as exc:
        status = exc.status_code
    # trio-websocket leaves the socket of a refused connection open (ConnectionRejected
    # leaves its reader task past the stream's close): collect it here, saying nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    return status


#: Each client, with the loop it runs on.
CLIENTS: dict[str, tuple[str, Client]] = {
    "websockets": ("asyncio", with_websockets),
    "trio-websocket": ("trio", with_trio_websocket),
}

#: Offers of subprotocols, the revision the client asks for, and the subprotocol selected
#: (or the HTTP status of the refusal).
OFFERS: list[tuple[Sequence[str] | None, str, str | int | None]] = [
    (["mcp"], "2025-11-25", "mcp"),
    (["mcp.auth.secret-token", "mcp"], "2025-11-25", "mcp"),
    (["mcp.version.2025-06-18"], "2025-06-18", "mcp.version.2025-06-18"),
    (["mcp.version.2025-06-18", "mcp"], "2025-06-18", "mcp.version.2025-06-18"),
    (None, "2025-11-25", None),
    (["foo"], "2025-11-25", 400),
    (["mcp.auth.secret-token"], "2025-11-25", 400),
]


def _check(outcome: Outcome, revision: str, selected: str | int | None) -> None:
    if isinstance(selected, int):
        assert outcome == selected
        return
    assert not isinstance(outcome, int), f"refused with {outcome}"
    subprotocol, opened, called = outcome
    assert subprotocol == selected
    assert opened["id"] == 0
    assert opened["result"]["protocolVersion"] == revision
    assert opened["result"]["serverInfo"]["name"] == "mcpws-demo"
    assert called == {
        "jsonrpc": "2.0",
        "id": 1,
        "result": {"content": [{"type": "text", "text": "5"}], "structuredContent": {"result": 5}},
    }


def _use(client: str, url: str, offer: Sequence[str] | None, revision: str) -> Outcome:
    loop, use = CLIENTS[client]
    outcomes: list[Outcome] = []

    async def main() -> None:
        outcomes.append(await use(url, offer, revision))

    run_on(loop, main)
    return outcomes[0]


@pytest.fixture(scope="module", params=LOOPS)
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    """``mcpws serve`` (the demo server) on each loop; its URL."""
    with mcpws_serving(request.param) as port:
        yield f"ws://127.0.0.1:{port}/mcp"


@pytest.mark.parametrize(("offer", "revision", "selected"), OFFERS)
@pytest.mark.parametrize("client", CLIENTS)
def test_a_python_client_uses_an_mcpws_server(
    server: str,
    client: str,
    offer: Sequence[str] | None,
    revision: str,
    selected: str | int | None,
) -> None:
    _check(_use(client, server, offer, revision), revision, selected)


def test_websockets_uses_the_asyncio_driver_in_process() -> None:
    async def main() -> None:
        status = mcpws.asyncio.TaskStatus()
        serving = asyncio.create_task(mcpws.asyncio.serve(demo_server(), task_status=status))
        try:
            url = (await status.wait()).url
            _check(await with_websockets(url, ["mcp"], "2025-11-25"), "2025-11-25", "mcp")
            assert await with_websockets(url, ["foo"], "2025-11-25") == 400
        finally:
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving

    run_on("asyncio", main)


def test_trio_websocket_uses_the_trio_driver_in_process() -> None:
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            url = (await nursery.start(mcpws.trio.serve, demo_server())).url
            _check(await with_trio_websocket(url, ["mcp"], "2025-11-25"), "2025-11-25", "mcp")
            assert await with_trio_websocket(url, ["foo"], "2025-11-25") == 400
            nursery.cancel_scope.cancel()

    run_on("trio", main)


#: The ``_meta`` every request of the stateless era carries.
STATELESS_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "python-peer", "version": "1"},
}


def _stateless(id: int, method: str, params: dict[str, Any]) -> str:
    params = {**params, "_meta": STATELESS_META}
    return json.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params})


def test_websockets_speaks_the_stateless_era(server: str) -> None:
    """No initialize: ``server/discover``, then a ``tools/call`` naming its revision."""
    replies: list[Any] = []

    async def main() -> None:
        async with connect(server, subprotocols=[Subprotocol("mcp")]) as websocket:
            assert websocket.subprotocol == "mcp"
            await websocket.send(_stateless(1, "server/discover", {}))
            replies.append(json.loads(await websocket.recv()))
            add = {"name": "add", "arguments": {"a": 4, "b": 5}}
            await websocket.send(_stateless(2, "tools/call", add))
            replies.append(json.loads(await websocket.recv()))

    run_on("asyncio", main)
    discovered, called = replies
    assert discovered["id"] == 1
    assert "2026-07-28" in discovered["result"]["supportedVersions"]
    server_info = discovered["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]
    assert server_info["name"] == "mcpws-demo"
    assert called["id"] == 2
    assert called["result"]["content"] == [{"type": "text", "text": "9"}]
    assert called["result"]["resultType"] == "complete"
