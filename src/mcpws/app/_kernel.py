"""The connection kernel: everything a driver's pump does the same way whatever its loop.

A pump is a :class:`Kernel` subclass. The kernel owns the connection core and acts on its
events: a peer's request starts the application's handler (in a task of its own when it
has to wait, at most *max_concurrent* at a time, cancelled when the peer cancels it), an
answer settles the request that waits for it, progress reaches its callback, the end of
the connection fails every request still waiting. It is the connection's
:class:`~mcpws.app.Link`, and it holds the graceful shutdown's sequence. A connection without
a session, whose messages another library answers, hands them to its :class:`Carrier`.

The kernel holds the backpressure rule too. The core holds the peer's messages
(:attr:`~mcpws.core.connection.ServerConnection.hold`), and a server acts on the next one
only while less than *write_limit* bytes wait to be written to the peer, and reads from the
peer only while it holds less than that and less than *write_limit* and an eighth waits
for the peer (pongs included): what a peer that does not read can make a server keep is
bounded, however the bytes arrive. A client acts on every message and reads on, for
its server may be waiting to be read from before it reads in turn, and two ends that both
waited would wait for ever. At most :data:`BURST` messages are acted on in one go before the
loop gives the other connections a turn, and at most :data:`SLICE` bytes of one read are
fed to the core.

The subclass brings the I/O and a handful of loop primitives: :meth:`~Kernel.now`,
:meth:`~Kernel.waiter`, :meth:`~Kernel.spawn`, :meth:`~Kernel.in_thread`,
:meth:`~Kernel.move_on_at`, :meth:`~Kernel.soon`, an event ``closed``, and the three parts
of writing, :meth:`~Kernel.flush` (hand what the core has to send to the transport, never waiting),
:meth:`~Kernel.queued` (what the transport has not written yet) and :meth:`~Kernel.written`
(wait while the peer does not keep up). It feeds the core what it reads, while
:attr:`~Kernel.reading` says so, calls :meth:`~Kernel.process`, and calls it again when the
transport has written what it held.
"""

from __future__ import annotations

import abc
import functools
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

from mcpws.app._client import Client
from mcpws.app._context import NotificationCallback, ProgressCallback, Waiter
from mcpws.app._driving import ConnectError, Handler, Opening, answer, settles
from mcpws.app._errors import ConnectionLost
from mcpws.app._process import Process
from mcpws.core.connection import ClientConnection, ConnectionClosed, ServerConnection
from mcpws.core.errors import RemoteProtocolError
from mcpws.core.jsonrpc import INTERNAL_ERROR, RequestId
from mcpws.core.mcp import META_SUBSCRIPTION_ID, LoggingLevel, Model
from mcpws.core.messages import MessageConnection
from mcpws.core.session import (
    UNSET,
    ClientSession,
    NotificationReceived,
    Params,
    ProgressReceived,
    RequestCancelled,
    RequestReceived,
    ServerSession,
    State,
    TimeoutArg,
)
from mcpws.core.stdio import StdioConnection, StreamEnded
from mcpws.core.websocket import GOING_AWAY, MESSAGE_TOO_BIG, POLICY_VIOLATION

__all__ = [
    "BURST",
    "CANCELLED",
    "CLOSED",
    "LINGER",
    "LOST",
    "NOT_ANSWERED",
    "SHUTTING_DOWN",
    "SLICE",
    "WRITE_LIMIT",
    "Cancellable",
    "Carrier",
    "Event",
    "Kernel",
    "Slots",
    "Waiter",
]

#: What the drivers say when a connection ends or a server stops: the reason of the 1001 close,
#: the error of a request a shutdown cut short, and of the requests a lost connection fails.
SHUTTING_DOWN = "the server is shutting down"
NOT_ANSWERED = "the server shut down before answering"
LOST = "the connection closed before the answer came"
CLOSED = "the connection is closed"
CANCELLED = "cancelled by the caller"

_log = logging.getLogger("mcpws")

#: The close codes of a peer that went past a limit, which a server's log tells of.
_LIMITS = (MESSAGE_TOO_BIG, POLICY_VIOLATION)

#: Seconds that the bytes still unsent when a connection ends get to go out, and that the
#: answers of handlers cancelled by a shutdown get to be sent, before the stream is cut.
LINGER = 1.0

