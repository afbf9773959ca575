"""The trio pump of one MCP connection, for either role.

It reads the stream and feeds the core, writes what the core hands back through one outbox,
re-arms one deadline (a timer task's cancel scope) after every change, and turns the
core's events into trio actions: requests start handler tasks in their own cancel scopes,
answers wake the tasks that wait for them, cancellations cancel scopes. It holds no protocol
logic: every decision is the core's.
"""

from __future__ import annotations

import math
from collections.abc import Coroutine
from typing import Any

import trio

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
from mcpws.trio._socket import DirectSocket, direct

__all__ = ["Pump"]

#: Bytes read from the stream at a time.
_CHUNK = 65536


class _Waiter:
    """A task waiting for the answer to its request: the answer, or the error it meets,
    settles it once."""

    __slots__ = ("_task", "on_progress", "outcome")

    def __init__(self, on_progress: ProgressCallback | None) -> None:
        self.on_progress = on_progress
        self.outcome: Model | BaseException | None = None
        self._task: trio.lowlevel.Task | None = None

    async def wait(self) -> Model | BaseException:
        """The outcome, once it has come. Always a checkpoint."""
        if self.outcome is None:
            self._task = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(self._abort)
        else:
            await trio.lowlevel.checkpoint()
        assert self.outcome is not None
        return self.outcome

    def _abort(self, _: object) -> trio.lowlevel.Abort:
        self._task = None
        return trio.lowlevel.Abort.SUCCEEDED

    def settle(self, outcome: Model | BaseException) -> None:
        """Give the waiting task its outcome, unless it has one."""
        if self.outcome is None:
            self.outcome = outcome
            if self._task is not None:
                trio.lowlevel.reschedule(self._task)
                self._task = None


