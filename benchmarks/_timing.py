"""Timing for the benchmarks: operations measured in turns, so that drift in the machine's
state (the allocator's, the CPU's) falls on all of them alike instead of on whichever ran
last. Not a benchmark itself; the benchmark scripts import it."""

from __future__ import annotations

import gc
import statistics
import time
import timeit
from collections.abc import Callable, Mapping


def interleaved(
    operations: Mapping[str, Callable[[], object]],
    *,
    rounds: int,
    budget: float = 0.2,
    number: int | None = None,
    timer: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Median seconds per call of each operation over *rounds* rounds, one timing of each
    per round. Each timing runs *number* calls, or as many as take about *budget* seconds."""
    timers = {name: timeit.Timer(operation, timer=timer) for name, operation in operations.items()}
    numbers = {
        name: number or max(1, int(t.autorange()[0] * budget / 0.2)) for name, t in timers.items()
    }
    samples: dict[str, list[float]] = {name: [] for name in operations}
    for _ in range(rounds):
        for name, each in timers.items():
            gc.collect()
            samples[name].append(each.timeit(numbers[name]) / numbers[name])
    return {name: statistics.median(values) for name, values in samples.items()}
