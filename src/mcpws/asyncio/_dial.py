"""A server that dials out to its client, with asyncio: :func:`dial`, as
:func:`mcpws.trio.dial` does."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from mcpws.asyncio._connect import opened
from mcpws.asyncio._pump import Pump
from mcpws.lowlevel import DialingOut, dial_options, keep_dialing, same_options

__all__ = ["dial"]


@same_options(dial_options)
async def dial(*args: Any, **options: Any) -> None:
    """Serve *app* over the connections it opens to *url*, until cancelled (then shut down
    gracefully, as :func:`serve` does: cancelled again meanwhile, at once); the options are
    those of :func:`mcpws.lowlevel.dial_options`. The first open connection is reported
    through *task_status* (a :class:`TaskStatus`, say)."""
    out = dial_options(*args, **options)
    async with out.running():
        await keep_dialing(out, functools.partial(_serve_one, out), asyncio.sleep)


async def _serve_one(out: DialingOut, now_open: Callable[[], None]) -> None:
    """Open one connection and serve over it until it is over; raises ConnectError when it
    cannot open."""
    loop = asyncio.get_running_loop()
    connection = out.connection(loop.time())
    pump = out.serve_over(connection, Pump)
    try:
        await opened(out.dialing, pump, None)
        now_open()
        try:
            await pump.closed.wait()
        except asyncio.CancelledError:
            pump.drain()
            shutting_down = asyncio.ensure_future(pump.shutdown())
            try:
                await asyncio.shield(shutting_down)
            except asyncio.CancelledError:
                shutting_down.cancel()
                pump.abort()
            raise
    finally:
        pump.lost()
        out.closed(pump)
