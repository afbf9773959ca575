"""Connecting to an MCP server over WebSocket with asyncio: :func:`connect`."""

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
from mcpws.core.session import ClientSession

__all__ = ["connect"]


class _Opener:
    """Opens connections to one URL, each with a new session, for one client."""

    def __init__(self, dialing: lowlevel.Dialing) -> None:
        self.dialing = dialing
        self.url = dialing.url
        self._timeout = dialing.open_timeout

    async def open(self, client: Client | None) -> tuple[Pump, ClientSession]:
        """Open a connection and its session; raises ConnectError."""
        loop = asyncio.get_running_loop()
        connection, core = self.dialing.connection(loop.time())
        pump = Pump(connection, lowlevel.for_the_client)
        opened = asyncio.Event()
        watch = lowlevel.follow_opening(pump, client, opened.set)
        tls = None
        if connection.secure:
            tls = self.dialing.ssl_context or ssl.create_default_context()
        try:
            async with asyncio.timeout(self._timeout):
                try:
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
                    where = f"{connection.host}:{connection.port}"
                    raise ConnectError(f"cannot reach {where}: {exc}") from exc
                await opened.wait()
        except TimeoutError:
            await pump.shutdown()
            raise ConnectError(f"could not open {self.url} in {self._timeout} s") from None
        except BaseException:  # cancelled from outside, say: the connection goes too
            pump.abort()
            raise
        if watch.failure and not core.revision:
            await pump.shutdown()
            raise ConnectError(watch.failure)
        return pump, core


@lowlevel.same_options(lowlevel.connect_options)
@asynccontextmanager
async def connect(*args: Any, **options: Any) -> AsyncIterator[Client]:
    """Connect, as :func:`mcpws.trio.connect` does, with the options of
    :func:`mcpws.lowlevel.connect_options`; the connection is an asyncio protocol."""
    opener = _Opener(dialing := lowlevel.connect_options(*args, **options))
    pump, core = await opener.open(None)
    client = Client(pump, core)
    pump.client = client
    watcher = None
    if dialing.reconnect is not None:

        async def open_again() -> tuple[Link, ClientSession]:
            return await opener.open(client)

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


async def _close(client: Client, timeout: float | None) -> None:
    pump = client.link
    assert isinstance(pump, Pump)
    if not pump.closed.is_set():
        pump.connection.close(now=asyncio.get_running_loop().time())
        pump.flush()
        try:
            async with asyncio.timeout(timeout):
                await pump.closed.wait()
        except TimeoutError:
            pump.abort()  # the peer had its time to answer the close
        except asyncio.CancelledError:
            pump.abort()
            raise
