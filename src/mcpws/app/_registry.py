"""The drivers mcpws knows by name (:data:`DRIVERS`), for the command line's ``--loop`` and
for the tests: each a :class:`Driver`, which says where its ``serve()``, ``serving()`` and
``connect()`` are and how to run a coroutine function on its loop. :func:`register` adds
one."""

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
    """A driver by name: *module* has its ``serve()``, ``serving()`` and ``connect()``;
    ``run(function, *args)`` runs the coroutine function on the driver's loop and returns
    what it returns; ``fail_after(seconds)`` is a block that raises ``TimeoutError`` when
    it takes longer."""

    name: str
    module: str
    run: Callable[..., Any]
    fail_after: Callable[[float], AbstractAsyncContextManager[object]]

    def load(self) -> ModuleType:
        """The driver's module, imported."""
        return importlib.import_module(self.module)


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


register(Driver("trio", "mcpws.trio", _run_trio, _trio_fail_after))
register(Driver("asyncio", "mcpws.asyncio", _run_asyncio, _asyncio_fail_after))
