"""Large messages and peers that do not read, for every pair of drivers: large calls made
at once in both directions go through, a peer that does not read is not read from and holds
up nobody else, and gets every answer once it reads, and a peer that never reads is
dropped."""

from __future__ import annotations

import base64
import contextlib
import json
import math
import random

import anyio
import anyio.abc

from helpers.network import INITIALIZE, raw_upgrade
from helpers.pairs import Pair, text_of
from mcpws import Server, lowlevel
from mcpws.core.session import SHUTTING_DOWN
from mcpws.core.websocket import WebSocketConfig
from mcpws.core.websocket._frames import FIN_TEXT, frame, read_header

#: Real seconds a loop waits with nothing to do before its virtual clock jumps: once the
#: sockets are full, the kernel may take a moment to let a writer go on.
_IDLE = 0.1

#: The first byte of a ping.
_PING = 0x89

#: Text that deflate cannot shrink, so that it fills the sockets' buffers.
_NOISE = base64.b64encode(random.Random(5).randbytes(3 << 17)).decode()  # 512 KiB


def _echo(handled: list[int] | None = None) -> Server:
    """A server with ``echo``, and ``big``, whose calls are noted in *handled*."""
    app = Server("echo")
    noted = [] if handled is None else handled

    @app.tool()
    def echo(text: str) -> str:
        return text

    @app.tool()
    async def big(n: int) -> str:  # async: each answer is written by a task of its own
        noted.append(n)
        return "x" * 2_000_000

    return app


def test_large_calls_made_at_once_both_ways_go_through(pair: Pair) -> None:
    """Thirty-two 512 KiB calls at once: more than the sockets hold both ways, so each end must
    read while it still has to write, or both wait for ever."""

    async def main() -> None:
        config = WebSocketConfig(compression=False)
        async with (
            pair.serving(_echo(), config=config) as served,
            pair.connect(served.url, config=config) as client,
        ):
            echoed: list[str] = []

            async def call() -> None:
                result = await client.call_tool("echo", {"text": _NOISE})
                echoed.append(text_of(result))

            async with anyio.create_task_group() as group:
                for _ in range(32):
                    group.start_soon(call)
                    await anyio.sleep(0)  # one call's encoding per turn of the loop
            assert echoed == [_NOISE] * 32

    pair.run(main, idle=_IDLE)


class _Deaf:
    """A raw client that upgrades, initializes, then writes without reading."""

    def __init__(self, stream: anyio.abc.SocketStream) -> None:
        self.stream = stream
        self.unread = b""

    @classmethod
    async def open(cls, port: int) -> _Deaf:
        stream, head = await raw_upgrade(port)
        assert head.startswith(b"HTTP/1.1 101 ")
        deaf = cls(stream)
        deaf.unread = head.partition(b"\r\n\r\n")[2]
        await deaf.send(json.loads(INITIALIZE))
        assert "result" in await deaf.receive()
        await deaf.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return deaf

    async def send(self, *messages: dict[str, object]) -> None:
        """Write *messages* in one go."""
        await self.stream.send(
            b"".join(frame(FIN_TEXT, json.dumps(m).encode(), masked=True) for m in messages)
        )

    async def _exactly(self, size: int) -> bytes:
        while len(self.unread) < size:
            self.unread += await self.stream.receive(1 << 20)
        data, self.unread = self.unread[:size], self.unread[size:]
        return data

    async def receive(self) -> dict[str, object]:
        """The next message, a whole text frame (pings, which a slow run may see, skipped)."""
        while True:
            start = await self._exactly(2)
            head = start + await self._exactly({126: 2, 127: 8}.get(start[1] & 0x7F, 0))
            header = read_header(head, 0)
            assert header is not None
            payload = await self._exactly(header.length)
            if header.first != _PING:
                break
        assert header.first == FIN_TEXT
        message: dict[str, object] = json.loads(payload)
        return message


def _big(n: int) -> dict[str, object]:
    params = {"name": "big", "arguments": {"n": n}}
    return {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params}