#: Bytes queued for a peer over which a server acts on none of its messages, and bytes of
#: its messages held over which it reads no more from it (the default *write_limit*).
WRITE_LIMIT = 1 << 20

T = TypeVar("T")

#: The requests whose answers end a stream of notifications, which last as long as the
#: client listens.
STREAMS = frozenset({"subscriptions/listen"})

#: Messages of one connection acted on in one go, before the loop gives others a turn.
BURST = 32

#: Bytes of one read fed to the core in one go, before the loop gives others a turn.
SLICE = 16384


class Cancellable(Protocol):
    """A task the kernel started (:meth:`Kernel.spawn`), which it may cancel."""

    def cancel(self) -> Any: ...


class Carrier(Protocol):
    """What carries a connection's messages to another library, instead of a session of
    mcpws's own (the connection has none): it takes every event the kernel does not handle
    itself (:class:`~mcpws.core.channel.MessageReceived` among them), hears when a graceful
    shutdown's grace is over (:meth:`cut_short`: the requests still in flight get an error)
    and once the connection is lost."""

    def take(self, event: object) -> None: ...

    def cut_short(self) -> None: ...

    def lost(self) -> None: ...


class Event(Protocol):
    """The loop's event for the end of the connection."""

    def is_set(self) -> bool: ...

    def set(self) -> Any: ...

    async def wait(self) -> Any: ...


class Slots:
    """At most *size* holders at a time: a slot is taken at once when one is free, else
    waited for in turn, on waiters that *waiter* makes."""

    __slots__ = ("_turns", "_waiter", "free")

    def __init__(self, size: int, waiter: Callable[[], Waiter]) -> None:
        self.free = size
        self._waiter = waiter
        self._turns: list[Waiter] = []  # few, and a deque costs each connection 600 bytes

    def take_now(self) -> bool:
        """Take a slot if one is free and nobody waits for one; whether it was taken."""
        if self.free and not self._turns:
            self.free -= 1
            return True
        return False

    async def take(self) -> None:
        """Take a slot, waiting in turn for one."""
        if self.take_now():
            return
        turn = self._waiter()
        self._turns.append(turn)
        try:
            await turn.wait()
        except BaseException:
            if turn.settled:
                self.give()  # handed over just as the wait was cancelled
            elif turn in self._turns:
                self._turns.remove(turn)
            raise

    def give(self) -> None:
        """Give a slot back: to the first that waits for one and still does."""
        while self._turns:
            turn = self._turns.pop(0)
            turn.settle(None)
            if turn.settled:
                return
        self.free += 1


