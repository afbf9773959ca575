"""What watching a server costs: sequential ``tools/call`` round trips over loopback, server
and client in one trio process, with nothing watching (``none``), with a hook overriding
every method (``hooks``), with Prometheus metrics (``metrics``: ``mcpws.metrics.Metrics``
in a registry of its own), with the connection records logged at INFO (``info``) and the
request records at DEBUG too (``debug``), the records going to a handler that drops them.
With ``--against REV``, the same run of the tree at git revision *REV* (``before``, made
with ``git worktree``) is measured beside them: with nothing watching, the figures of this
tree are to be within 2% of it.

Each contender runs in a fresh process, in turns (``--rounds`` of them), and the medians are
printed with their ratio to ``none`` (and to ``before``). Run
``python benchmarks/bench_hooks.py [--quick] [--against REV]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
TEXT = "The quick brown fox jumps over the lazy dog. " * 4
WATCHED = ("none", "hooks", "metrics", "info", "debug")


def _measure(variant: str, calls: int) -> dict[str, float]:
    """One contender's run, in this process: round trips per second, and the process's CPU
    microseconds per round trip (server and client together)."""
    import trio

    import mcpws
    from mcpws.trio import connect, serving

    options: dict[str, Any] = {}
    if variant == "hooks":
        from mcpws.app import Hooks

        class Busy(Hooks):
            def connection_opened(self, connection: Any) -> None:
                pass

            def connection_closed(self, connection: Any, ended: Any) -> None:
                pass

            def request_done(self, connection: Any, request: Any) -> None:
                pass

        options["hooks"] = [Busy()]
    elif variant == "metrics":
        import prometheus_client

        from mcpws.metrics import Metrics

        options["hooks"] = [Metrics(prometheus_client.CollectorRegistry())]
    elif variant in ("info", "debug"):
        logger = logging.getLogger("mcpws")
        logger.setLevel(logging.INFO if variant == "info" else logging.DEBUG)
        logger.addHandler(_Dropping())
        logger.propagate = False

    app = mcpws.Server("bench", "1.0")

    @app.tool()
    def echo(text: str) -> str:
        """Return the text."""
        return text

    async def main() -> dict[str, float]:
        async with serving(app, **options) as listening, connect(listening.url) as client:
            for _ in range(200):
                await client.call_tool("echo", {"text": TEXT})
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(calls):
                await client.call_tool("echo", {"text": TEXT})
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        return {"per_second": calls / wall, "cpu_us": cpu / calls * 1e6}

    return trio.run(main)


class _Dropping(logging.Handler):
    """Formats each record, as a real handler would, and drops it."""

    def emit(self, record: logging.LogRecord) -> None:
        self.format(record)


def _run(variant: str, calls: int, source: Path | None) -> dict[str, float]:
    """One contender's run in a fresh process (of the tree at *source*, if given)."""
    command = [sys.executable, str(HERE), "--role", variant, "--calls", str(calls)]
    env = None if source is None else {**os.environ, "PYTHONPATH": str(source / "src")}
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=600, env=env, cwd=ROOT
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds")
    parser.add_argument("--against", metavar="REV", help="also measure the tree at REV")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--calls", type=int, default=None)
    parser.add_argument("--role", choices=WATCHED, help=argparse.SUPPRESS)
    args = parser.parse_args()
    calls = args.calls or (300 if args.quick else 3000)
    if args.role is not None:
        print(json.dumps(_measure(args.role, calls)))
        return
    rounds = args.rounds or (1 if args.quick else 5)
    with tempfile.TemporaryDirectory() as scratch:
        before = None
        if args.against:
            before = Path(scratch) / "before"
            subprocess.run(
                ["git", "worktree", "add", "--detach", "-q", str(before), args.against],
                cwd=ROOT,
                check=True,
            )
        try:
            names = (*(("before",) if before else ()), *WATCHED)
            figures: dict[str, list[dict[str, float]]] = {name: [] for name in names}
            for _ in range(rounds):
                for name in names:
                    source = before if name == "before" else None
                    variant = "none" if name == "before" else name
                    figures[name].append(_run(variant, calls, source))
        finally:
            if before is not None:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=True
                )
    _report(figures, calls, rounds)


def _report(figures: dict[str, list[dict[str, float]]], calls: int, rounds: int) -> None:
    medians = {
        name: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        for name, runs in figures.items()
    }
    print(f"{calls} sequential tools/call round trips, median of {rounds} round(s)")
    references = [name for name in ("none", "before") if name in medians]
    header = f"{'':8} {'calls/s':>10} {'CPU µs/call':>12}"
    for reference in references:
        header += f" {'vs ' + reference:>16}"
    print(header)
    for name, median in medians.items():
        line = f"{name:8} {median['per_second']:10,.0f} {median['cpu_us']:12.1f}"
        for reference in references:
            base = medians[reference]
            speed = median["per_second"] / base["per_second"]
            cpu = median["cpu_us"] / base["cpu_us"]
            line += f" {speed:7.3f}x {cpu:7.3f}x"
        print(line)
    print("(ratios: calls/s, then CPU per call; above 1.0 is faster, resp. costlier)")


if __name__ == "__main__":
    main()
