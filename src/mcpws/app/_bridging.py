"""Serving a stdio MCP server over WebSocket: :class:`StdioServer`, the :class:`Host` a
``serve()`` takes to run one child process per connection (``mcpws expose``), and the
:class:`Carrier` of each connection, which starts the child once the upgrade is done, carries
the messages both ways as they are (ids untouched: the child is the connection's alone) and
ends the child when the connection ends (its input closed, then ``SIGTERM``, then
``SIGKILL``).

With an *idle_timeout*, a connection that has carried no message either way for that long,
while none of its requests is in flight, is closed with 1001 (:class:`IdleWatch`), and its
child ends with it.

The child's output goes through the core's stdio framing: a line that is not JSON-RPC is
logged (never answered: the child's output is no request), and a client request it names
gets an error; a line over the limit, or the child's end, closes the connection with 1011 and says
why. The child's standard error goes to the ``mcpws`` logger, line by line, tagged with its
connection.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from mcpws.app._hosting import Host
from mcpws.app._kernel import NOT_ANSWERED, Cancellable, Kernel, Waiter
from mcpws.app._process import Process, command_name, log_errors
from mcpws.core import jsonrpc
from mcpws.core.channel import InvalidMessageAnswered, MessageReceived
from mcpws.core.connection import ConnectionAccepted
from mcpws.core.session import SHUTTING_DOWN, TOO_MANY_REQUESTS
from mcpws.core.stdio import StdioConnection, StreamEnded
from mcpws.core.websocket import GOING_AWAY, INTERNAL_ERROR as WS_INTERNAL_ERROR

__all__ = ["IdleWatch", "StdioCommand", "StdioServer"]

_log = logging.getLogger("mcpws")

#: Seconds a child gets to exit once its input is closed, and again after ``SIGTERM``.
GRACE = 2.0

#: What the client hears of a line of the child's that is not JSON-RPC.
_GARBLED = "the server wrote something that is not JSON-RPC"


class StdioCommand(Host):
    """What a host of a stdio MCP server is given: *command* (the program and its
    arguments), started with *env* (the whole environment; ``None``: this process's) in
    *cwd*; *grace*, the seconds a child gets to exit once its input is closed, and again
    after ``SIGTERM`` (then ``SIGKILL``); *idle_timeout*, the seconds after which an idle
    connection is closed (``None``: never)."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        grace: float = GRACE,
        idle_timeout: float | None = None,
    ) -> None:
        if not command:
            raise ValueError("a stdio server is a command: name its program")
        if idle_timeout is not None and not idle_timeout > 0:
            raise ValueError(f"an idle timeout is a number of seconds above 0, not {idle_timeout}")
        self.command = tuple(command)
        self.env = env
        self.cwd = cwd
        self.grace = grace
        self.idle_timeout = idle_timeout
        self.name = command_name(command)
        self._numbers = itertools.count(1)


class StdioServer(StdioCommand):
    """A stdio MCP server served over WebSocket with one child per connection (the
    arguments are :class:`StdioCommand`'s): started once the upgrade is accepted, ended
    when the connection ends, and with it when the connection is idle too long."""

    def __init__(self, command: Sequence[str], **options: Any) -> None:
        super().__init__(command, **options)
        #: The children running or ending, by the waiter their end settles.
        self._children: set[Waiter] = set()

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """A ``serve()``: once it is over, wait for every child to have ended."""
        try:
            yield
        finally:
            for ending in list(self._children):
                if not ending.settled:
                    await ending.wait()

    def carrier(self, pump: Kernel, *, max_concurrent: int) -> _ChildCarrier:
        return _ChildCarrier(pump, self, next(self._numbers))


