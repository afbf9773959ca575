"""Direct reads and writes of a TCP stream's socket (``mcpws.trio._socket``), on real
loopback connections."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
import trio

import mcpws.trio
from mcpws import Server
from mcpws.trio._socket import DirectSocket, direct


@asynccontextmanager
async def joined() -> AsyncIterator[tuple[trio.SocketStream, trio.SocketStream]]:
    """Two ends of a loopback TCP connection."""
    (listener,) = await trio.open_tcp_listeners(0, host="127.0.0.1")
    async with listener:
        port = listener.socket.getsockname()[1]
        near = await trio.open_tcp_stream("127.0.0.1", port)
        far = await listener.accept()
        async with near, far:
            yield near, far


def run(fn: Callable[[], Awaitable[None]]) -> None:
    """Run *fn* under trio with a hard timeout."""

    async def main() -> None:
        with trio.fail_after(20):
            await fn()

    trio.run(main)


def test_only_a_plain_tcp_stream_is_read_directly() -> None:
    async def main() -> None:
        async with joined() as (near, _):
            reader = direct(near)
            assert isinstance(reader, DirectSocket)
            reader.close()
            assert direct(trio.SSLStream(near, ssl.create_default_context())) is None

    run(main)


def test_bytes_cross_in_order_when_the_writer_must_wait_for_the_reader() -> None:
    payload = bytes(range(256)) * 32768  # 8 MiB: more than the socket buffers hold

    async def main() -> None:
        async with joined() as (near, far):
            writer, reader = DirectSocket(near), DirectSocket(far)
            received = bytearray()

            async def read() -> None:
                while len(received) < len(payload):
                    received.extend(await reader.receive_some(65536))
                    await trio.sleep(0)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(read)
                await writer.send_all(payload)
            assert received == payload
            writer.close()
            reader.close()

    run(main)


def test_the_end_of_the_stream_reads_as_no_bytes() -> None:
    async def main() -> None:
        async with joined() as (near, far):
            reader = DirectSocket(far)
            await near.send_all(b"last")
            await near.aclose()
            assert await reader.receive_some(100) == b"last"
            assert await reader.receive_some(100) == b""
            reader.close()

    run(main)


async def write_for_ever(writer: DirectSocket) -> None:
    while True:
        await writer.send_all(b"x" * 65536)


def test_a_reset_connection_is_a_broken_resource() -> None:
    async def main() -> None:
        async with joined() as (near, far):
            reader, writer = DirectSocket(far), DirectSocket(far)
            near.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            await near.aclose()  # an abortive close: the peer gets a reset
            await trio.sleep(0.05)
            with pytest.raises(trio.BrokenResourceError):
                await reader.receive_some(100)
            with pytest.raises(trio.BrokenResourceError):
                await write_for_ever(writer)
            reader.close()
            writer.close()

    run(main)


def test_a_read_with_bytes_waiting_still_lets_other_tasks_run() -> None:
    async def main() -> None:
        async with joined() as (near, far):
            reader = DirectSocket(far)
            await near.send_all(b"x" * 100_000)
            turns = 0

            async def other() -> None:
                nonlocal turns
                while True:
                    turns += 1
                    await trio.sleep(0)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(other)
                await trio.sleep(0)
                for _ in range(10):
                    assert await reader.receive_some(10) == b"x" * 10
                nursery.cancel_scope.cancel()
            assert turns >= 10
            reader.close()

    run(main)


def test_closing_the_stream_wakes_a_waiting_read() -> None:
    async def main() -> None:
        async with joined() as (_, far):
            reader = DirectSocket(far)

            async def close_soon() -> None:
                await trio.sleep(0.05)
                await far.aclose()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(close_soon)
                with pytest.raises(trio.ClosedResourceError):
                    await reader.receive_some(100)
            reader.close()

    run(main)


def test_a_closed_direct_socket_touches_the_descriptor_no_more() -> None:
    """The system may give a closed descriptor's number to the next connection."""

    async def main() -> None:
        async with joined() as (near, _):
            direct_near = DirectSocket(near)
            direct_near.close()
            with pytest.raises(trio.ClosedResourceError):
                direct_near.send_now(b"x")
            with pytest.raises(trio.ClosedResourceError):
                await direct_near.receive_some(1)

    run(main)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_a_connection_takes_one_descriptor_at_each_end() -> None:
    app = Server("counted")
    connections = 10

    async def main() -> None:
        async with mcpws.trio.serving(app) as listening:
            before = len(os.listdir("/proc/self/fd"))
            async with contextlib.AsyncExitStack() as stack:
                for _ in range(connections):
                    await stack.enter_async_context(mcpws.trio.connect(listening.url))
                assert len(os.listdir("/proc/self/fd")) - before == 2 * connections

    run(main)
