"""Serving an :class:`~mcpws.app.Server` over WebSocket with trio: :func:`serve` and
:func:`serving`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

from mcpws.app import Server
from mcpws.lowlevel import Listening, same_options, serve_options
from mcpws.trio._pump import Pump

__all__ = ["serve", "serving"]

_log = logging.getLogger("mcpws")


@same_options(serve_options)
async def serve(*args: Any, **options: Any) -> None:
    """Serve *app* until cancelled, then shut down gracefully; the options are those of
    :func:`mcpws.lowlevel.serve_options`.

    Each connection runs in its own task, and each request in its own task within it.
    The :class:`~mcpws.lowlevel.Listening` is reported through *task_status* (``await
    nursery.start(serve, app)``), so that port 0 can be used.
    """
    serving = serve_options(*args, **options)
    task_status = serving.task_status or trio.TASK_STATUS_IGNORED
    listeners = await trio.open_tcp_listeners(serving.port, host=serving.host)

    async def handle(stream: trio.abc.Stream) -> None:
        if serving.ssl_context is not None:
            stream = trio.SSLStream(stream, serving.ssl_context, server_side=True)
        pump = serving.new_pump(trio.current_time(), Pump, stream)
        try:
            await pump.run()
        except Exception:  # one connection's failure must not end the others
            _log.exception("a connection failed")
        finally:
            serving.closed(pump)

    task_status.started(serving.listening(listener.socket for listener in listeners))
    await trio.serve_listeners(handle, listeners)


@asynccontextmanager
async def serving(app: Server, **options: Any) -> AsyncIterator[Listening]:
    """Serve *app* for the block (the options of :func:`serve`); yields where it listens.
    Leaving the block shuts the server down gracefully."""
    async with trio.open_nursery() as nursery:
        yield await nursery.start(
            lambda task_status: serve(app, task_status=task_status, **options)
        )
        nursery.cancel_scope.cancel()