class _ChildCarrier:
    """One connection's messages, carried between its pump and its child."""

    def __init__(self, pump: Kernel, server: StdioServer, number: int) -> None:
        self._pump = pump
        self._server = server
        self._tag = f"{server.name}[{number}]"
        self._stdio = StdioConnection(None, pump.now(), reply=False)
        #: Bytes given to the child and not written to it yet, and the writer's wait.
        self._backlog = 0
        self._wake: Waiter | None = None
        #: The client's requests the child has not answered yet.
        self._in_flight: set[jsonrpc.RequestId] = set()
        self._tasks: list[Cancellable] = []
        self._over = False
        self._ending: Waiter | None = None
        self._idle = IdleWatch.of(pump, server.idle_timeout, busy=lambda: bool(self._in_flight))

    # From the client ---------------------------------------------------------------------

    def take(self, event: object) -> None:
        if isinstance(event, ConnectionAccepted):
            self._ending = ending = self._pump.waiter()
            self._server._children.add(ending)
            self._tasks.append(self._pump.spawn(self._run(), self._ended))
            if self._idle is not None:
                self._tasks.append(self._pump.spawn(self._idle.run(), _ignore))
        elif isinstance(event, MessageReceived):
            if self._idle is not None:
                self._idle.touch()
            message = event.message
            assert not isinstance(message, list)  # no batches on a connection without session
            if isinstance(message, jsonrpc.Request) and not self._admit(message):
                return
            if self._backlog >= self._pump.write_limit:
                _log.warning("%s is not reading its input: a message was dropped", self._tag)
                return
            self._give(message)

    def _admit(self, request: jsonrpc.Request) -> bool:
        """Whether to give the child *request*; else it is answered here."""
        if self._pump.shutting_down and request.method != "ping":
            self._refuse(request.id, SHUTTING_DOWN, "the server is shutting down")
        elif self._backlog >= self._pump.write_limit:
            self._refuse(request.id, TOO_MANY_REQUESTS, "the server is not reading its input")
        else:
            if request.id not in self._in_flight:
                self._in_flight.add(request.id)
                self._pump.begin_answering()
            return True
        return False

    def _give(self, message: jsonrpc.Message) -> None:
        text = jsonrpc.encode(message)
        self._backlog += len(text) + 1
        self._stdio.send_text(text)
        self._poke()

    def _refuse(self, request_id: jsonrpc.RequestId, code: int, reason: str) -> None:
        connection = self._pump.connection
        if connection.is_open:
            connection.send(jsonrpc.ErrorResponse(request_id, jsonrpc.ErrorObject(code, reason)))

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.settle(None)

    # The child ---------------------------------------------------------------------------

    async def _run(self) -> None:
        server = self._server
        try:
            child = await self._pump.open_process(server.command, env=server.env, cwd=server.cwd)
        except OSError as exc:
            _log.warning("%s could not start: %s", self._tag, exc)
            self._close(f"the server could not start: {exc.strerror or exc}")
            return
        _log.info("%s started, pid %d", self._tag, child.pid)
        spawn = self._pump.spawn
        self._tasks.append(spawn(self._write_to(child), _ignore))
        self._tasks.append(spawn(log_errors(child, self._tag), _ignore))
        reason = "the server closed its output"
        try:
            reason = await self._read_from(child) or reason
        finally:
            code = await child.end(server.grace)
        _log.info("%s ended with status %d", self._tag, code)
        self._close(f"{reason} (status {code})")

    async def _read_from(self, child: Process) -> str | None:
        """Carry the child's messages to the client until its output ends; why it ended,
        when it was a fault of the child's."""
        pump, stdio = self._pump, self._stdio
        while True:
            data = await child.receive()
            if data:
                stdio.receive_data(data, pump.now())
            else:
                stdio.receive_eof(pump.now())
            ended = None
            for event in stdio.events_received():
                if isinstance(event, MessageReceived):
                    self._answer(event.message)
                elif isinstance(event, InvalidMessageAnswered):
                    self._garbled(event)
                elif isinstance(event, StreamEnded):
                    ended = event
            self._poke()  # the end of the stream closes the child's input
            pump.flush()
            if ended is not None:
                return None if ended.cause is None else f"the server failed: {ended.cause}"
            await pump.written()

    def _answer(self, message: Any) -> None:
        """Send the client a message of the child's."""
        if self._idle is not None:
            self._idle.touch()
        if isinstance(message, jsonrpc.Response | jsonrpc.ErrorResponse):
            self._settled(message.id)
        connection = self._pump.connection
        if connection.is_open:
            connection.send(message)

    def _garbled(self, event: InvalidMessageAnswered) -> None:
        """A line of the child's that is not JSON-RPC: logged, and the request it names,
        if any, answered with an error."""
        _log.warning("%s wrote a line that is not JSON-RPC: %s", self._tag, event.error)
        request_id = event.error.id
        if request_id is not None and request_id in self._in_flight:
            self._settled(request_id)
            self._refuse(request_id, jsonrpc.INTERNAL_ERROR, _GARBLED)

    def _settled(self, request_id: object) -> None:
        if request_id in self._in_flight:
            self._in_flight.discard(request_id)
            self._pump.end_answering()

    async def _write_to(self, child: Process) -> None:
        """Write to the child what the client sends it, in order; close its input at the
        end of the stream."""
        stdio = self._stdio
        while True:
            chunks = stdio.data_to_send()
            if not chunks:
                self._wake = self._pump.waiter()
                await self._wake.wait()
                self._wake = None
                continue
            for chunk in chunks:
                if not chunk:
                    with contextlib.suppress(OSError):
                        await child.close_input()
                    return
                try:
                    await child.send(chunk)
                except OSError:
                    return  # the child is gone: its output's end says so
                self._backlog = max(0, self._backlog - len(chunk))

    def _close(self, reason: str) -> None:
        """Close the connection with 1011 and *reason*, unless it is over."""
        connection = self._pump.connection
        if connection.is_open:
            connection.close(WS_INTERNAL_ERROR, _short(reason), now=self._pump.now())
            self._pump.flush()

    def _ended(self, cancelled: bool) -> None:
        """The child's task is over, and the child with it."""
        ending = self._ending
        if ending is not None:
            ending.settle(None)
            self._server._children.discard(ending)

    # The end -----------------------------------------------------------------------------

    def cut_short(self) -> None:
        for request_id in list(self._in_flight):
            self._refuse(request_id, jsonrpc.INTERNAL_ERROR, NOT_ANSWERED)
        self.lost()

    def lost(self) -> None:
        if self._over:
            return
        self._over = True
        self._stdio.close()
        for request_id in list(self._in_flight):
            self._settled(request_id)
        for task in self._tasks:
            task.cancel()


