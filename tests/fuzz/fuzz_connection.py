#!/usr/bin/env python3
"""Fuzz an MCP server and client connection of mcpws.core.connection with atheris, joined
after a valid upgrade: what the client sends goes to the server and back.

Each input takes a :class:`ServerConnection` and a :class:`ClientConnection`, each with its
session, just after the upgrade (the client's ``initialize`` not yet delivered), once the
session is open in the handshake era, or in the stateless era; permessage-deflate negotiated
or not. It then plays a script: the client's application sends requests and notifications
(the methods of MCP with params of the right or the wrong shape, and unknown ones), answers
the server's requests or cancels its own; the server's application answers, fails, sends
requests and notifications, drains; the clock moves on; either side pings or closes. Some
moves go around the sessions: a JSON-RPC message sent as it is, a raw frame, an end of stream.
After each move the bytes are pumped both ways until neither side has any.

The invariant: no method raises but a command's documented ``LocalProtocolError``; every
event is one of :data:`~mcpws.core.connection.ConnectionEvent`, ``ConnectionClosed`` comes
once and last, ``b""`` once and last, and a closed connection has no deadline; what either
side writes is valid WebSocket for its role (:class:`websocket_checks.Wire`) whose texts are
valid JSON-RPC (:func:`fuzzing.jsonrpc_items`) that answer only what the other side asked.
While no move went around the sessions (or drained the server), neither side answers an
invalid message, no session fails, no connection closes with a fault, and a close at the end
(one input in four asks for one) closes both cleanly.

The joined pairs are built once and copied for each input (:class:`fuzzing.Snapshot`). Run
it (pytest does not collect this file: its name does not start with ``test_``)::

    python tests/fuzz/fuzz_connection.py -max_total_time=60
"""

from __future__ import annotations

import typing
from typing import Any

import atheris
import h11
import wsproto.handshake
from fuzzing import Script, Snapshot, jsonrpc_items, run

with atheris.instrument_imports(include=["mcpws"]):
    from websocket_checks import Wire

    from mcpws.core import jsonrpc
    from mcpws.core.connection import (
        ClientConnection,
        ConnectionClosed,
        ConnectionEvent,
        ConnectionRequested,
        InvalidMessageAnswered,
        ServerConnection,
    )
    from mcpws.core.errors import LocalProtocolError, ProtocolError
    from mcpws.core.mcp import ClientCapabilities, ServerCapabilities
    from mcpws.core.session import (
        ClientSession,
        ClientSessionConfig,
        RequestReceived,
        ServerSession,
        ServerSessionConfig,
        SessionFailed,
    )
    from mcpws.core.versions import HANDSHAKE_REVISIONS, STATELESS_REVISIONS
    from mcpws.core.websocket import WebSocketConfig, encode_frame

#: libFuzzer's options for this harness, before those of the command line.
FLAGS = ("-max_len=256", "-timeout=10")
#: Moves an input makes at most.
MOVES = 6
EVENT_TYPES = typing.get_args(ConnectionEvent)
HANDSHAKE_LEFTOVERS = (h11.Connection, wsproto.handshake.H11Handshake)

_CLIENT_REQUESTS = [
    "tools/list", "tools/call", "resources/list", "resources/read", "resources/templates/list",
    "resources/subscribe", "prompts/list", "prompts/get", "completion/complete",
    "logging/setLevel", "ping", "tasks/get", "x-vendor/thing", "initialize", "nope",
]  # fmt: skip
_SERVER_REQUESTS = ["ping", "roots/list", "sampling/createMessage", "elicitation/create", "nope"]
_CLIENT_NOTIFICATIONS = ["notifications/roots/list_changed", "notifications/initialized", "x/y"]
_SERVER_NOTIFICATIONS = [
    "notifications/message", "notifications/tools/list_changed",
    "notifications/resources/updated", "notifications/progress", "nope",
]  # fmt: skip
_PARAMS: list[Any] = [
    {"name": "echo", "arguments": {"text": "hi"}},
    {"uri": "file:///a"},
    {"name": "p", "arguments": {"a": "1"}},
    {"ref": {"type": "ref/prompt", "name": "p"}, "argument": {"name": "a", "value": "x"}},
    {"level": "info"},
    {"level": "info", "data": "log"},
    {"messages": [], "maxTokens": 8},
    {"message": "?", "requestedSchema": {"type": "object", "properties": {}}},
    {"cursor": "c"},
]
_RESULTS: list[Any] = [
    {},
    {"tools": []},
    {"content": [{"type": "text", "text": "hi"}]},
    {"contents": []},
    {"messages": []},
    {"completion": {"values": []}},
    {"roots": []},
    {"role": "assistant", "content": {"type": "text", "text": "x"}, "model": "m"},
    {"action": "decline"},
]


