"""An accepted ASGI WebSocket on trio (hypercorn's trio worker): :func:`serve_websocket` runs
the pump of one connection of :class:`mcpws.asgi.App` over the ASGI server's ``receive`` and
``send``, each message whole (the core's :class:`~mcpws.core.messages.MessageConnection`),
and :func:`stop_all` shuts them down gracefully."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import trio

from mcpws.app._pumping import OnAsgi, disconnect_code
from mcpws.core.connection import ConnectionRequested
from mcpws.core.messages import MessageConnection
from mcpws.trio._pump import Pump

__all__ = ["serve_websocket", "stop_all"]

_log = logging.getLogger("mcpws")

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _MessageStream(trio.abc.Stream):
    """The sending half of an ASGI WebSocket, as the pump's stream: each chunk the pump
    sends is one text message, and closing it sends the close the core ended the connection
    with (once; nothing, when the peer is gone)."""

    def __init__(self, send: Send, connection: MessageConnection) -> None:
        self._send = send
        self._connection = connection
        self.gone = False
        self._closed = False

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self.gone or self._closed:
            raise trio.BrokenResourceError("the WebSocket is over")
        try:
            await self._send({"type": "websocket.send", "text": bytes(data).decode()})
        except Exception as exc:  # the ASGI server's word for a peer that is gone
            self.gone = True
            raise trio.BrokenResourceError(f"the ASGI server could not send: {exc!r}") from exc

    async def wait_send_all_might_not_block(self) -> None:
        await trio.lowlevel.checkpoint()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        raise NotImplementedError("the pump receives each message from the ASGI server")

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        code = self._connection.close_code
        if self.gone or code is None:
            return
        close = {"type": "websocket.close", "code": code, "reason": self._connection.close_reason}
        with trio.CancelScope(shield=True):
            try:
                await self._send(close)
            except Exception as exc:
                _log.debug("an ASGI WebSocket close failed: %r", exc)


class _AsgiPump(Pump):
    """The trio pump, reading whole messages from the ASGI server instead of bytes."""

    def __init__(self, receive: Receive, stream: _MessageStream, *args: Any, **options: Any):
        super().__init__(stream, *args, **options)
        self._asgi_receive = receive
        self._messages = stream
        #: Cancelled to shut the connection down gracefully; set once its run is over.
        self.stopping = trio.CancelScope()
        self.finished = trio.Event()
        #: Called once the pump runs, before it reads: it can start tasks from then on.
        self.opening: Callable[[], None] | None = None

    async def _receive(self) -> bytes:
        """The next text message, whole, as UTF-8; ``b""`` once the peer is gone. A binary
        message or an empty one goes to the core directly."""
        connection = self.connection
        assert isinstance(connection, MessageConnection)
        if self.opening is not None:
            opening, self.opening = self.opening, None
            opening()
        while True:
            message = await self._asgi_receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                self._messages.gone = True
                connection.peer_close_code = disconnect_code(message)
                return b""
            if kind != "websocket.receive":
                continue
            text = message.get("text")
            if text:
                return bytes(text.encode())
            if text is None:
                connection.receive_bytes(message.get("bytes") or b"", self.now())
            else:
                connection.receive_text(text, self.now())
            self.process()
            if connection.closed:
                return b""

    def receive(self, data: bytes | memoryview) -> None:
        """Feed the core one whole message (``b""``: the peer is gone), and act on it."""
        if data:
            self.connection.receive_data(bytes(data), self.now())
        else:
            self.connection.receive_eof(self.now())
        self.process()

    async def _close_stream(self, *, forcefully: bool = False) -> None:
        if forcefully and self._writing:
            return  # the writer sends the close once what is queued before it has gone
        await self._messages.aclose()


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
    connection = on.connection(trio.current_time())
    pump = on.serve_over(connection, _AsgiPump, receive, _MessageStream(send, connection))
    on.opened(pump, principal, requested, peer)
    pump.opening = lambda: on.upgraded(pump, requested)
    try:
        with pump.stopping:
            await pump.run()
    finally:
        on.closed(pump)
        pump.finished.set()


async def stop_all(on: OnAsgi) -> None:
    """Shut every connection of *on* down gracefully, at once: the requests in flight get
    the grace, then each connection closes with 1001."""
    pumps = [pump for pump in list(on.pumps) if isinstance(pump, _AsgiPump)]
    for pump in pumps:
        pump.stopping.cancel()
    for pump in pumps:
        await pump.finished.wait()
