"""The trio pump of one MCP connection, for either role: a :class:`~mcpws.lowlevel.Kernel`
over a trio stream.

It reads the stream and feeds the core while the kernel is :attr:`~Kernel.reading`, writes
what the core hands back through one outbox (at once when the socket takes it, else by a
writer task, which processes the held messages again once it has written all), and asks the
run's one clock (:mod:`._clock`) to wake it at the core's next deadline after every change.
Handlers run in tasks of their own, each in a shielded cancel scope: a shutdown gives them a
grace period instead of cancelling them.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import trio

from mcpws.lowlevel import LINGER, Kernel, Process
from mcpws.trio._child import open_child
from mcpws.trio._clock import alarm
from mcpws.trio._socket import DirectSocket, direct

__all__ = ["Pump"]

#: Bytes read from the stream at a time.
_CHUNK = 65536


T = TypeVar("T")


class _Waiter:
    """A task waiting for one outcome, which settles it once."""

    __slots__ = ("_task", "outcome", "settled")

    def __init__(self) -> None:
        self.settled = False
        self.outcome: object = None
        self._task: trio.lowlevel.Task | None = None

    async def wait(self) -> object:
        if self.settled:
            await trio.lowlevel.checkpoint()
        else:
            self._task = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(self._abort)
            await trio.lowlevel.checkpoint_if_cancelled()  # cancelled as it was woken
        return self.outcome

    def _abort(self, _: object) -> trio.lowlevel.Abort:
        self._task = None
        return trio.lowlevel.Abort.SUCCEEDED

    def settle(self, outcome: object) -> None:
        if not self.settled:
            self.settled = True
            self.outcome = outcome
            if self._task is not None:
                trio.lowlevel.reschedule(self._task)
                self._task = None


class _MovingOn:
    """A cancel scope with a deadline, entered and left with ``async with``: a class, not an
    async generator, which an interrupted run could leave for the garbage collector to
    finish after the run is over."""

    def __init__(self, deadline: float) -> None:
        self._scope = trio.move_on_at(deadline)

    async def __aenter__(self) -> trio.CancelScope:
        return self._scope.__enter__()

    async def __aexit__(self, *exc_info: Any) -> bool:
        return self._scope.__exit__(*exc_info)


class Pump(Kernel):
    """Drives one connection core over one trio stream. Also the connection's :class:`Link`."""

    __slots__ = (
        "_drained",
        "_io",
        "_lingering",
        "_nursery",
        "_outbox",
        "_outbytes",
        "_paused",
        "_peer_ended",
        "_queued",
        "_sent",
        "_writing",
        "stream",
        "wake_at",
    )

    def __init__(self, stream: trio.abc.Stream, *args: Any, **options: Any) -> None:
        """Pump *stream* for the connection core; the other arguments are the kernel's."""
        super().__init__(*args, **options)
        self.stream = stream
        #: What is read and written: the stream, or its socket directly while running.
        self._io: trio.abc.Stream | DirectSocket = stream
        #: The chunks to write and their bytes, whether a task is writing them, how many
        #: chunks were ever queued and written, and where tasks wait for theirs to be written.
        self._outbox: list[bytes] = []
        self._outbytes = 0
        self._writing = False
        self._queued = self._sent = 0
        self._drained: trio.lowlevel.ParkingLot | None = None  # made for the first to wait
        #: Where the reader waits while it is not to read, until the connection processes.
        self._paused = trio.lowlevel.ParkingLot()
        #: Whether the peer has ended its stream, and whether this side, done, has ended its
        #: own and reads on to the peer's end (see :meth:`_end`).
        self._peer_ended = self._lingering = False
        #: The deadline the run's clock is to wake this pump at.
        self.wake_at = math.inf
        self._nursery: trio.Nursery | None = None
        self.closed = trio.Event()

    # The loop's primitives -----------------------------------------------------------------

    def now(self) -> float:
        return trio.current_time()

    def waiter(self) -> _Waiter:
        return _Waiter()

    def spawn(self, work: Coroutine[Any, Any, None], done: Callable[[bool], None]) -> Any:
        scope = trio.CancelScope(shield=True)
        assert self._nursery is not None
        self._nursery.start_soon(self._run_shielded, work, scope, done)
        return scope

    @staticmethod
    async def _run_shielded(
        work: Coroutine[Any, Any, None], scope: trio.CancelScope, done: Callable[[bool], None]
    ) -> None:
        try:
            with scope:
                await work
        finally:
            done(scope.cancelled_caught)

    async def in_thread(self, fn: Callable[[], T]) -> T:
        return await trio.to_thread.run_sync(fn)

    async def open_process(
        self, command: Sequence[str], *, env: Mapping[str, str] | None, cwd: str | None
    ) -> Process:
        return await open_child(command, env=env, cwd=cwd)

    def move_on_at(self, deadline: float) -> _MovingOn:
        return _MovingOn(deadline)

    def soon(self) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(self._resume_soon)

    async def _resume_soon(self) -> None:
        self.resumed()

    def process(self) -> None:
        super().process()
        if self._paused:
            self._paused.unpark_all()

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
                task_status.started()
                self.flush()
                try:
                    await self._read()
                except trio.Cancelled:
                    with trio.CancelScope(shield=True):
                        await self._shut_down()
                    raise
                except BaseException:
                    self.lost()  # its tasks stop, or the nursery would wait for them
                    raise
                self.lost()
                # A handler may still be writing to a peer that does not read: it stops.
                await self._close_stream(forcefully=True)
                if nursery.child_tasks:
                    nursery.cancel_scope.cancel()
        finally:
            self._nursery = None
            self.lost()
            if not self._cut():
                with trio.CancelScope(shield=True):
                    await self._close_stream(forcefully=True)

    async def _shut_down(self) -> None:
        """Finish answering, reading on meanwhile (new requests are refused at once, answers
        to this side's requests arrive); close with 1001, reading on for the peer's answer
        to the close; then cut the stream, which stops any write still waiting."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._read)
            await self.finish_answering()
            await self.say_goodbye()
            nursery.cancel_scope.cancel()  # the reader may be waiting for the peer to read
        await self._close_stream(forcefully=True)

    async def _read(self) -> None:
        """Read until the connection is over, while the kernel is :attr:`reading`; after
        the end of the stream, wait for the core to act on what it holds; once the core is
        done, read on to the peer's end while lingering (see :meth:`_end`)."""
        while not self.connection.closed or self._lingering:
            if self.connection.closed:  # lingering: what the peer still sends is dropped
                self._lingering = bool(await self._receive())
                continue
            if self._peer_ended or not self.reading:
                await self._paused.park()
                continue
            data = await self._receive()
            self._peer_ended = not data
            self.receive(data)

    async def _receive(self) -> bytes:
        """What the peer sent next; ``b""`` at the end of its stream, or once it is cut."""
        try:
            return bytes(await self._io.receive_some(_CHUNK))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return b""

    def wake(self) -> None:
        """The run's clock: the deadline asked for has come."""
        if self._nursery is not None and not self.connection.closed and not self.expire():
            self._rearm()

    def _rearm(self) -> None:
        """Have the run's clock wake this pump at the core's next deadline, when that is
        sooner than the one asked for (while running).

        A deadline that moved later is left as it was: the pump then wakes early, finds
        nothing due and asks again. Most calls move the deadline later (a request's
        timeout, the keepalive), and asking costs a heap entry."""
        if self._nursery is not None:
            deadline = self.connection.next_deadline()
            if deadline is not None and deadline < self.wake_at:
                alarm(self, deadline)

    # Writing -----------------------------------------------------------------------------

    def flush(self) -> None:
        """Queue what the core has to send, in the order it was taken; ``b""`` closes the
        stream. The bytes go out whatever happens to the task that took them (a stream that
        lost bytes would be corrupt): at once when the stream takes them without waiting (a
        plain TCP socket with room for them), else by a writer task of the connection's
        own. Once the core is done with the stream while a write still waits on the peer,
        the rest gets a little time to go out, then the stream is cut."""
        chunks = self.connection.data_to_send()
        self._rearm()
        if not chunks or self._nursery is None:
            return  # nothing, or not running: there is no stream to write to
        if not chunks[-1] and self._lingers():
            self._lingering = True  # from now: the reader reads on (see _end)
            self._nursery.start_soon(self._cut_later)
        self._outbox += chunks
        self._outbytes += sum(map(len, chunks))
        self._queued += len(chunks)
        if not self._writing:
            if self._write_now():
                return
            self._writing = True
            self._nursery.start_soon(self._drain)
        if not chunks[-1]:
            self._nursery.start_soon(self._cut_unless_written, self._queued)

    def queued(self) -> int:
        return self._outbytes

    async def written(self) -> None:
        await self._written(self._queued)
        await trio.lowlevel.checkpoint()

    def _write_now(self) -> bool:
        """Write the outbox without waiting, as far as the stream allows (a plain TCP socket
        with room for the bytes; the end of the stream closes it at once); whether it is
        empty now."""
        io, outbox = self._io, self._outbox
        if not isinstance(io, DirectSocket):
            return False
        while outbox:
            data = outbox[0]
            if not data:
                self._end()
                sent = 0
            else:
                try:
                    sent = io.send_now(data)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    sent = len(data)  # lost with the connection, as the writer would lose it
                self._outbytes -= sent
                if sent < len(data):
                    outbox[0] = data[sent:]
                    return False
            del outbox[0]
            self._sent += 1
        return not outbox

    async def _written(self, count: int) -> None:
        """Wait until the first *count* chunks ever queued are written."""
        while self._sent < count:
            if self._drained is None:
                self._drained = trio.lowlevel.ParkingLot()
            await self._drained.park()

    async def _cut_unless_written(self, count: int) -> None:
        with trio.move_on_after(LINGER) as lingering:
            await self._written(count)
        if lingering.cancelled_caught:
            await self._close_stream(forcefully=True)

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
                            elif not self._end():
                                await self._close_stream()
                        except (trio.BrokenResourceError, trio.ClosedResourceError):
                            pass
                        self._outbytes -= len(data)
                        self._sent += 1
        finally:
            self._writing = False
            if self._drained is not None:
                self._drained.unpark_all()
        if self.connection.holding or self._paused:
            self.process()  # what waited for room, and the reader

    def _end(self) -> bool:
        """End a plain TCP stream, the core being done with it; whether it was one.

        Closed while the peer still sends, a socket with bytes unread would be reset, and
        the reset could overtake the close frame on its way to the peer (a message over the
        limit, refused as its first bytes arrive, say). So, unless the peer had ended its
        stream when the core was done (:meth:`_lingers`), this side ends its own, and
        the reader drops what the peer still sends until the peer ends it too, for
        :data:`LINGER` seconds at most; then the stream is cut."""
        if not isinstance(self._io, DirectSocket):
            return False
        if not self._lingering:
            return self._cut()
        try:
            self.stream.socket.shutdown(socket.SHUT_WR)  # type: ignore[attr-defined]
        except OSError:  # the peer has gone
            return self._cut()
        if self._paused:
            self._paused.unpark_all()  # the reader, to drop what comes
        return True

    def _lingers(self) -> bool:
        """Whether to read on past the core's end: a server's plain TCP stream whose peer
        has not ended its own (a client waits for its server to close, as RFC 6455 asks)."""
        return self.accepted and not self._peer_ended and isinstance(self._io, DirectSocket)

    async def _cut_later(self) -> None:
        await trio.sleep(LINGER)
        self._cut()  # a reader still waiting for the peer wakes, and stops

    def _cut(self) -> bool:
        """Close a plain TCP stream at once, with its socket: no cancellation and no
        checkpoint, so that a connection that vanished costs its server little. Whether the
        stream was one."""
        if not isinstance(self._io, DirectSocket):
            return False
        self._io.close()
        self.stream.socket.close()  # type: ignore[attr-defined]
        return True

    async def _close_stream(self, *, forcefully: bool = False) -> None:
        """Close the stream: at once, or giving TLS a little time to say goodbye."""
        if self._cut():
            return
        if not forcefully:
            with trio.move_on_after(LINGER):
                await self.stream.aclose()
        await trio.aclose_forcefully(self.stream)
