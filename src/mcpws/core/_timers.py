"""Timers as data: named deadlines that a sans-IO object keeps and a driver waits for.

The object sets and clears deadlines as its state changes; the driver asks for the earliest
with :meth:`Timers.next` and calls the object's ``handle_timeout(now)`` when it has passed,
and the object takes the expired names one by one with :meth:`Timers.pop_due`, so that a
timer its handling of an earlier one cleared never fires.

The deadlines are kept in a heap whose entries a later :meth:`Timers.set` or a clearing makes
stale; stale entries are dropped when they reach the top, and the heap is rebuilt when they
outnumber the live ones. So ``next`` and ``pop_due`` cost O(log n) (amortised), however many
requests are pending, and ``next`` runs after every flush.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

#: A heap no larger than this is never rebuilt, however many of its entries are stale.
_SMALL = 64


class Timers(Generic[K]):
    """A set of deadlines named by keys of type *K*, in the caller's clock."""

    __slots__ = ("_heap", "_live", "_serial")

    def __init__(self) -> None:
        #: Each name's deadline and the serial number of the heap entry that holds it.
        self._live: dict[K, tuple[float, int]] = {}
        #: (deadline, serial, name): the serial orders equal deadlines, whatever the names.
        self._heap: list[tuple[float, int, K]] = []
        self._serial = itertools.count()

    def set(self, name: K, deadline: float | None) -> None:
        """Set the deadline called *name*; ``None`` clears it."""
        if deadline is None:
            self._live.pop(name, None)
            return
        serial = next(self._serial)
        self._live[name] = (deadline, serial)
        heapq.heappush(self._heap, (deadline, serial, name))
        if len(self._heap) > _SMALL and len(self._heap) > 2 * len(self._live):
            self._heap = [(when, serial, key) for key, (when, serial) in self._live.items()]
            heapq.heapify(self._heap)

    def clear(self, *names: K) -> None:
        """Clear the named deadlines, or all of them when no name is given."""
        if not names:
            self._live.clear()
            self._heap.clear()
        for name in names:
            self._live.pop(name, None)

    def get(self, name: K) -> float | None:
        """Return the deadline called *name*, or ``None`` when it is not set."""
        entry = self._live.get(name)
        return None if entry is None else entry[0]

    def next(self) -> float | None:
        """Return the earliest deadline, or ``None`` when none is set."""
        heap = self._heap
        while heap:
            deadline, serial, name = heap[0]
            if self._live.get(name, _NONE)[1] == serial:
                return deadline
            heapq.heappop(heap)  # stale: set again or cleared since
        return None

    def pop_due(self, now: float) -> K | None:
        """Clear and return the name of the earliest deadline at or before *now*, if any."""
        deadline = self.next()
        if deadline is None or deadline > now:
            return None
        _, _, name = heapq.heappop(self._heap)
        del self._live[name]
        return name


_NONE = (0.0, -1)
