"""Bad input over a real socket: each kind of fault the core answers, checked once against
each driver's ``serve``, with the connection (and other connections) surviving where they
should."""

from __future__ import annotations

import contextlib
import json
import logging
import struct
from collections.abc import Iterator

import anyio
import anyio.abc
import pytest

from helpers.network import INITIALIZE, RawClient, raw_upgrade, upgrade_request
from helpers.pairs import Pair
from mcpws import Server
from mcpws.core.websocket import (
    Closing,
    ConnectionClosed,
    PingReceived,
    WebSocketConfig,
)
from mcpws.core.websocket._frames import FIN_TEXT, frame


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


def test_json_rpc_faults_are_answered_and_the_connection_goes_on(pair: Pair) -> None:
    async def main() -> None:
        async with pair.serving(_app()) as served:
            client = await RawClient.open(served.port)
            parse = await client.ask('{"jsonrpc": "2.0", "id": 1, "method":')
            assert parse["error"]["code"] == -32700
            invalid = await client.ask('{"jsonrpc": "2.0", "id": 2, "method": 7}')
            assert (invalid["id"], invalid["error"]["code"]) == (2, -32600)
            early = await client.ask('{"jsonrpc": "2.0", "id": 3, "method": "tools/list"}')
            assert (early["id"], early["error"]["code"]) == (3, -32602)  # no revision named
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


@pytest.mark.parametrize(
    ("message", "code"),
    [
        pytest.param(frame(0x82, b"\x00\x01", masked=True), 1003, id="binary"),
        pytest.param(frame(FIN_TEXT, b'{"id": "\xff"}', masked=True), 1007, id="invalid-utf-8"),
    ],
)
def test_a_message_mcp_cannot_take_closes_with_its_code_and_others_are_served(
    pair: Pair, message: bytes, code: int
) -> None:
    async def main() -> None:
        async with pair.serving(_app()) as served:
            bystander = await RawClient.open(served.port)
            offender = await RawClient.open(served.port)
            await offender.stream.send(message)
            await offender.until(lambda: offender.closed() is not None)
            closed = offender.closed()
            assert closed is not None
            assert closed.code == code
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


def test_a_peer_still_sending_a_message_over_the_limit_gets_the_close_frame(pair: Pair) -> None:
    """A frame that announces 20 MiB is refused with 1009 at its header while the peer goes
    on sending the payload: the server ends its side of the stream and drops what still
    comes, so that the close frame reaches the peer instead of being overtaken by a reset,
    as a socket closed with bytes unread would send."""

    async def main() -> None:
        async with pair.serving(_app()) as served:
            stream, head = await raw_upgrade(served.port)
            assert head.startswith(b"HTTP/1.1 101 ")
            header = bytes([0x81, 0x80 | 127]) + struct.pack("!Q", 20 << 20) + b"\x00" * 4

            async def send() -> None:
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await stream.send(header)
                    for _ in range(4):
                        await stream.send(bytes(1 << 20))

            received = head.partition(b"\r\n\r\n")[2]
            await send()  # all of it, and only then a look at what came back
            with contextlib.suppress(anyio.EndOfStream):  # a reset fails the test
                while len(received) < 4:
                    received += await stream.receive()
            assert received[0] == 0x88  # FIN, close
            assert struct.unpack("!H", received[2:4]) == (1009,)
            await stream.aclose()

    pair.run(main)


def test_a_peer_that_stops_answering_pings_is_dropped_with_1011_by_the_keepalive(
    pair: Pair,
) -> None:
    """A peer that reads on but answers no ping (the defaults, 20 s and 20 s, are the core
    tests'): one ping interval, one timeout, and the server closes with 1011."""

    async def main() -> None:
        config = WebSocketConfig(ping_interval=2, ping_timeout=3)
        async with pair.serving(_app(), config=config) as served:
            client = await RawClient.open(served.port)
            opened = anyio.current_time()
            await client.until(lambda: client.closed() is not None, mute=True)
            assert pair.lasted(opened, 5)
            _, pinged, closing, closed = client.events  # after ConnectionAccepted
            assert isinstance(pinged, PingReceived)
            assert isinstance(closing, Closing)
            assert (closing.code, closing.reason) == (1011, "keepalive ping timed out")
            assert isinstance(closed, ConnectionClosed)
            await client.stream.aclose()

    pair.run(main)


def _bad_http(port: int) -> dict[str, bytes]:
    """Requests a server must refuse, by their names in the test below. (A wrong path, a
    foreign origin or host: see ``test_a_refused_upgrade_raises_connect_error``.)"""
    valid = upgrade_request(port)
    head = valid.removesuffix(b"\r\n")
    return {
        "oversized-head": head + b"X-Padding: " + b"x" * 17000 + b"\r\n\r\n",
        "not-http": b"NOT HTTP AT ALL\r\n\r\n",
        "bad-key": valid.replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"abc"),
        "post": valid.replace(b"GET ", b"POST ", 1),
    }


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("oversized-head", 431),
        ("not-http", 400),
        ("bad-key", 400),
        ("post", 405),
    ],
)
def test_bad_http_is_answered_with_its_status_and_the_server_goes_on(
    pair: Pair, name: str, status: int
) -> None:
    async def main() -> None:
        async with pair.serving(_app()) as served:
            async with await anyio.connect_tcp("127.0.0.1", served.port) as stream:
                await stream.send(_bad_http(served.port)[name])
                answer = b""
                with contextlib.suppress(anyio.BrokenResourceError):  # a reset
                    async for data in stream:
                        answer += data
            assert answer.startswith(f"HTTP/1.1 {status} ".encode())
            assert b"\r\nconnection: close\r\n" in answer.lower()
            client = await RawClient.open(served.port)
            assert (await client.ask(INITIALIZE))["result"]["serverInfo"]["name"] == "target"
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