def test_a_peer_that_does_not_read_is_not_read_from_until_it_does(pair: Pair) -> None:
    """Answers to a peer that reads nothing pile up: the server takes no new request from it
    meanwhile, serves everyone else, and answers everything once the peer reads."""
    handled: list[int] = []

    async def main() -> None:
        async with pair.serving(_echo(handled)) as served, pair.connect(served.url) as bystander:
            deaf = await _Deaf.open(served.port)
            await deaf.send(*map(_big, range(12)))  # 24 MB of answers: more than sockets hold
            await anyio.sleep(1)
            await deaf.send(*map(_big, range(12, 20)))
            await anyio.sleep(1)
            assert await served.call(sorted, handled) == list(range(12))
            result = await bystander.call_tool("echo", {"text": "still here"})
            assert text_of(result) == "still here"
            answered = [(await deaf.receive())["id"] for _ in range(20)]
            assert sorted(answered) == list(range(20))  # type: ignore[type-var]
            assert await served.call(sorted, handled) == list(range(20))
            await deaf.stream.aclose()

    pair.run(main, idle=_IDLE)


#: A 256 KiB answer, and the server's limit on what waits for a peer (the default).
_BLOB = 1 << 18
_LIMIT = lowlevel.WRITE_LIMIT


def _blobs(handled: list[int]) -> Server:
    """A server whose ``blob`` answers at once, with 256 KiB, noting each call in *handled*."""
    app = Server("blobs")

    @app.tool()
    def blob(n: int) -> str:
        handled.append(n)
        return "x" * _BLOB

    return app


