"""An accepted ASGI WebSocket on asyncio: :func:`serve_websocket` runs the pump of one
connection of :class:`mcpws.asgi.App` over the ASGI server's ``receive`` and ``send``, each
message whole (the core's :class:`~mcpws.core.messages.MessageConnection`), and
:func:`stop_all` shuts them down gracefully."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from mcpws.app._pumping import OnAsgi, disconnect_code
from mcpws.asyncio._pump import Pump
from mcpws.asyncio._queued import QueuedTransport
from mcpws.core.connection import ConnectionRequested
from mcpws.core.messages import MessageConnection
from mcpws.lowlevel import LINGER

__all__ = ["serve_websocket", "stop_all"]

_log = logging.getLogger("mcpws")

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _Messages(QueuedTransport):
    """A transport for a pump over an ASGI WebSocket: a task receives the server's messages
    and gives the core each one whole, while the pump wants to read; another sends what the
    pump writes, each write one text message, in order, and then the close the core ended
    the connection with."""

    def __init__(self, receive: Receive, send: Send, pump: Pump) -> None:
        connection = pump.connection
        assert isinstance(connection, MessageConnection)
        self._connection = connection
        self._receive = receive
        self._send = send
        #: Whether the peer is gone (the server said ``websocket.disconnect``).
        self._gone = False
        super().__init__(pump)

    async def _read(self) -> None:
        pump, connection = self._pump, self._connection
        while True:
            await self._readable.wait()
            message = await self._receive()
            kind = message["type"]
            if kind == "websocket.receive":
                text = message.get("text")
                if text is not None:
                    connection.receive_text(text, pump.now())
                else:
                    connection.receive_bytes(message.get("bytes") or b"", pump.now())
                pump.process()
            elif kind == "websocket.disconnect":
                self._gone = True
                connection.peer_close_code = disconnect_code(message)
                pump.eof_received()
                return

    async def _write(self) -> None:
        connection = self._connection
        try:
            while (chunks := await self._queued()) is not None:
                for data in chunks:
                    if not self._gone:
                        await self._send({"type": "websocket.send", "text": data.decode()})
                    self._gone_out(len(data))
            if not self._gone and connection.close_code is not None:
                code, reason = connection.close_code, connection.close_reason
                await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except Exception as exc:  # the ASGI server's word for a peer that is gone
            _log.debug("an ASGI WebSocket send failed: %r", exc)
        finally:
            self._ended()

    async def sent(self) -> None:
        """Wait until the writer is done: what was written has gone out, then the close."""
        await self._tasks[1]


async def serve_websocket(
    on: OnAsgi,
    requested: ConnectionRequested,
    principal: object,
    peer: str | None,
    receive: Receive,
    send: Send,
) -> None:
    """Serve an accepted ASGI WebSocket, upgraded as *requested* by *peer*, for
    *principal*, until it is over."""
    pump = on.serve_over(on.connection(asyncio.get_running_loop().time()), Pump)
    on.opened(pump, principal, requested, peer)
    on.upgraded(pump, requested)
    try:
        messages = _Messages(receive, send, pump)
        try:
            await pump.closed.wait()
            messages.close()  # once what is written, and the close, have gone out
            await asyncio.wait_for(asyncio.shield(messages.sent()), LINGER)
        except asyncio.CancelledError:
            pump.abort()  # the ASGI server gave up on the connection
            raise
        except TimeoutError:
            messages.abort()
    finally:
        pump.lost()
        on.closed(pump)


async def stop_all(on: OnAsgi) -> None:
    """Shut every connection of *on* down gracefully, at once: the requests in flight get
    the grace, then each connection closes with 1001."""

    async def stop(pump: Pump) -> None:
        pump.drain()
        await pump.shutdown()

    await asyncio.gather(*(stop(pump) for pump in list(on.pumps) if isinstance(pump, Pump)))
