"""Serving one stdio MCP server's child to every WebSocket connection: :class:`SharedStdioServer`,
the :class:`Host` of ``mcpws expose --shared``.

The child sees one client. Each connection's request goes to it under an id of the bridge's
own, and its answer comes back under the connection's id, of the same JSON type and value;
a progress token and a ``notifications/cancelled`` are rewritten the same way, and so is the
subscription id that a 2026-07-28 stream's notifications carry. What the child sends of its
own goes where it belongs: progress to the request's connection, a request of the child's
to the one connection with requests in flight (refused when that is not clear), a
``notifications/resources/updated`` to the connections subscribed to that resource, and
everything else (list changes, log messages) to every connection. The child is initialized
once: the first ``initialize`` goes to it, and the others are answered with its result. A
connection that goes away has its requests cancelled in the child.

The child starts with the first connection and runs until the server stops; one that exits
closes every connection with 1011, and the next connection starts another. Its tasks (reading,
writing, its standard error) run in the pump of one connection at a time, handed to another
when that one ends.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from mcpws.app._bridging import IdleWatch, StdioCommand
from mcpws.app._kernel import Cancellable, Kernel, Waiter
from mcpws.app._process import Process, log_errors
from mcpws.core import jsonrpc
from mcpws.core.channel import InvalidMessageAnswered, MessageReceived
from mcpws.core.connection import ConnectionAccepted
from mcpws.core.mcp import META_SUBSCRIPTION_ID
from mcpws.core.session import SHUTTING_DOWN
from mcpws.core.stdio import StdioConnection, StreamEnded
from mcpws.core.websocket import INTERNAL_ERROR as WS_INTERNAL_ERROR

__all__ = ["SharedStdioServer"]

_log = logging.getLogger("mcpws")

#: What a request of the child's gets when it cannot tell which client it is for.
UNROUTABLE = "the server is shared by several clients: this request is for none of them"
#: What a request gets when the shared child has ended before answering.
ENDED = "the shared server ended before answering"


class SharedStdioServer(StdioCommand):
    """A stdio MCP server served over WebSocket with one child for all the connections
    (the arguments are :class:`~mcpws.app.StdioCommand`'s): started with the first
    connection, ended once the server stops; an idle connection is closed, and the child
    goes on."""

    def __init__(self, command: Sequence[str], **options: Any) -> None:
        super().__init__(command, **options)
        self._run: _Child | None = None

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if self._run is not None:
                await self._run.end()

    def carrier(self, pump: Kernel, *, max_concurrent: int) -> _SharedCarrier:
        return _SharedCarrier(pump, self, next(self._numbers))

    def child(self) -> _Child:
        """The child every connection shares: the running one, or a new one."""
        if self._run is None or self._run.over:
            self._run = _Child(self)
        return self._run


class _Child:
    """One run of the shared child: its process, its streams, and the routes of what
    crosses it."""

    def __init__(self, server: SharedStdioServer) -> None:
        self.server = server
        self.over = False
        self.process: Process | None = None
        #: Settled once the child is started, or could not be, while a task starts it.
        self._starting: Waiter | None = None
        #: The child's output, framed; its input, waiting to be written, and who waits.
        self._framing = StdioConnection(None, 0.0, reply=False)
        self._outgoing: list[bytes] = []
        self._wake: Waiter | None = None
        #: For each of the child's streams ("input", "output", "errors"): settled once the
        #: task using it now is over (a stream serves one task at a time).
        self._turns: dict[str, Waiter] = {}
        self._ids = itertools.count(1)
        self.carriers: set[_SharedCarrier] = set()
        #: The connection whose pump runs the child's tasks, and those tasks.
        self._host: _SharedCarrier | None = None
        self._tasks: list[Cancellable] = []
        #: The requests sent to the child, by the id it knows them by: whose, under which id.
        self.requests: dict[object, tuple[_SharedCarrier, jsonrpc.RequestId]] = {}
        #: Progress tokens given to the child, by the one it knows: whose, and theirs.
        self.tokens: dict[object, tuple[_SharedCarrier, Any]] = {}
        #: The child's own requests, by their id: the connection each went to.
        self.asked: dict[object, _SharedCarrier] = {}
        #: The child's answer to ``initialize``; the id that asked for it, and who waits.
        self._opened: dict[str, Any] | None = None
        self._opening: int | None = None
        self._openers: list[tuple[_SharedCarrier, jsonrpc.RequestId]] = []
        self._initialized = False

    # The connections ---------------------------------------------------------------------

    def join(self, carrier: _SharedCarrier) -> None:
        self.carriers.add(carrier)
        if self._host is None:
            self._run_in(carrier)

    def leave(self, carrier: _SharedCarrier) -> None:
        """*carrier*'s connection is over: its requests are cancelled in the child, and
        another connection runs the child's tasks."""
        self.carriers.discard(carrier)
        for child_id, (owner, _) in list(self.requests.items()):
            if owner is carrier:
                del self.requests[child_id]
                params = {"requestId": child_id, "reason": "the client went away"}
                self.give(jsonrpc.Notification("notifications/cancelled", params))
        self.tokens = {k: v for k, v in self.tokens.items() if v[0] is not carrier}
        self.asked = {k: v for k, v in self.asked.items() if v is not carrier}
        self._openers = [opener for opener in self._openers if opener[0] is not carrier]
        if self._host is carrier:
            self._host = None
            for task in self._tasks:
                task.cancel()
            self._tasks.clear()
            self._poke()  # the writer finishes what it writes, and stops
            if self.carriers and not self.over:
                self._run_in(next(iter(self.carriers)))

    def _run_in(self, carrier: _SharedCarrier) -> None:
        """Run the child's tasks in *carrier*'s pump (starting the child, the first time)."""
        self._host = carrier
        pump = carrier.pump
        self._tasks = [pump.spawn(self._start_and_read(carrier), _ignore)]

    # To the child ------------------------------------------------------------------------

    def give(self, message: jsonrpc.Message) -> None:
        self._outgoing.append(jsonrpc.encode(message).encode() + b"\n")
        self._poke()

    @property
    def backlog(self) -> int:
        return sum(map(len, self._outgoing))

    def request(self, carrier: _SharedCarrier, request: jsonrpc.Request) -> None:
        """Give the child *carrier*'s request under an id of its own (and the progress
        token, if any); ``initialize`` once only."""
        if request.method == "initialize" and (self._opened or self._opening is not None):
            self._openers.append((carrier, request.id))
            self._answer_openers()
            return
        child_id = next(self._ids)
        self.requests[child_id] = (carrier, request.id)
        params = request.params
        meta = params.get("_meta") if params is not None else None
        if params is not None and isinstance(meta, dict) and "progressToken" in meta:
            self.tokens[child_id] = (carrier, meta["progressToken"])
            params = {**params, "_meta": {**meta, "progressToken": child_id}}
        if request.method == "initialize":
            self._opening = child_id
        self.give(jsonrpc.Request(child_id, request.method, params))

    def notify(self, carrier: _SharedCarrier, notification: jsonrpc.Notification) -> None:
        """Give the child *carrier*'s notification, its ids the child's."""
        if notification.method == "notifications/initialized":
            if self._initialized:
                return
            self._initialized = True
        elif notification.method == "notifications/cancelled":
            wanted = (notification.params or {}).get("requestId")
            found = [k for k, v in self.requests.items() if v == (carrier, wanted)]
            if not found:
                return
            notification = jsonrpc.Notification(
                notification.method, {**(notification.params or {}), "requestId": found[0]}
            )
        self.give(notification)

    def answer(self, carrier: _SharedCarrier, message: jsonrpc.Message) -> None:
        """Give the child *carrier*'s answer to a request of the child's."""
        request_id = getattr(message, "id", None)
        if self.asked.get(request_id) is carrier:
            del self.asked[request_id]
            self.give(message)

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.settle(None)

    # The child ---------------------------------------------------------------------------

    async def _start_and_read(self, carrier: _SharedCarrier) -> None:
        pump = carrier.pump
        server = self.server
        while self.process is None and not self.over:
            if self._starting is not None:  # a task of the connection before starts it
                await self._starting.wait()
                continue
            self._starting = starting = pump.waiter()
            try:
                self.process = await pump.open_process(
                    server.command, env=server.env, cwd=server.cwd
                )
            except OSError as exc:
                _log.warning("%s could not start: %s", server.name, exc)
                self._ended(f"the server could not start: {exc.strerror or exc}")
                return
            finally:
                self._starting = None
                starting.settle(None)
            _log.info("%s started, shared, pid %d", server.name, self.process.pid)
        process = self.process
        if process is None or self._host is not carrier:
            return  # over, or this connection is gone: the next one's task goes on
        writing = self._in_turn("input", pump, lambda: self._write_to(process, carrier))
        pump.spawn(writing, _ignore)  # never cancelled: see there
        tag = f"{server.name}[shared]"
        errors = self._in_turn("errors", pump, lambda: log_errors(process, tag))
        self._tasks.append(pump.spawn(errors, _ignore))
        await self._in_turn("output", pump, lambda: self._read_from(process))

    async def _in_turn(
        self, stream: str, pump: Kernel, work: Callable[[], Awaitable[None]]
    ) -> None:
        """Run *work*, which uses one of the child's streams, once the task of the
        connection before that used it is over."""
        while (before := self._turns.get(stream)) is not None:
            await before.wait()
        self._turns[stream] = done = pump.waiter()
        try:
            await work()
        finally:
            del self._turns[stream]
            done.settle(None)

    async def _write_to(self, process: Process, carrier: _SharedCarrier) -> None:
        """Write to the child, in order, while *carrier* runs its tasks; a chunk started is
        written whole (cancelled midway, it would garble the child's input)."""
        pump = carrier.pump
        while self._host is carrier and not self.over:
            if not self._outgoing:
                self._wake = pump.waiter()
                await self._wake.wait()
                self._wake = None
                continue
            data = b"".join(self._outgoing)
            self._outgoing.clear()
            try:
                await process.send(data)
            except OSError:
                return  # the child is gone: its output's end says so

    async def _read_from(self, process: Process) -> None:
        framing = self._framing
        while True:
            data = await process.receive()
            if data:
                framing.receive_data(data, 0.0)
            else:
                framing.receive_eof(0.0)
            for event in framing.events_received():
                if isinstance(event, MessageReceived):
                    message = event.message
                    assert not isinstance(message, list)  # no batches without a session
                    self._route(message)
                elif isinstance(event, InvalidMessageAnswered):
                    self._garbled(event)
                elif isinstance(event, StreamEnded):
                    cause = event.cause
                    code = await process.end(self.server.grace)
                    why = "the server closed its output" if cause is None else str(cause)
                    self._ended(f"{why} (status {code})")
                    return
            for carrier in list(self.carriers):
                carrier.pump.flush()

    def _route(self, message: jsonrpc.Message) -> None:
        if isinstance(message, jsonrpc.Response | jsonrpc.ErrorResponse):
            self._answered(message)
        elif isinstance(message, jsonrpc.Request):
            self._asked_by_child(message)
        else:
            assert isinstance(message, jsonrpc.Notification)
            self._notified(message)

    def _answered(self, message: jsonrpc.Response | jsonrpc.ErrorResponse) -> None:
        origin = self.requests.pop(message.id, None) if isinstance(message.id, int) else None
        if origin is None:
            return
        carrier, request_id = origin
        self.tokens.pop(message.id, None)
        if message.id == self._opening:
            self._opening = None
            if isinstance(message, jsonrpc.Response):
                self._opened = message.result
            else:  # those who wait for the opening hear it failed
                openers, self._openers = self._openers, []
                for opener, opener_id in openers:
                    opener.send(jsonrpc.ErrorResponse(opener_id, message.error), settles=opener_id)
        if isinstance(message, jsonrpc.Response):
            carrier.send(jsonrpc.Response(request_id, message.result), settles=request_id)
        else:
            carrier.send(jsonrpc.ErrorResponse(request_id, message.error), settles=request_id)
        self._answer_openers()

    def _answer_openers(self) -> None:
        if self._opened is None:
            return
        openers, self._openers = self._openers, []
        for carrier, request_id in openers:
            carrier.send(jsonrpc.Response(request_id, self._opened), settles=request_id)

    def _asked_by_child(self, request: jsonrpc.Request) -> None:
        """A request of the child's goes to the one connection with requests in flight, or
        the only connection; else the child hears it cannot be routed."""
        busy = {carrier for carrier, _ in self.requests.values()}
        targets = busy if busy else self.carriers
        if len(targets) != 1:
            error = jsonrpc.ErrorObject(jsonrpc.INTERNAL_ERROR, UNROUTABLE)
            self.give(jsonrpc.ErrorResponse(request.id, error))
            return
        (carrier,) = targets
        self.asked[request.id] = carrier
        carrier.send(request)

    def _notified(self, notification: jsonrpc.Notification) -> None:
        params = notification.params or {}
        meta = params.get("_meta")
        if notification.method == "notifications/progress":
            origin = self.tokens.get(params.get("progressToken"))
            if origin is not None:
                carrier, token = origin
                carrier.send(
                    jsonrpc.Notification(notification.method, {**params, "progressToken": token})
                )
        elif notification.method == "notifications/cancelled":
            asked = self.asked.pop(params.get("requestId"), None)
            if asked is not None:
                asked.send(notification)
        elif isinstance(meta, dict) and META_SUBSCRIPTION_ID in meta:
            origin = self.requests.get(meta[META_SUBSCRIPTION_ID])
            if origin is not None:
                carrier, request_id = origin
                meta = {**meta, META_SUBSCRIPTION_ID: request_id}
                carrier.send(jsonrpc.Notification(notification.method, {**params, "_meta": meta}))
        elif notification.method == "notifications/resources/updated":
            for carrier in list(self.carriers):
                if params.get("uri") in carrier.subscribed:
                    carrier.send(notification)
        else:
            for carrier in list(self.carriers):
                carrier.send(notification)

    def _garbled(self, event: InvalidMessageAnswered) -> None:
        _log.warning("%s wrote a line that is not JSON-RPC: %s", self.server.name, event.error)
        child_id = event.error.id
        origin = self.requests.pop(child_id, None) if isinstance(child_id, int) else None
        if origin is not None:
            carrier, request_id = origin
            error = jsonrpc.ErrorObject(
                jsonrpc.INTERNAL_ERROR, "the server wrote something that is not JSON-RPC"
            )
            carrier.send(jsonrpc.ErrorResponse(request_id, error), settles=request_id)

    def _ended(self, reason: str) -> None:
        """The child is over: every connection closes with 1011 and *reason*."""
        self.over = True
        _log.info("%s ended: %s", self.server.name, reason)
        for carrier in list(self.carriers):
            carrier.close(reason)
        self._poke()

    async def end(self) -> None:
        """End the child (the server stops)."""
        self.over = True
        self._poke()
        if self.process is not None:
            await self.process.end(self.server.grace)


class _SharedCarrier:
    """One connection's messages, to and from the shared child."""

    def __init__(self, pump: Kernel, server: SharedStdioServer, number: int) -> None:
        self.pump = pump
        self._server = server
        self._child: _Child | None = None
        #: The resources this connection subscribed to.
        self.subscribed: set[str] = set()
        #: This connection's requests the child has not answered yet.
        self._in_flight: set[jsonrpc.RequestId] = set()
        self._over = False
        self._idle = IdleWatch.of(pump, server.idle_timeout, busy=lambda: bool(self._in_flight))
        self._watching: Cancellable | None = None

    def take(self, event: object) -> None:
        if isinstance(event, ConnectionAccepted):
            self._child = self._server.child()
            self._child.join(self)
            if self._idle is not None:
                self._watching = self.pump.spawn(self._idle.run(), _ignore)
        elif isinstance(event, MessageReceived) and self._child is not None:
            if self._idle is not None:
                self._idle.touch()
            message = event.message
            assert not isinstance(message, list)  # no batches on a connection without session
            child = self._child
            if isinstance(message, jsonrpc.Request):
                if self._admit(message):
                    self._follow_subscriptions(message)
                    child.request(self, message)
            elif isinstance(message, jsonrpc.Notification):
                child.notify(self, message)
            else:
                child.answer(self, message)

    def _admit(self, request: jsonrpc.Request) -> bool:
        pump = self.pump
        if pump.shutting_down and request.method != "ping":
            self.send(
                jsonrpc.ErrorResponse(
                    request.id, jsonrpc.ErrorObject(SHUTTING_DOWN, "the server is shutting down")
                )
            )
            return False
        if request.id in self._in_flight:
            error = jsonrpc.ErrorObject(
                jsonrpc.INVALID_REQUEST, "a request with this id is in flight"
            )
            self.send(jsonrpc.ErrorResponse(request.id, error))
            return False
        self._in_flight.add(request.id)
        pump.begin_answering()
        return True

    def _follow_subscriptions(self, request: jsonrpc.Request) -> None:
        uri = (request.params or {}).get("uri")
        if not isinstance(uri, str):
            return
        if request.method == "resources/subscribe":
            self.subscribed.add(uri)
        elif request.method == "resources/unsubscribe":
            self.subscribed.discard(uri)

    def send(self, message: jsonrpc.Message, *, settles: jsonrpc.RequestId | None = None) -> None:
        """Send the client *message*; *settles* is the request of the client's it answers."""
        if self._idle is not None:
            self._idle.touch()
        if settles is not None and settles in self._in_flight:
            self._in_flight.discard(settles)
            self.pump.end_answering()
        connection = self.pump.connection
        if connection.is_open:
            connection.send(message)

    def close(self, reason: str) -> None:
        connection = self.pump.connection
        for request_id in list(self._in_flight):
            self.send(
                jsonrpc.ErrorResponse(
                    request_id, jsonrpc.ErrorObject(jsonrpc.INTERNAL_ERROR, ENDED)
                ),
                settles=request_id,
            )
        if connection.is_open:
            connection.close(
                WS_INTERNAL_ERROR,
                reason.encode()[:123].decode(errors="ignore"),
                now=self.pump.now(),
            )
            self.pump.flush()

    def cut_short(self) -> None:
        for request_id in list(self._in_flight):
            error = jsonrpc.ErrorObject(
                jsonrpc.INTERNAL_ERROR, "the server shut down before answering"
            )
            self.send(jsonrpc.ErrorResponse(request_id, error), settles=request_id)
        self.lost()

    def lost(self) -> None:
        if self._over:
            return
        self._over = True
        if self._watching is not None:
            self._watching.cancel()
        for request_id in list(self._in_flight):
            self._in_flight.discard(request_id)
            self.pump.end_answering()
        if self._child is not None:
            self._child.leave(self)


def _ignore(cancelled: bool) -> None:
    """The end of a task whose outcome nobody waits for."""
