"""The asyncio pump of one MCP connection, for either role: an :class:`asyncio.Protocol`.

Bytes the transport reads go to the core at once; what the core has to send is written at
once (a transport buffers, so writing never waits). One timer, re-armed with ``call_at``
when the core's deadline moves, calls ``handle_timeout``. Requests whose handlers have to
wait run in tasks of their own, cancelled on ``notifications/cancelled``; answers wake the
futures of the requests that wait for them. Every protocol decision is the core's.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from mcpws.app import ConnectionLost, ProgressCallback
from mcpws.app._driving import Handler, answer, settles
from mcpws.app._pumping import (
    CANCELLED,
    CLOSED,
    LINGER,
    LOST,
    NOT_ANSWERED,
    SHUTTING_DOWN,
    PumpBase,
)
from mcpws.core.connection import ClientConnection, ConnectionClosed, ServerConnection
from mcpws.core.jsonrpc import INTERNAL_ERROR
from mcpws.core.mcp import Model
from mcpws.core.session import (
    UNSET,
    Params,
    ProgressReceived,
    RequestCancelled,
    RequestReceived,
    TimeoutArg,
)
from mcpws.core.websocket import GOING_AWAY

__all__ = ["Pump"]


class _Slots:
    """At most *size* handlers at a time: taken at once when one is free, else waited for
    in turn."""

    def __init__(self, size: int) -> None:
        self.free = size
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()

    def take_now(self) -> bool:
        if self.free and not self._waiting:
            self.free -= 1
            return True
        return False

    async def take(self) -> None:
        if self.take_now():
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.give()  # handed over just as the wait was cancelled
            else:
                self._waiting.remove(turn)
            raise

    def give(self) -> None:
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.free += 1


class _Waiter:
    """A request waiting for its answer."""

    __slots__ = ("future", "on_progress")

    def __init__(self, future: asyncio.Future[Model], on_progress: ProgressCallback | None):
        self.future = future
        self.on_progress = on_progress


class Pump(PumpBase, asyncio.Protocol):
    """Drives one connection core over one asyncio transport. Also the connection's
    :class:`~mcpws.app.Link`."""

    def __init__(
        self,
        connection: ServerConnection | ClientConnection,
        handler: Handler,
        *,
        max_concurrent: int = 64,
        grace: float = 0.0,
    ) -> None:
        super().__init__(connection, handler)
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None
        self._waiters: dict[str | int, _Waiter] = {}
        self._handlers: dict[str | int, asyncio.Task[None]] = {}
        self._slots = _Slots(max_concurrent)
        self._grace = grace
        self._writable = asyncio.Event()
        self._writable.set()
        self.closed = asyncio.Event()
        #: Called once the transport is closed.
        self.on_lost: Callable[[], None] = lambda: None

    # The protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self.flush()

    def data_received(self, data: bytes) -> None:
        self.connection.receive_data(data, self._loop.time())
        self._process()

    def eof_received(self) -> bool:
        self.connection.receive_eof(self._loop.time())
        self._process()
        # The core closes the transport when it is done; over TLS, asyncio closes it.
        return self._transport is None or self._transport.get_extra_info("ssl_object") is None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.connection.closed:
            self.connection.receive_eof(self._loop.time())
            self._process()
        self._lost()
        self.on_lost()

    def pause_writing(self) -> None:
        # The peer does not read what it is sent. A server reads nothing more from it
        # meanwhile; a client reads on, for its server may be waiting to be read from before
        # it reads in turn, and two ends that both wait would wait for ever.
        self._writable.clear()
        if self._transport is not None and isinstance(self.connection, ServerConnection):
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        self._writable.set()
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.resume_reading()

    # Pumping -----------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what the core has to send (``b""`` closes the transport) and re-arm.

        A transport closed with bytes still unsent gets a little time to send them, then
        is cut: a peer that does not read cannot keep it open."""
        transport = self._transport
        for data in self.connection.data_to_send():
            if transport is None or transport.is_closing():
                break
            if data:
                transport.write(data)
            else:
                transport.close()
                if transport.get_write_buffer_size():
                    self._loop.call_later(LINGER, transport.abort)
        self._rearm()

    def _rearm(self) -> None:
        deadline = self.connection.next_deadline()
        if deadline == self._deadline:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._deadline = deadline
        self._timer = None if deadline is None else self._loop.call_at(deadline, self._expired)

    def _expired(self) -> None:
        self._timer = self._deadline = None
        deadline = self.connection.next_deadline()
        if deadline is not None and self._loop.time() >= deadline:
            self.connection.handle_timeout(self._loop.time())
            self._process()
        else:
            self._rearm()

    def _process(self) -> None:
        """Act on the core's events (and on those that acting produced), then write."""
        while events := self.connection.events_received():
            for event in events:
                self._dispatch(event)
        self.flush()

    def _dispatch(self, event: Any) -> None:
        if isinstance(event, RequestReceived):
            self._start_answering(event)
        elif isinstance(event, RequestCancelled):
            task = self._handlers.get(event.request_id)
            if task is not None:
                task.cancel()
        elif (settled := settles(event)) is not None:
            request_id, outcome = settled
            waiter = self._waiters.get(request_id)
            if waiter is not None and not waiter.future.done():
                if isinstance(outcome, BaseException):
                    waiter.future.set_exception(outcome)
                else:
                    waiter.future.set_result(outcome)
        elif isinstance(event, ProgressReceived):
            waiter = self._waiters.get(event.request_id)
            if waiter is not None and waiter.on_progress is not None:
                waiter.on_progress(event.progress, event.total, event.message)
        else:
            if isinstance(event, ConnectionClosed):
                self._lost()
            self.on_event(event)

    def _lost(self) -> None:
        """The connection is over: waiting requests fail, handlers are cancelled."""
        if self.closed.is_set():
            return
        self.closed.set()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._deadline = None
        for waiter in self._waiters.values():
            if not waiter.future.done():
                lost = ConnectionLost(LOST)
                waiter.future.set_exception(lost)
        for task in self._handlers.values():
            task.cancel()

    # Answering the peer ------------------------------------------------------------------

    def _start_answering(self, event: RequestReceived) -> None:
        """Answer a peer's request: at once when a handler slot is free and the handler
        answers at once; else in a task of its own."""
        later = None
        if self._slots.take_now():
            later = answer(self.session, event, self.handler, self)
            if later is None:
                self._slots.give()
                return
        task = self._loop.create_task(self._answer(event, later))
        self._handlers[event.request_id] = task
        task.add_done_callback(functools.partial(self._answered, event.request_id, later))

    def _answered(
        self,
        request_id: str | int,
        later: Coroutine[Any, Any, None] | None,
        task: asyncio.Task[None],
    ) -> None:
        self._handlers.pop(request_id, None)
        if later is not None:
            later.close()  # a task cancelled before it ran never started it

    async def _answer(
        self, event: RequestReceived, later: Coroutine[Any, Any, None] | None
    ) -> None:
        """Finish answering, holding a handler slot: with the rest of a started handler
        (*later*), or, with none, after waiting for a slot."""
        try:
            if later is None:
                await self._slots.take()
            try:
                if later is None:
                    later = answer(self.session, event, self.handler, self)
                if later is not None:
                    await later
            finally:
                self._slots.give()
        except asyncio.CancelledError:
            # The core drops this answer when the peer cancelled the request.
            if not self.connection.closed:
                self.session.respond_error(event.request_id, INTERNAL_ERROR, NOT_ANSWERED)
        self.flush()

    async def shutdown(self) -> None:
        """Close gracefully: the requests being handled get the grace period to finish and
        send their answers, all the way to a peer that reads slowly (a server's session
        refuses new ones once the server drains it); then the connection closes with
        1001."""
        ends = self._loop.time() + self._grace
        if self._handlers:
            await asyncio.wait(list(self._handlers.values()), timeout=self._grace)
        if late := list(self._handlers.values()):
            for task in late:
                task.cancel()
            await asyncio.wait(late, timeout=LINGER)  # their error answers go out first
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(ends + LINGER):
                await self._writable.wait()  # the rest fits in the socket: it goes at close
        if self.connection.is_open:
            self.connection.close(GOING_AWAY, SHUTTING_DOWN, now=self._loop.time())
            self.flush()
        if self._transport is not None:
            self._transport.close()  # once what is written has gone out
            try:
                async with asyncio.timeout(LINGER):
                    await self.closed.wait()
            except TimeoutError:
                pass
        self.abort()

    def abort(self) -> None:
        """Drop the connection at once, without a closing handshake."""
        if self._transport is not None:
            self._transport.abort()
        self._lost()

    # The Link of this connection -----------------------------------------------------------

    async def request(
        self,
        method: str,
        params: Params = None,
        *,
        timeout: TimeoutArg = UNSET,
        on_progress: ProgressCallback | None = None,
        extension: bool = False,
    ) -> Model:
        """Send a request and wait for its answer."""
        if self.closed.is_set():
            raise ConnectionLost(CLOSED)
        request_id = self.session.send_request(
            method,
            params,
            now=self._loop.time(),
            timeout=timeout,
            progress=on_progress is not None,
            extension=extension,
        )
        future: asyncio.Future[Model] = self._loop.create_future()
        self._waiters[request_id] = _Waiter(future, on_progress)
        try:
            self.flush()
            return await future
        except asyncio.CancelledError:
            # Cancelling the caller cancels the future too; an answer may have come first.
            answered = future.done() and not future.cancelled()
            if not answered and not self.closed.is_set():
                self.session.cancel(request_id, CANCELLED)
                self.flush()
            raise
        finally:
            del self._waiters[request_id]

    async def notify(self, method: str, params: Params = None) -> None:
        """Send a notification."""
        self.session.send_notification(method, params)
        self.flush()
        await self._written()

    async def send_progress(
        self, request_id: str | int, progress: float, total: float | None, message: str | None
    ) -> None:
        """Report progress on a peer's request."""
        if self.session.send_progress(request_id, progress, total, message):
            self.flush()
        await self._written()

    async def _written(self) -> None:
        """Wait while the transport's buffer is full; yield to the loop in any case, so that
        a loop of notifications does not starve the rest."""
        if self._writable.is_set():
            await asyncio.sleep(0)
        else:
            await self._writable.wait()
