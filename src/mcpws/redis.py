"""A notification bus on Redis (``mcpws[redis]``): the replicas of a server, in any number
of processes and machines, tell each other's clients of their changes through Redis's
publish and subscribe.

:class:`RedisBus` is a :class:`mcpws.app.Bus`: ``serve(app, bus=RedisBus(url))``, or
``mcpws serve --bus URL``. It is built on coredis, which runs on anyio, so the same bus
serves ``mcpws.trio`` and ``mcpws.asyncio``. Each server it carries has a task that keeps a
connection to Redis subscribed to the server's channel, and another that publishes the
server's changes on it, in order; when Redis cannot be reached, the bus says so once, goes
on trying (backing off to :attr:`RedisBus.max_delay`), and says so again when it is back.
In the meantime each server still tells its own clients of its changes; those made
elsewhere while the bus was down are not told again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from typing import Any

import attrs

from mcpws.app import Change, Channel
from mcpws.app._bus import Deliver

try:
    import anyio
    import coredis
except ImportError as exc:  # pragma: no cover - the extra is part of the test set-up
    raise ImportError("mcpws.redis needs coredis: pip install 'mcpws[redis]'") from exc

__all__ = ["RedisBus"]

_log = logging.getLogger("mcpws.bus")

#: The URL schemes coredis connects with: TCP, TLS, a unix socket.
SCHEMES = ("redis", "rediss", "unix")
#: How many changes may wait to be published; more, while Redis is slow, are dropped.
BACKLOG = 1000


def _shown(url: str) -> str:
    """*url* without its password, for the logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=user + netloc).geturl()


def _parts(exc: BaseException) -> tuple[BaseException | None, BaseException | None]:
    """*exc* split into its cancellation and the rest, either ``None`` if there is none."""
    cancelled = anyio.get_cancelled_exc_class()
    if isinstance(exc, BaseExceptionGroup):
        return exc.split(cancelled)
    return (exc, None) if isinstance(exc, cancelled) else (None, exc)


