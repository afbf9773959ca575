"""A stand-in for a driver's connection in the tests of the application layer:
:class:`QuietLink` has every member of :class:`mcpws.app.Link`, each failing the test (or,
for ``in_thread``, calling the function there and then), so that a fake overrides only what
its test uses. Not a test module; imported as ``helpers.links``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from mcpws.core.mcp import LoggingLevel, Model
from mcpws.core.session._base import UNSET, Params, TimeoutArg

T = TypeVar("T")


class QuietLink:
    """A connection on which nothing is expected to happen."""

    principal: object = None
    log_level: LoggingLevel | None = None
    stateless = False
    is_open = True

    async def request(
        self,
        method: str,
        params: Params = None,
        *,
        timeout: TimeoutArg = UNSET,
        on_progress: Any = None,
        extension: bool = False,
        on_notification: Any = None,
    ) -> Model:
        raise AssertionError(f"no request expected here: {method}")

    async def notify(self, method: str, params: Params = None, *, extension: bool = False) -> None:
        raise AssertionError(f"no notification expected here: {method}")

    async def send_progress(
        self, request_id: str | int, progress: float, total: float | None, message: str | None
    ) -> None:
        raise AssertionError("no progress expected here")

    async def draining(self) -> None:
        raise AssertionError("no stream here")

    async def in_thread(self, fn: Callable[[], T]) -> T:
        return fn()  # no loop to keep going here

    def waiter(self) -> Any:
        raise AssertionError("no waiting here")
