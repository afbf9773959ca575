"""Peers and networks for the end-to-end tests, in whichever loop a test runs: a raw
WebSocket upgrade and handshake, a raw client that sends whatever a test asks, a TCP
forwarder that can fail (cut, or silent), and a server that never answers."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
from anyio.abc import SocketAttribute

from mcpws.core.websocket import (
    ConnectionAccepted,
    ConnectionClosed,
    TextReceived,
    WebSocketClient,
    WebSocketEvent,
)

from .pairs import running

#: An ``initialize`` request of the 2025-11-25 revision, for raw clients.
INITIALIZE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"},
        },
    }
)


def upgrade_request(port: int, path: str = "/mcp") -> bytes:
    """A valid WebSocket upgrade request for the MCP endpoint."""
    return (
        f"GET {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: mcp\r\n"
        "\r\n"
    ).encode()


async def raw_upgrade(port: int) -> tuple[anyio.abc.SocketStream, bytes]:
    """Open a TCP stream, upgrade it by hand and return it with the response head."""
    stream = await anyio.connect_tcp("127.0.0.1", port)
    await stream.send(upgrade_request(port))
    head = b""
    while b"\r\n\r\n" not in head:
        try:
            head += await stream.receive()
        except anyio.EndOfStream:
            break
    return stream, head


class RawClient:
    """A WebSocket client core over a TCP stream, sending whatever a test asks."""

    def __init__(self, stream: anyio.abc.SocketStream, core: WebSocketClient) -> None:
        self.stream = stream
        self.core = core
        self.events: list[WebSocketEvent] = []

    @classmethod
    async def open(cls, port: int) -> RawClient:
        stream = await anyio.connect_tcp("127.0.0.1", port)
        core = WebSocketClient(
            f"ws://127.0.0.1:{port}/mcp", anyio.current_time(), subprotocols=["mcp"]
        )
        client = cls(stream, core)
        await client.flush()
        await client.until(lambda: any(isinstance(e, ConnectionAccepted) for e in client.events))
        return client

    async def flush(self) -> None:
        """Write what the core has to send."""
        for data in self.core.data_to_send():
            if data:
                await self.stream.send(data)

    async def until(self, done: Callable[[], bool], *, mute: bool = False) -> None:
        """Read until *done()*; the core's answers (pongs, the close echo) go out unless
        the client is *mute*."""
        while not done():
            try:
                data = await self.stream.receive()
            except anyio.EndOfStream:
                self.core.receive_eof(anyio.current_time())
            else:
                self.core.receive_data(data, anyio.current_time())
            self.events.extend(self.core.events_received())
            if not mute:
                await self.flush()

    async def ask(self, text: str) -> Any:
        """Send a text message and return the JSON of the next text message received."""
        self.core.send_text(text)
        await self.flush()
        seen = len(self.events)
        await self.until(lambda: any(isinstance(e, TextReceived) for e in self.events[seen:]))
        reply = next(e for e in self.events[seen:] if isinstance(e, TextReceived))
        return json.loads(reply.text)

    def closed(self) -> ConnectionClosed | None:
        """How the connection closed, once it has."""
        return next((e for e in self.events if isinstance(e, ConnectionClosed)), None)


def masked_text_frame_head(length: int, *, fin: bool = True) -> bytes:
    """The head of a masked (client) text frame with a *length*-byte payload (< 65536)."""
    assert 126 <= length < 65536
    first = (0x80 if fin else 0) | 0x1
    return bytes([first, 0x80 | 126]) + length.to_bytes(2, "big") + b"\x01\x02\x03\x04"


async def _listen() -> tuple[anyio.abc.Listener[anyio.abc.SocketStream], int]:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    return listener, listener.extra(SocketAttribute.local_port)


class Proxy:
    """A TCP forwarder to a server; :meth:`cut` drops every connection through it at once,
    without a WebSocket close, as a failing network would; :meth:`freeze` makes it pass
    nothing on from then on, and close nothing."""

    def __init__(self, port: int, scope: anyio.CancelScope) -> None:
        self.port = port
        self.url = f"ws://127.0.0.1:{port}/mcp"
        self._scope = scope
        self.frozen = False

    def cut(self) -> None:
        self._scope.cancel()

    def freeze(self) -> None:
        """Drop whatever comes from now on, either way, and keep every connection open: a
        path that failed without a FIN or a reset, as a dead host or a pulled cable leaves
        it. Neither end hears of it but by its own timers."""
        self.frozen = True


@asynccontextmanager
async def proxy(target: int | str) -> AsyncIterator[Proxy]:
    """Forward 127.0.0.1:<port of the proxy> to 127.0.0.1:*target*, or to the unix socket
    at the path *target*."""
    listener, port = await _listen()
    scope = anyio.CancelScope()
    forwarder = Proxy(port, scope)

    async def copy(
        source: anyio.abc.SocketStream, sink: anyio.abc.SocketStream, done: anyio.CancelScope
    ) -> None:
        try:
            async for data in source:
                if forwarder.frozen:
                    await anyio.sleep_forever()
                await sink.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        done.cancel()

    async def handle(downstream: anyio.abc.SocketStream) -> None:
        upstream: anyio.abc.SocketStream
        if isinstance(target, str):
            upstream = await anyio.connect_unix(target)
        else:
            upstream = await anyio.connect_tcp("127.0.0.1", target)
        try:
            async with anyio.create_task_group() as pair:
                pair.start_soon(copy, downstream, upstream, pair.cancel_scope)
                pair.start_soon(copy, upstream, downstream, pair.cancel_scope)
        finally:
            with anyio.CancelScope(shield=True):
                await upstream.aclose()
                await downstream.aclose()

    async def forward(*, task_status: anyio.abc.TaskStatus[None]) -> None:
        async with listener:
            with scope:
                task_status.started()
                await listener.serve(handle)

    async with running(forward):
        yield forwarder


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never says a word; yields its port."""
    listener, port = await _listen()

    async def hold(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await anyio.sleep(math.inf)

    async def listen(*, task_status: anyio.abc.TaskStatus[None]) -> None:
        async with listener:
            task_status.started()
            await listener.serve(hold)

    async with running(listen):
        yield port
