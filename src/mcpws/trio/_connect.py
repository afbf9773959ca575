"""Connecting to an MCP server over WebSocket with trio: :func:`connect`, and :func:`carry`
for a connection whose messages another library's client takes."""

from __future__ import annotations

import math
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import trio

from mcpws.app import Client, ConnectError, Link, Reconnect, ReconnectCallback
from mcpws.core.connection import ClientConnection
from mcpws.core.session import ClientSession
from mcpws.lowlevel import (
    LINGER,
    Carrier,
    Dialing,
    come_back,
    connect_options,
    for_the_client,
    same_options,
)
from mcpws.trio._pump import Pump

__all__ = ["ConnectError", "Reconnect", "ReconnectCallback", "connect"]


async def _open(
    dialing: Dialing, nursery: trio.Nursery, client: Client | None
) -> tuple[Pump, ClientSession]:
    """Open a connection and its session, pumped in *nursery*; raises ConnectError."""
    pump, core = await _open_pump(dialing, nursery, client, None)
    assert core is not None
    return pump, core


async def _open_pump(
    dialing: Dialing, nursery: trio.Nursery, client: Client | None, carrier: Carrier | None
) -> tuple[Pump, ClientSession | None]:
    """Open a connection, and its session unless *carrier* takes its messages, pumped in
    *nursery*; raises ConnectError."""
    connection, core = dialing.connection(trio.current_time())

    def make(stream: trio.abc.Stream) -> Pump:
        pump = Pump(stream, connection, for_the_client)
        pump.carrier = carrier
        return pump

    return await opened(dialing, connection, make, client, nursery), core


async def opened(
    dialing: Dialing,
    connection: ClientConnection,
    make: Callable[[trio.abc.Stream], Pump],
    client: Client | None,
    nursery: trio.Nursery,
) -> Pump:
    """Open *connection* as *dialing* says, with the pump ``make(stream)`` makes for it,
    pumped in *nursery*, once the upgrade is accepted (and the session opened, for a
    client's session); raises ConnectError."""
    deadline = trio.current_time() + dialing.open_timeout  # for the whole of the opening
    late = f"could not open {dialing.url} in {dialing.open_timeout} s"
    with trio.move_on_at(deadline) as opening:
        stream = await _open_stream(connection, dialing.ssl_context)
    if opening.cancelled_caught:
        raise ConnectError(late)
    pump = make(stream)
    pump.follow_opening(client)
    scope = trio.CancelScope()

    async def run(task_status: trio.TaskStatus[None]) -> None:
        with scope:
            await pump.run(task_status=task_status)

    await nursery.start(run)
    try:
        await pump.wait_for_session(deadline, late)
    except ConnectError:
        scope.cancel()
        raise
    return pump


@same_options(connect_options)
@asynccontextmanager
async def connect(*args: Any, **options: Any) -> AsyncIterator[Client]:
    """Yield a :class:`~mcpws.app.Client` whose connection is pumped in a task of its own
    while in the block (see :func:`mcpws.lowlevel.connect_options` for the options)."""
    dialing = connect_options(*args, **options)
    raised: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            try:
                pump, core = await _open(dialing, nursery, None)
            except BaseException as exc:  # raised again below, outside the nursery
                raised = exc
            else:
                client = Client(pump, core)
                pump.client = client
                if dialing.reconnect is not None:

                    async def open_again() -> tuple[Link, ClientSession]:
                        return await _open(dialing, nursery, client)

                    nursery.start_soon(come_back, client, open_again, trio.sleep, dialing)
                try:
                    yield client
                except BaseException as exc:  # raised again below, outside the nursery
                    raised = exc
                finally:
                    # The close handshake takes what the core's close_timeout allows; left
                    # by an exception (a cancellation, say), the block gives it a second.
                    closing = math.inf if raised is None else LINGER
                    with trio.CancelScope(shield=True), trio.move_on_after(closing):
                        await pump.close()
            nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        if group.split(trio.Cancelled)[1] is not None:
            raise  # a pump failed
        raised = raised or group
    if raised is not None:
        raise _only_cancelled(raised)


@asynccontextmanager
async def carry(dialing: Dialing, carrier: Carrier) -> AsyncIterator[Pump]:
    """Open a connection without a session, as *dialing* says, whose messages *carrier*
    takes; yield its pump, running in a task of its own while in the block. Leaving the
    block closes the connection (as :func:`connect` does); raises
    :class:`~mcpws.app.ConnectError` when it cannot open."""
    refused: ConnectError | None = None
    async with trio.open_nursery() as nursery:
        try:
            pump, _ = await _open_pump(dialing, nursery, None, carrier)
        except ConnectError as exc:  # raised again below, outside the nursery
            refused = exc
        else:
            failed = True
            try:
                yield pump
                failed = False
            finally:
                closing = LINGER if failed else math.inf
                with trio.CancelScope(shield=True), trio.move_on_after(closing):
                    await pump.close()
        nursery.cancel_scope.cancel()
    if refused is not None:
        raise refused


def _only_cancelled(exc: BaseException) -> BaseException:
    """*exc*, or its first ``Cancelled`` when it is a group of nothing but cancellations: the
    caller of :func:`connect` must see its own cancellation, not the driver's tasks."""
    if not isinstance(exc, BaseExceptionGroup) or exc.split(trio.Cancelled)[1] is not None:
        return exc
    leaf: BaseException = exc
    while isinstance(leaf, BaseExceptionGroup):
        leaf = leaf.exceptions[0]
    return leaf


async def _open_stream(
    connection: ClientConnection, ssl_context: ssl.SSLContext | None
) -> trio.abc.Stream:
    """A TCP stream to the connection's server, with TLS done when the URL is ``wss://``."""
    try:
        stream = await trio.open_tcp_stream(connection.host, connection.port)
    except OSError as exc:
        raise ConnectError(f"cannot reach {connection.host}:{connection.port}: {exc}") from exc
    if not connection.secure:
        return stream
    context = ssl_context or ssl.create_default_context()
    tls = trio.SSLStream(stream, context, server_hostname=connection.host)
    try:
        await tls.do_handshake()
    except BaseException as exc:
        await trio.aclose_forcefully(stream)
        if isinstance(exc, trio.BrokenResourceError):
            raise ConnectError(f"the TLS handshake failed: {exc.__cause__}") from exc
        raise
    return tls
