"""A third driver, built on :mod:`mcpws.lowlevel` and anyio alone, on which the end-to-end
scenarios run as on ``mcpws.trio`` and ``mcpws.asyncio``: a reader task feeds the core while
the kernel is reading, a writer task writes what it hands back, in order (and processes the
held messages once it has written all), and a timer task waits for its deadline."""

from __future__ import annotations

import contextlib
import functools
import math
import ssl
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import anyio.abc
from anyio.streams.tls import TLSListener

from mcpws import lowlevel
from mcpws.app import Client, ConnectError
from mcpws.core.connection import ServerConnection
from mcpws.core.session import ClientSession

_GONE = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)


T = TypeVar("T")


class _Waiter:
    def __init__(self) -> None:
        self._event, self.settled, self.outcome = anyio.Event(), False, object()

    def settle(self, outcome: object) -> None:
        if not self.settled:
            self.settled, self.outcome = True, outcome
            self._event.set()

    async def wait(self) -> object:
        await self._event.wait()
        await anyio.lowlevel.checkpoint_if_cancelled()  # cancelled as it was woken
        return self.outcome


class Pump(lowlevel.Kernel):
    """Drives one connection core over one anyio byte stream."""

    def __init__(self, stream: anyio.abc.ByteStream, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        self.stream = stream
        self.closed = anyio.Event()
        self._outbox, self._queued, self._sent, self._bytes = list[bytes](), 0, 0, 0
        self._progress = anyio.Event()  # set, and made anew, as the writer goes on
        self._group: Any = None  # the task group, while running
        self._timer_scope, self._writer = anyio.CancelScope(), anyio.CancelScope(shield=True)
        # Whether the peer ended its stream, and whether this side, done, ended its own and
        # reads on to the peer's end: a close with bytes unread would reset the connection.
        self._peer_ended = self._lingering = False

    now = staticmethod(anyio.current_time)
    waiter = staticmethod(_Waiter)

    def spawn(self, work: Coroutine[Any, Any, None], done: Callable[[bool], None]) -> Any:
        scope = anyio.CancelScope(shield=True)
        self._group.start_soon(_run_in, scope, work, done)
        return scope

    def soon(self) -> None:
        self._group.start_soon(_call, self.resumed)

    async def in_thread(self, fn: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(fn)

    def queued(self) -> int:
        return self._bytes

    def process(self) -> None:
        super().process()
        self._wake()  # the reader may be waiting for it

    @asynccontextmanager
    async def move_on_at(self, deadline: float) -> AsyncIterator[object]:
        with anyio.CancelScope(deadline=deadline) as scope:
            yield scope

    def flush(self) -> None:
        chunks = self.connection.data_to_send()
        deadline = self.connection.next_deadline()
        if deadline is not None and deadline < self._timer_scope.deadline:
            self._timer_scope.deadline = deadline
        if chunks and self._group is not None:
            self._outbox += chunks
            self._queued += len(chunks)
            self._bytes += sum(map(len, chunks))
            self._wake()
            if not chunks[-1]:  # the end: what a peer does not read gets a second to go
                socket = isinstance(self.stream, anyio.abc.SocketStream)
                serving = isinstance(self.connection, ServerConnection)
                self._lingering = serving and socket and not self._peer_ended  # reads on
                self._group.start_soon(self._cut_unless_written)

    async def _cut_unless_written(self) -> None:
        with anyio.move_on_after(lowlevel.LINGER):
            await self._written()
            while self._lingering:
                await self._progress.wait()
        await anyio.aclose_forcefully(self.stream)

    async def written(self) -> None:
        await self._written()
        await anyio.lowlevel.checkpoint()

    async def _written(self) -> None:
        while self._sent < self._queued:
            await self._progress.wait()

    def _wake(self) -> None:
        self._progress.set()
        self._progress = anyio.Event()

    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Pump until the connection is over; cancelled, shut down gracefully."""
        try:
            async with anyio.create_task_group() as self._group:
                self._group.start_soon(self._write)
                self._group.start_soon(self._time)
                task_status.started()
                self.flush()
                try:
                    await self._read()
                except anyio.get_cancelled_exc_class():
                    with anyio.CancelScope(shield=True):
                        await self._shut_down()
                    raise
                finally:  # what is left goes out (or is cut), then the writer stops
                    with anyio.CancelScope(shield=True), anyio.move_on_after(lowlevel.LINGER):
                        await self._written()
                    self._writer.cancel()
                self.lost()
                self._group.cancel_scope.cancel()
        finally:
            self._group = None
            self.lost()
            await anyio.aclose_forcefully(self.stream)  # closes even when cancelled

    async def _shut_down(self) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(self._read)
            await self.finish_answering()
            group.cancel_scope.cancel()
        await self.say_goodbye()

    async def _read(self) -> None:
        while not self.connection.closed or self._lingering:
            if self.connection.closed:  # lingering: what the peer still sends is dropped
                self._lingering = bool(await self._receive())
                self._wake()
                continue
            if self._peer_ended or not self.reading:
                await self._progress.wait()
                continue
            data = await self._receive()
            self._peer_ended = not data
            self.receive(data)

    async def _receive(self) -> bytes:
        try:
            return await self.stream.receive(65536)
        except _GONE:
            return b""

    async def _write(self) -> None:
        with self._writer:
            while True:
                while self._outbox:
                    data = self._outbox.pop(0)
                    with contextlib.suppress(*_GONE):
                        await (self.stream.send(data) if data else self._end())
                    self._sent += 1
                    self._bytes -= len(data)
                    self._wake()
                if self.connection.holding:
                    self.process()  # what waited for room
                    if self._outbox:
                        continue
                await self._progress.wait()

    async def _end(self) -> None:
        """End the stream; unless the peer has ended its own, end this side only and let
        the reader drop what still comes until the peer's end (a second at most)."""
        if not self._lingering:
            await self.stream.aclose()
            return
        await self.stream.send_eof()
        self._wake()

    async def _time(self) -> None:
        while True:
            deadline = self.connection.next_deadline()
            with anyio.CancelScope(deadline=math.inf if deadline is None else deadline) as scope:
                self._timer_scope = scope
                await anyio.sleep_forever()
            self.expire()


@lowlevel.same_options(lowlevel.serve_options)
async def serve(*args: Any, **options: Any) -> None:
    """Serve until cancelled; report a Listening through *task_status*."""
    serving = lowlevel.serve_options(*args, **options)
    host, port = serving.host, serving.port
    listener: Any = await anyio.create_tcp_listener(local_host=host, local_port=port)
    sockets = [one.extra(anyio.abc.SocketAttribute.raw_socket) for one in listener.listeners]
    if serving.ssl_context is not None:
        listener = TLSListener(listener, serving.ssl_context, standard_compatible=False)

    async def handle(stream: anyio.abc.ByteStream) -> None:
        peer = stream.extra(anyio.abc.SocketAttribute.remote_address, None)
        pump = serving.new_pump(
            anyio.current_time(), Pump, stream, peer=lowlevel.address_name(peer)
        )
        try:
            await pump.run()
        finally:
            serving.closed(pump)

    async with serving.running():
        (serving.task_status or anyio.TASK_STATUS_IGNORED).started(serving.listening(sockets))
        async with listener:
            await listener.serve(handle)


async def _open(
    dialing: lowlevel.Dialing, group: anyio.abc.TaskGroup, client: Client | None
) -> tuple[Pump, ClientSession]:
    connection, core = dialing.connection(anyio.current_time())
    assert core is not None
    deadline = anyio.current_time() + dialing.open_timeout
    late = f"could not open {dialing.url} in {dialing.open_timeout} s"
    host, port, tls = connection.host, connection.port, dict[str, Any]()
    if connection.secure:
        tls = {"ssl_context": dialing.ssl_context or ssl.create_default_context()}
        tls["tls_hostname"] = host
    with anyio.CancelScope(deadline=deadline) as opening:
        try:
            stream: anyio.abc.ByteStream = await anyio.connect_tcp(host, port, **tls)
        except (OSError, anyio.BrokenResourceError) as exc:  # ssl.SSLError among them
            secure = isinstance(exc, ssl.SSLError)
            what = "the TLS handshake failed" if secure else f"cannot reach {host}:{port}"
            raise ConnectError(f"{what}: {exc}") from exc
    if opening.cancelled_caught:
        raise ConnectError(late)
    pump = Pump(stream, connection, lowlevel.for_the_client)
    pump.follow_opening(client)
    scope = anyio.CancelScope()
    await group.start(lambda task_status: _run_in(scope, pump.run(task_status=task_status), id))
    try:
        await pump.wait_for_session(deadline, late)
    except ConnectError:
        scope.cancel()
        raise
    return pump, core


async def _call(function: Callable[[], None]) -> None:
    function()


async def _run_in(
    scope: anyio.CancelScope, work: Coroutine[Any, Any, None], done: Callable[[bool], object]
) -> None:
    try:
        with scope:
            await work
    finally:
        done(scope.cancelled_caught)


@lowlevel.same_options(lowlevel.connect_options)
@asynccontextmanager
async def connect(*args: Any, **options: Any) -> AsyncIterator[Client]:
    """Yield a ready client for the block; its connection is pumped in a task group."""
    dialing = lowlevel.connect_options(*args, **options)
    raised: BaseException | None = None
    async with anyio.create_task_group() as group:
        try:
            pump, core = await _open(dialing, group, None)
        except BaseException as exc:  # raised below, outside the task group
            raised = exc
        else:
            client = pump.client = Client(pump, core)
            if dialing.reconnect is not None:
                again = functools.partial(_open, dialing, group, client)
                group.start_soon(lowlevel.come_back, client, again, anyio.sleep, dialing)
            try:
                yield client
            except BaseException as exc:  # raised below, outside the task group
                raised = exc
            closing = math.inf if raised is None else lowlevel.LINGER
            with anyio.CancelScope(shield=True), anyio.move_on_after(closing):
                await pump.close()
        group.cancel_scope.cancel()
    if raised is not None:
        raise raised


lowlevel.register(lowlevel.Driver("anyio", "helpers.anyio_driver", "asyncio"))
