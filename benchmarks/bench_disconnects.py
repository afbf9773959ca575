"""What it costs a server when many clients vanish at once, on each driver side by side.

The server runs in a thread of this process. Plain sockets open WebSocket connections to it
(the upgrade only, no session), then all close at once, abruptly (a TCP reset), and the
figure is how long the server takes until it has let every connection go, per connection.
While it does, it serves no one else: this is the stall the other clients see.

Run ``python benchmarks/bench_disconnects.py`` (``--connections N``, 2000 by default; the
process needs about two file descriptors per connection). Loopback only; bounded in count
and time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import resource
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import trio

import mcpws.asyncio
import mcpws.trio
from mcpws import Server

#: How long a run may take at the most, in seconds.
LIMIT = 120.0


def _upgrade(port: int) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: mcp\r\n\r\n"
    ).encode()


def _open(port: int, count: int) -> list[socket.socket]:
    """*count* upgraded connections to the server on *port*."""
    sockets = []
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(_upgrade(port))
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += client.recv(4096)
        assert answer.startswith(b"HTTP/1.1 101"), answer[:40]
        sockets.append(client)
    return sockets


def _wait_until(condition: Callable[[], bool], limit: float = LIMIT) -> None:
    ends = time.monotonic() + limit
    while not condition():
        if time.monotonic() > ends:
            raise TimeoutError("the server did not get there in time")
        time.sleep(0.001)


def _serve_trio(app: Server, ready: Callable[[int], None], stop: threading.Event) -> None:
    async def main() -> None:
        async with trio.open_nursery() as nursery:
            listening = await nursery.start(mcpws.trio.serve, app)
            ready(listening.port)
            await trio.to_thread.run_sync(stop.wait)
            nursery.cancel_scope.cancel()

    trio.run(main)


def _serve_asyncio(app: Server, ready: Callable[[int], None], stop: threading.Event) -> None:
    async def main() -> None:
        status = mcpws.asyncio.TaskStatus()
        task = asyncio.create_task(mcpws.asyncio.serve(app, task_status=status))
        ready((await status.wait()).port)
        await asyncio.to_thread(stop.wait)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())


def measure(serve: Callable[..., None], count: int) -> float:
    """Milliseconds the server takes per connection to let *count* vanished ones go."""
    app = Server("bench")
    links: Any = app._links  # the connections the server reports open
    ports: list[int] = []
    stop = threading.Event()
    server = threading.Thread(target=serve, args=(app, ports.append, stop), daemon=True)
    server.start()
    _wait_until(lambda: bool(ports))
    sockets = _open(ports[0], count)
    _wait_until(lambda: len(links) == count)
    for client in sockets:  # a reset, as a client that vanishes leaves
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    start = time.perf_counter()
    for client in sockets:
        client.close()
    _wait_until(lambda: not links)
    took = time.perf_counter() - start
    stop.set()
    server.join(LIMIT)
    return took / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.connections)), hard))
    figures = {
        "trio": measure(_serve_trio, args.connections),
        "asyncio": measure(_serve_asyncio, args.connections),
    }
    print(f"{args.connections} connections vanishing at once: ms per connection")
    for name, figure in figures.items():
        print(f"  {name:<8} {figure:8.3f}")
    print(f"  trio/asyncio = {figures['trio'] / figures['asyncio']:.2f} (target <= 2.00)")


if __name__ == "__main__":
    main()
