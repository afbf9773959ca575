"""Bad input over a real socket: each kind of fault the core answers, checked once against
each driver's ``serve``, with the connection (and other connections) surviving where they
should."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import anyio
import anyio.abc

from helpers.network import INITIALIZE
from helpers.pairs import Pair
from mcpws import Server
from mcpws.core.websocket import (
    ConnectionAccepted,
    ConnectionClosed,
    TextReceived,
    WebSocketClient,
    WebSocketConfig,
)


@contextlib.contextmanager
def _warnings() -> Iterator[list[str]]:
    """What the ``mcpws`` logger warns of meanwhile, from any thread."""
    said: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: said.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("mcpws")
    logger.addHandler(handler)
    try:
        yield said
    finally:
        logger.removeHandler(handler)


def _app() -> Server:
    app = Server("target")

    @app.tool()
    def add(a: int, b: int) -> int:
        return a + b

    return app


class RawClient:
    """A WebSocket client core over a TCP stream, sending whatever a test asks."""

    def __init__(self, stream: anyio.abc.SocketStream, core: WebSocketClient) -> None:
        self.stream = stream
        self.core = core
        self.events: list[Any] = []

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
        for data in self.core.data_to_send():
            if data:
                await self.stream.send(data)

    async def until(self, done: Any) -> None:
        while not done():
            try:
                data = await self.stream.receive()
            except anyio.EndOfStream:
                self.core.receive_eof(anyio.current_time())
            else:
                self.core.receive_data(data, anyio.current_time())
            self.events.extend(self.core.events_received())
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
        return next((e for e in self.events if isinstance(e, ConnectionClosed)), None)


def test_json_rpc_faults_are_answered_and_the_connection_goes_on(pair: Pair) -> None:
    async def main() -> None:
        async with pair.serving(_app()) as served:
            client = await RawClient.open(served.port)
            parse = await client.ask('{"jsonrpc": "2.0", "id": 1, "method":')
            assert parse["error"]["code"] == -32700
            invalid = await client.ask('{"jsonrpc": "2.0", "id": 2, "method": 7}')
            assert (invalid["id"], invalid["error"]["code"]) == (2, -32600)
            early = await client.ask('{"jsonrpc": "2.0", "id": 3, "method": "tools/list"}')
            assert (early["id"], early["error"]["code"]) == (3, -32022)
            assert (await client.ask(INITIALIZE))["result"]["protocolVersion"] == "2025-11-25"
            client.core.send_text('{"jsonrpc": "2.0", "method": "notifications/initialized"}')
            unknown = await client.ask('{"jsonrpc": "2.0", "id": 4, "method": "tools/nope"}')
            assert (unknown["id"], unknown["error"]["code"]) == (4, -32601)
            bad = await client.ask(
                '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":5}}'
            )
            assert (bad["id"], bad["error"]["code"]) == (5, -32602)
            assert "name" in bad["error"]["message"]
            fine = await client.ask(
                '{"jsonrpc":"2.0","id":6,"method":"tools/call",'
                '"params":{"name":"add","arguments":{"a":1,"b":2}}}'
            )
            assert fine["result"]["content"] == [{"type": "text", "text": "3"}]
            assert client.closed() is None
            await client.stream.aclose()

    pair.run(main)


def test_a_binary_message_closes_with_1003_and_others_are_served(pair: Pair) -> None:
    async def main() -> None:
        async with pair.serving(_app()) as served:
            bystander = await RawClient.open(served.port)
            offender = await RawClient.open(served.port)
            offender.core.send_bytes(b"\x00\x01")
            await offender.flush()
            await offender.until(lambda: offender.closed() is not None)
            closed = offender.closed()
            assert closed is not None
            assert closed.code == 1003
            assert (await bystander.ask(INITIALIZE))["result"]["serverInfo"]["name"] == "target"
            await bystander.stream.aclose()
            await offender.stream.aclose()

    pair.run(main)


def test_a_message_over_the_size_limit_closes_with_1009(pair: Pair) -> None:
    async def main() -> None:
        config = WebSocketConfig(max_message_size=1024)
        async with pair.serving(_app(), config=config) as served:
            client = await RawClient.open(served.port)
            client.core.send_text(json.dumps({"jsonrpc": "2.0", "method": "x" * 2000}))
            await client.flush()
            await client.until(lambda: client.closed() is not None)
            closed = client.closed()
            assert closed is not None
            assert closed.code == 1009
            await client.stream.aclose()

    with _warnings() as said:
        pair.run(main)
    assert any(line.startswith("closed a connection with 1009") for line in said)


def test_a_peer_that_stops_answering_pings_is_dropped_by_the_keepalive(pair: Pair) -> None:
    async def main() -> None:
        config = WebSocketConfig(ping_interval=5, ping_timeout=5)
        async with pair.serving(_app(), config=config) as served:
            client = await RawClient.open(served.port)
            opened = anyio.current_time()
            # Stop reading: the server's pings go unanswered.
            with anyio.move_on_after(60):
                async for _ in client.stream:
                    pass  # the ping, then the close frame; then end of stream
            assert pair.lasted(opened, 10)  # one ping interval, one timeout
            await client.stream.aclose()

    pair.run(main)


def test_a_ping_flood_closes_with_1008_and_is_logged(pair: Pair) -> None:
    """More control frames in a second than ``max_control_frames``: the server closes with
    1008 and its log says why; another client is served meanwhile."""

    async def main() -> None:
        async with pair.serving(_app()) as served:
            bystander = await RawClient.open(served.port)
            flooder = await RawClient.open(served.port)
            for _ in range(WebSocketConfig().max_control_frames or 0):
                flooder.core.ping(b"flood")
            flooder.core.ping(b"one too many")
            await flooder.flush()
            await flooder.until(lambda: flooder.closed() is not None)
            closed = flooder.closed()
            assert closed is not None
            assert closed.code == 1008
            assert (await bystander.ask(INITIALIZE))["result"]["serverInfo"]["name"] == "target"
            await bystander.stream.aclose()
            await flooder.stream.aclose()

    with _warnings() as said:
        pair.run(main)
    assert "closed a connection with 1008: more than 100 control frames in a second" in said