def _joined(compression: bool, stateless: bool, open_session: bool) -> tuple[Any, Any]:
    """A server and a client connection after the upgrade, their sessions open or not."""
    revisions = STATELESS_REVISIONS if stateless else HANDSHAKE_REVISIONS
    capabilities = ServerCapabilities(
        tools={}, resources={"subscribe": True}, prompts={}, logging={}, completions={}
    )
    server_config = ServerSessionConfig(revisions=revisions, capabilities=capabilities)
    client_config = ClientSessionConfig(
        revisions=revisions,
        capabilities=ClientCapabilities(sampling={}, roots={}, elicitation={}),
    )
    config = WebSocketConfig(compression=compression)
    server = ServerConnection(0.0, config=config, session=ServerSession(server_config))
    client = ClientConnection(
        "ws://localhost/mcp", 0.0, config=config, session=ClientSession(client_config)
    )
    for data in client.data_to_send():
        server.receive_data(data, 0.0)
    if not any(isinstance(event, ConnectionRequested) for event in server.events_received()):
        raise AssertionError("no upgrade request")
    server.accept(now=0.0)
    for data in server.data_to_send():
        client.receive_data(data, 0.0)
    if open_session:
        _pump(client, server, 0.0)
    client.events_received()
    server.events_received()
    if not (client.is_open and server.is_open):
        raise AssertionError("the connections did not open")
    return server, client


def _pump(client: Any, server: Any, now: float) -> None:
    moved = True
    while moved:
        moved = False
        for source, sink in ((client, server), (server, client)):
            for data in source.data_to_send():
                moved = True
                if data:
                    sink.receive_data(data, now)
                else:
                    sink.receive_eof(now)


_PAIRS = [
    Snapshot(_joined(compression, stateless, open_session), HANDSHAKE_LEFTOVERS)
    for compression in (False, True)
    for stateless, open_session in ((False, False), (False, True), (True, True))
]


