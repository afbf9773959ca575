"""The sans-IO WebSocket core, side by side with raw wsproto driven the same way.

Run ``python benchmarks/bench_websocket.py`` (``--compression`` adds a table with
permessage-deflate negotiated on both contenders).

No sockets: a client core hands its bytes straight to a server core in the same process. The
handshake is done once per contender; then each operation sends one text message from the
client and feeds the bytes to the server until the whole message has arrived, decoded:

* mcpws: ``WebSocketClient.send_text``, ``data_to_send``, ``WebSocketServer.receive_data``
  and ``events_received`` until a ``TextReceived``;
* raw wsproto: ``WSConnection.send(TextMessage(...))`` on the client, ``receive_data`` and
  ``events()`` on the server, joining the fragments as mcpws does, until ``message_finished``.

Two payloads, fixed: a ~200-byte JSON-RPC request, and 1 MiB of lines of prose. The figures
are messages per second at 200 B and MB/s at 1 MiB, each the median of several rounds in
which the contenders take turns.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable

import wsproto
from wsproto import ConnectionType, WSConnection, events as ws
from wsproto.extensions import Extension, PerMessageDeflate

from _timing import interleaved
from mcpws.core.websocket import (
    ConnectionAccepted,
    TextReceived,
    UpgradeRequested,
    WebSocketClient,
    WebSocketConfig,
    WebSocketServer,
)

SMALL = (
    '{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"get_weather",'
    '"arguments":{"city":"San Francisco","units":"metric","days":3,"include_hourly":false},'
    '"_meta":{"progressToken":"tok-0001"}}}'
)
_LINE = "The quick brown fox jumps over the lazy dog, 0123456789 times.\n"
LARGE = (_LINE * ((1 << 20) // len(_LINE) + 1))[: 1 << 20]

#: The message rate at 200 B and the throughput at 1 MiB that mcpws must reach, as a share
#: of raw wsproto's.
TARGET = 0.8


def mcpws_pair(compression: bool) -> Callable[[str], str]:
    """An open mcpws client and server; the function sends one message and returns it."""
    config = WebSocketConfig(compression=compression)
    client = WebSocketClient("ws://localhost/mcp", 0.0, config=config)
    server = WebSocketServer(0.0, config=config)
    for data in client.data_to_send():
        server.receive_data(data, 0.0)
    (requested,) = server.events_received()
    assert isinstance(requested, UpgradeRequested)
    server.accept(now=0.0)
    for data in server.data_to_send():
        client.receive_data(data, 0.0)
    assert client.is_open
    assert server.is_open
    (accepted,) = client.events_received()
    assert isinstance(accepted, ConnectionAccepted)
    assert bool(accepted.extensions) == compression

    def send(text: str) -> str:
        client.send_text(text)
        for data in client.data_to_send():
            server.receive_data(data, 0.0)
            for event in server.events_received():
                if isinstance(event, TextReceived):
                    return event.text
        raise AssertionError("the message did not arrive")

    return send


def wsproto_pair(compression: bool) -> Callable[[str], str]:
    """An open raw wsproto client and server; the function sends one message and returns it."""
    client = WSConnection(ConnectionType.CLIENT)
    server = WSConnection(ConnectionType.SERVER)
    offer: list[Extension] = [PerMessageDeflate()] if compression else []
    server.receive_data(client.send(ws.Request(host="localhost", target="/mcp", extensions=offer)))
    (request,) = server.events()
    assert isinstance(request, ws.Request)
    answer: list[Extension] = [PerMessageDeflate()] if compression else []
    client.receive_data(server.send(ws.AcceptConnection(extensions=answer)))
    (accepted,) = client.events()
    assert isinstance(accepted, ws.AcceptConnection)
    assert bool(accepted.extensions) == compression

    def send(text: str) -> str:
        server.receive_data(client.send(ws.TextMessage(data=text)))
        parts: list[str] = []
        for event in server.events():
            if isinstance(event, ws.TextMessage):
                parts.append(event.data)
                if event.message_finished:
                    return "".join(parts)
        raise AssertionError("the message did not arrive")

    return send


def measure(compression: bool, budget: float, rounds: int = 9) -> dict[str, float]:
    """Median seconds per message of each (contender, size).

    The operations take turns, one timing each per round, so that drift in the machine's state
    (the allocator's, the CPU's) falls on all of them alike instead of on whichever ran last.
    """
    pairs = {"mcpws": mcpws_pair(compression), "wsproto": wsproto_pair(compression)}
    operations: dict[str, Callable[[], str]] = {}
    for name, send in pairs.items():
        for size, text in (("small", SMALL), ("large", LARGE)):
            if send(text) != text:
                raise AssertionError(f"{name} garbled the {size} message")
            operations[f"{size} {name}"] = functools.partial(send, text)
    return interleaved(operations, rounds=rounds, budget=budget)


def _ratio(line: str, value: float) -> str:
    verdict = "met" if value >= TARGET else "MISSED"
    return f"  {line:<52} {value:6.2f}x  (target >= {TARGET}x: {verdict})"


def report(compression: bool, seconds: dict[str, float]) -> list[str]:
    s = seconds
    deflate = "on" if compression else "off"
    lines = [
        f"permessage-deflate {deflate}: client core -> server core, whole text messages",
        f"  {'contender':<10} {'200 B msg/s':>14} {'200 B us/msg':>14} {'1 MiB MB/s':>12}",
    ]
    for name in ("mcpws", "wsproto"):
        small, large = s[f"small {name}"], s[f"large {name}"]
        mb_s = len(LARGE.encode()) / large / 1e6
        lines.append(f"  {name:<10} {1 / small:14,.0f} {small * 1e6:14.2f} {mb_s:12.1f}")
    lines.append("ratios mcpws / raw wsproto:")
    lines.append(_ratio("200 B message rate", s["small wsproto"] / s["small mcpws"]))
    lines.append(_ratio("1 MiB throughput", s["large wsproto"] / s["large mcpws"]))
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--budget", type=float, default=0.1, help="seconds per timing")
    parser.add_argument("--rounds", type=int, default=9, help="timings of each operation")
    parser.add_argument(
        "--compression", action="store_true", help="also measure with permessage-deflate on"
    )
    args = parser.parse_args(argv)
    print(
        f"Python {sys.version.split()[0]}, wsproto {wsproto.__version__}; "
        f"messages of {len(SMALL.encode())} B and {len(LARGE.encode())} B"
    )
    for compression in (False, True) if args.compression else (False,):
        print("\n".join(report(compression, measure(compression, args.budget, args.rounds))))


if __name__ == "__main__":
    main()