class IdleWatch:
    """Closes a connection with 1001 once *timeout* seconds have gone by without a message
    either way (each one calls :meth:`touch`) while it was not *busy* (a request of its
    client's in flight: the time it takes does not count)."""

    def __init__(self, pump: Kernel, timeout: float, *, busy: Callable[[], bool]) -> None:
        self._pump = pump
        self._timeout = timeout
        self._busy = busy
        self._last = pump.now()

    @classmethod
    def of(
        cls, pump: Kernel, timeout: float | None, *, busy: Callable[[], bool]
    ) -> IdleWatch | None:
        """A watch for *timeout*, or none when it is ``None``."""
        return None if timeout is None else cls(pump, timeout, busy=busy)

    def touch(self) -> None:
        """A message went by: the connection is idle from now."""
        self._last = self._pump.now()

    async def run(self) -> None:
        """Wait for the connection to have been idle *timeout* seconds, and close it."""
        pump = self._pump
        while (deadline := self._last + self._timeout) > pump.now() or self._busy():
            if deadline <= pump.now():
                self.touch()  # busy: idle from the end of what is in flight, at the earliest
                continue
            async with pump.move_on_at(deadline):
                await pump.waiter().wait()
        connection = pump.connection
        if connection.is_open:
            _log.info("a connection idle for %g s is closed", self._timeout)
            connection.close(GOING_AWAY, f"idle for {self._timeout:g} s", now=pump.now())
            pump.flush()


def _short(reason: str) -> str:
    """*reason*, cut to what a close frame carries (123 bytes of UTF-8)."""
    return reason.encode()[:123].decode(errors="ignore")


def _ignore(cancelled: bool) -> None:
    """The end of a task whose outcome nobody waits for."""