class Side:
    """One connection, and what the harness follows of it: its events, the requests it was
    sent and not yet answered, the ids it asked with, and what it wrote."""

    def __init__(self, connection: Any, *, client: bool, compression: bool) -> None:
        self.connection = connection
        self.wire = Wire(by_client=client, compression=compression)
        self.texts_read = 0
        self.closed: ConnectionClosed | None = None
        self.transport_closed = False
        self.ended = False  # the stream from the peer ended: nothing more comes in
        self.pending: list[Any] = []  # ids of the peer's requests, to answer
        self.asked: set[Any] = set()  # ids of the requests this side wrote
        self.sent_as_is: set[Any] = set()  # ids of responses sent around the session
        self.faults: list[object] = []  # events that say the peer misbehaved

    def drain(self) -> list[bytes]:
        """Check the events and the bytes to send, and return the bytes."""
        connection = self.connection
        for event in connection.events_received():
            if self.closed is not None:
                raise AssertionError(f"{event!r} after {self.closed!r}")
            if not isinstance(event, EVENT_TYPES):
                raise AssertionError(f"undocumented event {event!r}")
            if isinstance(event, ConnectionClosed):
                self.closed = event
                if event.cause is not None and not isinstance(event.cause, ProtocolError):
                    raise AssertionError(f"cause of another kind in {event!r}")
                if event.cause is not None:
                    self.faults.append(event)
            elif isinstance(event, RequestReceived):
                self.pending.append(event.request_id)
            elif isinstance(event, InvalidMessageAnswered | SessionFailed):
                self.faults.append(event)
        out: list[bytes] = connection.data_to_send()
        for index, data in enumerate(out):
            if self.transport_closed:
                raise AssertionError(f"{data!r} to send after the transport closed")
            if data:
                self.wire.read(data)
            else:
                self.transport_closed = True
                if index != len(out) - 1:
                    raise AssertionError("bytes to send after b''")
        closed = connection.closed
        if closed != (self.closed is not None):
            raise AssertionError(f"closed is {closed}, closed event {self.closed!r}")
        if closed != self.transport_closed:
            raise AssertionError("closed without b'' to close the transport, or the reverse")
        if closed and connection.next_deadline() is not None:
            raise AssertionError("a closed connection still has a deadline")
        return out

    def written(self) -> list[dict[str, Any]]:
        """The JSON-RPC messages this side wrote since the last call; the ids of its
        requests are noted in :attr:`asked`."""
        texts = self.wire.texts
        items = [item for text in texts[self.texts_read :] for item in jsonrpc_items(text)]
        self.texts_read = len(texts)
        self.asked.update(item["id"] for item in items if "method" in item and "id" in item)
        return items

    def answer_only_asked(self, items: list[dict[str, Any]], peer: Side) -> None:
        """The responses in *items* answer requests of *peer*, or are sent as they are."""
        allowed = peer.asked | self.sent_as_is
        for item in items:
            if "method" not in item and "id" in item and item["id"] not in allowed:
                raise AssertionError(f"an answer to {item['id']!r}, never asked: {item!r}")


