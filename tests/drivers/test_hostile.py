"""Hostile peers over real sockets, for every pair of drivers: upgrades that come a byte a
second or never are cut with 408 at the handshake timeout, a flood of pings from a peer
that does not read costs the server a bounded amount and every ping is answered once, and
a path that fails without a word (no FIN, no reset) is noticed by both ends through their
keepalive. Meanwhile, others are served at once."""

from __future__ import annotations

import contextlib
import socket
from typing import Any

import anyio
import anyio.abc
import pytest

from helpers.census import room_for
from helpers.network import proxy, upgrade_request
from helpers.pairs import SHIPPED, Pair, Served, Watch, forever, text_of
from mcpws import Server
from mcpws.app import ConnectionLost
from mcpws.core.websocket import WebSocketConfig
from mcpws.core.websocket._frames import frame

#: The first byte of a ping and of a pong: FIN and the opcode.
_PING, _PONG = 0x89, 0x8A


class _Hangs:
    """A server with ``add`` and ``hang``, and the virtual times at which ``hang`` calls
    began and were cancelled, which :attr:`watch` follows (in the server's loop)."""

    def __init__(self) -> None:
        self.app = app = Server("target")
        self.began: list[float] = []
        self.cancelled: list[float] = []
        self.watch = Watch()

        @app.tool()
        def add(a: int, b: int) -> int:
            return a + b

        @app.tool()
        async def hang() -> None:
            self._note(self.began)
            try:
                await forever()
            except anyio.get_cancelled_exc_class():
                self._note(self.cancelled)
                raise

    def _note(self, times: list[float]) -> None:
        times.append(anyio.current_time())
        self.watch.poke()


async def _served_at_once(pair: Pair, served: Served) -> None:
    """A new client connects and makes a call without waiting on any timer."""
    began = anyio.current_time()
    async with pair.connect(served.url) as client:
        assert text_of(await client.call_tool("add", {"a": 1, "b": 2})) == "3"
    assert pair.lasted(began, 0)


async def _answer(stream: anyio.abc.SocketStream) -> bytes:
    """Everything the server sends on *stream* until it closes the connection."""
    received = b""
    try:
        async for data in stream:
            received += data
    except anyio.BrokenResourceError:  # a reset, for the bytes it had not read
        pass
    return received


def test_slow_and_silent_upgrades_are_cut_with_408_at_the_handshake_timeout(pair: Pair) -> None:
    _cut_with_408(pair, slow=10, silent=5, timeout=3)


@pytest.mark.slow
@pytest.mark.parametrize("pair", [Pair(driver, driver) for driver in SHIPPED], ids=str)
def test_a_thousand_slow_upgrades_and_two_hundred_silent_ones_are_cut_with_408(
    pair: Pair,
) -> None:
    room_for(2 * 300 + 10)
    _cut_with_408(pair, slow=250, silent=50, timeout=None)


def _cut_with_408(pair: Pair, *, slow: int, silent: int, timeout: float | None) -> None:
    """*slow* upgrade requests sent a byte a second, and *silent* connections that send
    nothing: each is answered 408 once the ``handshake_timeout`` (*timeout*; ``None``: the
    default, 10 s) has passed since it was accepted, and a client is served at once
    meanwhile."""
    config = WebSocketConfig() if timeout is None else WebSocketConfig(handshake_timeout=timeout)
    assert config.handshake_timeout is not None
    answered: list[tuple[float, bytes]] = []

    async def trickle(port: int) -> None:
        opened = anyio.current_time()
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            async with anyio.create_task_group() as group:

                async def a_byte_a_second() -> None:
                    for byte in upgrade_request(port):
                        await stream.send(bytes([byte]))
                        await anyio.sleep(1)

                group.start_soon(a_byte_a_second)
                answer = await _answer(stream)
                group.cancel_scope.cancel()
            answered.append((anyio.current_time() - opened, answer))

    async def say_nothing(port: int) -> None:
        opened = anyio.current_time()
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            answer = await _answer(stream)
            answered.append((anyio.current_time() - opened, answer))

    async def main() -> None:
        async with pair.serving(_Hangs().app, config=config) as served:
            async with anyio.create_task_group() as group:
                for _ in range(slow):
                    group.start_soon(trickle, served.port)
                for _ in range(silent):
                    group.start_soon(say_nothing, served.port)
                await anyio.sleep(1)
                await _served_at_once(pair, served)
            await _served_at_once(pair, served)

    pair.run(main)
    assert len(answered) == slow + silent
    for took, answer in answered:
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert answer.endswith(b"\r\n\r\nthe request did not arrive in time\n")
        assert pair.took(took, config.handshake_timeout)


def _ping(n: int) -> bytes:
    """Ping number *n*, masked, with the largest payload a ping may have (125 bytes)."""
    return frame(_PING, _payload(n), masked=True)


def _payload(n: int) -> bytes:
    return n.to_bytes(5, "big") * 25


#: Pings a flood sends in one write; the bytes it sends at most, far more than the sockets
#: between the peers hold; the bytes it may send before the server stops reading, which is
#: what the server holds at most: the sockets' buffers (a few hundred KiB, see below), the
#: last read (at most 256 KiB) and its pongs.
_BURST = 512
_FLOOD = 16 << 20
_HELD = 4 << 20
#: The size of the socket buffers at both ends (the kernel doubles it), so that the pongs
#: pile up at the server, not in the sockets. Far smaller, and the peer's window would open
#: too little for the server to be told, when the peer reads again, but by a timer of the
#: kernel's, in real time.
_BUFFER = 65536


