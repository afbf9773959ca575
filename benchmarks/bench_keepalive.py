"""What keepalive costs a server with many idle connections: mcpws on trio and on asyncio
beside a ``websockets`` server with the same ping interval, in one run.

Each server runs in a process of its own and pings every connection every ``--interval``
seconds. The clients are plain sockets in this process, which upgrade (the upgrade only, no
session) and answer each ping with a pong, nothing else. The figures are the server's own
CPU time (user + system, from ``/proc``) over a window of ``--seconds``, per ping/pong and
as a share of one core; the clients' cost is not in them. Each server is measured
``--rounds`` times, in turns, and the median is printed, with the ratios to the reference.

Run ``python benchmarks/bench_keepalive.py`` (``--count N`` connections, 2000 by default;
the process needs a file descriptor per connection). Loopback only; bounded in count and
time; the servers are killed at the end.
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve()
#: How long one measurement may take at the most, in seconds.
LIMIT = 120.0
#: The target: each driver's CPU per ping/pong at most this many times the reference's.
TARGET = 1.5
SERVERS = ("trio", "asyncio", "websockets")
_PING = 0x9
_CLOSE = 0x8


# Servers, each in a process of its own -------------------------------------------------------


def serve_trio(interval: float, ready: Callable[[int], None]) -> None:
    import trio

    import mcpws.trio
    from mcpws import Server
    from mcpws.core.websocket import WebSocketConfig

    async def main() -> None:
        config = WebSocketConfig(ping_interval=interval)
        async with trio.open_nursery() as nursery:
            listening = await nursery.start(
                lambda task_status: mcpws.trio.serve(
                    Server("bench"), config=config, task_status=task_status
                )
            )
            ready(listening.port)

    trio.run(main)


def serve_asyncio(interval: float, ready: Callable[[int], None]) -> None:
    import asyncio

    import mcpws.asyncio
    from mcpws import Server
    from mcpws.core.websocket import WebSocketConfig

    async def main() -> None:
        config = WebSocketConfig(ping_interval=interval)
        status = mcpws.asyncio.TaskStatus()
        task = asyncio.create_task(
            mcpws.asyncio.serve(Server("bench"), config=config, task_status=status)
        )
        ready((await status.wait()).port)
        await task

    asyncio.run(main())


def serve_websockets(interval: float, ready: Callable[[int], None]) -> None:
    import asyncio
    import logging

    # The clients vanish without a close frame when a measurement ends; that is expected.
    logging.getLogger("websockets").setLevel(logging.CRITICAL)

    from websockets.asyncio.server import ServerConnection, serve

    async def echo(connection: ServerConnection) -> None:
        async for message in connection:
            await connection.send(message)

    async def main() -> None:
        async with serve(echo, "127.0.0.1", 0, ping_interval=interval) as server:
            ready(next(iter(server.sockets)).getsockname()[1])
            await server.serve_forever()

    asyncio.run(main())


def _ready(port: int) -> None:
    print(port, flush=True)


# The clients ---------------------------------------------------------------------------------


def _upgrade(port: int) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: mcp\r\n\r\n"
    ).encode()


def _open(port: int) -> socket.socket:
    """An upgraded connection to the server on *port*."""
    client = socket.create_connection(("127.0.0.1", port), timeout=LIMIT)
    client.sendall(_upgrade(port))
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += client.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101"), answer[:40]
    assert answer.endswith(b"\r\n\r\n"), "the server spoke before a ping"
    client.setblocking(False)
    return client


class Answering:
    """The clients: every connection's pings answered with pongs (masked with a zero key, so
    that the payload goes back as it came), and counted."""

    def __init__(self) -> None:
        self.pings = 0
        self._selector = selectors.DefaultSelector()
        self._buffers: dict[socket.socket, bytes] = {}

    def add(self, client: socket.socket) -> None:
        """Answer the pings of *client* from now on."""
        self._selector.register(client, selectors.EVENT_READ)
        self._buffers[client] = b""

    def run_until(self, deadline: float) -> None:
        """Answer pings until *deadline* of ``time.monotonic()``."""
        while (left := deadline - time.monotonic()) > 0:
            self.answer(left)

    def answer(self, wait: float = 0.0) -> None:
        """Answer the pings that have come, waiting at most *wait* seconds for one."""
        for key, _ in self._selector.select(wait):
            self._read(key.fileobj)  # type: ignore[arg-type]

    def _read(self, client: socket.socket) -> None:
        data = self._buffers[client] + client.recv(65536)
        if not data:
            raise ConnectionError("the server closed a connection")
        offset = 0
        while len(data) - offset >= 2:
            first, length = data[offset], data[offset + 1]
            end = offset + 2 + length
            if length > 125 or end > len(data):
                assert length <= 125, "a control frame or a small one is all a server sends"
                break
            opcode = first & 0x0F
            if opcode == _CLOSE:
                raise ConnectionError(f"the server closed a connection: {data[offset:end]!r}")
            if opcode == _PING:
                client.send(bytes((0x8A, 0x80 | length, 0, 0, 0, 0)) + data[offset + 2 : end])
                self.pings += 1
            offset = end
        self._buffers[client] = data[offset:]

    def close(self) -> None:
        for client in self._buffers:
            client.close()
        self._selector.close()


# The orchestrator ----------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of process *pid* so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(name: str, count: int, interval: float, seconds: float) -> tuple[float, float, float]:
    """The server's CPU microseconds per ping/pong, its share of a core (in %) and the
    pings per second, with *count* idle connections pinged every *interval* seconds, over
    *seconds*."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1] / "src")}
    command = [sys.executable, str(HERE), "--serve", name, "--interval", str(interval)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    clients: Answering | None = None
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        clients = Answering()
        for _ in range(count):  # pings answered meanwhile, so that they do not come in bursts
            clients.add(_open(port))
            clients.answer()
        clients.run_until(time.monotonic() + 1.5 * interval)  # every connection pinged once
        pings, cpu, start = clients.pings, cpu_seconds(server.pid), time.monotonic()
        clients.run_until(start + seconds)
        pings = clients.pings - pings
        cpu = cpu_seconds(server.pid) - cpu
        took = time.monotonic() - start
    finally:
        if clients is not None:
            clients.close()
        server.kill()
        server.wait(LIMIT)
    assert pings >= count, f"{name}: only {pings} pings"
    return cpu / pings * 1e6, cpu / took * 100, pings / took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="idle connections")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between pings")
    parser.add_argument("--seconds", type=float, default=5.0, help="the measuring window")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=SERVERS, action="append", help="measure these only")
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    serving = {"trio": serve_trio, "asyncio": serve_asyncio, "websockets": serve_websockets}
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * args.count + 64)), hard))
    if args.serve:
        serving[args.serve](args.interval, _ready)
        return
    names = args.only or SERVERS
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in names}
    for _ in range(args.rounds):
        for name in names:
            samples[name].append(measure(name, args.count, args.interval, args.seconds))
    print(
        f"{args.count} idle connections, a ping every {args.interval:g} s, "
        f"median of {args.rounds} rounds of {args.seconds:g} s: the server's CPU"
    )
    print(f"  {'':<11}{'µs/ping':>9}{'% core':>9}{'pings/s':>9}   (each round's µs/ping)")
    figures = {}
    for name, rounds in samples.items():
        figures[name], share, rate = (
            statistics.median(column) for column in zip(*rounds, strict=True)
        )
        every = " ".join(f"{each:.0f}" for each, _, _ in rounds)
        print(f"  {name:<11}{figures[name]:>9.1f}{share:>9.1f}{rate:>9.0f}   ({every})")
    if "websockets" in figures:
        for name in ("trio", "asyncio"):
            if name in figures:
                ratio = figures[name] / figures["websockets"]
                verdict = "met" if ratio <= TARGET else "NOT met"
                print(f"  {name}/websockets = {ratio:.2f} (target <= {TARGET:.2f}: {verdict})")


if __name__ == "__main__":
    main()
