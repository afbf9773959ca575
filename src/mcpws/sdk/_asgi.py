"""The ASGI endpoint of the SDK 1.x's WebSocket server, back: :func:`websocket_server`, which
checks and accepts an ASGI WebSocket as :class:`mcpws.asgi.App` does and yields the SDK's
``(read_stream, write_stream)`` for the caller's own server loop.

It is an :class:`~mcpws.asgi.App` serving a host whose one connection, instead of running an
SDK server's loop, hands its streams to the caller: the transport (limits, bad JSON, the
subprotocol, the upgrade policy) is mcpws's, as everywhere else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
from mcp.shared.message import SessionMessage

from mcpws.asgi import App
from mcpws.core.websocket import NORMAL
from mcpws.lowlevel import Kernel
from mcpws.sdk._serving import SdkHost, ServerCarrier

__all__ = ["websocket_server"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ReadStream = anyio.abc.ObjectReceiveStream[SessionMessage | Exception]
WriteStream = anyio.abc.ObjectSendStream[SessionMessage]


class _Handover(SdkHost):
    """The host of one connection whose streams go to the caller of
    :func:`websocket_server`, for as long as its block runs."""

    def __init__(self) -> None:
        self.name = "websocket_server"
        self._state = None
        self._running = False
        self.streams: tuple[ReadStream, WriteStream] | None = None
        self.pump: Kernel | None = None
        self.ready = anyio.Event()
        self.done = anyio.Event()

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[object]:
        yield None

    def carrier(self, pump: Kernel, *, max_concurrent: int) -> ServerCarrier:
        self.pump = pump
        return super().carrier(pump, max_concurrent=max_concurrent)

    async def serve_connection(self, read_stream: ReadStream, write_stream: WriteStream) -> None:
        """The connection's first message has come: hand its streams over, and wait for the
        caller's block to end."""
        self.streams = (read_stream, write_stream)
        self.ready.set()
        await self.done.wait()


@asynccontextmanager
async def websocket_server(
    scope: Scope, receive: Receive, send: Send, **options: Any
) -> AsyncIterator[tuple[ReadStream, WriteStream]]:
    """Accept the ASGI WebSocket of *scope* and yield ``(read_stream, write_stream)``, the
    SDK's streams of its messages, for a server loop such as ``server.run(read_stream,
    write_stream, ...)``; the connection closes with 1000 when the block ends.

    The 1.x function of this name, which ``mcp`` 2.0 removed, accepted every upgrade; this
    one checks it as :class:`mcpws.asgi.App` does, with the same *options* (but no path:
    the route that calls it has matched it): a foreign ``Origin`` or ``Host`` is refused
    with 403, an offer without MCP with 400. The streams are handed over once the client's
    first message has come; after a refused upgrade, or a client gone before it sent
    anything, they are streams already over, and the server loop ends at once."""
    handover = _Handover()
    app = App(handover, path=None, **options)
    async with anyio.create_task_group() as group:

        async def serve() -> None:
            try:
                await app(scope, receive, send)
            finally:
                handover.ready.set()  # refused, or gone before a first message: no streams

        group.start_soon(serve)
        await handover.ready.wait()
        streams = handover.streams or _ended_streams()
        try:
            yield streams
        finally:
            if handover.streams is None:
                for stream in streams:
                    await stream.aclose()
            pump = handover.pump
            if pump is not None and pump.connection.is_open:
                pump.connection.close(NORMAL, "", now=pump.now())
                pump.flush()
            handover.done.set()


def _ended_streams() -> tuple[ReadStream, WriteStream]:
    """Streams already over: nothing to read, nowhere to write."""
    to_reader, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, from_writer = anyio.create_memory_object_stream[SessionMessage](0)
    to_reader.close()
    from_writer.close()
    return read_stream, write_stream
