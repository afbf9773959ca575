"""Many connections and many requests, on each driver mcpws ships: a new client is served at
once beside hundreds of idle connections; clients that call over and over leave the process
holding what it held; requests beyond ``max_pending_requests`` are refused with -32005 and
every request is answered once; and clients killed abruptly, round after round, leave
nothing behind: no connection, no object, no descriptor. The long versions are marked
slow; ``benchmarks/`` measures the same at scale, against a reference."""

from __future__ import annotations

import json
import socket
import struct
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import anyio
import anyio.abc
import pytest

from helpers.census import mcpws_objects, open_descriptors, room_for, set_aside
from helpers.network import INITIALIZE, RawClient
from helpers.pairs import SHIPPED, Pair, Served, Watch, text_of
from mcpws import Server
from mcpws.core.session import TOO_MANY_REQUESTS
from mcpws.core.websocket import TextReceived


@pytest.fixture(autouse=True)
def _census_of_this_test_only() -> Iterator[None]:
    with set_aside():
        yield


#: Each driver alone, on its virtual clock.
ALONE = [pytest.param(Pair(driver, driver), id=driver) for driver in SHIPPED]
#: What a raw client sends once its ``initialize`` is answered.
_INITIALIZED = "notifications/initialized"


class _Target:
    """A server with ``add``, and ``hold``, whose calls wait until :meth:`release`."""

    def __init__(self) -> None:
        self.app = app = Server("target")
        self.held = 0
        self.released = False
        self.watch = Watch()

        @app.tool()
        def add(a: int, b: int) -> int:
            return a + b

        @app.tool()
        async def hold() -> str:
            self.held += 1
            self.watch.poke()
            await self.watch.until(lambda: self.released)
            return "released"

    def release(self) -> None:
        """Let every ``hold`` call return (in the server's loop)."""
        self.released = True
        self.watch.poke()

    def connections(self) -> int:
        """How many connections the server counts (in the server's loop)."""
        return len(self.app._links)


async def _served_at_once(pair: Pair, served: Served) -> None:
    """A new client connects and makes a call without waiting on any timer."""
    began = anyio.current_time()
    async with pair.connect(served.url) as client:
        assert text_of(await client.call_tool("add", {"a": 1, "b": 2})) == "3"
    assert pair.lasted(began, 0)


# Idle connections ------------------------------------------------------------------------


@pytest.mark.parametrize("pair", ALONE)
def test_a_new_client_is_served_at_once_beside_idle_connections(pair: Pair) -> None:
    _beside_idle(pair, 200)


@pytest.mark.slow
@pytest.mark.parametrize("pair", ALONE)
def test_a_new_client_is_served_at_once_beside_a_thousand_idle_connections(pair: Pair) -> None:
    _beside_idle(pair, 1000)


def _beside_idle(pair: Pair, idle: int) -> None:
    """*idle* clients connect and say nothing more; a new one is served at once, and so is
    each of them afterwards."""
    room_for(2 * idle + 10)
    target = _Target()

    async def main() -> None:
        async with pair.serving(target.app) as served, AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(pair.connect(served.url)) for _ in range(idle)
            ]
            assert await served.call(target.connections) == idle
            await _served_at_once(pair, served)
            for n, client in enumerate(clients):
                assert text_of(await client.call_tool("add", {"a": n, "b": 1})) == str(n + 1)

    pair.run(main)


# Clients that call over and over -----------------------------------------------------------


@pytest.mark.parametrize("pair", ALONE)
def test_clients_calling_over_and_over_leave_the_process_holding_what_it_held(
    pair: Pair,
) -> None:
    _soak(pair, clients=10, rounds=3, calls=20)


@pytest.mark.slow
@pytest.mark.parametrize("pair", ALONE)
def test_fifty_clients_calling_thousands_of_times_leave_the_process_holding_what_it_held(
    pair: Pair,
) -> None:
    _soak(pair, clients=50, rounds=6, calls=50)


def _soak(pair: Pair, *, clients: int, rounds: int, calls: int) -> None:
    """*clients* clients make *calls* calls each, one after the other, in each of *rounds*
    rounds: every call succeeds; after the first round, which warms the process up, every
    round leaves exactly as many objects of mcpws's as the first did; and once the clients
    have left, the process holds what it held before they came."""
    target = _Target()

    async def main() -> None:
        async with pair.serving(target.app) as served:
            descriptors = open_descriptors()
            await _served_at_once(pair, served)  # what is made once, on first use, is made
            await _until_settled(served, target, descriptors)
            before = await served.call(mcpws_objects)
            async with AsyncExitStack() as stack:
                connected = [
                    await stack.enter_async_context(pair.connect(served.url))
                    for _ in range(clients)
                ]

                async def call(n: int) -> None:
                    for m in range(calls):
                        result = await connected[n].call_tool("add", {"a": n, "b": m})
                        assert text_of(result) == str(n + m)

                held: list[Counter[str]] = []
                for _ in range(rounds):
                    async with anyio.create_task_group() as group:
                        for n in range(clients):
                            group.start_soon(call, n)
                    held.append(await served.call(mcpws_objects))
                assert held[1:] == [held[0]] * (rounds - 1)
            connected.clear()  # what the test itself held
            await _until_settled(served, target, descriptors)
            assert await served.call(mcpws_objects) == before

    pair.run(main)


