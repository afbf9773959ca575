"""One timer for every connection of a trio run: :func:`alarm`.

A pump asks to be woken at its core's next deadline; one system task of the run sleeps until
the earliest of all of them and wakes the pumps that are due, so that a connection costs no
task of its own for its timer, and one that ends leaves none to finish. The deadlines are
kept in a heap of weak references: a pump that is gone is skipped, and a deadline that a
later one replaced is stale and skipped when it comes.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import weakref
from typing import Protocol

import trio

__all__ = ["Sleeper", "alarm"]

_log = logging.getLogger("mcpws")


class Sleeper(Protocol):
    """What the clock wakes: a pump, whose ``wake_at`` is the deadline it asked for last."""

    wake_at: float

    def wake(self) -> None:
        """The deadline *wake_at* has come."""


class _Clock:
    """The deadlines of a run's pumps, and the task that waits for the earliest."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, weakref.ref[Sleeper]]] = []
        self._serial = itertools.count()
        self._scope: trio.CancelScope | None = None
        self._lot = trio.lowlevel.ParkingLot()  # never unparked: the scope's deadline wakes it

    def add(self, sleeper: Sleeper, deadline: float) -> None:
        heapq.heappush(self._heap, (deadline, next(self._serial), weakref.ref(sleeper)))
        if self._scope is not None and deadline < self._scope.deadline:
            self._scope.deadline = deadline

    async def run(self) -> None:
        heap = self._heap
        while True:
            with trio.CancelScope(deadline=heap[0][0] if heap else math.inf) as scope:
                self._scope = scope
                await self._lot.park()
            self._scope = None
            now = trio.current_time()
            while heap and heap[0][0] <= now:
                deadline, _, ref = heapq.heappop(heap)
                sleeper = ref()
                if sleeper is not None and sleeper.wake_at == deadline:
                    sleeper.wake_at = math.inf
                    try:
                        sleeper.wake()
                    except Exception:  # one connection's failure must not end the others
                        _log.exception("a connection's timer failed")


_CLOCK: trio.lowlevel.RunVar[_Clock] = trio.lowlevel.RunVar("mcpws.trio clock")


def alarm(sleeper: Sleeper, deadline: float) -> None:
    """Wake *sleeper* at *deadline* of the run's clock (it sets ``sleeper.wake_at``): once,
    unless it asks again for another deadline meanwhile."""
    try:
        clock = _CLOCK.get()
    except LookupError:
        clock = _Clock()
        _CLOCK.set(clock)
        trio.lowlevel.spawn_system_task(clock.run, name="mcpws.trio clock")
    sleeper.wake_at = deadline
    clock.add(sleeper, deadline)
