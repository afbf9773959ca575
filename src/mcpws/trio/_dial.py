"""A server that dials out to its client, with trio: :func:`dial` opens the WebSocket
connection (the MCP client is the WebSocket server there) and serves MCP over it, connecting
again when it drops."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import trio

from mcpws.app import ConnectError
from mcpws.lowlevel import DialingOut, dial_options, keep_dialing, same_options
from mcpws.trio._connect import opened
from mcpws.trio._pump import Pump

__all__ = ["dial"]


@same_options(dial_options)
async def dial(*args: Any, **options: Any) -> None:
    """Serve *app* over the connections it opens to *url*, until cancelled (then shut down
    gracefully, as :func:`serve` does); the options are those of
    :func:`mcpws.lowlevel.dial_options`. The first open connection is reported through
    *task_status* (``await nursery.start(dial, app, url)``)."""
    out = dial_options(*args, **options)
    async with out.running():
        await keep_dialing(out, functools.partial(_serve_one, out), trio.sleep)


async def _serve_one(out: DialingOut, now_open: Callable[[], None]) -> None:
    """Open one connection and serve over it until it is over; raises ConnectError when it
    cannot open."""
    connection = out.connection(trio.current_time())
    made: list[Pump] = []

    def make(stream: trio.abc.Stream) -> Pump:
        pump = out.serve_over(connection, Pump, stream)
        made.append(pump)
        return pump

    refused: ConnectError | None = None
    try:
        async with trio.open_nursery() as nursery:
            try:
                pump = await opened(out.dialing, connection, make, None, nursery)
            except ConnectError as exc:  # raised again below, outside the nursery
                refused = exc
            else:
                now_open()
                await pump.closed.wait()
    finally:
        for pump in made:
            out.closed(pump)
    if refused is not None:
        raise refused
