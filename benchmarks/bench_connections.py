"""Idle MCP connections held open by ``mcpws serve`` on each driver and by the ``websockets``
17 MCP responder, in one run: what each costs the server in memory, and how a fresh client
fares meanwhile.

Run ``python benchmarks/bench_connections.py``: 1,000 and then 10,000 connections
(``--connections``, comma-separated), each upgraded with the ``mcp`` subprotocol and its
session initialized, against each server in turn, without permessage-deflate and with it
(``--compression off``, ``on`` or ``both``). With compression, each connection makes one
compressed call whose answer is compressed too, so that the server holds what compressing
costs it (compressor and decompressor). Printed for each: the server's resident memory per
connection (its growth from before the connections to once they are idle, over their
number), the seconds the client took to open them all, and the median and worst latency of a
fresh client's ``echo`` calls while they are open; then the ratios to the reference.

The idle clients run in a process of their own (``_wire.py hold``), which frames by hand.
Loopback only, bounded in count and time; every process started is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass

from _servers import (
    Piped,
    Running,
    beside_reference,
    percentile,
    print_machine,
    raise_file_limit,
    ratio,
    run_main,
    servers_named,
    serving,
    stop_on_sigterm,
)
from _wire import Peer

SERVERS = ("trio", "asyncio", "reference")

#: Seconds the idle clients get to open and initialize each thousand connections.
PER_THOUSAND = 60.0

#: Calls the fresh client makes while the connections are open.
PROBE_CALLS = 50

#: Connections opened and closed before the first reading, so that what a server builds once
#: (imports, caches, the first compressor's tables) does not count against the connections.
WARM_UP = 20


@dataclass
class Row:
    per_connection: float  # bytes
    open_seconds: float
    compressed: int
    latencies: list[float]


async def _fresh_calls(port: int, count: int) -> list[float]:
    """The latencies in ms of *count* ``echo`` calls from a new connection, sorted."""
    peer = await Peer.open(port)
    await peer.initialize()
    latencies = []
    for _ in range(count):
        start = time.perf_counter()
        if not await peer.call_echo():
            raise RuntimeError("an echo call failed")
        latencies.append((time.perf_counter() - start) * 1000)
    peer.abort()
    return sorted(latencies)


def _held(server: Running, connections: int, deflate: bool) -> Piped:
    """A process holding *connections* open to *server*, once they are all open."""
    mode = "deflate" if deflate else "plain"
    client = Piped(["_wire.py", "hold", str(server.port), str(connections), mode])
    patience = PER_THOUSAND * max(1.0, connections / 1000)
    if (line := client.line(patience)) != "ready":
        raise RuntimeError(f"the idle clients did not connect to {server.name}: {line!r}")
    return client


def _settled(server: Running, tick: float = 0.2, limit: float = 10.0) -> int:
    """The server's resident size once it has stopped working (its CPU time flat for a
    tick), or after *limit* seconds."""
    ends = time.monotonic() + limit
    cpu = server.cpu()
    while time.monotonic() < ends:
        time.sleep(tick)
        cpu, before = server.cpu(), cpu
        if cpu == before:
            break
    return server.rss()


def measure(name: str, connections: int, deflate: bool) -> Row:
    """*connections* idle sessions, with or without compression, held by a fresh *name*."""
    with serving(name) as server:
        warm = _held(server, WARM_UP, deflate)
        warm.stop()
        before = _settled(server)
        start = time.perf_counter()
        client = _held(server, connections, deflate)
        try:
            open_seconds = time.perf_counter() - start
            after = _settled(server)
            latencies = asyncio.run(_fresh_calls(server.port, PROBE_CALLS))
            client.say("stop")
            report = json.loads(client.line(60))
        finally:
            client.stop()
    return Row((after - before) / connections, open_seconds, report["compressed"], latencies)


HEADINGS = f"{'':<10}{'KiB/conn':>9}{'open s':>8}{'fresh p50 ms':>14}{'max ms':>8}"


def print_row(name: str, row: Row, deflate: bool) -> None:
    note = f"  {row.compressed} answers came compressed" if deflate else ""
    print(
        f"{name:<10}{row.per_connection / 1024:>9.1f}{row.open_seconds:>8.1f}"
        f"{percentile(row.latencies, 0.5):>14.2f}{percentile(row.latencies, 1.0):>8.2f}{note}",
        flush=True,
    )


def print_ratios(rows: dict[str, Row]) -> None:
    for name, row, reference in beside_reference(rows):
        print(
            f"  {name}/reference: memory per connection "
            f"{ratio(row.per_connection, reference.per_connection)}, fresh p50 "
            f"{ratio(percentile(row.latencies, 0.5), percentile(reference.latencies, 0.5))}",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", default="1000,10000", help="comma-separated counts")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated")
    parser.add_argument("--compression", choices=("off", "on", "both"), default="both")
    options = parser.parse_args()
    names = servers_named(parser, options.servers, SERVERS)
    counts = [int(count) for count in options.connections.split(",")]
    settings = {"off": [False], "on": [True], "both": [False, True]}[options.compression]
    stop_on_sigterm()
    raise_file_limit(max(counts) + WARM_UP + 256)
    print_machine()
    for connections in counts:
        for deflate in settings:
            compression = "with" if deflate else "without"
            print(f"{connections} connections {compression} permessage-deflate", flush=True)
            print(HEADINGS, flush=True)
            rows = {}
            for name in names:
                rows[name] = measure(name, connections, deflate)
                print_row(name, rows[name], deflate)
            print_ratios(rows)
    return 0


if __name__ == "__main__":
    run_main(main)
