"""What the core's deadlines cost as requests pile up: :class:`mcpws.core._timers.Timers`
with one deadline and with a thousand (a session with a thousand requests pending), side by
side with the linear scan it replaced.

Run ``python benchmarks/bench_timers.py``.

Each operation is what a session does most: ``next()``, which every flush asks, and a
``set`` followed by ``pop_due``, a request answered (or timed out) and a new one sent. The
figures are nanoseconds per operation, each the median of several rounds in which the
contenders take turns, and the cost with a thousand deadlines as a multiple of the cost with
one. The target: within 3x.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from _timing import interleaved
from mcpws.core._timers import Timers

PENDING = 1000


class LinearTimers:
    """The deadlines as a plain mapping, the earliest found by a scan: the reference."""

    def __init__(self) -> None:
        self._deadlines: dict[int, float] = {}

    def set(self, name: int, deadline: float | None) -> None:
        if deadline is None:
            self._deadlines.pop(name, None)
        else:
            self._deadlines[name] = deadline

    def next(self) -> float | None:
        return min(self._deadlines.values(), default=None)

    def pop_due(self, now: float) -> int | None:
        due = min(self._deadlines.items(), key=lambda item: item[1], default=None)
        if due is None or due[1] > now:
            return None
        del self._deadlines[due[0]]
        return due[0]


def _filled(
    kind: Callable[[], Timers[int] | LinearTimers], count: int
) -> Timers[int] | LinearTimers:
    timers = kind()
    for name in range(count):
        timers.set(name, 60.0 + name)  # each request times out a little after the last
    return timers


def _operations(
    kind: Callable[[], Timers[int] | LinearTimers], count: int
) -> dict[str, Callable[[], object]]:
    timers = _filled(kind, count)
    names = itertools.count(count)

    def next_deadline() -> object:
        return timers.next()

    def turn_over() -> object:
        name = next(names)
        timers.set(name, 60.0 + name)  # a new request...
        return timers.pop_due(1e12)  # ...and the oldest one done

    return {"next()": next_deadline, "set + pop_due": turn_over}


def main() -> None:
    contenders: dict[str, Callable[[], Timers[int] | LinearTimers]] = {
        "heap (Timers)": Timers[int],
        "linear scan": LinearTimers,
    }
    operations = {
        (contender, count, operation): function
        for contender, kind in contenders.items()
        for count in (1, PENDING)
        for operation, function in _operations(kind, count).items()
    }
    seconds = interleaved(
        {" / ".join(map(str, key)): function for key, function in operations.items()}, rounds=7
    )
    many_deadlines = f"{PENDING} deadlines"
    print(f"{'contender':<16}{'operation':<16}{'1 deadline':>14}{many_deadlines:>18}{'ratio':>8}")
    for contender in contenders:
        for operation in ("next()", "set + pop_due"):
            one = seconds[f"{contender} / 1 / {operation}"] * 1e9
            many = seconds[f"{contender} / {PENDING} / {operation}"] * 1e9
            print(
                f"{contender:<16}{operation:<16}{one:>11.0f} ns{many:>15.0f} ns{many / one:>7.1f}x"
            )


if __name__ == "__main__":
    main()