class Run:
    """One input played on a joined pair."""

    def __init__(self, data: bytes) -> None:
        self.script = Script(data)
        self.close_at_end = self.script.number(0, 3) == 0  # a close costs a dozen messages
        index = self.script.number(0, len(_PAIRS) - 1)
        server, client = _PAIRS[index].copy()
        compression = index >= len(_PAIRS) // 2
        self.server = Side(server, client=False, compression=compression)
        self.client = Side(client, client=True, compression=compression)
        self.now = 0.0
        self.tainted = False  # a move went around the sessions

    def pump(self) -> None:
        """Move the bytes both ways until neither side has any, and check what was written."""
        client, server, now = self.client, self.server, self.now
        waiting = [server, client]  # the sides that may have something to send
        while waiting:
            source = waiting.pop()
            sink = server if source is client else client
            out = source.drain()
            if not out or sink.transport_closed or sink.ended:
                continue
            for data in out:
                if data:
                    sink.connection.receive_data(data, now)
                else:
                    sink.ended = True
                    sink.connection.receive_eof(now)
            if sink not in waiting:
                waiting.append(sink)
            waiting.append(source)  # a sink's answer may make the source answer again
        written = server.written(), client.written()
        server.answer_only_asked(written[0], client)
        client.answer_only_asked(written[1], server)

    def params(self) -> Any:
        shape = self.script.number(0, 3)
        if shape == 0:
            return None
        if shape == 1:
            return self.script.value()
        return self.script.pick(_PARAMS)

    def move(self) -> None:
        script, now = self.script, self.now
        server, client = self.server.connection, self.client.connection
        move = script.number(0, 12)
        try:
            if move <= 2:
                method = script.pick(_CLIENT_REQUESTS)
                client.session.send_request(
                    method, self.params(), now=now, progress=script.flag(),
                    extension=method.startswith("x-"),
                )  # fmt: skip
            elif move == 3:
                client.session.send_notification(script.pick(_CLIENT_NOTIFICATIONS), self.params())
            elif move == 4:
                self.answer(self.server)
            elif move == 5:
                if script.flag():
                    server.session.send_request(
                        script.pick(_SERVER_REQUESTS), self.params(), now=now
                    )
                else:
                    method = script.pick(_SERVER_NOTIFICATIONS)
                    server.session.send_notification(method, self.params())
            elif move == 6:
                self.answer(self.client)
            elif move == 7:
                side = script.pick([self.client, self.server])
                side.connection.session.cancel(script.pick([*side.asked, 1, "x"]))
            elif move == 8:
                self.pump()  # what is written goes out before the clock moves on
                self.now += script.pick([0.5, 5.0, 21.0, 61.0])
                for side in (self.server, self.client):
                    deadline = side.connection.next_deadline()
                    if script.flag() or (deadline is not None and deadline <= self.now):
                        side.connection.handle_timeout(self.now)
            elif move == 9:
                side = script.pick([self.client, self.server]).connection
                if script.flag():
                    side.ping(script.fdp.ConsumeBytes(script.number(0, 8)))
                else:
                    side.close(script.pick([1000, 1001, 4000]), "bye", now=now)
            elif move == 10:
                self.tainted = True  # a draining server refuses even the client's opening
                server.session.drain()
            else:
                self.around(move == 11)
        except LocalProtocolError:
            pass
        self.pump()

    def answer(self, side: Side) -> None:
        """The application of *side* answers one of the requests it was sent."""
        script = self.script
        request_id = script.pick(side.pending) if side.pending and script.number(0, 7) else 9
        session = side.connection.session
        if script.flag():
            result = script.pick(_RESULTS) if script.number(0, 3) else script.value()
            session.respond(request_id, result)
        else:
            session.respond_error(request_id, script.pick([-32000, -32603, 1]), "failed")
        if request_id in side.pending:
            side.pending.remove(request_id)

    def around(self, message: bool) -> None:
        """A move that goes around the sessions: a JSON-RPC message sent as it is (on
        *message*), or a raw frame or the end of the stream given to either side."""
        script = self.script
        self.tainted = True
        if message:
            envelope: jsonrpc.Message
            kind = script.number(0, 2)
            if kind == 0:
                method = script.pick([*_CLIENT_REQUESTS, *_SERVER_REQUESTS])
                params = self.params()
                params = params if isinstance(params, dict) else None
                envelope = jsonrpc.Request(script.pick([1, 2, "a", 99]), method, params)
            elif kind == 1:
                envelope = jsonrpc.Response(script.pick([1, 2, "a", 99]), script.value())
            else:
                error = jsonrpc.ErrorObject(script.number(-32800, -32000), "e")
                envelope = jsonrpc.ErrorResponse(script.pick([1, 2, None]), error)
            side = script.pick([self.client, self.server])
            if not isinstance(envelope, jsonrpc.Request):
                side.sent_as_is.add(envelope.id)
            side.connection.send(envelope)
            return
        side = script.pick([self.client, self.server])
        if side.transport_closed or side.ended:
            return
        if script.flag():
            side.connection.receive_eof(self.now)
            side.ended = True
            return
        head = script.number(0, 255)
        payload = script.fdp.ConsumeBytes(script.number(0, 64))
        key = None if side is self.client else b"\x00\x00\x00\x00"
        raw = encode_frame(head & 15, payload, fin=head > 127, rsv=head >> 4 & 7, masking_key=key)
        side.connection.receive_data(raw, self.now)

    def finish(self, close: bool) -> None:
        """Unless a move went around the sessions, neither side found fault with the other;
        with *close*, the client closes, and then both sides are closed cleanly."""
        client = self.client
        if close and not (client.transport_closed or client.ended):
            client.connection.close(now=self.now)
            self.pump()
        if self.tainted:
            return
        for side in (self.server, self.client):
            if side.faults:
                raise AssertionError(f"the peer was found at fault: {side.faults!r}")
            if close and (side.closed is None or not side.closed.clean):
                raise AssertionError(f"no clean close at the end: {side.closed!r}")


def fuzz_one_input(data: bytes) -> None:
    run_ = Run(data)
    for _ in range(MOVES):
        if not run_.script.left() or run_.server.transport_closed:
            break
        run_.move()
    run_.finish(run_.close_at_end)


if __name__ == "__main__":
    run(fuzz_one_input, FLAGS)
