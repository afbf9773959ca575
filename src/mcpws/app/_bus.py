"""The notification bus: how a change a server makes (a list changed, a resource updated)
reaches the clients connected to the other processes serving it, its replicas.

A :class:`Server` tells the clients of its own process of each change itself; a bus it is
attached to (``serve(..., bus=...)``) carries the change to the other processes, whose
servers tell theirs. :class:`Bus` is what a bus provides, :class:`LocalBus` the one that
joins servers in a single process; ``mcpws.redis.RedisBus`` joins processes and machines.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

import attrs

__all__ = ["KINDS", "Bus", "Change", "Channel", "Deliver", "LocalBus"]

_log = logging.getLogger("mcpws.bus")

#: What a change is of: a list, or one resource (whose URI it names).
KINDS = ("tools", "resources", "prompts", "resource")


@attrs.frozen
class Change:
    """A change the clients of a server may be told of: its list of *kind* (``"tools"``,
    ``"resources"`` or ``"prompts"``) changed, or (``"resource"``) the resource at *uri*
    was updated."""

    kind: Literal["tools", "resources", "prompts", "resource"]
    uri: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"a change is of one of {', '.join(KINDS)}, not {self.kind!r}")
        if (self.kind == "resource") != isinstance(self.uri, str):
            raise ValueError("a resource's change names its URI, and only a resource's does")

    def to_json(self) -> dict[str, Any]:
        """The change as JSON, for a bus that crosses processes."""
        return {"kind": self.kind, "uri": self.uri}

    @classmethod
    def from_json(cls, value: Any) -> Change:
        """The change *value* (:meth:`to_json`'s) is; ``ValueError`` when it is none."""
        if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
            raise ValueError(f"not a change: {json.dumps(value, default=repr)[:200]}")
        uri = value.get("uri")
        if uri is not None and not isinstance(uri, str):
            raise ValueError("a change's URI is a string")
        return cls(value["kind"], uri)


#: How a bus hands a server a change another process made.
Deliver = Callable[[Change], Awaitable[None]]


class Channel(Protocol):
    """A server's place on a bus, while it is attached (:meth:`Bus.attach`)."""

    async def publish(self, change: Change) -> None:
        """Carry *change* to the other servers of the same name on the bus (not back to
        this one, which told its own clients already). A bus that cannot (its broker is
        down, say) logs why and returns: the server's own clients are told all the same."""


class Bus(Protocol):
    """Carries the changes of the servers attached to it to each other."""

    def attach(self, name: str, deliver: Deliver) -> AbstractAsyncContextManager[Channel]:
        """For the block, the server called *name* is on the bus: the changes other
        servers of that name publish are given to *deliver*, and the channel the block
        gets publishes this one's. Servers of other names do not hear each other."""
        ...


@attrs.define
class LocalBus:
    """A bus in this process: several :class:`Server` objects of one name (one in an ASGI
    app, one behind ``serve()``, say) tell each other's clients of their changes."""

    _attached: dict[str, list[Deliver]] = attrs.field(factory=dict, init=False)

    @contextlib.asynccontextmanager
    async def attach(self, name: str, deliver: Deliver) -> AsyncIterator[Channel]:
        """See :meth:`Bus.attach`."""
        delivers = self._attached.setdefault(name, [])
        channel = _LocalChannel(delivers, deliver)
        delivers.append(deliver)
        try:
            yield channel
        finally:
            delivers.remove(deliver)
            if not delivers:
                del self._attached[name]


@attrs.frozen
class _LocalChannel:
    """A server's place on a :class:`LocalBus`."""

    delivers: list[Deliver]
    own: Deliver

    async def publish(self, change: Change) -> None:
        for deliver in list(self.delivers):
            if deliver is not self.own:
                try:
                    await deliver(change)
                except Exception:  # one server's failure is not the publisher's
                    _log.exception("telling the clients of %s failed", change)
