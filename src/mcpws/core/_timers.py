"""Timers as data: named deadlines that a sans-IO object keeps and a driver waits for.

The object sets and clears deadlines as its state changes; the driver asks for the earliest
with :meth:`Timers.next` and calls the object's ``handle_timeout(now)`` when it has passed,
and the object takes the expired names one by one with :meth:`Timers.pop_due`, so that a
timer its handling of an earlier one cleared never fires.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Timers(Generic[K]):
    """A set of deadlines named by keys of type *K*, in the caller's clock."""

    __slots__ = ("_deadlines",)

    def __init__(self) -> None:
        self._deadlines: dict[K, float] = {}

    def set(self, name: K, deadline: float | None) -> None:
        """Set the deadline called *name*; ``None`` clears it."""
        if deadline is None:
            self._deadlines.pop(name, None)
        else:
            self._deadlines[name] = deadline

    def clear(self, *names: K) -> None:
        """Clear the named deadlines, or all of them when no name is given."""
        if not names:
            self._deadlines.clear()
        for name in names:
            self._deadlines.pop(name, None)

    def get(self, name: K) -> float | None:
        """Return the deadline called *name*, or ``None`` when it is not set."""
        return self._deadlines.get(name)

    def next(self) -> float | None:
        """Return the earliest deadline, or ``None`` when none is set."""
        return min(self._deadlines.values(), default=None)

    def pop_due(self, now: float) -> K | None:
        """Clear and return the name of the earliest deadline at or before *now*, if any."""
        due = min(self._deadlines.items(), key=lambda item: item[1], default=None)
        if due is None or due[1] > now:
            return None
        del self._deadlines[due[0]]
        return due[0]
