"""The drivers mcpws knows by name (:data:`DRIVERS`), for the command line's ``--loop`` and
for the tests: each a :class:`Driver`, which says where its ``serve()``, ``serving()`` and
``connect()`` are and which loop they run on. :func:`register` adds one."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
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


_RUN = {"trio": _run_trio, "asyncio": _run_asyncio}
_FAIL_AFTER = {"trio": _trio_fail_after, "asyncio": _asyncio_fail_after}

register(Driver("trio", "mcpws.trio", "trio"))
register(Driver("asyncio", "mcpws.asyncio", "asyncio"))
