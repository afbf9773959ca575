"""Serving an :class:`~mcpws.app.Server` over WebSocket with asyncio: :func:`serve`,
:func:`serving`, and the :class:`TaskStatus` that hears when it listens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from mcpws.app import Server
from mcpws.asyncio._pump import Pump
from mcpws.lowlevel import Listening, Serving, same_options, serve_options

__all__ = ["TaskStatus", "serve", "serving"]

_log = logging.getLogger("mcpws")


class TaskStatus:
    """Where :func:`serve` reports where it listens, once it does: pass one as
    ``task_status``, then ``await status.wait()`` for the
    :class:`~mcpws.lowlevel.Listening`, which raises what stopped ``serve`` before it
    listened (a port in use, say). Anything with a ``started`` method will do, as trio's
    ``task_status`` does, but only a :class:`TaskStatus` hears of a failure. (A task
    cancelled before it ever ran reports nothing: its caller knows.)"""

    def __init__(self) -> None:
        self._value: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def started(self, value: Any = None, /) -> None:
        """Report *value* (where the server listens)."""
        self._value.set_result(value)

    def failed(self, exc: BaseException, /) -> None:
        """Report that the task ended with *exc* before it started, unless it had. A task
        cancelled is reported as a ``RuntimeError``: whoever waits was not cancelled."""
        if self._value.done():
            return
        if isinstance(exc, asyncio.CancelledError):
            exc = RuntimeError("serve() was cancelled before it listened")
        self._value.set_exception(exc)
        self._value.exception()  # the task raises it too: not "never retrieved" here

    async def wait(self) -> Any:
        """The value reported, once it is; raises what ended the task before it started."""
        return await self._value


@contextlib.contextmanager
def _failures_reported(task_status: object) -> Iterator[None]:
    """Report an exception raised in the block to *task_status*, and let it go on."""
    try:
        yield
    except BaseException as exc:
        if isinstance(task_status, TaskStatus):
            task_status.failed(exc)
        raise


@same_options(serve_options)
async def serve(*args: Any, **options: Any) -> None:
    """Serve *app* until cancelled, then shut down gracefully; the options are those of
    :func:`mcpws.lowlevel.serve_options`.

    Each request whose handler has to wait runs in its own task. Where it listens is
    reported to *task_status* (a :class:`TaskStatus`, say), so that port 0 can be used.
    Cancelled again during the graceful shutdown, it drops every connection at once.
    """
    with _failures_reported(options.get("task_status")):
        serving = serve_options(*args, **options)
        loop = asyncio.get_running_loop()

        def connection_for_one_client() -> Pump:
            pump = serving.new_pump(loop.time(), Pump)
            pump.on_lost = lambda: serving.closed(pump)
            return pump

        server = await loop.create_server(
            connection_for_one_client, serving.host, serving.port, ssl=serving.ssl_context
        )
    if serving.task_status is not None:
        serving.task_status.started(serving.listening(server.sockets))
    try:
        await asyncio.Event().wait()  # until cancelled
    finally:
        server.close()
        await _shut_down(server, serving)


async def _shut_down(server: asyncio.Server, serving: Serving) -> None:
    pumps = [pump for pump in serving.pumps if isinstance(pump, Pump)]
    for pump in pumps:
        pump.session.drain()  # before anything more is read, not once shutting down
    shutting_down = asyncio.ensure_future(_shut_down_each(server, pumps))
    try:
        await asyncio.shield(shutting_down)
    except asyncio.CancelledError:
        # Cancelled again (as an anyio cancel scope does at every await): at once.
        shutting_down.cancel()
        for pump in pumps:
            pump.abort()
        raise


async def _shut_down_each(server: asyncio.Server, pumps: list[Pump]) -> None:
    results = await asyncio.gather(*(pump.shutdown() for pump in pumps), return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            _log.error("a connection failed to shut down", exc_info=result)
    await server.wait_closed()


@asynccontextmanager
async def serving(app: Server, **options: Any) -> AsyncIterator[Listening]:
    """Serve *app* for the block (the options of :func:`serve`); yields where it listens.
    Leaving the block shuts the server down gracefully."""
    status = TaskStatus()
    task = asyncio.create_task(serve(app, task_status=status, **options))
    try:
        yield await status.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