class Pump(PumpBase):
    """Drives one connection core over one trio stream. Also the connection's :class:`Link`."""

    def __init__(
        self,
        stream: trio.abc.Stream,
        connection: ServerConnection | ClientConnection,
        handler: Handler,
        *,
        max_concurrent: int = 64,
        grace: float = 0.0,
    ) -> None:
        super().__init__(connection, handler)
        self.stream = stream
        #: What is read and written: the stream, or its socket directly while running.
        self._io: trio.abc.Stream | DirectSocket = stream
        #: The chunks to write, whether a task is writing them, how many chunks were ever
        #: queued and written, and where tasks wait for theirs to be written.
        self._outbox: list[bytes] = []
        self._writing = False
        self._queued = self._sent = 0
        self._drained = trio.lowlevel.ParkingLot()
        self._timer_scope: trio.CancelScope | None = None
        self._waiters: dict[str | int, _Waiter] = {}
        self._handlers: dict[str | int, trio.CancelScope] = {}
        self._handler_slots = trio.Semaphore(max_concurrent)
        #: Handler tasks not yet done (their answers sent), and where a shutdown waits for them.
        self._answering = 0
        self._answered = trio.lowlevel.ParkingLot()
        self._grace = grace
        self._nursery: trio.Nursery | None = None
        #: Bytes read from the peer and not yet given to the core, while a server waits for
        #: the peer to read; a read that was cancelled meanwhile leaves them to the next.
        self._unread: bytes | None = None
        self.closed = trio.Event()

    # Running -----------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Pump until the connection is over; handler tasks run inside.

        Cancelled, it shuts down gracefully: the requests being handled get ``grace``
        seconds to finish and send their answers, then the connection closes with 1001.
        """
        self._io = direct(self.stream) or self.stream
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._timer)
                task_status.started()
                await self.flush()
                try:
                    await self._read()
                except trio.Cancelled:
                    with trio.CancelScope(shield=True):
                        await self._shut_down()
                    raise
                self._stop_handlers(-math.inf)
                nursery.cancel_scope.cancel()
                # A handler may still be writing to a peer that does not read: it stops.
                await self._close_stream(forcefully=True)
        finally:
            self._nursery = None
            self._lost()
            with trio.CancelScope(shield=True):
                await self._close_stream(forcefully=True)

    async def _shut_down(self) -> None:
        """Give the handlers the grace period, and their answers a little longer to go
        out (all the way to the peer), reading on meanwhile (new requests are refused at
        once, answers to this side's requests arrive); close with 1001; then cut the stream,
        which stops any write still waiting."""
        if isinstance(self.connection, ServerConnection):
            self.session.drain()
        self._stop_handlers(trio.current_time() + self._grace)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._read)
            with trio.move_on_after(self._grace + LINGER):
                while self._answering:
                    await self._answered.park()
                await self._written(self._queued)  # the answers out, to a slow reader too
            nursery.cancel_scope.cancel()  # the reader may be waiting for the peer to read
        if self._unread is not None and self.connection.is_open:
            # Read, and held back from a peer that did not read: refused, not lost.
            self.connection.receive_data(self._unread, trio.current_time())
            self._unread = None
            await self._process(wait=False)
        if self.connection.is_open:
            self.connection.close(GOING_AWAY, SHUTTING_DOWN, now=trio.current_time())
            with trio.move_on_after(LINGER):
                await self.flush()
        await self._close_stream(forcefully=True)

    def _stop_handlers(self, deadline: float) -> None:
        """Give the handlers until *deadline* to finish."""
        for scope in self._handlers.values():
            scope.deadline = min(scope.deadline, deadline)

    async def _read(self) -> None:
        """Read until the connection is over. A server reads no further from a peer that
        does not read what it is sent; a client reads on, for its server may be waiting to
        be read from before it reads in turn, and two ends that both wait would wait for
        ever."""
        server = isinstance(self.connection, ServerConnection)
        while not self.connection.closed:
            data, self._unread = self._unread, None
            if data is None:
                try:
                    data = bytes(await self._io.receive_some(_CHUNK))
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    data = b""
                if data and server and self._writing:
                    self._unread = data  # read first by whoever reads next, if cancelled
                    await self._written(self._queued)
                    self._unread = None
            now = trio.current_time()
            if data:
                self.connection.receive_data(data, now)
            else:
                self.connection.receive_eof(now)
            await self._process(wait=server)

    async def _timer(self) -> None:
        while True:
            with trio.CancelScope() as scope:
                self._timer_scope = scope
                self.rearm()
                await trio.sleep_forever()
            deadline = self.connection.next_deadline()
            if deadline is not None and trio.current_time() >= deadline:
                self.connection.handle_timeout(trio.current_time())
                await self._process(wait=False)

    def rearm(self) -> None:
        """Bring the timer forward to the core's next deadline when that is sooner.

        A deadline that moved later is left as it was: the timer then wakes early, finds
        nothing due and is set again. Most calls move the deadline later (a request's
        timeout, the keepalive), and moving a cancel scope's deadline is not free."""
        if self._timer_scope is not None:
            deadline = self.connection.next_deadline()
            if deadline is not None and deadline < self._timer_scope.deadline:
                self._timer_scope.deadline = deadline

    async def flush(self, *, wait: bool = True) -> None:
        """Send what the core has to send; ``b""`` closes the stream.

        The bytes join the outbox at once, in the order they were taken, and go out whatever
        happens to the task that took them: a stream that lost bytes would be corrupt. They
        are written at once when the stream takes them without waiting (a plain TCP socket
        with room for them). Else the outbox is written out of reach of cancellation: over
        TLS by the task that took them, when it waits; otherwise by a writer task of the
        connection's own, while the task that took them waits until they are written,
        unless *wait* is false (the timer must never wait on the peer). Once the core is
        done with the stream while a write still waits on the peer, the rest gets a little
        time to go out, then the stream is cut."""
        chunks = self.connection.data_to_send()
        self.rearm()
        if not chunks:
            return
        if self._nursery is None:
            return  # not running, or no more: there is no stream to write to
        self._outbox += chunks
        self._queued += len(chunks)
        mine = self._queued
        if not self._writing:
            if self._write_now():
                return
            self._writing = True
            if wait and not isinstance(self._io, DirectSocket):
                await self._drain()  # a TLS stream: no task switch for each message
                return
            self._nursery.start_soon(self._drain)
        if chunks[-1]:
            if wait:
                await self._written(mine)
            return
        with trio.move_on_after(LINGER) as lingering:
            await self._written(mine)
        if lingering.cancelled_caught:
            await self._close_stream(forcefully=True)

    def _write_now(self) -> bool:
        """Write the outbox without waiting, as far as the stream allows (a plain TCP socket
        with room for the bytes); whether it is empty now."""
        io, outbox = self._io, self._outbox
        if not isinstance(io, DirectSocket):
            return False
        while outbox and (data := outbox[0]):
            try:
                sent = io.send_now(data)
            except trio.BrokenResourceError:
                sent = len(data)  # lost with the connection, as the writer would lose it
            if sent < len(data):
                outbox[0] = data[sent:]
                return False
            del outbox[0]
            self._sent += 1
        return not outbox

    async def _written(self, count: int) -> None:
        """Wait until the first *count* chunks ever queued are written."""
        while self._sent < count:
            await self._drained.park()

    async def _drain(self) -> None:
        """The writer task: write the outbox until it is empty, out of reach of
        cancellation (cutting the stream stops it)."""
        try:
            with trio.CancelScope(shield=True):
                while self._outbox:
                    chunks, self._outbox = self._outbox, []
                    for data in chunks:
                        try:
                            if data:
                                await self._io.send_all(data)
                            else:
                                await self._close_stream()
                        except (trio.BrokenResourceError, trio.ClosedResourceError):
                            pass
                        self._sent += 1
        finally:
            self._writing = False
            self._drained.unpark_all()

    async def _close_stream(self, *, forcefully: bool = False) -> None:
        """Close the stream: at once, or giving TLS a little time to say goodbye."""
        if isinstance(self._io, DirectSocket):
            self._io.close()
        if not forcefully:
            with trio.move_on_after(LINGER):
                await self.stream.aclose()
        await trio.aclose_forcefully(self.stream)

    async def _process(self, *, wait: bool = True) -> None:
        """Act on the core's events (and on those that acting produced), then write."""
        while events := self.connection.events_received():
            for event in events:
                self._dispatch(event)
        await self.flush(wait=wait)

    def _dispatch(self, event: Any) -> None:
        if isinstance(event, RequestReceived):
            self._start_answering(event)
        elif isinstance(event, RequestCancelled):
            scope = self._handlers.get(event.request_id)
            if scope is not None:
                scope.cancel()
        elif (settled := settles(event)) is not None:
            self._resolve(*settled)
        elif isinstance(event, ProgressReceived):
            waiter = self._waiters.get(event.request_id)
            if waiter is not None and waiter.on_progress is not None:
                waiter.on_progress(event.progress, event.total, event.message)
        else:
            if isinstance(event, ConnectionClosed):
                self._lost()
            self.on_event(event)

    def _resolve(self, request_id: str | int, outcome: Model | BaseException) -> None:
        waiter = self._waiters.get(request_id)
        if waiter is not None:
            waiter.settle(outcome)

    def _lost(self) -> None:
        """The connection is over: every waiting request fails."""
        for waiter in self._waiters.values():
            waiter.settle(ConnectionLost(LOST))
        self.closed.set()

    def _start_answering(self, event: RequestReceived) -> None:
        """Answer a peer's request: at once when a handler slot is free and the handler
        answers at once; else in the request's own task, in a cancel scope of its own."""
        try:
            self._handler_slots.acquire_nowait()
        except trio.WouldBlock:
            later = None  # the task waits for a slot, then starts the handler
        else:
            later = answer(self.session, event, self.handler, self)
            if later is None:
                self._handler_slots.release()
                return
        # Shielded: a shutdown gives handlers a grace period instead of cancelling them.
        # Registered now, so that a cancel reaches the request whatever it is waiting for.
        scope = self._handlers[event.request_id] = trio.CancelScope(shield=True)
        assert self._nursery is not None
        self._answering += 1
        self._nursery.start_soon(self._answer, event, scope, later)

    async def _answer(
        self,
        event: RequestReceived,
        scope: trio.CancelScope,
        later: Coroutine[Any, Any, None] | None,
    ) -> None:
        """Finish answering in the request's own task, holding a handler slot: with the
        rest of a started handler (*later*), or, with none, after waiting for a slot."""
        with scope:
            try:
                if later is None:
                    await self._handler_slots.acquire()
                try:
                    if later is None:
                        # The slot may have been handed over after a cancel came.
                        await trio.lowlevel.checkpoint_if_cancelled()
                        later = answer(self.session, event, self.handler, self)
                    if later is not None:
                        await later
                finally:
                    self._handler_slots.release()
            finally:
                del self._handlers[event.request_id]
        try:
            if scope.cancelled_caught:
                # The core drops this answer when the peer cancelled the request.
                self.session.respond_error(event.request_id, INTERNAL_ERROR, NOT_ANSWERED)
            await self.flush()
        finally:
            self._answering -= 1
            if not self._answering:
                self._answered.unpark_all()

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
        now = trio.current_time()
        request_id = self.session.send_request(
            method,
            params,
            now=now,
            timeout=timeout,
            progress=on_progress is not None,
            extension=extension,
        )
        waiter = self._waiters[request_id] = _Waiter(on_progress)
        try:
            await self.flush()
            outcome = await waiter.wait()
        except trio.Cancelled:
            self.session.cancel(request_id, CANCELLED)
            await self.flush()
            raise
        finally:
            del self._waiters[request_id]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def notify(self, method: str, params: Params = None) -> None:
        """Send a notification."""
        self.session.send_notification(method, params)
        await self.flush()
        await trio.lowlevel.checkpoint()  # a loop of notifications must not starve the rest

    async def send_progress(
        self, request_id: str | int, progress: float, total: float | None, message: str | None
    ) -> None:
        """Report progress on a peer's request."""
        if self.session.send_progress(request_id, progress, total, message):
            await self.flush()
        await trio.lowlevel.checkpoint()  # a loop of reports must not starve the rest
