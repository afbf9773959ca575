"""The rules for requests in flight, checked in every revision over every transport: ids,
answers, timeouts, cancellation both ways, progress, limits and the error replies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpers.sessionpair import TRANSPORTS, SessionPair, only, open_pair, stateless_meta
from mcpws.core import jsonrpc
from mcpws.core.mcp import CallToolResult, ServerCapabilities, TextContent
from mcpws.core.session import (
    TOO_MANY_REQUESTS,
    ClientSessionConfig,
    ProgressReceived,
    RequestCancelled,
    RequestReceived,
    RequestRejected,
    RequestTimedOut,
    ResponseReceived,
    ServerSessionConfig,
    State,
    UnknownResponseReceived,
)
from mcpws.core.versions import REVISIONS, STATELESS_REVISIONS

EACH = pytest.mark.parametrize(
    ("transport", "revision"), [(t, r) for t in TRANSPORTS for r in REVISIONS]
)
RESULT = CallToolResult(content=[TextContent(text="done")])


def pair_in(transport: str, revision: str, **server: Any) -> SessionPair:
    """A pair open in *revision*; the opening request took id 1."""
    pair = open_pair(
        transport,
        client=ClientSessionConfig(revisions=(revision,)),
        server=ServerSessionConfig(capabilities=ServerCapabilities(tools={}), **server),
    )
    assert pair.client.revision == revision
    assert pair.client.state in (State.READY, State.STATELESS)
    return pair


def call(pair: SessionPair, now: float, **options: Any) -> tuple[int | str, int | str]:
    """Send a tools/call; return its id on the client and on the server."""
    request_id = pair.client.send_request("tools/call", {"name": "t"}, now=now, **options)
    pair.pump(now)
    received = only(pair.events()[1], RequestReceived)
    return request_id, received.request_id


def inject(pair: SessionPair, value: Any, now: float) -> list[Any]:
    """Deliver a hand-written JSON value to the server over the pair's transport and
    return the server's answers to it."""
    seen = len(pair.wire)
    text = json.dumps(value)
    if pair.transport == "direct":
        pair.server.receive_message(jsonrpc.decode(text), now)
    elif pair.transport == "websocket":
        pair.client_end.send(jsonrpc.decode(text))
    else:
        pair.server_end.receive_data(text.encode() + b"\n", now)
    pair.pump(now)
    pair.events()
    return [json.loads(text) for who, text in pair.wire[seen:] if who == "server"]


def request_value(revision: str, id: Any, method: str, params: dict[str, Any]) -> Any:
    """A request as the client of *revision* would write it."""
    if revision in STATELESS_REVISIONS:
        params = {**params, "_meta": stateless_meta(revision)}
    return {"jsonrpc": "2.0", "id": id, "method": method, "params": params}


@EACH
def test_ids_count_up_and_answers_are_matched(transport: str, revision: str) -> None:
    pair = pair_in(transport, revision)
    first, on_server = call(pair, 1.0)
    second, _ = call(pair, 1.0)
    assert (first, second) == (2, 3)
    pair.server.respond(on_server, RESULT)
    pair.pump(1.0)
    answer = only(pair.events()[0], ResponseReceived)
    assert isinstance(answer.result, CallToolResult)
    assert (answer.request_id, answer.result.content) == (first, RESULT.content)
    assert pair.client.next_deadline() == 61.0


@EACH
def test_a_timeout_cancels_at_its_exact_deadline(transport: str, revision: str) -> None:
    pair = pair_in(transport, revision)
    request_id, on_server = call(pair, 2.0, timeout=5.0)
    assert pair.next_deadlines() == (7.0, None)
    pair.handle_timeout(6.999)
    assert pair.events() == ([], [])
    pair.handle_timeout(7.0)
    client_events, server_events = pair.events()
    assert client_events == [RequestTimedOut(request_id, "tools/call")]
    assert server_events == [RequestCancelled(on_server, "timed out after 5.0 s")]
    assert pair.next_deadlines() == (None, None)
    pair.server.respond(on_server, RESULT)  # dropped: the client gave up
    pair.pump(7.0)
    assert pair.events() == ([], [])


@EACH
def test_a_cancel_reaches_the_handler_and_a_late_answer_is_dropped(
    transport: str, revision: str
) -> None:
    pair = pair_in(transport, revision)
    request_id, on_server = call(pair, 1.0)
    pair.client.cancel(request_id, "changed my mind")
    pair.pump(1.5)
    assert pair.events() == ([], [RequestCancelled(on_server, "changed my mind")])
    pair.server.respond_error(on_server, -32000, "stopped")
    pair.pump(1.5)
    assert pair.events() == ([], [])


@EACH
def test_progress_reaches_the_caller_and_resets_its_timeout(transport: str, revision: str) -> None:
    pair = open_pair(
        transport,
        client=ClientSessionConfig(
            revisions=(revision,), reset_timeout_on_progress=True, max_request_time=25.0
        ),
        server=ServerSessionConfig(capabilities=ServerCapabilities(tools={})),
    )
    request_id, on_server = call(pair, 0.0, timeout=10.0, progress=True)
    assert pair.server.send_progress(on_server, 1, total=4)
    pair.pump(8.0)
    (progress,) = pair.events()[0]
    assert progress == ProgressReceived(request_id, 1, 4, None)
    assert pair.client.next_deadline() == 18.0
    pair.server.send_progress(on_server, 2)
    pair.pump(20.0)
    pair.events()
    assert pair.client.next_deadline() == 25.0  # the cap, not 30.0


@EACH
def test_a_peer_answer_to_an_unknown_id_is_reported(transport: str, revision: str) -> None:
    pair = pair_in(transport, revision)
    pair.client.receive_message(jsonrpc.Response(99, {}), 1.0)
    assert pair.client.events_received() == [UnknownResponseReceived(jsonrpc.Response(99, {}))]


@EACH
def test_the_server_refuses_bad_requests_with_the_right_codes(
    transport: str, revision: str
) -> None:
    pair = pair_in(transport, revision)
    (unknown,) = inject(pair, request_value(revision, "u", "tools/nope", {}), 1.0)
    assert (unknown["id"], unknown["error"]["code"]) == ("u", jsonrpc.METHOD_NOT_FOUND)
    (invalid,) = inject(pair, request_value(revision, "p", "tools/call", {"name": 5}), 1.0)
    assert (invalid["id"], invalid["error"]["code"]) == ("p", jsonrpc.INVALID_PARAMS)
    assert "name" in invalid["error"]["message"]
    assert inject(pair, request_value(revision, "d", "tools/call", {"name": "t"}), 1.0) == []
    (duplicate,) = inject(pair, request_value(revision, "d", "tools/call", {"name": "t"}), 1.0)
    assert (duplicate["id"], duplicate["error"]["code"]) == ("d", jsonrpc.INVALID_REQUEST)
    note = {"jsonrpc": "2.0", "method": "notifications/nope"}
    assert inject(pair, note, 1.0) == []


@EACH
def test_a_peer_beyond_max_pending_requests_is_refused(transport: str, revision: str) -> None:
    pair = pair_in(transport, revision, max_pending_requests=1)
    call(pair, 1.0)
    pair.client.send_request("tools/call", {"name": "t"}, now=1.0)
    pair.pump(1.0)
    client_events, server_events = pair.events()
    rejected = only(server_events, RequestRejected)
    assert rejected.error.code == TOO_MANY_REQUESTS
    assert [type(event).__name__ for event in client_events] == ["ErrorReceived"]