def _first(exc: BaseException) -> BaseException:
    """The first exception that is not a group in *exc* (anyio's task groups wrap them)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _parsed(data: Any) -> tuple[str, Change]:
    """The origin and change of a message on a channel; ``ValueError`` if it is not one."""
    message = json.loads(data)  # JSONDecodeError is a ValueError
    if not isinstance(message, dict) or not isinstance(message.get("origin"), str):
        raise ValueError("a message is an object with an origin and a change")
    return message["origin"], Change.from_json(message.get("change"))


@attrs.frozen
class RedisBus:
    """The bus through the Redis server at *url* (``redis://HOST:PORT/DB``, ``rediss://``
    for TLS, ``unix:///PATH?db=N``). A server called NAME talks on the channel
    *prefix* + NAME: give replicas of different deployments sharing one Redis their own
    prefix. A connection is retried after *min_delay* seconds, doubled at each failure up
    to *max_delay*; publishing a change may take *timeout* seconds before it counts as a
    failure."""

    url: str
    prefix: str = "mcpws:"
    min_delay: float = 0.5
    max_delay: float = 10.0
    timeout: float = 5.0

    def __attrs_post_init__(self) -> None:
        scheme = urllib.parse.urlsplit(self.url).scheme
        if scheme not in SCHEMES:
            known = ", ".join(f"{one}://" for one in SCHEMES)
            raise ValueError(f"a Redis URL begins with {known}, not {self.url!r}")
        if not 0 < self.min_delay <= self.max_delay or not self.timeout > 0:
            raise ValueError("the delays and the timeout are positive, min_delay <= max_delay")

    @contextlib.asynccontextmanager
    async def attach(self, name: str, deliver: Deliver) -> AsyncIterator[Channel]:
        """See :meth:`mcpws.app.Bus.attach`."""
        place = _Place(self, self.prefix + name, deliver)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(place.keep_up)
                try:
                    yield place
                finally:
                    await place.leave()
        finally:
            place.close()


@attrs.define
class _Place:
    """One server's place on a :class:`RedisBus`: its channel, and what it has to publish."""

    bus: RedisBus
    topic: str
    deliver: Deliver
    origin: str = attrs.field(factory=lambda: uuid.uuid4().hex, init=False)
    up: bool = attrs.field(default=False, init=False)
    #: Whether the bus was ever down, so that its coming up is news.
    was_down: bool = attrs.field(default=False, init=False)
    #: Whether the server is leaving the bus.
    leaving: bool = attrs.field(default=False, init=False)
    #: What the bus's tasks run in: shielded, so that the bus carries on while a server
    #: that was cancelled drains (and its handlers still make changes), until it leaves.
    scope: anyio.CancelScope = attrs.field(
        factory=lambda: anyio.CancelScope(shield=True), init=False
    )
    #: The changes waiting for the publisher, as the messages it sends.
    _queue: Any = attrs.field(default=None, init=False)
    _queued: Any = attrs.field(default=None, init=False)
    #: Set once the publisher has sent the last change of a server that is leaving.
    _flushed: anyio.Event = attrs.field(factory=anyio.Event, init=False)

    def __attrs_post_init__(self) -> None:
        self._queue, self._queued = anyio.create_memory_object_stream[bytes](BACKLOG)

    async def leave(self) -> None:
        """Publish what is queued (for :attr:`RedisBus.timeout` seconds at most), then stop
        the bus's tasks: the server leaves it."""
        self._queue.close()  # the publisher sends what is queued, then ends
        if self.up:
            with anyio.move_on_after(self.bus.timeout, shield=True):
                await self._flushed.wait()
        self.leaving = True  # what its connection raises as it is cut is no news
        self.scope.cancel()

    def close(self) -> None:
        """Let go of the queue: the server has left the bus."""
        self._queue.close()
        self._queued.close()

    async def publish(self, change: Change) -> None:
        """Queue *change* for the publisher: a server's call is never held up by Redis."""
        if not self.up:
            _log.debug("the bus is down: %s is not published", change)
            return
        message = {"origin": self.origin, "change": change.to_json()}
        try:
            self._queue.send_nowait(json.dumps(message).encode())
        except anyio.WouldBlock:
            _log.warning("%d changes wait for %s: %s is dropped", BACKLOG, self.topic, change)
        except anyio.ClosedResourceError:
            _log.debug("the server is leaving the bus: %s is not published", change)

    async def keep_up(self) -> None:
        """Stay subscribed to the channel, connecting again whenever the connection fails,
        until the server leaves."""
        with self.scope:
            await self._keep_up()

    async def _keep_up(self) -> None:
        delay = self.bus.min_delay
        while True:
            try:
                await self._connected()
            except BaseException as exc:
                cut, failed = _parts(exc)
                if failed is not None and not isinstance(failed, Exception):
                    raise  # KeyboardInterrupt, say: not the bus's to handle
                if self.leaving or cut is not None:
                    # Left or cancelled: what the connection raised as it was cut is no
                    # news (cancelled, the scope stays so, and the next wait raises).
                    return
                if self.up:
                    delay = self.bus.min_delay  # it was up: try again soon
                assert failed is not None
                self._down(_first(failed), delay)
            await anyio.sleep(delay)
            delay = min(delay * 2, self.bus.max_delay)

    async def _connected(self) -> None:
        client: Any = coredis.Redis.from_url(self.bus.url)
        async with client:
            subscription = client.pubsub(
                channels=[self.topic],
                ignore_subscribe_messages=True,
                retry_policy=None,  # this loop retries, and says so
                subscription_timeout=self.bus.timeout,
            )
            async with subscription, anyio.create_task_group() as tasks:
                self._now_up()
                tasks.start_soon(self._publishing, client)
                async for message in subscription:
                    await self._received(message.get("data"))
        # A subscription ends only when its connection does, which raises.
        raise ConnectionError("the subscription ended")  # pragma: no cover

    async def _publishing(self, client: Any) -> None:
        async for data in self._queued:
            with anyio.fail_after(self.bus.timeout):
                await client.publish(self.topic, data)
        self._flushed.set()  # the server is leaving, and all it queued is out

    async def _received(self, data: Any) -> None:
        try:
            origin, change = _parsed(data)
        except ValueError as exc:
            _log.warning("not a change on %s, ignored: %s (%s)", self.topic, repr(data)[:200], exc)
            return
        if origin == self.origin:
            return  # its own: its clients were told already
        try:
            await self.deliver(change)
        except Exception:
            _log.exception("telling the clients of %s failed", change)

    def _now_up(self) -> None:
        self.up = True
        shown = _shown(self.bus.url)
        if self.was_down:
            _log.info("the bus at %s is back: %s is carried again", shown, self.topic)
        else:
            _log.info("on the bus at %s as %s", shown, self.topic)

    def _down(self, exc: BaseException, delay: float) -> None:
        while True:  # what was waiting to go out is for a connection that is no more
            try:
                self._queued.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream):
                break
        if self.up or not self.was_down:
            _log.warning(
                "the bus at %s is down (%s: %s): the changes of other processes are not "
                "heard, local delivery goes on; trying again in %s s",
                _shown(self.bus.url),
                type(exc).__name__,
                exc,
                delay,
            )
        else:
            _log.debug("the bus at %s is still down: %s", _shown(self.bus.url), exc)
        self.up, self.was_down = False, True
