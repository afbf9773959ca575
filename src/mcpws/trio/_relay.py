"""This process's standard input and output relayed to an MCP server over WebSocket, with
trio: :func:`relay_stdio`, what ``mcpws stdio`` runs for a client that only launches
commands. The protocol is the core's stdio framing and the :class:`~mcpws.app.Relay`'s;
this module reads and writes."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

import trio

from mcpws.app import ConnectError, ConnectionLost
from mcpws.app._relaying import Relay
from mcpws.core import jsonrpc
from mcpws.core.channel import InvalidMessageAnswered, MessageReceived
from mcpws.core.errors import McpwsError, ProtocolError, RemoteProtocolError
from mcpws.core.stdio import DEFAULT_MAX_MESSAGE_SIZE, StdioConnection, StreamEnded
from mcpws.lowlevel import Dialing
from mcpws.trio._connect import carry
from mcpws.trio._pump import Pump

__all__ = ["relay_stdio"]

_log = logging.getLogger("mcpws")

#: Bytes read from the input at a time.
_READ = 65536


async def relay_stdio(dialing: Dialing, *, stdin: int = 0, stdout: int = 1) -> None:
    """Carry newline-delimited JSON-RPC between the *stdin* and *stdout* descriptors and
    the server *dialing* names (a connection without a session of mcpws's own), until the
    input ends and every request sent has its answer: the connection then closes normally
    and this returns.

    A line that is not JSON-RPC is answered with the JSON-RPC error on *stdout*; a line
    over the connection's ``max_message_size`` ends the input, and once the answers in
    flight are written, raises :class:`~mcpws.core.errors.RemoteProtocolError`. Raises
    :class:`~mcpws.app.ConnectError` when the first connection cannot open, and
    :class:`~mcpws.app.ConnectionLost` when a connection drops and ``dialing.reconnect``
    does not bring it back (the requests in flight have their errors written first)."""
    bridge = _Bridge(dialing, stdin, stdout)
    failure: BaseException | None = None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(bridge.write_out)
        try:
            await bridge.run(nursery)
        except McpwsError as exc:  # raised below, outside the nursery
            failure = exc
        finally:
            bridge.finish()
    if failure is not None:
        raise failure


class _Bridge:
    def __init__(self, dialing: Dialing, stdin: int, stdout: int) -> None:
        self._dialing = dialing
        self._stdin = stdin
        self._stdout = stdout
        config = dialing.config
        size = DEFAULT_MAX_MESSAGE_SIZE if config is None else config.max_message_size
        self._input = StdioConnection(None, trio.current_time(), max_message_size=size)
        self.relay = Relay(self._to_client)
        #: Bytes for the client not written yet (``b""``: the end), and the writer's wake.
        self._output: list[bytes] = []
        self._written = trio.Event()
        #: Whether the input is over (or the client stopped reading the output), and an
        #: event set whenever the bridge may have become done.
        self._input_over = False
        self._deaf = False
        #: What ended the input, when it was a fault of the client's.
        self._fault: ProtocolError | None = None
        self._settled = trio.Event()
        self._reading: trio.CancelScope | None = None
        self._pump: Pump | None = None

    # The connections -------------------------------------------------------------------

    async def run(self, nursery: trio.Nursery) -> None:
        dialing = self._dialing
        async with carry(dialing, self.relay) as pump:
            reading = self._reading = trio.CancelScope()
            nursery.start_soon(self._read_in, reading)
            await self._hold(pump)
        while not self._done:
            if dialing.reconnect is None:
                raise ConnectionLost(self._why_over())
            _log.warning("%s; reconnecting", self._why_over())
            await self._come_back()
        if self._fault is not None:
            raise RemoteProtocolError(f"the client's input: {self._fault}") from self._fault

    async def _come_back(self) -> None:
        """One reconnection, after the policy's delays; raises ConnectionLost once they have
        run out."""
        dialing = self._dialing
        assert dialing.reconnect is not None
        attempts = 0
        for delay in dialing.reconnect.delays():
            attempts += 1
            with trio.move_on_after(delay):
                await self._quiet()
            if self._done:
                return
            try:
                async with carry(dialing, self.relay) as pump:
                    _log.warning("reconnected to %s (attempt %d)", dialing.url, attempts)
                    if dialing.on_reconnect is not None:
                        dialing.on_reconnect(attempts)
                    await self._hold(pump)
                    return
            except ConnectError as exc:
                _log.info("reconnecting to %s failed: %s", dialing.url, exc)
        raise ConnectionLost(f"gave up reconnecting to {dialing.url} after {attempts} attempts")

    async def _hold(self, pump: Pump) -> None:
        """Carry the messages over *pump* until it drops or the bridge is done; then fail
        what was in flight on it."""
        self.relay.attach(pump)
        self._pump = pump
        async with trio.open_nursery() as watching:

            async def drops() -> None:
                await pump.closed.wait()
                watching.cancel_scope.cancel()

            watching.start_soon(drops)
            await self._quiet()
            watching.cancel_scope.cancel()
        self._pump = None
        self.relay.detach()

    async def _quiet(self) -> None:
        """Wait until the input is over and every request has its answer."""
        while not self._done:
            await self._settled.wait()
            self._settled = trio.Event()

    @property
    def _done(self) -> bool:
        return self._deaf or (self._input_over and not self.relay.busy)

    def _why_over(self) -> str:
        closed = self.relay.closed
        url = self._dialing.url
        if closed is None or closed.code is None:
            return f"the connection to {url} was lost"
        reason = f" ({closed.reason})" if closed.reason else ""
        return f"the connection to {url} closed with {closed.code}{reason}"

    # The client's side -----------------------------------------------------------------

    async def _read_in(self, scope: trio.CancelScope) -> None:
        """Read the client's messages and relay them, until the input ends."""
        framing = self._input
        with scope:
            while not framing.closed:
                data = await trio.to_thread.run_sync(
                    os.read, self._stdin, _READ, abandon_on_cancel=True
                )
                now = trio.current_time()
                if data:
                    framing.receive_data(data, now)
                else:
                    framing.receive_eof(now)
                for event in framing.events_received():
                    if isinstance(event, MessageReceived):
                        message = event.message
                        assert not isinstance(message, list)  # no batches without a session
                        self.relay.from_client(message)
                    elif isinstance(event, InvalidMessageAnswered):
                        _log.warning("the client sent a line that is not JSON-RPC: %s", event.error)
                    elif isinstance(event, StreamEnded) and event.cause is not None:
                        self._fault = event.cause
                self._emit(c for c in framing.data_to_send() if c)  # the answers to bad lines
                if self._pump is not None:
                    await self._pump.written()  # the server's pace
                else:
                    await trio.lowlevel.checkpoint()
        self._input_over = True
        self._settled.set()

    def _to_client(self, message: jsonrpc.Message) -> None:
        self._emit((jsonrpc.encode(message).encode() + b"\n",))
        self._settled.set()

    def _emit(self, chunks: Iterable[bytes]) -> None:
        before = len(self._output)
        self._output.extend(chunks)
        if len(self._output) > before:
            self._written.set()

    async def write_out(self) -> None:
        """Write what is for the client, in order, until the end (or the client stops
        reading: the bridge is then over)."""
        while True:
            await self._written.wait()
            self._written = trio.Event()
            chunks, self._output = self._output, []
            end = b"" in chunks
            data = b"".join(chunks)
            try:
                await trio.to_thread.run_sync(_write_all, self._stdout, data)
            except OSError as exc:
                _log.warning("the client stopped reading: %s", exc)
                self._stop_reading()
                return
            if end:
                return

    def _stop_reading(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
        self._deaf = True
        self._settled.set()

    def finish(self) -> None:
        """The bridge is over: stop reading, write the rest, then stop writing."""
        if self._reading is not None:
            self._reading.cancel()
        self._output.append(b"")
        self._written.set()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
