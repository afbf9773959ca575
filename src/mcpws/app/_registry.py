"""The drivers mcpws knows by name (:data:`DRIVERS`), for the command line's ``--loop`` and
for the tests: each a :class:`Driver`, which says where its ``serve()``, ``serving()`` and
``connect()`` are and which loop they run on. :func:`register` adds one."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from types import ModuleType
from typing import Any

import attrs

__all__ = ["DRIVERS", "Driver", "register"]


@attrs.frozen
class Driver:
    """A driver by name: *module* has its ``serve()`` and ``connect()`` (and ``serving()``,
    for the command line's demo), which run on *loop*, ``"trio"`` or ``"asyncio"``."""

    name: str
    module: str
    loop: str = attrs.field(validator=attrs.validators.in_(("trio", "asyncio")))

    def load(self) -> ModuleType:
        """The driver's module, imported."""
        return importlib.import_module(self.module)

    def run(self, function: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """Run ``function(*args)`` on a new loop of the driver's kind; what it returns."""
        return _RUN[self.loop](function, *args)

    def fail_after(self, seconds: float) -> AbstractAsyncContextManager[object]:
        """A block that raises ``TimeoutError`` once it has taken *seconds*."""
        return _FAIL_AFTER[self.loop](seconds)

    def in_background(
        self, work: Callable[[], Awaitable[object]]
    ) -> AbstractAsyncContextManager[None]:
        """A block during which ``work()`` runs in a task of its own, cancelled when the
        block ends."""
        return _BACKGROUND[self.loop](work)

    def event(self) -> Any:
        """A new event of the loop (``set()``, ``is_set()``, ``await wait()``)."""
        if self.loop == "trio":
            import trio

            return trio.Event()
        import asyncio

        return asyncio.Event()


#: The drivers by name: trio's first, the default.
DRIVERS: dict[str, Driver] = {}


def register(driver: Driver) -> None:
    """Make *driver* known by its name (replacing one of the same name)."""
    DRIVERS[driver.name] = driver


def _run_trio(function: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    import trio

    return trio.run(function, *args)


@asynccontextmanager
async def _trio_fail_after(seconds: float) -> AsyncIterator[object]:
    import trio

    with trio.move_on_after(seconds) as scope:
        yield scope
    if scope.cancelled_caught:
        raise TimeoutError


def _run_asyncio(function: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    import asyncio

    async def main() -> Any:
        return await function(*args)

    return asyncio.run(main())


def _asyncio_fail_after(seconds: float) -> AbstractAsyncContextManager[object]:
    import asyncio

    return asyncio.timeout(seconds)


@asynccontextmanager
async def _trio_background(work: Callable[[], Awaitable[object]]) -> AsyncIterator[None]:
    import trio

    async with trio.open_nursery() as nursery:
        nursery.start_soon(work)
        try:
            yield
        finally:
            nursery.cancel_scope.cancel()


@asynccontextmanager
async def _asyncio_background(work: Callable[[], Awaitable[object]]) -> AsyncIterator[None]:
    import asyncio

    async def run() -> None:
        await work()

    task = asyncio.ensure_future(run())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


_RUN = {"trio": _run_trio, "asyncio": _run_asyncio}
_FAIL_AFTER = {"trio": _trio_fail_after, "asyncio": _asyncio_fail_after}
_BACKGROUND = {"trio": _trio_background, "asyncio": _asyncio_background}

register(Driver("trio", "mcpws.trio", "trio"))
register(Driver("asyncio", "mcpws.asyncio", "asyncio"))
