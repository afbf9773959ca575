"""Connecting to an MCP server over WebSocket with asyncio: :func:`connect`, and
:func:`carry` for a connection whose messages another library's client takes."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcpws import lowlevel
from mcpws.app import Client, ConnectError, Link
from mcpws.asyncio._pump import Pump
from mcpws.core.connection import ClientConnection
from mcpws.core.session import ClientSession

__all__ = ["connect"]


async def _open(dialing: lowlevel.Dialing, client: Client | None) -> tuple[Pump, ClientSession]:
    """Open a connection and its session; raises ConnectError."""
    pump, core = await _open_pump(dialing, client, None)
    assert core is not None
    return pump, core


async def _open_pump(
    dialing: lowlevel.Dialing, client: Client | None, carrier: lowlevel.Carrier | None
) -> tuple[Pump, ClientSession | None]:
    """Open a connection, and its session unless *carrier* takes its messages; raises
    ConnectError."""
    loop = asyncio.get_running_loop()
    connection, core = dialing.connection(loop.time())
    pump = Pump(connection, lowlevel.for_the_client)
    pump.carrier = carrier
    await opened(dialing, pump, client)
    return pump, core


async def opened(dialing: lowlevel.Dialing, pump: Pump, client: Client | None) -> None:
    """Open *pump*'s client connection as *dialing* says, once the upgrade is accepted (and
    the session opened, for a client's session); raises ConnectError."""
    loop = asyncio.get_running_loop()
    connection = pump.connection
    assert isinstance(connection, ClientConnection)
    deadline = loop.time() + dialing.open_timeout  # for the whole of the opening
    late = f"could not open {dialing.url} in {dialing.open_timeout} s"
    pump.follow_opening(client)
    tls = None
    if connection.secure:
        tls = dialing.ssl_context or ssl.create_default_context()
    try:
        async with asyncio.timeout_at(deadline):
            await loop.create_connection(
                lambda: pump,
                connection.host,
                connection.port,
                ssl=tls,
                server_hostname=connection.host if tls else None,
            )
    except ssl.SSLError as exc:
        raise ConnectError(f"the TLS handshake failed: {exc}") from exc
    except OSError as exc:
        raise ConnectError(f"cannot reach {connection.host}:{connection.port}: {exc}") from exc
    except TimeoutError:
        raise ConnectError(late) from None
    try:
        await pump.wait_for_session(deadline, late)
    except ConnectError:
        await pump.shutdown()
        raise
    except BaseException:  # cancelled from outside, say: the connection goes too
        pump.abort()
        raise


@lowlevel.same_options(lowlevel.connect_options)
@asynccontextmanager
async def connect(*args: Any, **options: Any) -> AsyncIterator[Client]:
    """Connect, as :func:`mcpws.trio.connect` does, with the options of
    :func:`mcpws.lowlevel.connect_options`; the connection is an asyncio protocol."""
    dialing = lowlevel.connect_options(*args, **options)
    pump, core = await _open(dialing, None)
    client = Client(pump, core)
    pump.client = client
    watcher = None
    if dialing.reconnect is not None:

        async def open_again() -> tuple[Link, ClientSession]:
            return await _open(dialing, client)

        watcher = asyncio.create_task(
            lowlevel.come_back(client, open_again, asyncio.sleep, dialing)
        )
    failed = False
    try:
        yield client
    except BaseException:
        failed = True
        raise
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        # The close handshake takes what the core's close_timeout allows; left by an
        # exception (a cancellation, say), the block gives it a second.
        await _close(client, lowlevel.LINGER if failed else None)


@asynccontextmanager
async def carry(dialing: lowlevel.Dialing, carrier: lowlevel.Carrier) -> AsyncIterator[Pump]:
    """Open a connection without a session, as :func:`mcpws.trio._connect.carry` does."""
    pump, _ = await _open_pump(dialing, None, carrier)
    failed = False
    try:
        yield pump
    except BaseException:
        failed = True
        raise
    finally:
        await _close_pump(pump, lowlevel.LINGER if failed else None)


async def _close(client: Client, timeout: float | None) -> None:
    pump = client.link
    assert isinstance(pump, Pump)
    await _close_pump(pump, timeout)


async def _close_pump(pump: Pump, timeout: float | None) -> None:
    try:
        async with asyncio.timeout(timeout):
            await pump.close()
    except TimeoutError:
        pump.abort()  # the peer had its time to answer the close
    except asyncio.CancelledError:
        pump.abort()
        raise
