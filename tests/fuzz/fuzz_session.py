#!/usr/bin/env python3
"""Fuzz a server session of mcpws.core.session with atheris: whatever a client sends.

Each input builds a server session (handshake era only, stateless era only, or both) and
plays a script read from the input: JSON-RPC messages built from the MCP vocabulary (every
method of every revision and some that do not exist, ids that repeat, ``initialize`` params
and stateless ``_meta`` with any revision, params of the right or the wrong shape),
responses, batches, raw text, and the application's moves (answering, failing, reporting
progress, sending requests and notifications, cancelling), with the clock moving on.

The invariant: ``receive_message`` and ``handle_timeout`` never raise; the application's
commands raise nothing but ``LocalProtocolError``; every text the session emits is valid
JSON-RPC; an answer carries the id of a request the client sent (or none, for a request whose
id could not be read); the state is always a :class:`State`; a closed session emits nothing.

A session starts fresh (in either era or both) or already initialized at one of the
revisions of the handshake era: those are built once and copied for each input
(:class:`fuzzing.Snapshot`); the texts it emits are read by :func:`fuzzing.jsonrpc_items`, which
shares no code with the session's codec. Run it (pytest does not collect this file: its name
does not start with ``test_``)::

    python tests/fuzz/fuzz_session.py -max_total_time=60
"""

from __future__ import annotations

import json
from typing import Any

import atheris
import fuzzing
from fuzzing import Snapshot, jsonrpc_items, run

with atheris.instrument_imports(include=["mcpws"]):
    from mcpws.core import jsonrpc
    from mcpws.core.errors import InvalidMessage, LocalProtocolError
    from mcpws.core.mcp import METHODS
    from mcpws.core.session import (
        ServerSession,
        ServerSessionConfig,
        State,
    )
    from mcpws.core.versions import HANDSHAKE_REVISIONS, REVISIONS, STATELESS_REVISIONS

#: libFuzzer's options for this harness, before those of the command line.
FLAGS = ("-max_len=256", "-timeout=10")
#: Moves an input makes at most.
MOVES = 8
_METHODS = [*sorted({method for method, _ in METHODS}), "nope", "", "tools/nope"]
_VERSIONS = [*REVISIONS, "1900-01-01", "", 7]
_ERAS = (REVISIONS, HANDSHAKE_REVISIONS, STATELESS_REVISIONS)


class Script(fuzzing.Script):
    """Values drawn from the fuzzer's input, MCP's among them."""

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        if self.fdp.ConsumeBool():
            meta["io.modelcontextprotocol/protocolVersion"] = self.pick(_VERSIONS)
        if self.fdp.ConsumeBool():
            meta["io.modelcontextprotocol/clientCapabilities"] = self.pick(
                [{}, {"sampling": {}}, {"roots": 1}, None]
            )
        if self.fdp.ConsumeBool():
            meta["progressToken"] = self.id()
        return meta

    def params(self, method: str) -> Any:
        shape = self.fdp.ConsumeIntInRange(0, 4)
        if shape == 0:
            return None
        if shape == 1:
            return self.value()
        if method == "initialize" and shape == 2:
            return {
                "protocolVersion": self.pick(_VERSIONS),
                "capabilities": {},
                "clientInfo": {"name": "fuzz", "version": "1"},
            }
        params: dict[str, Any] = {"_meta": self.meta()}
        if shape == 3:
            params.update({"name": "t", "uri": "file:///a", "requestId": self.id()})
            params.update({"progressToken": self.id(), "progress": self.pick([0, 1, 0.5])})
        return params

    def message(self) -> Any:
        kind = self.fdp.ConsumeIntInRange(0, 4)
        if kind == 4:
            return [self.message() for _ in range(self.fdp.ConsumeIntInRange(0, 3))]
        message: dict[str, Any] = {"jsonrpc": "2.0"}
        if kind in (0, 1):
            method = self.pick(_METHODS)
            message["method"] = method
            params = self.params(method)
            if params is not None:
                message["params"] = params
            if kind == 0:
                message["id"] = self.id()
        elif kind == 2:
            message.update(id=self.id(), result=self.value())
        else:
            message.update(id=self.id(), error={"code": -32000, "message": "e"})
        return message


def check_output(session: ServerSession, asked: set[Any]) -> None:
    """Every text is valid JSON-RPC, and answers only what was asked."""
    for text in session.messages_to_send():
        for item in jsonrpc_items(text):
            if "method" in item or "id" not in item:
                continue
            if item["id"] not in asked:
                raise AssertionError(f"an answer to {item['id']!r}, which was never asked")


#: The id of the ``initialize`` request that opened a session of a snapshot.
_INITIALIZE_ID = "initialize"


def _initialized(revision: str, confirmed: bool) -> ServerSession:
    """A session that answered ``initialize`` at *revision*, and heard
    ``notifications/initialized`` if *confirmed*."""
    session = ServerSession(ServerSessionConfig(revisions=REVISIONS))
    params = {
        "protocolVersion": revision,
        "capabilities": {"sampling": {}, "roots": {}},
        "clientInfo": {"name": "fuzz", "version": "1"},
    }
    session.receive_message(jsonrpc.Request(_INITIALIZE_ID, "initialize", params), 0.0)
    if confirmed:
        session.receive_message(jsonrpc.Notification("notifications/initialized"), 0.0)
    session.messages_to_send()
    session.events_received()
    return session


_SESSIONS = [
    *(Snapshot(ServerSession(ServerSessionConfig(revisions=era))) for era in _ERAS),
    *(Snapshot(_initialized(revision, True)) for revision in HANDSHAKE_REVISIONS),
    Snapshot(_initialized(HANDSHAKE_REVISIONS[-1], False)),
]


def _requests(message: Any) -> list[Any]:
    items = message if isinstance(message, list) else [message]
    return [item.id for item in items if isinstance(item, jsonrpc.Request | InvalidMessage)]


def fuzz_one_input(data: bytes) -> None:
    script = Script(data)
    session = script.pick(_SESSIONS).copy()
    now = 0.0
    asked: set[Any] = {_INITIALIZE_ID}
    for _ in range(MOVES):
        if script.left() == 0:
            break
        move = script.fdp.ConsumeIntInRange(0, 9)
        session.events_received()
        if move <= 4:
            text = json.dumps(script.message())
            try:
                message = jsonrpc.decode(text, allow_batch=session.allow_batches)
            except InvalidMessage:
                continue
            asked.update(_requests(message))
            before = session.state
            session.receive_message(message, now)
            if before is State.CLOSED and session.messages_to_send():
                raise AssertionError("a closed session answered")
        elif move == 5:
            now += script.pick([0.5, 10.0, 61.0])
            session.handle_timeout(now)
        else:
            try:
                if move == 6:
                    session.respond(script.id(), script.value())
                elif move == 7:
                    session.respond_error(script.id(), -32000, "failed")
                elif move == 8:
                    session.send_progress(script.id(), script.pick([0, 1, 0.5]))
                elif script.fdp.ConsumeBool():
                    method = script.pick(_METHODS)
                    session.send_request(method, script.params(method), now=now)
                else:
                    session.cancel(script.id())
            except LocalProtocolError:
                pass
        check_output(session, asked)
        if session.state not in State:
            raise AssertionError(f"unknown state {session.state!r}")
    session.close()
    if session.messages_to_send() or session.next_deadline() is not None:
        raise AssertionError("a closed session still has something to do")


if __name__ == "__main__":
    run(fuzz_one_input, FLAGS)
