"""What the MCP session layer costs per ``tools/call`` round trip, side by side with the
layers beneath it.

Run ``python benchmarks/bench_session.py`` (``--compression`` negotiates permessage-deflate
on every contender).

No sockets: a client core hands its bytes straight to a server core in the same process,
and back. Each operation is one sequential round trip with ~200 bytes of arguments and a
trivial handler that answers one text block:

* ``websocket``: the raw WebSocket layer only; the client sends the request's JSON text with
  ``WebSocketClient.send_text``, the server answers with a fixed response text, and the
  client reads it; no JSON is decoded.
* ``connection``: the MCP connection cores without a session; JSON-RPC envelopes are
  encoded and decoded, params and results stay plain dicts.

Each runs in one revision of each era, 2025-11-25 and 2026-07-28, and the two layers beneath
the session carry exactly the texts the sessions exchange in that revision (in 2026-07-28
each request names its revision, the client's capabilities and info in ``_meta``, and each
result carries ``resultType`` and the server's info).
* ``session``: a client session and a server session owned by the connection cores:
  ``send_request``, ``RequestReceived`` with typed params, ``respond`` with a typed
  ``CallToolResult``, ``ResponseReceived`` with the typed result, timeouts tracked.

Figures are round trips per second and CPU microseconds per round trip, each the median of
several rounds in which the contenders take turns, and each contender's cost as a multiple of
the two layers beneath. The target: the session adds at most 40% to the cost of the layer it
runs on, the MCP connection without a session; the WebSocket-only figure shows where the
rest of the time goes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from _timing import interleaved
from mcpws.core import jsonrpc
from mcpws.core.connection import (
    ClientConnection,
    ConnectionAccepted,
    MessageReceived,
    ServerConnection,
)
from mcpws.core.mcp import CallToolResult, ServerCapabilities, TextContent
from mcpws.core.session import (
    ClientSession,
    ClientSessionConfig,
    RequestReceived,
    ResponseReceived,
    ServerSession,
    ServerSessionConfig,
    SessionInitialized,
)
from mcpws.core.websocket import (
    TextReceived,
    UpgradeRequested,
    WebSocketClient,
    WebSocketConfig,
    WebSocketServer,
)

ARGUMENTS: dict[str, Any] = {
    "city": "San Francisco",
    "units": "metric",
    "days": 3,
    "include_hourly": False,
    "note": "x" * 120,
}
REQUEST = jsonrpc.Request(1, "tools/call", {"name": "get_weather", "arguments": ARGUMENTS})
TYPED_RESULT = CallToolResult(content=[TextContent(text="sunny, 21 degrees")])

#: One revision of each era.
REVISIONS = ("2025-11-25", "2026-07-28")

#: The most a session round trip may cost, as a multiple of the same round trip on the
#: connection cores without a session.
TARGET = 1.40


def _pump(one: Any, other: Any) -> None:
    for data in one.data_to_send():
        other.receive_data(data, 0.0)


def wire(revision: str) -> tuple[str, str]:
    """The request and response texts a session pair exchanges for one call in *revision*,
    so that the layers beneath carry exactly the same bytes."""
    client = ClientSession(ClientSessionConfig(revisions=(revision,)))
    server = ServerSession(ServerSessionConfig(capabilities=ServerCapabilities(tools={})))
    client.start(0.0)
    for _ in range(2):
        for text in client.messages_to_send():
            server.receive_message(jsonrpc.decode(text), 0.0)
        for text in server.messages_to_send():
            client.receive_message(jsonrpc.decode(text), 0.0)
    server.events_received()
    client.send_request("tools/call", REQUEST.params, now=0.0)
    (request,) = client.messages_to_send()
    server.receive_message(jsonrpc.decode(request), 0.0)
    (event,) = server.events_received()
    assert isinstance(event, RequestReceived)
    server.respond(event.request_id, TYPED_RESULT)
    (response,) = server.messages_to_send()
    return request, response


def websocket_trip(config: WebSocketConfig, texts: tuple[str, str]) -> Callable[[], None]:
    """Raw WebSocket cores; one round trip of fixed texts."""
    client = WebSocketClient("ws://localhost/mcp", 0.0, config=config)
    server = WebSocketServer(0.0, config=config)
    _pump(client, server)
    (requested,) = server.events_received()
    assert isinstance(requested, UpgradeRequested)
    server.accept(now=0.0)
    _pump(server, client)
    client.events_received()
    server.events_received()
    request, response = texts

    def trip() -> None:
        client.send_text(request)
        _pump(client, server)
        (event,) = server.events_received()
        assert isinstance(event, TextReceived)
        server.send_text(response)
        _pump(server, client)
        (answer,) = client.events_received()
        assert isinstance(answer, TextReceived)

    return trip


def connection_trip(config: WebSocketConfig, texts: tuple[str, str]) -> Callable[[], None]:
    """MCP connection cores without a session; envelopes, not typed params."""
    request = jsonrpc.decode(texts[0])
    assert isinstance(request, jsonrpc.Request)
    response = jsonrpc.decode(texts[1])
    assert isinstance(response, jsonrpc.Response)
    client = ClientConnection("ws://localhost/mcp", 0.0, config=config)
    server = ServerConnection(0.0, config=config, authenticate=lambda _: None)
    _pump(client, server)
    _pump(server, client)
    server.events_received()
    client.events_received()

    def trip() -> None:
        client.send(jsonrpc.Request(request.id, request.method, request.params))
        _pump(client, server)
        (event,) = server.events_received()
        assert isinstance(event, MessageReceived)
        assert isinstance(event.message, jsonrpc.Request)
        server.send(jsonrpc.Response(event.message.id, response.result))
        _pump(server, client)
        (answer,) = client.events_received()
        assert isinstance(answer, MessageReceived)

    return trip


def session_trip(config: WebSocketConfig, revision: str) -> Callable[[], None]:
    """A client session and a server session, each owned by its connection core."""
    client_session = ClientSession(ClientSessionConfig(revisions=(revision,)))
    server_config = ServerSessionConfig(capabilities=ServerCapabilities(tools={}))
    client = ClientConnection("ws://localhost/mcp", 0.0, config=config, session=client_session)
    server = ServerConnection(
        0.0, config=config, authenticate=lambda _: None, session=ServerSession(server_config)
    )
    for _ in range(3):
        _pump(client, server)
        _pump(server, client)
    assert any(isinstance(e, SessionInitialized) for e in client.events_received())
    assert any(isinstance(e, ConnectionAccepted) for e in server.events_received())
    params = REQUEST.params

    def trip() -> None:
        client_session.send_request("tools/call", params, now=0.0)
        _pump(client, server)
        (event,) = server.events_received()
        assert isinstance(event, RequestReceived)
        server_session = server.session
        assert server_session is not None
        server_session.respond(event.request_id, TYPED_RESULT)
        _pump(server, client)
        (answer,) = client.events_received()
        assert isinstance(answer, ResponseReceived)

    return trip


def measure(compression: bool, trips: int, rounds: int) -> dict[str, float]:
    """Median CPU seconds per round trip of each contender, the contenders taking turns."""
    config = WebSocketConfig(compression=compression)
    contenders = {}
    for revision in REVISIONS:
        texts = wire(revision)
        contenders[f"websocket {revision}"] = websocket_trip(config, texts)
        contenders[f"connection {revision}"] = connection_trip(config, texts)
        contenders[f"session {revision}"] = session_trip(config, revision)
    for trip in contenders.values():
        for _ in range(trips // 10):
            trip()
    return interleaved(contenders, rounds=rounds, number=trips, timer=time.process_time)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compression", action="store_true", help="negotiate permessage-deflate")
    parser.add_argument("--trips", type=int, default=2000, help="round trips per timing")
    parser.add_argument("--rounds", type=int, default=9, help="timings per contender")
    args = parser.parse_args(argv)
    figures = measure(args.compression, args.trips, args.rounds)
    compression = "on" if args.compression else "off"
    print(f"tools/call round trips, 200 B arguments, compression {compression}")
    print(f"{'contender':<22} {'trips/s':>9} {'CPU µs/trip':>12} {'x connection':>13}")
    for revision in REVISIONS:
        base = figures[f"connection {revision}"]
        for layer in ("websocket", "connection", "session"):
            seconds = figures[f"{layer} {revision}"]
            print(
                f"{layer + ' ' + revision:<22} {1 / seconds:>9.0f} {seconds * 1e6:>12.2f}"
                f" {seconds / base:>12.2f}x"
            )
    for revision in REVISIONS:
        ratio = figures[f"session {revision}"] / figures[f"connection {revision}"]
        verdict = "met" if ratio <= TARGET else "NOT met"
        print(
            f"session {revision}: {ratio:.2f}x its connection (target <= {TARGET:.2f}x: {verdict})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