class Kernel(abc.ABC):
    """One connection core, driven by a loop: a driver's pump is a subclass.

    *handler* answers the peer's requests; at most *max_concurrent* handlers wait at a time
    (the next ones wait in turn); a graceful shutdown gives them *grace* seconds. A server
    acts on the peer's messages while less than *write_limit* bytes wait to be written to it
    (see the module's docstring). *serving* says whether this side is the MCP server: by
    default, when its connection is a server's (a server that dials out says so)."""

    # Slots, not a dict: a server holds one of these per connection.
    __slots__ = (
        "__weakref__",
        "_all_answered",
        "_answering",
        "_calls",
        "_drainers",
        "_handlers",
        "_opened",
        "_opening",
        "_serving",
        "_shutting",
        "_slots",
        "_soon",
        "_unfed",
        "carrier",
        "client",
        "closed",
        "connection",
        "grace",
        "handler",
        "log_level",
        "on_event",
        "principal",
        "write_limit",
    )

    #: Set once the connection is over.
    closed: Event

    def __init__(
        self,
        connection: ServerConnection | ClientConnection | StdioConnection | MessageConnection,
        handler: Handler,
        *,
        max_concurrent: int = 64,
        grace: float = 0.0,
        write_limit: int = WRITE_LIMIT,
        serving: bool | None = None,
    ) -> None:
        self.connection = connection
        connection.hold = True
        #: Whether the backpressure rule applies: the peer is a client.
        self._serving = isinstance(connection, ServerConnection) if serving is None else serving
        self.write_limit = write_limit
        self._soon = False  # whether resumed() is to run soon
        self._unfed: bytes | memoryview = b""  # the rest of a read, for the next slice
        #: What answers the peer's requests.
        self.handler = handler
        #: Called with each event the kernel does not handle itself (lifecycle,
        #: notifications, the upgrade request of a server connection).
        self.on_event: Callable[[Any], None] = lambda _: None
        #: What carries the messages of a connection without a session.
        self.carrier: Carrier | None = None
        #: What the authentication hook returned for this connection.
        self.principal: object = None
        #: The client this connection serves, on the client side.
        self.client: Client | None = None
        self.log_level: LoggingLevel | None = None
        self.grace = grace
        #: This side's requests waiting for their answers, with their progress and
        #: notification callbacks.
        self._calls: dict[
            RequestId, tuple[Waiter, ProgressCallback | None, NotificationCallback | None]
        ] = {}
        #: Whether the graceful shutdown has begun, and who waits for it (made lazily).
        self._shutting = False
        self._drainers: list[Waiter] | None = None
        #: The peer's requests being answered in tasks of their own.
        self._handlers: dict[RequestId, Cancellable] = {}
        self._answering = 0
        self._all_answered: Waiter | None = None
        self._slots = Slots(max_concurrent, self.waiter)
        #: A client connection's opening, once followed: what happened, and who waits.
        self._opening = Opening()
        self._opened: Waiter | None = None

    # The loop's primitives -----------------------------------------------------------------

    @abc.abstractmethod
    def now(self) -> float:
        """The loop's clock."""

    @abc.abstractmethod
    def waiter(self) -> Waiter:
        """A new :class:`Waiter`, for the current task to wait on."""

    @abc.abstractmethod
    def spawn(self, work: Coroutine[Any, Any, None], done: Callable[[bool], None]) -> Cancellable:
        """Run *work* in a task of its own, out of reach of the connection's own
        cancellation; once it has ended, call ``done(cancelled)``, saying whether it ended
        because it was cancelled (also when it was cancelled before it began)."""

    @abc.abstractmethod
    async def in_thread(self, fn: Callable[[], T]) -> T:
        """Run *fn* in a worker thread; what it returns, or what it raises. A cancelled
        caller waits for the thread (trio) or leaves it running to its end (asyncio)."""

    @abc.abstractmethod
    def move_on_at(self, deadline: float) -> AbstractAsyncContextManager[object]:
        """A block that stops waiting at *deadline* of :meth:`now` and goes on after it."""

    @abc.abstractmethod
    def soon(self) -> None:
        """Call :meth:`resumed` once the loop has given other tasks a turn."""

    @abc.abstractmethod
    def flush(self) -> None:
        """Hand what the core has to send (``data_to_send()``; ``b""`` closes the
        transport) to the transport, and re-arm the timer for ``next_deadline()``. Never
        waits: what the transport cannot take at once goes out in the background, in order,
        whatever happens to the task that flushed."""

    @abc.abstractmethod
    def queued(self) -> int:
        """Bytes flushed to the transport and not written yet."""

    @abc.abstractmethod
    async def written(self) -> None:
        """Wait while the transport holds more than it wants of what was flushed (the peer
        does not read); a checkpoint in any case, so that a loop of sends cannot starve the
        rest."""

    async def open_process(
        self, command: Sequence[str], *, env: Mapping[str, str] | None, cwd: str | None
    ) -> Process:
        """Start *command* as a child with its standard streams piped, for a bridge;
        ``OSError`` when it cannot start. A driver that starts no children does not
        override it."""
        raise NotImplementedError

    # The connection --------------------------------------------------------------------------

    @property
    def session(self) -> ClientSession | ServerSession:
        session = self.connection.session
        assert session is not None
        return session

    @property
    def stateless(self) -> bool:
        """Whether the session is in the stateless era."""
        return self.session.state is State.STATELESS

    def receive(self, data: bytes | memoryview) -> None:
        """Feed the core what was read (``b""``: the end of the stream), and act on it: at
        most :data:`SLICE` bytes now, the rest :meth:`soon`, not reading meanwhile."""
        if len(data) > SLICE:
            data, self._unfed = data[:SLICE], memoryview(data)[SLICE:]
        if data:
            self.connection.receive_data(bytes(data), self.now())
        else:
            self.connection.receive_eof(self.now())
        self.process()
        if self._unfed:
            self._later()

    def expire(self) -> bool:
        """The timer's turn: when the core's deadline is due (a timer may wake early), handle
        its timeouts and act on them; whether it was due."""
        deadline = self.connection.next_deadline()
        if deadline is None or self.now() < deadline:
            return False
        self.connection.handle_timeout(self.now())
        self.process()
        return True

    @property
    def accepted(self) -> bool:
        """Whether the peer opened the transport (the connection is a WebSocket server's),
        so that this side closes it first, as RFC 6455 asks."""
        return isinstance(self.connection, ServerConnection)

    @property
    def room(self) -> bool:
        """Whether the peer's next message may be acted on: a server's peer reads what it is
        sent, nearly (less than *write_limit* bytes wait for it)."""
        if not self._serving:
            return True
        return self.queued() + self.connection.buffered_amount < self.write_limit

    @property
    def reading(self) -> bool:
        """Whether to read from the peer: a server holds less than *write_limit* of what
        its peer sent, unread, and less than *write_limit* and an eighth waits for the peer.
        Past :attr:`room` it reads on for the pongs of a peer that reads slowly, but a peer
        that sends pings and never reads cannot make it queue pongs without end."""
        if self._unfed:
            return False
        if not self._serving:
            return True
        waiting = self.queued() + self.connection.buffered_amount
        limit = self.write_limit
        return self.connection.held < limit and waiting < limit + limit // 8

    def process(self) -> None:
        """Act on the core's events (and on those that acting produced), and on the held
        messages while there is :attr:`room` for their answers, at most :data:`BURST` of
        them (then again :meth:`soon`); then flush."""
        connection = self.connection
        burst = BURST
        while True:
            while events := connection.events_received():
                for event in events:
                    self._dispatch(event)
            if not connection.holding:
                break
            if not self.room:
                self.flush()  # the transport may take it at once
                if not self.room:
                    break
            if not burst:
                self._later()
                break
            burst -= 1
            connection.resume(self.now())
        self.flush()

    def _later(self) -> None:
        if not self._soon:
            self._soon = True
            self.soon()

    def resumed(self) -> None:
        """The loop's turn after :meth:`soon`: feed the core the rest of a read, or process
        on."""
        self._soon = False
        unfed, self._unfed = self._unfed, b""
        if unfed:
            self.receive(unfed)
        else:
            self.process()

    def release(self) -> None:
        """Act on everything held, room or not: the shutdown of a server, whose draining
        session refuses the requests at once."""
        connection = self.connection
        while connection.resume(self.now()):
            while events := connection.events_received():
                for event in events:
                    self._dispatch(event)
        self.flush()

    async def _until_room(self) -> None:
        """Wait until there is :attr:`room` to answer the peer."""
        while not self.room:
            await self.written()

    def _dispatch(self, event: Any) -> None:
        if isinstance(event, RequestReceived):
            self._start_answering(event)
        elif isinstance(event, RequestCancelled):
            handling = self._handlers.get(event.request_id)
            if handling is not None:
                handling.cancel()
        elif (settled := settles(event)) is not None:
            call = self._calls.get(settled[0])
            if call is not None:
                call[0].settle(settled[1])
        elif isinstance(event, ProgressReceived):
            call = self._calls.get(event.request_id)
            if call is not None and call[1] is not None:
                call[1](event.progress, event.total, event.message)
        else:
            if isinstance(event, ConnectionClosed):
                _tell_of_limits(event)
                self.lost()
            elif isinstance(event, StreamEnded):
                self.lost()
            if self.carrier is not None:
                self.carrier.take(event)
            self.on_event(event)

    def lost(self) -> None:
        """The connection is over: every waiting request fails, every handler is
        cancelled. The driver calls it (once or more) when its transport is gone."""
        if self.closed.is_set():
            return
        self.closed.set()
        for waiter, _, _ in self._calls.values():
            waiter.settle(ConnectionLost(LOST))
        for handling in list(self._handlers.values()):
            handling.cancel()
        if self.carrier is not None:
            self.carrier.lost()

    def follow_opening(self, client: Client | None) -> None:
        """Follow a client connection's opening from now on (before the pump runs, so that
        no event is missed), for :meth:`wait_for_session`; the server's notifications go on
        to the listener of *client*, and every event to the :attr:`on_event` set before (a
        server that dials out: a connection with a server's session, or none, is open once
        the upgrade is accepted)."""
        opened = self._opened = self.waiter()
        carried = not isinstance(self.connection.session, ClientSession)
        watch = self._opening = Opening(carried=carried)
        then = self.on_event

        def note(event: object) -> None:
            watch.note(event)
            if watch.done:
                opened.settle(None)
            self.pass_on(event)
            then(event)

        self.on_event = note
        self.client = client

    async def wait_for_session(self, deadline: float, late: str) -> None:
        """Wait until the session opens, at most until *deadline* of :meth:`now`; raise
        :class:`~mcpws.app.ConnectError` (with *late* when it is too late) when it does not,
        and the caller then drops the connection."""
        opened = self._opened
        assert opened is not None, "follow_opening() first"
        async with self.move_on_at(deadline):
            await opened.wait()
        watch = self._opening
        session = self.connection.session
        if not opened.settled or (watch.failure and (session is None or not session.revision)):
            raise ConnectError(watch.failure or late)

    async def close(self) -> None:
        """Close the connection with the closing handshake, and wait until it is over."""
        if not self.closed.is_set():
            self.connection.close(now=self.now())
            self.flush()
            await self.closed.wait()

    def pass_on(self, event: object) -> None:
        """Give a server's notification to the callback of the request it names as its
        subscription (2026-07-28), or else to the listener of the client this kernel
        serves."""
        if not isinstance(event, NotificationReceived):
            return
        meta = getattr(event.params, "meta", None)
        subscription = meta.get(META_SUBSCRIPTION_ID) if isinstance(meta, dict) else None
        call = None
        if isinstance(subscription, int | str) and not isinstance(subscription, bool):
            call = self._calls.get(subscription)
        listener = call[2] if call is not None else None
        if listener is None and self.client is not None:
            listener = self.client.on_notification
        if listener is not None:
            listener(event.method, event.params)

    # Answering the peer ------------------------------------------------------------------------

    def _start_answering(self, event: RequestReceived) -> None:
        """Answer a peer's request: at once when a handler slot is free and the handler
        answers at once; else in the request's own task. A stream (``subscriptions/listen``)
        holds no slot: it lasts as long as the client listens."""
        if event.method in STREAMS:
            later = answer(self.session, event, self.handler, self)
            if later is not None:
                self._answering += 1
                done = functools.partial(self._answered, event.request_id, later)
                self._handlers[event.request_id] = self.spawn(later, done)
            return
        later = None
        if self._slots.take_now():
            later = answer(self.session, event, self.handler, self)
            if later is None:
                self._slots.give()
                return
        self._answering += 1
        done = functools.partial(self._answered, event.request_id, later)
        self._handlers[event.request_id] = self.spawn(self._answer(event, later), done)

    def begin_answering(self) -> None:
        """A request of the peer is being answered elsewhere (by a :class:`Carrier`): the
        graceful shutdown waits for it as for a handler, until :meth:`end_answering`."""
        self._answering += 1

    def end_answering(self) -> None:
        """A request counted by :meth:`begin_answering` is answered."""
        self._answering -= 1
        if not self._answering and self._all_answered is not None:
            self._all_answered.settle(None)

    async def _answer(
        self, event: RequestReceived, later: Coroutine[Any, Any, None] | None
    ) -> None:
        """Finish answering, holding a handler slot: with the rest of a started handler
        (*later*), or, with none, after waiting for a slot."""
        if later is None:
            await self._slots.take()
            try:
                await self._until_room()  # what a handler answers waits to be written
            except BaseException:
                self._slots.give()
                raise
        try:
            if later is None:
                later = answer(self.session, event, self.handler, self)
            if later is not None:
                await later
        finally:
            self._slots.give()

    def _answered(
        self, request_id: RequestId, later: Coroutine[Any, Any, None] | None, cancelled: bool
    ) -> None:
        del self._handlers[request_id]
        if later is not None:
            later.close()  # a task cancelled before it began never started it
        if cancelled and not self.connection.closed:
            # The core drops this answer when the peer cancelled the request.
            self.session.respond_error(request_id, INTERNAL_ERROR, NOT_ANSWERED)
        self.end_answering()
        self.flush()

    # Shutting down -----------------------------------------------------------------------------

    async def finish_answering(self) -> None:
        """The graceful shutdown's wait: the requests being handled get the grace period to
        finish and their answers to be written, all the way to a peer that reads slowly;
        those still running then are cancelled, and they and the rest get a little longer
        (:data:`LINGER`). A server's session drains meanwhile, refusing new requests at
        once, while the driver reads on (a :class:`Carrier` sees :attr:`shutting_down`)."""
        self.drain()
        if self._serving:
            self.release()
        for waiter in self._drainers or ():
            waiter.settle(None)
        ends = self.now() + self.grace
        async with self.move_on_at(ends):
            await self._answered_all()
            await self.written()
        for handling in list(self._handlers.values()):
            handling.cancel()
        if self.carrier is not None:
            self.carrier.cut_short()
            self.flush()
        async with self.move_on_at(max(ends, self.now()) + LINGER):
            await self._answered_all()
            await self.written()

    def drain(self) -> None:
        """Refuse the peer's new requests from now on: a server's session drains, and a
        :class:`Carrier` sees :attr:`shutting_down`."""
        self._shutting = True
        connection = self.connection
        if isinstance(connection, ServerConnection):
            connection.ready = False  # its readiness probe, if it is one, gets 503
        session = connection.session
        if isinstance(session, ServerSession):
            session.drain()

    async def _answered_all(self) -> None:
        while self._answering:
            self._all_answered = self.waiter()
            await self._all_answered.wait()
        self._all_answered = None

    async def say_goodbye(self) -> None:
        """Close the connection with 1001 (going away), unless it is closing already, and
        give what is left to send, and the peer's answer to a close sent here, a little time
        (:data:`LINGER`): the driver reads on meanwhile."""
        closing = self.connection.is_open
        if closing:
            self.connection.close(GOING_AWAY, SHUTTING_DOWN, now=self.now())
            self.flush()
        async with self.move_on_at(self.now() + LINGER):
            await self.written()
            if closing:
                await self.closed.wait()

    # The Link of this connection -------------------------------------------------------------

    async def request(
        self,
        method: str,
        params: Params = None,
        *,
        timeout: TimeoutArg = UNSET,
        on_progress: ProgressCallback | None = None,
        extension: bool = False,
        on_notification: NotificationCallback | None = None,
    ) -> Model:
        """Send a request and wait for its answer."""
        if self.closed.is_set():
            raise ConnectionLost(CLOSED)
        request_id = self.session.send_request(
            method,
            params,
            now=self.now(),
            timeout=timeout,
            progress=on_progress is not None,
            extension=extension,
        )
        waiter = self.waiter()
        self._calls[request_id] = (waiter, on_progress, on_notification)
        try:
            self.flush()
            outcome = await waiter.wait()
        except BaseException:
            if not waiter.settled and not self.closed.is_set():
                self.session.cancel(request_id, CANCELLED)
                self.flush()
            raise
        finally:
            del self._calls[request_id]
        if isinstance(outcome, BaseException):
            raise outcome
        assert isinstance(outcome, Model)
        return outcome

    async def notify(self, method: str, params: Params = None, *, extension: bool = False) -> None:
        """Send a notification (*extension*: a vendor's method)."""
        self.session.send_notification(method, params, extension=extension)
        self.flush()
        await self.written()

    async def send_progress(
        self, request_id: str | int, progress: float, total: float | None, message: str | None
    ) -> None:
        """Report progress on a peer's request."""
        if self.session.send_progress(request_id, progress, total, message):
            self.flush()
        await self.written()

    @property
    def shutting_down(self) -> bool:
        """Whether the graceful shutdown has begun."""
        return self._shutting

    @property
    def is_open(self) -> bool:
        """Whether the connection is still there (open, or closing)."""
        return not self.closed.is_set()

    async def draining(self) -> None:
        """Wait until the graceful shutdown begins (at once if it has)."""
        if self._shutting:
            return
        if self._drainers is None:
            self._drainers = []
        waiter = self.waiter()
        self._drainers.append(waiter)
        try:
            await waiter.wait()
        finally:
            self._drainers.remove(waiter)


def _tell_of_limits(event: ConnectionClosed) -> None:
    """Log a connection closed because its peer went past a limit."""
    cause = event.cause
    if isinstance(cause, RemoteProtocolError) and cause.close_code in _LIMITS:
        _log.warning("closed a connection with %d: %s", cause.close_code, cause)