@pytest.mark.parametrize(
    "pair", [Pair(server, client) for server in SHIPPED for client in SHIPPED], ids=str
)
def test_a_flood_of_pings_from_a_peer_that_does_not_read_is_bounded(pair: Pair) -> None:
    """A peer that sends pings as fast as it can and reads none of the pongs: the server
    stops reading from it once the pongs pile up, serves everyone else meanwhile, and
    answers every ping, once and in order, when the peer reads again. (On the drivers
    mcpws ships: the tests' own driver takes ten times as long over the pings.)"""
    sent: list[int] = []
    pongs: list[bytes] = []

    async def main() -> None:
        # No keepalive: the server's own pings would be unanswered while the peer is deaf.
        config = WebSocketConfig(ping_interval=None)
        async with pair.serving(_Hangs().app, config=config) as served:
            for listening in served.sockets:  # what the server accepts takes after them
                _small_buffers(listening)
            with await _deaf_upgraded(served.port) as peer:
                stop, done, watch = anyio.Event(), anyio.Event(), Watch()

                async def flood() -> None:
                    while not stop.is_set() and len(sent) * len(_ping(0)) < _FLOOD:
                        first = len(sent)
                        await _send(peer, b"".join(map(_ping, range(first, first + _BURST))))
                        sent.extend(range(first, first + _BURST))
                    done.set()
                    watch.poke()

                async def read() -> None:
                    unread = b""
                    while data := await _receive(peer):
                        unread += data
                        while len(unread) >= 127:
                            assert unread[:2] == bytes([_PONG, 125])
                            pongs.append(unread[2:127])
                            unread = unread[127:]
                        watch.poke()

                async with anyio.create_task_group() as group:
                    group.start_soon(flood)
                    stalled = await _stalled(sent)
                    assert stalled * len(_ping(0)) < _HELD
                    await _served_at_once(pair, served)
                    stop.set()
                    group.start_soon(read)
                    await watch.until(lambda: done.is_set() and len(pongs) >= len(sent))
                    group.cancel_scope.cancel()

    pair.run(main, idle=0.1)
    assert sent == list(range(len(sent)))
    assert pongs == [_payload(n) for n in sent]


async def _deaf_upgraded(port: int) -> socket.socket:
    """A socket upgraded to a WebSocket, which reads only when :func:`_receive` is called:
    unlike a stream of the loop, which may read on its own."""
    peer = socket.socket()
    _small_buffers(peer)
    peer.connect(("127.0.0.1", port))  # at once, on loopback
    peer.setblocking(False)
    await _send(peer, upgrade_request(port))
    head = b""
    while b"\r\n\r\n" not in head:
        head += await _receive(peer)
    assert head.startswith(b"HTTP/1.1 101 ")
    assert head.endswith(b"\r\n\r\n")  # nothing came after it
    return peer


def _small_buffers(sock: Any) -> None:
    """Give *sock* (a socket of the standard library or a loop's) small buffers."""
    for buffer in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        sock.setsockopt(socket.SOL_SOCKET, buffer, _BUFFER)


async def _send(peer: socket.socket, data: bytes) -> None:
    """Write *data* to the non-blocking *peer*, waiting for room as need be."""
    view = memoryview(data)
    while view:
        await anyio.wait_writable(peer)
        with contextlib.suppress(BlockingIOError):
            view = view[peer.send(view) :]


async def _receive(peer: socket.socket) -> bytes:
    """Read what has come to the non-blocking *peer*, waiting for it as need be."""
    while True:
        await anyio.wait_readable(peer)
        with contextlib.suppress(BlockingIOError):
            return peer.recv(1 << 16)


async def _stalled(sent: list[int]) -> int:
    """Wait until *sent* has not grown for a second; how long it is."""
    while True:
        before = len(sent)
        await anyio.sleep(1)
        if len(sent) == before:
            return before


def test_a_path_that_fails_without_a_word_is_noticed_by_both_ends(pair: Pair) -> None:
    """A network between client and server that stops passing anything on, and closes
    nothing (a dead host, a pulled cable): each end pings, gets no pong, and gives the
    connection up one ``ping_interval`` plus one ``ping_timeout`` after the last sign of
    life; the client's call in flight fails with ConnectionLost, the server's handler is
    cancelled."""
    config = WebSocketConfig(ping_interval=2, ping_timeout=3)
    hangs = _Hangs()
    lost: list[float] = []

    async def main() -> None:
        async with (
            pair.serving(hangs.app, config=config) as served,
            proxy(served.port) as network,
            pair.connect(network.url, config=config) as client,
        ):
            async with anyio.create_task_group() as group:

                async def in_flight() -> None:
                    with pytest.raises(ConnectionLost):
                        await client.call_tool("hang")
                    lost.append(anyio.current_time())

                group.start_soon(in_flight)
                await served.call(hangs.watch.until, lambda: bool(hangs.began))
                network.freeze()
                frozen = anyio.current_time()
            await served.call(hangs.watch.until, lambda: bool(hangs.cancelled))
        assert pair.took(lost[0] - frozen, 5)
        assert pair.took(hangs.cancelled[0] - frozen, 5)

    pair.run(main)
