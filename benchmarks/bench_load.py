"""Many well-behaved clients at once against ``mcpws serve`` on each driver, beside a
``websockets`` 17 MCP responder and echo server, in one run.

Run ``python benchmarks/bench_load.py``: 50 clients call ``tools/call`` (the ``echo`` tool,
~180 bytes of text) for 20 s, each one call after another, against each server in turn.
Printed for each: calls per second, the latency of a call (p50, p90, p99 and max), the calls
that failed, the server's CPU per call and its share of a core, its resident memory, and the
ratios of the mcpws drivers' figures to the reference's. The clients (``--clients``,
``--seconds``) run in ``--processes`` processes (2 by default), which frame by hand; the
busiest one's share of a core is printed, so that a run in which the clients, not the
server, set the pace shows it.

``--soak [SECONDS]`` (60 by default) runs the same load for longer and prints each server's
resident memory every ``--every`` seconds (5) and how much it grew after the first interval.

Servers: ``trio`` and ``asyncio`` (``mcpws serve`` from the source tree beside this folder),
``reference`` and ``echo`` (``_reference.py``); ``--servers`` picks some. Loopback only,
bounded in count and time; every process started is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field

from _servers import (
    SERVERS,
    Piped,
    Running,
    mib,
    percentile,
    print_machine,
    raise_file_limit,
    ratio,
    run_main,
    servers_named,
    serving,
    stop_on_sigterm,
)

#: Seconds past the end of the load in which every client must have reported.
GRACE = 60.0


@dataclass
class Figures:
    """What one load run measured against one server."""

    seconds: float
    calls: int = 0
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    busiest_client: float = 0.0
    rss_before: int = 0
    rss_after: int = 0
    samples: list[tuple[float, int]] = field(default_factory=list)

    def row(self) -> dict[str, float]:
        latencies = self.latencies
        return {
            "calls/s": self.calls / self.seconds,
            "p50 ms": percentile(latencies, 0.5),
            "p90 ms": percentile(latencies, 0.9),
            "p99 ms": percentile(latencies, 0.99),
            "max ms": latencies[-1] if latencies else float("nan"),
            "errors": self.errors,
            "server CPU µs/call": self.server_cpu / max(self.calls, 1) * 1e6,
            "server % of a core": self.server_cpu / self.seconds * 100,
            "server RSS MiB": self.rss_after / (1 << 20),
            "busiest client % core": self.busiest_client * 100,
        }


def _start_clients(server: Running, clients: int, processes: int, seconds: float) -> list[Piped]:
    """The client processes, each with its share of *clients*, all connected."""
    mode = "plain" if server.name == "echo" else "mcp"
    shares = [clients // processes + (i < clients % processes) for i in range(processes)]
    started = [
        Piped(["_wire.py", "load", str(server.port), str(share), str(seconds), mode])
        for share in shares
        if share
    ]
    for client in started:
        if (line := client.line(GRACE)) != "ready":
            raise RuntimeError(f"a client did not connect to {server.name}: {line!r}")
    return started


def run(name: str, clients: int, processes: int, seconds: float, every: float | None) -> Figures:
    """*clients* calling *name* for *seconds*; its memory sampled *every* seconds if given."""
    figures = Figures(seconds)
    started: list[Piped] = []
    with serving(name) as server:
        try:
            started = _start_clients(server, clients, processes, seconds)
            figures.rss_before, cpu = server.rss(), server.cpu()
            begun = time.monotonic()
            for client in started:
                client.say("go")
            while every is not None and time.monotonic() + every <= begun + seconds:
                time.sleep(max(0.0, begun + every * (len(figures.samples) + 1) - time.monotonic()))
                figures.samples.append((time.monotonic() - begun, server.rss()))
                when, rss = figures.samples[-1]
                print(f"  {name:<10} {when:5.0f} s  {mib(rss):>7} MiB", flush=True)
            reports = [json.loads(client.line(seconds + GRACE)) for client in started]
            figures.server_cpu = server.cpu() - cpu
            figures.rss_after = server.rss()
        finally:
            for client in started:
                client.stop()
    for report in reports:
        figures.calls += report["calls"]
        figures.errors += report["errors"]
        figures.first_errors += report["first_errors"]
        figures.latencies += report["latencies_ms"]
        figures.busiest_client = max(figures.busiest_client, report["cpu"] / report["wall"])
    figures.latencies.sort()
    return figures


def print_table(results: dict[str, Figures]) -> None:
    rows = {name: figures.row() for name, figures in results.items()}
    names = list(rows)
    print(f"{'':<24}" + "".join(f"{name:>12}" for name in names))
    for label in next(iter(rows.values())):
        places = 0 if label == "errors" else 1
        print(f"{label:<24}" + "".join(f"{rows[name][label]:>12.{places}f}" for name in names))
    for name, figures in results.items():
        if figures.first_errors:
            print(f"{name}: first errors: {figures.first_errors}")
    busiest = max(figures.busiest_client for figures in results.values())
    if busiest > 0.85:
        print(
            f"the busiest client process used {busiest:.0%} of a core: the clients may "
            "have set the pace; try more --processes"
        )
    if "reference" not in rows:
        return
    reference = rows["reference"]
    for name in (n for n in ("trio", "asyncio") if n in rows):
        row = rows[name]
        print(
            f"{name}/reference: calls/s {ratio(row['calls/s'], reference['calls/s'])}, "
            f"p50 {ratio(row['p50 ms'], reference['p50 ms'])}, "
            f"p99 {ratio(row['p99 ms'], reference['p99 ms'])}, "
            f"CPU/call {ratio(row['server CPU µs/call'], reference['server CPU µs/call'])}"
        )


def print_soak(results: dict[str, Figures]) -> None:
    print(f"{'':<10}{'start':>10}{'first':>10}{'end':>10}{'growth':>10}  MiB of RSS")
    growth: dict[str, float] = {}
    for name, figures in results.items():
        first = figures.samples[0][1] if figures.samples else figures.rss_before
        growth[name] = figures.rss_after - first
        print(
            f"{name:<10}{mib(figures.rss_before):>10}{mib(first):>10}"
            f"{mib(figures.rss_after):>10}{mib(growth[name]):>10}"
        )
    if "reference" in growth:
        for name in (n for n in ("trio", "asyncio") if n in growth):
            print(
                f"{name} growth - reference growth = {mib(growth[name] - growth['reference'])} MiB"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--soak", type=float, nargs="?", const=60.0, metavar="SECONDS")
    parser.add_argument("--every", type=float, default=5.0, help="soak: seconds per sample")
    parser.add_argument("--servers", help="comma-separated, of " + ", ".join(SERVERS))
    args = parser.parse_args()
    if args.clients < 1 or args.processes < 1 or args.seconds <= 0 or args.every <= 0:
        parser.error("--clients, --processes, --seconds and --every must be positive")
    default = "trio,asyncio,reference" if args.soak else ",".join(SERVERS)
    names = servers_named(parser, args.servers or default, SERVERS)
    stop_on_sigterm()
    raise_file_limit(4 * args.clients + 256)
    seconds = args.soak or args.seconds
    every = args.every if args.soak else None
    print_machine()
    print(
        f"{args.clients} clients in {args.processes} processes x {seconds:g} s, "
        "tools/call one at a time per client",
        flush=True,
    )
    results = {name: run(name, args.clients, args.processes, seconds, every) for name in names}
    print_table(results)
    if args.soak:
        print_soak(results)
    return 0


if __name__ == "__main__":
    run_main(main)