def _call(name: str, n: int) -> dict[str, object]:
    params = {"name": name, "arguments": {"n": n}}
    return {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": params}


def test_what_a_peer_that_does_not_read_makes_a_server_hold_is_bounded(pair: Pair) -> None:
    """600 requests for 256 KiB answers in one write, never read: the server answers a few,
    holds the rest of the requests, and keeps about *write_limit* queued for the peer (the
    sockets' buffers aside), not 150 MB; once the peer reads, every answer comes, in order."""
    handled: list[int] = []
    app = _blobs(handled)

    def held() -> tuple[int, int, int]:
        (pump,) = app._links
        assert isinstance(pump, lowlevel.Kernel)
        return len(handled), pump.queued(), pump.connection.held

    async def main() -> None:
        async with pair.serving(app) as served:
            deaf = await _Deaf.open(served.port)
            await deaf.send(*(_call("blob", n) for n in range(600)))
            await anyio.sleep(1)
            answered, queued, unread = await served.call(held)
            assert answered < 100  # what the sockets' buffers took, and a little more
            assert queued < _LIMIT + _BLOB
            assert 0 < unread < _LIMIT
            await anyio.sleep(1)
            later, queued, unread = await served.call(held)  # it stays so
            assert later < 100
            assert queued < _LIMIT + _BLOB
            assert 0 < unread < _LIMIT
            ids = [(await deaf.receive())["id"] for _ in range(600)]
            assert ids == list(range(600))
            assert handled == list(range(600))
            await deaf.stream.aclose()

    pair.run(main, idle=_IDLE)


def test_a_peer_that_pings_and_never_reads_cannot_make_a_server_queue_pongs_without_end(
    pair: Pair,
) -> None:
    """Pings as fast as the sockets take them (the limit on control frames off), and never a
    read: the server stops reading once *write_limit* and an eighth wait for the peer, so
    that it queues about that much, not the 64 MiB of pongs the pings ask for (the sockets'
    buffers aside); another client is served meanwhile."""
    app = _echo()
    pings = frame(_PING, b"p" * 125, masked=True) * 8192  # 1 MiB

    def deaf_pump() -> tuple[bool, int]:
        pump = max(app._links, key=lambda link: link.queued())  # type: ignore[attr-defined]
        assert isinstance(pump, lowlevel.Kernel)
        return pump.reading, pump.queued()

    async def flood(deaf: _Deaf) -> None:
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            for _ in range(64):
                await deaf.stream.send(pings)

    async def main() -> None:
        config = WebSocketConfig(max_control_frames=None)
        async with pair.serving(app, config=config) as served:
            deaf = await _Deaf.open(served.port)
            async with anyio.create_task_group() as group:
                group.start_soon(flood, deaf)
                for _ in range(1000):  # until the server stops reading from it
                    reading, _ = await served.call(deaf_pump)
                    if not reading:
                        break
                    await anyio.sleep(0.05)
                bound = _LIMIT + _LIMIT // 8 + (1 << 18)  # and what one read of pings asks
                assert not reading
                for _ in range(5):  # the sockets' buffers may grow and let it read a little
                    _, queued = await served.call(deaf_pump)
                    assert queued < bound
                    await anyio.sleep(0.2)
                async with pair.connect(served.url) as client:
                    result = await client.call_tool("echo", {"text": "still here"})
                    assert text_of(result) == "still here"
                group.cancel_scope.cancel()
            await deaf.stream.aclose()

    pair.run(main, idle=_IDLE)


def test_pipelined_requests_are_refused_by_the_limits_not_by_how_they_arrive(pair: Pair) -> None:
    """3,000 requests in one write, whose answers the peer reads: the server acts on them one
    by one, answering each at once, so none comes near ``max_pending_requests`` (1000) and
    none is refused, however many of them one read of the socket held."""
    handled: list[int] = []

    async def main() -> None:
        async with pair.serving(_blobs(handled)) as served:
            deaf = await _Deaf.open(served.port)
            listing = [{"jsonrpc": "2.0", "id": n, "method": "tools/list"} for n in range(3000)]
            await deaf.send(*listing)
            answers = [await deaf.receive() for _ in range(3000)]
            assert [answer["id"] for answer in answers] == list(range(3000))
            assert all("result" in answer for answer in answers)
            await deaf.stream.aclose()

    pair.run(main, idle=_IDLE)


def test_a_server_shutting_down_lets_a_slow_reader_have_its_answers(pair: Pair) -> None:
    """Answers piled up for a peer that reads slowly go out within the grace period, as the
    handlers' work does, and the connection closes with 1001."""

    async def main() -> None:
        # A grace period long enough for 24 MB to be read, even across two loops.
        async with pair.serving(_echo(), shutdown_timeout=40) as served:
            deaf = await _Deaf.open(served.port)
            async with deaf.stream:
                await deaf.send(*map(_big, range(12)))  # more answers than the sockets hold
                await anyio.sleep(1)
                await served.stop()
                answers = [await deaf.receive() for _ in range(12)]
                close = await deaf._exactly(4)
            await served.stopped()
        answered = sorted(answer["id"] for answer in answers)  # type: ignore[type-var]
        assert answered == list(range(12))
        assert all("result" in answer for answer in answers)
        assert (close[0], int.from_bytes(close[2:4])) == (0x88, 1001)

    pair.run(main, idle=_IDLE)


def test_what_a_server_held_unread_is_answered_when_it_shuts_down(pair: Pair) -> None:
    """Requests a server read but held back from a peer that does not read are not lost
    when the server shuts down meanwhile: they are refused as it drains, after the answers
    already due, and the connection closes with 1001."""

    async def main() -> None:
        # A grace period long enough for 24 MB to be read, even across two loops.
        async with pair.serving(_echo(), shutdown_timeout=40) as served:
            deaf = await _Deaf.open(served.port)
            async with deaf.stream:
                await deaf.send(*map(_big, range(12)))  # more answers than the sockets hold
                await anyio.sleep(1)
                await deaf.send(*map(_big, range(12, 20)))
                await anyio.sleep(1)
                await served.stop()
                answers = [await deaf.receive() for _ in range(20)]
                close = await deaf._exactly(4)
            await served.stopped()
        answered = sorted(answer["id"] for answer in answers[:12])  # type: ignore[type-var]
        assert answered == list(range(12))
        assert all("result" in answer for answer in answers[:12])
        assert [answer["id"] for answer in answers[12:]] == list(range(12, 20))
        refusals = [answer["error"]["code"] for answer in answers[12:]]  # type: ignore[index]
        assert refusals == [SHUTTING_DOWN] * 8
        assert (close[0], int.from_bytes(close[2:4])) == (0x88, 1001)

    pair.run(main, idle=_IDLE)


def test_a_peer_that_never_reads_is_dropped(pair: Pair) -> None:
    """Its pings go unanswered: once the keepalive has timed out, the server gives what it
    still has to send a second to go out, then cuts the connection."""
    app = _echo()

    async def main() -> None:
        config = WebSocketConfig(ping_interval=5, ping_timeout=5)
        async with pair.serving(app, config=config) as served:
            began = anyio.current_time()
            deaf = await _Deaf.open(served.port)
            await deaf.send(*map(_big, range(12)))
            while await served.call(lambda: len(app._links)):
                await anyio.sleep(0.25)
            dropped = math.floor(anyio.current_time() - began)
            assert pair.took(dropped, 11)  # a ping, its timeout, then a second more
            await deaf.stream.aclose()

    pair.run(main)  # nothing moves once the sockets are full: no need to wait for it
