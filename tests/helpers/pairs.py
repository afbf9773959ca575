"""The event loops the end-to-end tests run on, and the pairs of drivers they run across.

Each end-to-end scenario is written once, with anyio, and run for every :class:`Pair`: a
server served by one driver (``mcpws.trio`` or ``mcpws.asyncio``) and clients connected
through one, over real loopback sockets.

A pair of one driver runs in one event loop on a virtual clock that jumps ahead whenever
every task waits and no I/O is ready: trio's ``MockClock(autojump_threshold=0)``, or a
:class:`VirtualLoop` for asyncio. Timeouts and slow tools take no real time, and a test that
deadlocks fails at once instead of hanging. Data written to a loopback socket is readable at
the other end as soon as the write returns, so the clock does not jump while bytes are in
flight; but once a socket's buffer has filled, the kernel may take a moment to let the
writer go on when the reader makes room, so scenarios that move more bytes than the
sockets hold let the loop wait a little real time before the clock jumps (``idle``).

A pair of two drivers runs the server in a thread with a loop of its own. Both clocks then
run :data:`CROSS_RATE` times faster than real time from one origin, so a scenario takes a
tenth of its virtual time and times read in either loop compare. :meth:`Pair.lasted` is
exact on one loop and, across two, within :data:`CROSS_SLACK` over (and
:data:`CROSS_EARLY` under: each loop starts a timer when it sees the message).

asyncio runs in debug mode: never-awaited coroutines and unclosed transports fail a test
as warnings do, and anything the ``asyncio`` logger says (an exception nobody retrieved, a
transport closed with a pending write) fails the test during which it was said. Debug
mode's report of a slow callback is switched off: how long a callback takes says how busy
the machine is, not whether the code is right.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import logging
import math
import selectors
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any, NoReturn

import anyio
import anyio.from_thread
import anyio.to_thread
import attrs
import trio
import trio.testing
from anyio.from_thread import start_blocking_portal

import mcpws.asyncio
from mcpws.app import Client, Server
from mcpws.core.mcp import CallToolResult, TextContent
from mcpws.lowlevel import DRIVERS, Host, Listening

from . import anyio_driver

#: The drivers the scenarios run on, by name: those of ``mcpws.lowlevel.DRIVERS``, with the
#: third driver these tests keep (``helpers.anyio_driver``) among them.
NAMES = tuple(DRIVERS)
assert anyio_driver.__name__ in {driver.module for driver in DRIVERS.values()}
#: The drivers mcpws ships, which its entry points and the command line offer.
SHIPPED = tuple(name for name, driver in DRIVERS.items() if driver.module.startswith("mcpws."))

#: Virtual seconds a scenario may take on one loop: more than any timeout a test waits for on
#: purpose, less than the default keepalive interval (20 s), so a stuck test fails before
#: pings begin.
HARD_TIMEOUT = 15.0
#: How many times faster than real time the clocks of a pair of two loops run.
CROSS_RATE = 10.0
#: Virtual seconds a wait may overrun across two loops (a tenth of that in real time).
CROSS_SLACK = 5.0
#: Virtual seconds a wait may seem to fall short across two loops: a timer that one loop
#: starts when a message leaves is measured by the other from when it arrives.
CROSS_EARLY = 0.5


class Clock:
    """Time for a test: virtual and jumping when idle (*rate* 0) for *idle* real seconds, or
    *rate* times real time from the moment the clock was made."""

    def __init__(self, rate: float = 0.0, idle: float = 0.0) -> None:
        self.rate = rate
        self.idle = idle
        self._origin = time.perf_counter()
        self._jumped = 0.0

    def now(self) -> float:
        if self.rate:
            return self.rate * (time.perf_counter() - self._origin)
        return self._jumped

    def wait(self, select: Callable[[float | None], Any], timeout: float | None) -> Any:
        """Wait for I/O with *select* for at most *timeout* of this clock's seconds."""
        if self.rate:
            return select(None if timeout is None else timeout / self.rate)
        if timeout is not None and timeout <= 0:
            return select(0)
        ready = select(self.idle)
        if ready:
            return ready
        if timeout is None:  # nothing is due: only I/O can wake the loop
            return select(None)
        self._jumped += timeout
        return ready


class _ClockedSelector(selectors.DefaultSelector):
    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> Any:
        return self._clock.wait(super().select, timeout)


