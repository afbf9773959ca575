"""Serving an :class:`~mcpws.app.Server` over WebSocket with asyncio: :func:`serve`,
:func:`serving`, and the :class:`TaskStatus` that hears when it listens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, assert_never

from mcpws.app import Server
from mcpws.asyncio._pump import Pump
from mcpws.lowlevel import (
    LINGER,
    PAUSE,
    REFUSAL,
    Listening,
    Remedy,
    Serving,
    Shortage,
    peer_name,
    same_options,
    serve_options,
)

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
    Cancelled again during the graceful shutdown, it drops every connection at once. A
    hosted server's lifespan is entered before it listens and left after the shutdown. Out of
    file descriptors, a new connection is answered 503 (see
    :class:`~mcpws.lowlevel.Shortage`).
    """
    async with contextlib.AsyncExitStack() as stack:
        with _failures_reported(options.get("task_status")):
            serving = serve_options(*args, **options)
            await stack.enter_async_context(serving.running())
            loop = asyncio.get_running_loop()
            found: list[Any] = []
            if serving.resolving:
                found = await loop.getaddrinfo(
                    serving.host or None,
                    serving.port,
                    type=socket.SOCK_STREAM,
                    flags=socket.AI_PASSIVE,
                )
            sockets = serving.bind(found)
            stack.callback(serving.unbind)
        opening: set[asyncio.Task[None]] = set()

        def take(connection: socket.socket) -> None:
            task = loop.create_task(_open(loop, connection, serving))
            opening.add(task)
            task.add_done_callback(opening.discard)

        with Shortage(serving) as shortage:
            accepting = [loop.create_task(_accept(loop, one, shortage, take)) for one in sockets]
            if serving.task_status is not None:
                serving.task_status.started(serving.listening(sockets))
            try:  # until cancelled: an accept task ends only by failing
                failed, _ = await asyncio.wait(accepting, return_when=asyncio.FIRST_EXCEPTION)
                for task in failed:
                    task.result()  # raises what ended it
            finally:
                for task in (*accepting, *opening):
                    task.cancel()
                for one in sockets:
                    one.close()
                await _shut_down(serving)


#: Connections accepted in a row before the loop gets a turn.
_ACCEPTS = 100


async def _accept(
    loop: asyncio.AbstractEventLoop,
    listening: socket.socket,
    shortage: Shortage,
    take: Callable[[socket.socket], None],
) -> None:
    """Accept connections on *listening* for ever, handing each to *take*."""
    taken = 0
    while True:
        try:
            connection, _ = await loop.sock_accept(listening)
        except OSError as exc:
            remedy = shortage.accept_failed(exc, loop.time())
            match remedy:
                case None:
                    raise
                case Remedy.AGAIN:
                    pass
                case Remedy.REFUSE:
                    await _refuse(loop, listening, shortage)
                case Remedy.PAUSE:
                    await asyncio.sleep(PAUSE)
                case _:
                    assert_never(remedy)
        else:
            take(connection)
            taken += 1
            if taken % _ACCEPTS == 0:  # one already waiting is taken without a pause: now
                await asyncio.sleep(0)  # and then, a flood lets the rest run


async def _open(
    loop: asyncio.AbstractEventLoop, connection: socket.socket, serving: Serving
) -> None:
    """Give a connection just accepted its pump and its transport (over TLS, once the
    handshake is done); close it if that fails."""
    pump = serving.new_pump(loop.time(), Pump, peer=peer_name(connection))
    pump.on_lost = lambda: serving.closed(pump)
    opened = False
    try:
        await loop.connect_accepted_socket(lambda: pump, connection, ssl=serving.ssl_context)
        opened = True
    except Exception as exc:  # a TLS handshake that failed, say
        _log.debug("a connection closed before it opened: %r", exc)
    finally:
        if not opened:
            connection.close()
            pump.lost()
            serving.closed(pump)


async def _refuse(
    loop: asyncio.AbstractEventLoop, listening: socket.socket, shortage: Shortage
) -> None:
    """Out of descriptors: once a connection waits on *listening* (``accept()`` fails so
    whether or not one does), take it with the descriptor in reserve, answer it 503 and close
    it once its client has read the answer and closed (within LINGER); unless a connection
    that closed meanwhile freed a descriptor, and the accept loop takes it instead."""
    await _readable(loop, listening)
    if not shortage.exhausted():
        return
    with shortage.refusing(loop.time()):
        try:
            async with asyncio.timeout(LINGER):
                connection, _ = await loop.sock_accept(listening)
                with connection:
                    await _answer(loop, connection)
        except OSError:  # it went, or another descriptor is wanting, or LINGER is over
            pass


async def _readable(loop: asyncio.AbstractEventLoop, listening: socket.socket) -> None:
    """Once a connection waits on *listening*."""
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    fd = listening.fileno()  # by number: the socket may be closed before the reader goes
    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


async def _answer(loop: asyncio.AbstractEventLoop, connection: socket.socket) -> None:
    """Write REFUSAL, then read until the client closes: a socket closed with bytes unread
    resets the connection, and the client may lose the answer."""
    await loop.sock_sendall(connection, REFUSAL)
    connection.shutdown(socket.SHUT_WR)
    while await loop.sock_recv(connection, 4096):
        pass


async def _shut_down(serving: Serving) -> None:
    pumps = [pump for pump in serving.pumps if isinstance(pump, Pump)]
    for pump in pumps:
        pump.drain()  # before anything more is read, not once shutting down
    shutting_down = asyncio.ensure_future(_shut_down_each(pumps))
    try:
        await asyncio.shield(shutting_down)
    except asyncio.CancelledError:
        # Cancelled again (as an anyio cancel scope does at every await): at once.
        shutting_down.cancel()
        for pump in pumps:
            pump.abort()
        raise


async def _shut_down_each(pumps: list[Pump]) -> None:
    results = await asyncio.gather(*(pump.shutdown() for pump in pumps), return_exceptions=True)
    for result in results:
        if isinstance(result, Exception):
            _log.error("a connection failed to shut down", exc_info=result)


@asynccontextmanager
async def serving(app: Server | object, **options: Any) -> AsyncIterator[Listening]:
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
