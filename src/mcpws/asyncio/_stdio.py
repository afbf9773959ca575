"""MCP's stdio transport with asyncio: :func:`serve_stdio` and :func:`connect_stdio`, as
:mod:`mcpws.trio` has them. The pump is the WebSocket one's, over a transport made of a
pair of byte streams (this process's standard input and output, or a child's)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from mcpws.app import Client, ConnectError
from mcpws.app._process import log_errors
from mcpws.asyncio._child import open_child
from mcpws.asyncio._pump import Pump
from mcpws.asyncio._queued import QueuedTransport
from mcpws.core.session import ClientSession, ClientSessionConfig
from mcpws.core.stdio import DEFAULT_MAX_MESSAGE_SIZE, StdioConnection
from mcpws.lowlevel import command_name, for_the_client, same_options, stdio_options

__all__ = ["connect_stdio", "serve_stdio"]

#: Seconds a child gets to exit once its input is closed, and again after ``SIGTERM``.
GRACE = 2.0
#: Bytes read at a time.
_CHUNK = 65536


class _Streams(Protocol):
    """Two byte streams, one read and one written (a :class:`~mcpws.lowlevel.Process`
    is one)."""

    async def send(self, data: bytes) -> None: ...

    async def close_input(self) -> None: ...

    async def receive(self) -> bytes: ...


class _Pipes(QueuedTransport):
    """A transport for a pump over :class:`_Streams`: a task reads and hands the pump what
    it reads, while the pump wants to read; another writes what the pump writes, in order,
    and closes the written stream once the pump closes the transport."""

    def __init__(self, streams: _Streams, pump: Pump) -> None:
        self._streams = streams
        super().__init__(pump)

    async def _read(self) -> None:
        pump = self._pump
        while True:
            await self._readable.wait()
            try:
                data = await self._streams.receive()
            except OSError:
                data = b""
            if not data:
                pump.eof_received()
                return
            pump.data_received(data)

    async def _write(self) -> None:
        try:
            while (chunks := await self._queued()) is not None:
                data = b"".join(chunks)
                await self._streams.send(data)
                self._gone_out(len(data))
        except OSError:
            pass  # the other end is gone
        finally:
            with contextlib.suppress(OSError):
                await self._streams.close_input()
            self._ended()


class _OwnStdio:
    """This process's standard input and output, as :class:`_Streams`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, stdin: int, stdout: int) -> _OwnStdio:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=_CHUNK)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(os.dup(stdin), "rb", 0)
        )
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(os.dup(stdout), "wb", 0)
        )
        writer = asyncio.StreamWriter(transport, protocol, None, loop)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def close_input(self) -> None:
        self._writer.close()

    async def receive(self) -> bytes:
        return await self._reader.read(_CHUNK)


@same_options(stdio_options)
async def serve_stdio(*args: Any, **options: Any) -> None:
    """Serve *app* on standard input and output, as :func:`mcpws.trio.serve_stdio` does
    (cancelled again during the graceful shutdown, it stops at once); the options are those
    of :func:`mcpws.lowlevel.stdio_options`."""
    on = stdio_options(*args, **options)
    loop = asyncio.get_running_loop()
    pump = on.serve_over(on.connection(loop.time()), Pump)
    try:
        _Pipes(await _OwnStdio.open(on.stdin, on.stdout), pump)
        try:
            await pump.closed.wait()
        except asyncio.CancelledError:
            pump.drain()
            shutting_down = asyncio.ensure_future(pump.shutdown())
            try:
                await asyncio.shield(shutting_down)
            except asyncio.CancelledError:
                shutting_down.cancel()
                pump.abort()
            raise
    finally:
        pump.lost()
        on.closed(pump)


@asynccontextmanager
async def connect_stdio(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    open_timeout: float = 30.0,
    grace: float = GRACE,
    max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
    session: ClientSessionConfig | None = None,
    **session_options: Any,
) -> AsyncIterator[Client]:
    """Start *command*, a stdio MCP server, and yield a :class:`~mcpws.app.Client` of it,
    as :func:`mcpws.trio.connect_stdio` does."""
    name = command_name(command)
    try:
        child = await open_child(command, env=env, cwd=cwd)
    except OSError as exc:
        raise ConnectError(f"cannot start {name}: {exc.strerror or exc}") from exc
    loop = asyncio.get_running_loop()
    errors = loop.create_task(log_errors(child, name))
    try:
        core = ClientSession(
            session if session is not None else ClientSessionConfig(**session_options)
        )
        now = loop.time()
        pump = Pump(StdioConnection(core, now, max_message_size=max_message_size), for_the_client)
        client = Client(pump, core)
        pump.client = client
        pump.follow_opening(client)
        _Pipes(child, pump)
        try:
            await pump.wait_for_session(
                now + open_timeout, f"{name} did not open its session in {open_timeout} s"
            )
            yield client
        finally:
            # Its input closed, a server ends its output and exits, within its grace.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await asyncio.shield(pump.close())
            pump.abort()
    finally:
        await child.end(grace)
        await errors