async def _until_settled(served: Served, target: _Target, descriptors: int) -> None:
    """Wait until the server counts no connection and this process has *descriptors* open
    again (a transport may close a turn of the loop after its connection has ended)."""
    while await served.call(target.connections):
        await anyio.sleep(0.25)
    for _ in range(20):
        if open_descriptors() == descriptors:
            break
        await anyio.sleep(0.25)
    assert open_descriptors() == descriptors


# Requests beyond the limit -----------------------------------------------------------------


@pytest.mark.parametrize("pair", ALONE)
def test_ten_thousand_requests_at_once_are_refused_beyond_the_limit_and_each_answered_once(
    pair: Pair,
) -> None:
    _beyond_the_limit(pair, limit=None, requests=10_000)


@pytest.mark.parametrize("pair", ALONE)
def test_the_limit_of_requests_in_flight_is_the_one_configured(pair: Pair) -> None:
    _beyond_the_limit(pair, limit=10, requests=100)


def _beyond_the_limit(pair: Pair, *, limit: int | None, requests: int) -> None:
    """A client sends *requests* calls of ``hold`` at once, over a connection that takes
    *limit* requests in flight (``None``: the default, 1,000): those beyond it are refused
    with -32005 at once; once the calls held return, the first *limit* are answered with
    their results. Every request gets one answer, none is lost, none answered twice."""
    target = _Target()
    options = {} if limit is None else {"max_pending_requests": limit}
    admitted = 1000 if limit is None else limit
    answers: dict[int, list[dict[str, Any]]] = {n: [] for n in range(1, requests + 1)}

    async def main() -> None:
        async with pair.serving(target.app, **options) as served:
            client = await RawClient.open(served.port)
            async with client.stream:
                assert "result" in await client.ask(INITIALIZE)
                client.core.send_text(json.dumps({"jsonrpc": "2.0", "method": _INITIALIZED}))
                for n in answers:
                    params = {"name": "hold", "arguments": {}}
                    call = {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params}
                    client.core.send_text(json.dumps(call))
                sending = b"".join(client.core.data_to_send())
                seen = len(client.events)

                def answered() -> int:
                    for event in client.events[seen:]:
                        if isinstance(event, TextReceived):
                            answer = json.loads(event.text)
                            answers[answer["id"]].append(answer)
                    del client.events[seen:]
                    return sum(map(len, answers.values()))

                async with anyio.create_task_group() as group:
                    group.start_soon(client.stream.send, sending)  # read meanwhile
                    await client.until(lambda: answered() == requests - admitted, mute=True)
                await served.call(target.release)
                await client.until(lambda: answered() == requests, mute=True)

    pair.run(main, idle=0.1)
    assert all(len(answer) == 1 for answer in answers.values())
    refused = {n for n, [answer] in answers.items() if "error" in answer}
    assert refused == set(range(admitted + 1, requests + 1))
    for n, [answer] in answers.items():
        if n in refused:
            assert answer["error"]["code"] == TOO_MANY_REQUESTS
        else:
            assert answer["result"]["content"][0]["text"] == "released"


# Clients killed abruptly -------------------------------------------------------------------


@pytest.mark.parametrize("pair", ALONE)
def test_clients_killed_abruptly_leave_nothing_behind(pair: Pair) -> None:
    _killed(pair, rounds=5, clients=20)


@pytest.mark.slow
@pytest.mark.parametrize("pair", ALONE)
def test_thirty_rounds_of_fifty_clients_killed_abruptly_leave_nothing_behind(pair: Pair) -> None:
    _killed(pair, rounds=30, clients=50)


def _killed(pair: Pair, *, rounds: int, clients: int) -> None:
    """In each of *rounds* rounds, *clients* clients open a session, start a call that the
    server holds, and vanish as a killed process does: half with a FIN, half with a reset.
    After each round the server counts no connection, the process holds exactly the
    objects of mcpws's and the descriptors it held before the first, and a new client is
    served at once."""
    room_for(2 * clients + 10)
    target = _Target()

    async def one(port: int) -> RawClient:
        client = await RawClient.open(port)
        assert "result" in await client.ask(INITIALIZE)
        client.core.send_text(json.dumps({"jsonrpc": "2.0", "method": _INITIALIZED}))
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "hold"}}
        client.core.send_text(json.dumps(call))
        await client.flush()
        return client

    async def main() -> None:
        async with pair.serving(target.app) as served:
            descriptors = open_descriptors()
            await _served_at_once(pair, served)  # what is made once, on first use, is made
            await _until_settled(served, target, descriptors)
            objects = await served.call(mcpws_objects)
            for _ in range(rounds):
                target.held = 0
                gone = [await one(served.port) for _ in range(clients)]
                await served.call(target.watch.until, lambda: target.held == clients)
                for n, client in enumerate(gone):
                    if n % 2:  # a reset: what a killed process with unread bytes sends
                        raw = client.stream.extra(anyio.abc.SocketAttribute.raw_socket)
                        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
                    await client.stream.aclose()
                del gone, client  # the test's own cores
                await _until_settled(served, target, descriptors)
                assert await served.call(mcpws_objects) == objects
                await _served_at_once(pair, served)

    pair.run(main)


#: ``SO_LINGER`` on, for no time: closing the socket resets the connection.
_RESET = struct.pack("ii", 1, 0)
