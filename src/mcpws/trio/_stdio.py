"""MCP's stdio transport with trio: :func:`serve_stdio` serves an :class:`~mcpws.app.Server`
on this process's standard input and output, and :func:`connect_stdio` starts a stdio server
and yields a :class:`~mcpws.app.Client` of it. The framing is the core's
(:class:`~mcpws.core.stdio.StdioConnection`); the pump is the WebSocket one's."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import trio

from mcpws.app import Client, ConnectError
from mcpws.app._process import log_errors
from mcpws.core.session import ClientSession, ClientSessionConfig
from mcpws.core.stdio import DEFAULT_MAX_MESSAGE_SIZE, StdioConnection
from mcpws.lowlevel import Process, command_name, for_the_client, same_options, stdio_options
from mcpws.trio._child import open_child
from mcpws.trio._pump import Pump

__all__ = ["connect_stdio", "serve_stdio"]

#: Seconds a child gets to exit once its input is closed, and again after ``SIGTERM``.
GRACE = 2.0


@same_options(stdio_options)
async def serve_stdio(*args: Any, **options: Any) -> None:
    """Serve *app* on standard input and output until the input ends, or until cancelled
    (then shut down gracefully, as :func:`serve` does); the options are those of
    :func:`mcpws.lowlevel.stdio_options`. Nothing else may write to standard output
    meanwhile: it is the protocol's."""
    on = stdio_options(*args, **options)
    stream = trio.StapledStream(
        trio.lowlevel.FdStream(os.dup(on.stdout)), trio.lowlevel.FdStream(os.dup(on.stdin))
    )
    pump = on.serve_over(on.connection(trio.current_time()), Pump, stream)
    try:
        await pump.run()
    finally:
        on.closed(pump)


class _ChildStream(trio.abc.Stream):
    """A child's standard input and output, as one stream."""

    def __init__(self, child: Process) -> None:
        self._child = child

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        try:
            await self._child.send(bytes(data))
        except OSError as exc:
            raise trio.BrokenResourceError(f"the server's input is closed: {exc}") from exc

    async def wait_send_all_might_not_block(self) -> None:
        await trio.lowlevel.checkpoint()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        return await self._child.receive()

    async def aclose(self) -> None:
        await self._child.close_input()


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
    """Start *command*, a stdio MCP server, with *env* (the whole environment; ``None``:
    this process's) in *cwd*, and yield a :class:`~mcpws.app.Client` of it once its
    session is open (*session*, or *session_options* such as ``revisions=``, configure
    it, as for :func:`connect`). What the server writes to its standard error goes to the
    ``mcpws`` logger at INFO, tagged with its program's name.

    Raises :class:`~mcpws.app.ConnectError` when the command cannot start, or its session
    does not open within *open_timeout* seconds. Leaving the block closes the server's
    input, then sends ``SIGTERM`` *grace* seconds later, and ``SIGKILL`` *grace* seconds
    after that, until it has exited.
    """
    name = command_name(command)
    try:
        child = await open_child(command, env=env, cwd=cwd)
    except OSError as exc:
        raise ConnectError(f"cannot start {name}: {exc.strerror or exc}") from exc
    core = ClientSession(session if session is not None else ClientSessionConfig(**session_options))
    now = trio.current_time()
    connection = StdioConnection(core, now, max_message_size=max_message_size)
    pump = Pump(_ChildStream(child), connection, for_the_client)
    client = Client(pump, core)
    pump.client = client
    pump.follow_opening(client)
    raised: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(log_errors, child, name)
            await nursery.start(pump.run)
            late = f"{name} did not open its session in {open_timeout} s"
            try:
                await pump.wait_for_session(now + open_timeout, late)
                yield client
            except BaseException as exc:  # raised again below, outside the nursery
                raised = exc
            finally:
                # Its input closed, a server ends its output and exits, within its grace.
                with trio.CancelScope(shield=True), trio.move_on_after(grace):
                    await pump.close()
            nursery.cancel_scope.cancel()
    finally:
        await child.end(grace)
    if raised is not None:
        raise raised
