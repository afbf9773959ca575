#!/usr/bin/env python3
"""Fuzz mcpws.core.stdio with atheris: whatever bytes a peer writes on the stream.

The first byte of the input chooses the session the stream carries (bits 0-1: a fresh
server session, one already initialized, a client session, a server session of the
stateless era), whether a line may hold 64 bytes only (bit 2), how many chunks of the same
size the rest is fed in (bits 3-5: 1, 2, 3, 4, 6, 8, 12 or 16), whether the
stream then ends (bit 6) and whether the clock then jumps past every deadline (bit 7). The
rest of the input is the stream, newline-delimited JSON as it is, so that a seed is plain
text.

The invariant: ``receive_data``, ``receive_eof``, ``handle_timeout`` and ``close`` never
raise; every event is a :data:`~mcpws.core.stdio.StdioEvent`, ``StreamEnded`` comes once and
last, with a ``ProtocolError`` as its cause if any; what the connection writes is lines,
each one JSON-RPC message or batch (:func:`fuzzing.jsonrpc_items`) whose answers carry ids the
peer used (or none), then ``b""`` once, when the stream ends, and nothing after it; a line
too long ends the stream with a cause.

The sessions are built once and copied for each input (:class:`fuzzing.Snapshot`). Run it
(pytest does not collect this file: its name does not start with ``test_``)::

    python tests/fuzz/fuzz_stdio.py -max_total_time=60
"""

from __future__ import annotations

import json
import typing
from typing import Any

import atheris
from fuzzing import Snapshot, jsonrpc_items, run

with atheris.instrument_imports(include=["mcpws"]):
    from mcpws.core import jsonrpc
    from mcpws.core.errors import ProtocolError
    from mcpws.core.session import (
        ClientSession,
        ClientSessionConfig,
        ServerSession,
        ServerSessionConfig,
    )
    from mcpws.core.stdio import StdioConnection, StdioEvent, StreamEnded
    from mcpws.core.versions import HANDSHAKE_REVISIONS, STATELESS_REVISIONS

#: libFuzzer's options for this harness, before those of the command line.
FLAGS = ("-max_len=256", "-timeout=10")
EVENT_TYPES = typing.get_args(StdioEvent)
_PIECES = (1, 2, 3, 4, 6, 8, 12, 16)


def _initialized() -> ServerSession:
    session = ServerSession()
    params = {
        "protocolVersion": HANDSHAKE_REVISIONS[-1],
        "capabilities": {"roots": {}},
        "clientInfo": {"name": "fuzz", "version": "1"},
    }
    session.receive_message(jsonrpc.Request("initialize", "initialize", params), 0.0)
    session.receive_message(jsonrpc.Notification("notifications/initialized"), 0.0)
    session.messages_to_send()
    session.events_received()
    return session


_SESSIONS: list[Snapshot[ServerSession | ClientSession]] = [
    Snapshot(ServerSession()),
    Snapshot(_initialized()),
    Snapshot(ClientSession(ClientSessionConfig(revisions=HANDSHAKE_REVISIONS))),
    Snapshot(ServerSession(ServerSessionConfig(revisions=STATELESS_REVISIONS))),
]


def _ids(stream: bytes) -> set[Any]:
    """The ids of the messages in the lines of *stream* that are JSON (their answers may
    carry them), and ``initialize``, which opened the initialized session."""
    ids: set[Any] = {"initialize"}
    for line in stream.split(b"\n"):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and type(item.get("id")) in (str, int):
                ids.add(item["id"])
    return ids


class Output:
    """What the connection wrote and reported, checked as it comes."""

    def __init__(self, connection: StdioConnection, ids: set[Any]) -> None:
        self.connection = connection
        self.ids = ids
        self.ended: StreamEnded | None = None
        self.output_closed = False

    def check(self) -> None:
        connection = self.connection
        for event in connection.events_received():
            if self.ended is not None:
                raise AssertionError(f"{event!r} after {self.ended!r}")
            if not isinstance(event, EVENT_TYPES):
                raise AssertionError(f"undocumented event {event!r}")
            if isinstance(event, StreamEnded):
                self.ended = event
                if event.cause is not None and not isinstance(event.cause, ProtocolError):
                    raise AssertionError(f"cause of another kind in {event!r}")
        for data in connection.data_to_send():
            if self.output_closed:
                raise AssertionError(f"{data!r} written after the output closed")
            if not data:
                self.output_closed = True
                continue
            if not data.endswith(b"\n") or b"\n" in data[:-1]:
                raise AssertionError(f"not one line: {data!r}")
            for item in jsonrpc_items(data):
                if "method" not in item and "id" in item and item["id"] not in self.ids:
                    raise AssertionError(f"an answer to {item['id']!r}, never asked: {data!r}")
        if connection.closed != (self.ended is not None) or connection.closed != self.output_closed:
            raise AssertionError("closed, StreamEnded and b'' disagree")
        if connection.closed and connection.next_deadline() is not None:
            raise AssertionError("a closed stream still has a deadline")


def fuzz_one_input(data: bytes) -> None:
    if not data:
        return
    flags, stream = data[0], data[1:]
    session = _SESSIONS[flags & 3].copy()
    limit = 64 if flags & 4 else 1 << 20
    connection = StdioConnection(session, 0.0, max_message_size=limit)
    output = Output(connection, _ids(stream))
    output.check()
    size = max(1, -(-len(stream) // _PIECES[flags >> 3 & 7]))
    for start in range(0, len(stream), size):
        connection.receive_data(stream[start : start + size], 1.0)
    output.check()
    if flags & 128:
        connection.handle_timeout(1000.0)
        output.check()
    if flags & 64:
        connection.receive_eof(1000.0)
        output.check()
        if output.ended is None:
            raise AssertionError("no StreamEnded after the end of the stream")
    connection.close()
    output.check()
    if not output.output_closed:
        raise AssertionError("the output was not closed")
    longest = max(len(line.removesuffix(b"\r")) for line in stream.split(b"\n"))
    if longest > limit and (output.ended is None or output.ended.cause is None):
        raise AssertionError(f"a line of {longest} bytes did not end the stream")


if __name__ == "__main__":
    run(fuzz_one_input, FLAGS)
