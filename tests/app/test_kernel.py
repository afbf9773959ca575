"""The kernel's backpressure rule, on a pump without a loop: a server acts on its client's
messages one at a time, only while there is room for the answers, at most ``BURST`` of
them and ``SLICE`` bytes of a read in one go, and stops reading while it holds enough."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Coroutine
from typing import Any

from helpers.network import INITIALIZE
from mcpws import Server, lowlevel
from mcpws.core import jsonrpc
from mcpws.core.connection import (
    ClientConnection,
    ConnectionRequested,
    MessageReceived,
    ServerConnection,
)
from mcpws.core.session import ServerSession


class _Waiter:
    settled = False

    def settle(self, outcome: object) -> None:
        self.settled = True

    async def wait(self) -> object:
        raise AssertionError("nothing waits here")  # pragma: no cover


class _Event:
    def __init__(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True

    async def wait(self) -> None:
        raise AssertionError("nothing waits here")  # pragma: no cover


class _Pump(lowlevel.Kernel):
    """A kernel whose loop is the test: it notes what it sends and when it asks for a turn."""

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        self.closed = _Event()
        self.sent: list[bytes] = []
        self.backlog = 0  # what the transport has not written
        self.turns = 0  # the turns it asked for and did not get yet

    def now(self) -> float:
        return 0.0

    def waiter(self) -> _Waiter:
        return _Waiter()

    def spawn(self, work: Coroutine[Any, Any, None], done: Any) -> Any:
        raise AssertionError("every answer here is given at once")  # pragma: no cover

    async def in_thread(self, fn: Any) -> Any:
        raise AssertionError("no thread here")

    def move_on_at(self, deadline: float) -> Any:
        return contextlib.nullcontext()  # pragma: no cover

    def soon(self) -> None:
        self.turns += 1

    def flush(self) -> None:
        self.sent += self.connection.data_to_send()

    def queued(self) -> int:
        return self.backlog

    async def written(self) -> None:  # pragma: no cover
        pass

    def turn(self) -> None:
        """The loop's turn it asked for."""
        assert self.turns == 1
        self.turns = 0
        self.resumed()


def _accept(_: ConnectionRequested) -> None:
    return None


def _opened(**options: Any) -> tuple[ClientConnection, _Pump]:
    """A server pump with an initialized session, and a client connection without one,
    which sends what the test says."""
    app = Server("kernel")
    session = ServerSession(app.session_config())
    server = ServerConnection(0.0, session=session, authenticate=_accept)
    pump = _Pump(server, app.handle, **options)
    client = ClientConnection("ws://localhost/mcp", 0.0)
    pump.receive(b"".join(client.data_to_send()))
    client.receive_data(b"".join(pump.sent), 0.0)
    pump.sent.clear()
    client.events_received()
    _send(client, pump, INITIALIZE, '{"jsonrpc":"2.0","method":"notifications/initialized"}')
    _answers(client, pump)
    return client, pump


def _send(client: ClientConnection, pump: _Pump, *texts: str) -> None:
    for text in texts:
        message = jsonrpc.decode(text)
        assert not isinstance(message, list)
        client.send(message)
    pump.receive(b"".join(client.data_to_send()))


def _answers(client: ClientConnection, pump: _Pump) -> list[Any]:
    """The ids of the answers the server sent since the last call."""
    client.receive_data(b"".join(pump.sent), 0.0)
    pump.sent.clear()
    answers = [e.message for e in client.events_received() if isinstance(e, MessageReceived)]
    return [a.id for a in answers if isinstance(a, jsonrpc.Response)]


def _pings(ids: range) -> list[str]:
    return [json.dumps({"jsonrpc": "2.0", "id": n, "method": "ping"}) for n in ids]


def test_at_most_a_burst_of_messages_is_acted_on_before_the_loop_gets_a_turn() -> None:
    client, pump = _opened()
    _send(client, pump, *_pings(range(100)))
    assert _answers(client, pump) == list(range(lowlevel.BURST))
    pump.turn()
    assert _answers(client, pump) == list(range(lowlevel.BURST, 2 * lowlevel.BURST))
    while pump.turns:
        pump.turn()
    assert _answers(client, pump) == list(range(2 * lowlevel.BURST, 100))
    assert not pump.connection.holding


def test_a_large_read_is_fed_a_slice_at_a_time_and_nothing_more_is_read_meanwhile() -> None:
    client, pump = _opened()
    texts = _pings(range(2000))
    _send(client, pump, *texts)
    assert not pump.reading
    answered = _answers(client, pump)
    assert answered == list(range(lowlevel.BURST))
    while pump.turns:
        pump.turn()
        answered += _answers(client, pump)
    assert answered == list(range(2000))
    assert pump.reading


def test_no_message_is_acted_on_while_the_peer_has_not_read_enough() -> None:
    client, pump = _opened()
    pump.backlog = pump.write_limit
    _send(client, pump, *_pings(range(3)))
    assert _answers(client, pump) == []
    assert pump.connection.holding
    assert pump.reading  # it holds little: it reads on, for pongs
    pump.backlog = 0
    pump.process()  # as a driver does once its transport has written what it held
    assert _answers(client, pump) == [0, 1, 2]


def test_a_server_reads_no_more_once_its_peer_has_an_eighth_past_the_limit_unread() -> None:
    _, pump = _opened(write_limit=64)
    readings = []
    for backlog in (64 + 7, 64 + 8, 0):  # past the room for answers, it reads on for pongs
        pump.backlog = backlog
        readings.append(pump.reading)
    assert readings == [True, False, True]


def test_a_server_reads_no_more_while_it_holds_the_write_limit() -> None:
    client, pump = _opened(write_limit=64)
    pump.backlog = 64
    _send(client, pump, *_pings(range(3)))
    assert pump.connection.held >= 64
    assert not pump.reading


def test_a_client_acts_on_everything_and_reads_on() -> None:
    app = Server("kernel")
    client = ClientConnection("ws://localhost/mcp", 0.0)
    pump = _Pump(client, app.handle)
    pump.backlog = 10 * pump.write_limit
    assert pump.room
    assert pump.reading