class VirtualLoop(asyncio.SelectorEventLoop):
    """An asyncio event loop whose time is a :class:`Clock`'s. Its clock cannot see work in
    other threads, so it resolves addresses in the loop (at once, for the numeric addresses
    the tests use) instead of in a thread."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        super().__init__(_ClockedSelector(clock))
        self.slow_callback_duration = math.inf

    def time(self) -> float:
        return self._clock.now()

    async def getaddrinfo(
        self,
        host: Any,
        port: Any,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> Any:
        return socket.getaddrinfo(host, port, family, type, proto, flags)


class _TrioClock(trio.abc.Clock):
    """A running :class:`Clock` as trio's clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def start_clock(self) -> None:
        pass

    def current_time(self) -> float:
        return self._clock.now()

    def deadline_to_sleep_time(self, deadline: float) -> float:
        return max(0.0, (deadline - self._clock.now()) / self._clock.rate)


def _backend_options(loop: str, clock: Clock) -> dict[str, Any]:
    if loop == "asyncio":
        return {"debug": True, "loop_factory": functools.partial(VirtualLoop, clock)}
    if clock.rate:
        return {"clock": _TrioClock(clock)}
    return {"clock": trio.testing.MockClock(autojump_threshold=clock.idle)}


class _Heard(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.said: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        said = record.getMessage()
        if said.startswith(_TLS_REFUSED) and "sslproto" in said:
            return  # debug mode's word on a client that broke off the TLS handshake
        self.said.append(said)


_TLS_REFUSED = "Error on transport creation for incoming connection"


@contextmanager
def _asyncio_says_nothing() -> Iterator[None]:
    """Fail if the ``asyncio`` logger says anything meanwhile."""
    heard = _Heard()
    logger = logging.getLogger("asyncio")
    logger.addHandler(heard)
    try:
        yield
    finally:
        logger.removeHandler(heard)
    assert heard.said == [], f"the asyncio logger said: {heard.said}"


#: The loop a pair of two drivers serves in, while its scenario runs.
_server_loop: contextvars.ContextVar[anyio.from_thread.BlockingPortal] = contextvars.ContextVar(
    "_server_loop"
)


@attrs.frozen
class Pair:
    """A server's driver and its clients' driver."""

    server: str = attrs.field(validator=attrs.validators.in_(NAMES))
    client: str = attrs.field(validator=attrs.validators.in_(NAMES))

    def __str__(self) -> str:
        if self.one_loop:
            return self.server
        return f"{self.client}-client-{self.server}-server"

    @property
    def one_loop(self) -> bool:
        return self.server == self.client

    def run(self, main: Callable[[], Awaitable[None]], *, idle: float = 0.0) -> None:
        """Run the scenario *main* within a hard timeout. On one loop, the virtual clock
        jumps once the loop has waited *idle* real seconds with nothing to do."""

        async def guarded() -> None:
            with anyio.fail_after(HARD_TIMEOUT if self.one_loop else 4 * HARD_TIMEOUT):
                await main()

        clock = Clock(idle=idle) if self.one_loop else Clock(CROSS_RATE)
        with _asyncio_says_nothing(), contextlib.ExitStack() as stack:
            if not self.one_loop:
                loop = DRIVERS[self.server].loop
                options = _backend_options(loop, clock)
                portal = stack.enter_context(start_blocking_portal(loop, options))
                stack.callback(_server_loop.reset, _server_loop.set(portal))
            loop = DRIVERS[self.client].loop
            options = _backend_options(loop, clock)
            anyio.run(guarded, backend=loop, backend_options=options)

    def lasted(self, since: float, seconds: float) -> bool:
        """Whether *seconds* have passed since the time *since*: exactly, on one loop."""
        return self.took(anyio.current_time() - since, seconds)

    def took(self, took: float, seconds: float) -> bool:
        """Whether a wait that *took* so long was one of *seconds*: exactly, on one loop."""
        if self.one_loop:
            return took == seconds
        return seconds - CROSS_EARLY <= took <= seconds + CROSS_SLACK

    def connect(self, url: str, **options: Any) -> AbstractAsyncContextManager[Client]:
        """The client driver's ``connect``."""
        connect: Any = DRIVERS[self.client].load().connect
        return connect(url, **options)  # type: ignore[no-any-return]

    def serving(self, app: Server | Host, **options: Any) -> AbstractAsyncContextManager[Served]:
        """Serve *app* on 127.0.0.1, port 0, for the block; *options* go to ``serve``."""
        if self.one_loop:
            return _serving(self.server, app, options)
        return _serving_elsewhere(_server_loop.get(), self.server, app, options)


class Served:
    """A server on a loopback port, its listening sockets, and a way into the loop it runs
    in."""

    def __init__(
        self,
        listening: Listening,
        stop: Callable[[], object],
        stopped: Callable[[], Awaitable[object]],
    ) -> None:
        self.port = port = listening.port
        self.sockets = listening.sockets
        self.url = f"ws://127.0.0.1:{port}/mcp"
        self._stop = stop
        self._stopped = stopped
        self._portal: anyio.from_thread.BlockingPortal | None = None

    async def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """Call *function* in the server's loop (awaiting what it returns, if need be)."""
        if self._portal is None:
            return await _called(function, *args)
        return await anyio.to_thread.run_sync(self._portal.call, _called, function, *args)

    async def stop(self) -> None:
        """Cancel the ``serve`` task, as its loop's users do: it shuts down gracefully."""
        await self.call(self._stop)

    async def stopped(self) -> None:
        """Wait until the ``serve`` task has returned."""
        await self.call(self._stopped)


async def _called(function: Callable[..., Any], *args: Any) -> Any:
    result = function(*args)
    return await result if inspect.isawaitable(result) else result


@asynccontextmanager
async def running(
    function: Callable[..., Coroutine[Any, Any, None]], *args: Any
) -> AsyncIterator[Any]:
    """Run ``function(*args, task_status=...)`` in the background for the block, yielding
    what it reports started, then cancel it. An exception from the block comes out as it is,
    not in an exception group."""
    raised: BaseException | None = None
    async with anyio.create_task_group() as group:
        started = await group.start(function, *args)
        try:
            yield started
        except BaseException as exc:  # raised again below, outside the task group
            raised = exc
        group.cancel_scope.cancel()
    if raised is not None:
        raise raised


def _serving(
    driver: str, app: Server | Host, options: dict[str, Any]
) -> AbstractAsyncContextManager[Served]:
    """Serve *app* with *driver*'s ``serve()`` for the block, in a task its loop's users
    would cancel to stop it: a trio cancel scope, or an asyncio task (an anyio cancel scope
    would cancel a server on asyncio again at every await of its graceful shutdown)."""
    serve = DRIVERS[driver].load().serve
    if DRIVERS[driver].loop == "trio":
        return _serving_trio(serve, app, options)
    return _serving_asyncio(serve, app, options)


@asynccontextmanager
async def _serving_trio(
    serve: Callable[..., Awaitable[None]], app: Server | Host, options: dict[str, Any]
) -> AsyncIterator[Served]:
    scope = trio.CancelScope()
    stopped = trio.Event()

    async def run_server(*, task_status: Any) -> None:
        try:
            with scope:
                await serve(app, task_status=task_status, **options)
        finally:
            stopped.set()

    async with running(run_server) as listening:
        yield Served(listening, scope.cancel, stopped.wait)


@asynccontextmanager
async def _serving_asyncio(
    serve: Callable[..., Coroutine[Any, Any, None]], app: Server | Host, options: dict[str, Any]
) -> AsyncIterator[Served]:
    status = mcpws.asyncio.TaskStatus()
    task = asyncio.create_task(serve(app, task_status=status, **options))

    async def stopped() -> None:
        await asyncio.wait([task])

    try:
        yield Served(await status.wait(), task.cancel, stopped)
    finally:
        task.cancel()
        await asyncio.wait([task])
        if not task.cancelled():
            task.result()  # what made it end early


@asynccontextmanager
async def _serving_elsewhere(
    portal: anyio.from_thread.BlockingPortal,
    driver: str,
    app: Server | Host,
    options: dict[str, Any],
) -> AsyncIterator[Served]:
    serving = portal.wrap_async_context_manager(_serving(driver, app, options))
    served = await anyio.to_thread.run_sync(serving.__enter__)
    served._portal = portal
    try:
        yield served
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(serving.__exit__, None, None, None)


class Watch:
    """Something tasks wait to change: :meth:`poke` after each change, :meth:`until` a
    condition holds. Made in one loop, it may be used in another."""

    def __init__(self) -> None:
        self._event: anyio.Event | None = None

    def poke(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    async def until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            if self._event is None:
                self._event = anyio.Event()
            await self._event.wait()


async def forever() -> NoReturn:
    """Sleep until cancelled."""
    await anyio.sleep_forever()
    raise AssertionError("woke up")  # pragma: no cover


def text_of(result: CallToolResult) -> str:
    """The text blocks of a tool result, joined with spaces."""
    return " ".join(block.text for block in result.content if isinstance(block, TextContent))
