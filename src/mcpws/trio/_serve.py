"""Serving an :class:`~mcpws.app.Server` over WebSocket with trio: :func:`serve` and
:func:`serving`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, assert_never

import trio

from mcpws.app import Server
from mcpws.lowlevel import (
    LINGER,
    PAUSE,
    REFUSAL,
    Listening,
    Remedy,
    Shortage,
    peer_name,
    same_options,
    serve_options,
)
from mcpws.trio._pump import Pump

__all__ = ["serve", "serving"]

_log = logging.getLogger("mcpws")


@same_options(serve_options)
async def serve(*args: Any, **options: Any) -> None:
    """Serve *app* until cancelled, then shut down gracefully; the options are those of
    :func:`mcpws.lowlevel.serve_options`.

    Each connection runs in its own task, and each request in its own task within it.
    The :class:`~mcpws.lowlevel.Listening` is reported through *task_status* (``await
    nursery.start(serve, app)``), so that port 0 can be used. Out of file descriptors, a
    new connection is answered 503 (see :class:`~mcpws.lowlevel.Shortage`). A hosted
    server's lifespan is entered before it listens and left after the shutdown.
    """
    serving = serve_options(*args, **options)
    task_status = serving.task_status or trio.TASK_STATUS_IGNORED
    async with serving.running():
        found: list[Any] = []
        if serving.resolving:
            found = await trio.socket.getaddrinfo(
                serving.host or None,
                serving.port,
                type=trio.socket.SOCK_STREAM,
                flags=trio.socket.AI_PASSIVE,
            )
        listeners = [
            trio.SocketListener(trio.socket.from_stdlib_socket(one)) for one in serving.bind(found)
        ]

        async def handle(stream: trio.SocketStream) -> None:
            peer = peer_name(stream.socket)
            carried: trio.abc.Stream = stream
            if serving.ssl_context is not None:
                carried = trio.SSLStream(stream, serving.ssl_context, server_side=True)
            pump = serving.new_pump(trio.current_time(), Pump, carried, peer=peer)
            try:
                await pump.run()
            except Exception:  # one connection's failure must not end the others
                _log.exception("a connection failed")
            finally:
                serving.closed(pump)

        try:
            with Shortage(serving) as shortage:
                async with trio.open_nursery() as nursery:
                    for listener in listeners:
                        nursery.start_soon(_accept, listener, shortage, nursery, handle)
                    task_status.started(serving.listening(one.socket for one in listeners))
        finally:
            serving.unbind()


async def _accept(
    listener: trio.SocketListener,
    shortage: Shortage,
    nursery: trio.Nursery,
    handle: Callable[[trio.SocketStream], Awaitable[None]],
) -> None:
    """Accept connections on *listener* for ever, each handled in a task of *nursery*;
    close the listener once cancelled."""
    async with listener:
        while True:
            try:
                stream = await listener.accept()
            except OSError as exc:
                remedy = shortage.accept_failed(exc, trio.current_time())
                match remedy:
                    case None:
                        raise
                    case Remedy.AGAIN:
                        pass
                    case Remedy.REFUSE:
                        await _refuse(listener.socket, shortage)
                    case Remedy.PAUSE:
                        await trio.sleep(PAUSE)
                    case _:
                        assert_never(remedy)
            else:
                nursery.start_soon(handle, stream)


async def _refuse(listening: trio.socket.SocketType, shortage: Shortage) -> None:
    """Out of descriptors: once a connection waits on *listening* (``accept()`` fails so
    whether or not one does), take it with the descriptor in reserve, answer it 503 and close
    it once its client has read the answer and closed (within LINGER); unless a connection
    that closed meanwhile freed a descriptor, and the accept loop takes it instead."""
    await trio.lowlevel.wait_readable(listening)
    if not shortage.exhausted():
        return
    # OSError: the connection went, or another descriptor is wanting, or the client went.
    with (
        shortage.refusing(trio.current_time()),
        trio.move_on_after(LINGER),
        contextlib.suppress(OSError),
    ):
        connection, _ = await listening.accept()
        with connection:
            await _answer(connection)


async def _answer(connection: trio.socket.SocketType) -> None:
    """Write REFUSAL, then read until the client closes: a socket closed with bytes unread
    resets the connection, and the client may lose the answer."""
    view = memoryview(REFUSAL)
    while view:
        view = view[await connection.send(view) :]
    connection.shutdown(trio.socket.SHUT_WR)
    while await connection.recv(4096):
        pass


@asynccontextmanager
async def serving(app: Server | object, **options: Any) -> AsyncIterator[Listening]:
    """Serve *app* for the block (the options of :func:`serve`); yields where it listens.
    Leaving the block shuts the server down gracefully."""
    async with trio.open_nursery() as nursery:
        yield await nursery.start(
            lambda task_status: serve(app, task_status=task_status, **options)
        )
        nursery.cancel_scope.cancel()
