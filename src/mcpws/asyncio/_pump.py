"""The asyncio pump of one MCP connection, for either role: a
:class:`~mcpws.lowlevel.Kernel` that is an :class:`asyncio.Protocol`.

Bytes the transport reads go to the core at once, and reading pauses while the kernel is
not :attr:`~Kernel.reading`; what the core has to send is written at once (a transport
buffers, so writing never waits), and once the transport has written what it held (its high
water mark is the kernel's *write_limit*), the held messages are processed again. One
timer, re-armed with ``call_at`` when the core's deadline moves, calls ``handle_timeout``.
Handlers that have to wait run in tasks of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from mcpws.asyncio._child import open_child
from mcpws.lowlevel import LINGER, Kernel, Process

__all__ = ["Pump"]


T = TypeVar("T")


class _Waiter:
    """A task waiting for one outcome: a future, which it awaits."""

    __slots__ = ("_future",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._future: asyncio.Future[object] = loop.create_future()

    @property
    def settled(self) -> bool:
        future = self._future
        return future.done() and not future.cancelled()

    def settle(self, outcome: object) -> None:
        if not self._future.done():
            self._future.set_result(outcome)

    def wait(self) -> asyncio.Future[object]:
        return self._future


class _Flag:
    """What :class:`asyncio.Event` does, for less: the waiters' futures in a list made when
    one waits, where an Event keeps a deque of 600 bytes from the start."""

    __slots__ = ("_set", "_waiters")

    def __init__(self, value: bool = False) -> None:
        self._set = value
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        if self._set:
            return
        self._set = True
        waiters, self._waiters = self._waiters or [], None
        for future in waiters:
            if not future.done():
                future.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(future)
        try:
            await future
        finally:
            if self._waiters is not None and future in self._waiters:
                self._waiters.remove(future)
        return True


class _MovingOn:
    """``asyncio.timeout_at`` that goes on after the block when its deadline passes."""

    def __init__(self, deadline: float) -> None:
        self._timeout = asyncio.timeout_at(deadline)

    async def __aenter__(self) -> asyncio.Timeout:
        return await self._timeout.__aenter__()

    async def __aexit__(self, *exc_info: Any) -> bool:
        try:
            await self._timeout.__aexit__(*exc_info)
        except TimeoutError:  # the deadline passed, not the block's own error
            return True
        return False


class Pump(Kernel, asyncio.Protocol):
    """Drives one connection core over one asyncio transport. Also the connection's
    :class:`~mcpws.app.Link`."""

    __slots__ = (
        "_deadline",
        "_lingering",
        "_loop",
        "_peer_ended",
        "_timer",
        "_transport",
        "_writable",
        "on_lost",
    )

    def __init__(self, *args: Any, **options: Any) -> None:
        """Made with the kernel's arguments, in the loop that will run it."""
        super().__init__(*args, **options)
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._deadline: float | None = None
        self._writable = _Flag(True)
        self.closed = _Flag()
        #: Whether the peer has ended its stream, and whether this side, done, has ended its
        #: own and reads on to the peer's end (see :meth:`_end`).
        self._peer_ended = self._lingering = False
        #: Called once the transport is closed.
        self.on_lost: Callable[[], None] = lambda: None

    # The loop's primitives -----------------------------------------------------------------

    def now(self) -> float:
        return self._loop.time()

    def waiter(self) -> _Waiter:
        return _Waiter(self._loop)

    def spawn(
        self, work: Coroutine[Any, Any, None], done: Callable[[bool], None]
    ) -> asyncio.Task[None]:
        task = self._loop.create_task(work)

        def ended(task: asyncio.Task[None]) -> None:
            work.close()  # a task cancelled before it began never started it
            done(task.cancelled())

        task.add_done_callback(ended)
        return task

    async def in_thread(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    async def open_process(
        self, command: Sequence[str], *, env: Mapping[str, str] | None, cwd: str | None
    ) -> Process:
        return await open_child(command, env=env, cwd=cwd)

    def move_on_at(self, deadline: float) -> _MovingOn:
        return _MovingOn(deadline)

    def soon(self) -> None:
        self._loop.call_soon(self.resumed)

    def queued(self) -> int:
        transport = self._transport
        return 0 if transport is None else transport.get_write_buffer_size()

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
            elif not self._end(transport):
                transport.close()
                if transport.get_write_buffer_size():
                    self._loop.call_later(LINGER, transport.abort)
        self._rearm()

    def _end(self, transport: asyncio.Transport) -> bool:
        """End a server's stream, the core being done with it, unless the peer has ended
        its own; whether it did.

        Closed while the peer still sends, a socket with bytes unread would be reset, and
        the reset could overtake the close frame on its way to the peer (a message over the
        limit, refused as its first bytes arrive, say). So this side ends its stream and
        reads on, dropping what comes, until the peer ends its own too, for :data:`LINGER`
        seconds at most; then the transport is cut. Over TLS, which cannot end one way, the
        transport is closed as it is."""
        if not self.accepted or self._peer_ended or not transport.can_write_eof():
            return False  # a client waits for its server to close, as RFC 6455 asks
        transport.write_eof()  # once what is buffered has gone
        self._lingering = True
        transport.resume_reading()
        self._loop.call_later(LINGER, transport.abort)
        return True

    async def written(self) -> None:
        if self._writable.is_set():
            await asyncio.sleep(0)
        else:
            await self._writable.wait()

    # The protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.set_write_buffer_limits(high=self.write_limit)
        self.flush()

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # the core is done: what the peer still sends is dropped
        self.receive(data)
        self._read_on()

    def process(self) -> None:
        super().process()
        self._read_on()

    def _read_on(self) -> None:
        """Pause or resume reading as the kernel says (lingering, it reads on)."""
        transport = self._transport
        if transport is None or transport.is_closing() or self._lingering:
            return
        if self.reading:
            transport.resume_reading()
        else:
            transport.pause_reading()

    def eof_received(self) -> bool:
        self._peer_ended = True
        if self._lingering:
            return False  # both ends are done: the transport closes
        self.receive(b"")
        # The core closes the transport when it is done; over TLS, asyncio closes it.
        return self._transport is None or self._transport.get_extra_info("ssl_object") is None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.connection.closed:
            self.receive(b"")
        self.lost()
        self.on_lost()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()
        self.process()  # what waited for room

    # Timing ------------------------------------------------------------------------------

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
        if not self.expire():
            self._rearm()

    def lost(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._deadline = None
        super().lost()

    # Ending ------------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Close gracefully: finish answering (a server's session refuses new requests once
        the server drains it), then close with 1001 and wait a little for the transport to
        close."""
        await self.finish_answering()
        await self.say_goodbye()
        if self._transport is not None:
            self._transport.close()  # once what is written has gone out
            async with self.move_on_at(self.now() + LINGER):
                await self.closed.wait()
        self.abort()

    def abort(self) -> None:
        """Drop the connection at once, without a closing handshake."""
        if self._transport is not None:
            self._transport.abort()
        self.lost()
