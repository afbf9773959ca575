"""Requests in flight, for both roles: ids, responses, timeouts, cancellation, progress,
limits, capabilities, the answers the session gives by itself, and the request commands."""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpers.sessionpair import (
    TRANSPORTS,
    Peer,
    SessionPair,
    initialized_server,
    notification,
    only,
    open_pair,
    request,
)
from mcpws.core.errors import LocalProtocolError
from mcpws.core.jsonrpc import ErrorObject, ErrorResponse, Response
from mcpws.core.mcp import (
    META_SERVER_INFO,
    CallToolRequestParams,
    CallToolResult,
    ClientCapabilities,
    Implementation,
    InputRequiredResult,
    ListRootsResult,
    ListToolsResult,
    LoggingMessageNotificationParams,
    NotificationParams,
    PaginatedRequestParams,
    RequestParams,
    Root,
    ServerCapabilities,
    TaskMetadata,
    TextContent,
)
from mcpws.core.session import (
    SHUTTING_DOWN,
    TOO_MANY_REQUESTS,
    ClientSession,
    ClientSessionConfig,
    ErrorReceived,
    InvalidResultReceived,
    NotificationIgnored,
    NotificationReceived,
    ProgressIgnored,
    ProgressReceived,
    RequestCancelled,
    RequestReceived,
    RequestRejected,
    RequestTimedOut,
    ResponseReceived,
    ServerSession,
    ServerSessionConfig,
    SessionEvent,
    SessionInitialized,
    State,
    UnknownResponseReceived,
)

TOOLS = ServerCapabilities(tools={})
SERVER_INFO = Implementation(name="srv", version="2.0")
REQUESTS_IN = pytest.mark.parametrize("transport", TRANSPORTS)


# Helpers ------------------------------------------------------------------------------------


def stateless_pair(
    transport: str,
    *,
    now: float = 0.0,
    server_caps: ServerCapabilities = TOOLS,
    client: dict[str, Any] | None = None,
    server: dict[str, Any] | None = None,
) -> SessionPair:
    """A pair open in the stateless era (2026-07-28); the probe took id 1."""
    pair = open_pair(
        transport,
        client=ClientSessionConfig(**(client or {})),
        server=ServerSessionConfig(
            capabilities=server_caps, server_info=SERVER_INFO, **(server or {})
        ),
        now=now,
    )
    assert pair.client.state is State.STATELESS
    return pair


def handshake_pair(
    transport: str,
    revision: str = "2025-11-25",
    *,
    now: float = 0.0,
    server_caps: ServerCapabilities = TOOLS,
    client_caps: ClientCapabilities | None = None,
    client: dict[str, Any] | None = None,
    server: dict[str, Any] | None = None,
) -> SessionPair:
    """A pair open in *revision* of the handshake era; initialize took id 1."""
    pair = open_pair(
        transport,
        client=ClientSessionConfig(
            revisions=(revision,),
            capabilities=client_caps or ClientCapabilities(),
            **(client or {}),
        ),
        server=ServerSessionConfig(
            capabilities=server_caps, server_info=SERVER_INFO, **(server or {})
        ),
        now=now,
    )
    assert pair.client.state is State.READY
    assert pair.server.state is State.READY
    assert pair.client.revision == revision
    return pair


def initialized_client(
    revision: str = "2025-11-25",
    *,
    server_caps: dict[str, Any] | None = None,
    client_caps: ClientCapabilities | None = None,
    now: float = 0.0,
    **config: Any,
) -> tuple[ClientSession, Peer]:
    """A client session a hand-driven server has initialized in *revision*."""
    client = ClientSession(
        ClientSessionConfig(
            revisions=(revision,), capabilities=client_caps or ClientCapabilities(), **config
        )
    )
    peer = Peer(client)
    client.start(now)
    (init,) = peer.replies()
    assert init["method"] == "initialize"
    result = {
        "protocolVersion": revision,
        "capabilities": {"tools": {}} if server_caps is None else server_caps,
        "serverInfo": {"name": "peer", "version": "1"},
    }
    replies = peer.send({"jsonrpc": "2.0", "id": init["id"], "result": result}, now)
    assert replies == [{"jsonrpc": "2.0", "method": "notifications/initialized"}]
    assert isinstance(only(client.events_received(), SessionInitialized), SessionInitialized)
    return client, peer


def answer(id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id, "result": result}


def error(id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}


def new_wire(pair: SessionPair, mark: int, sender: str) -> list[Any]:
    """The JSON values *sender* emitted after the first *mark* wire entries."""
    return [json.loads(text) for who, text in pair.wire[mark:] if who == sender]


def requests_sent(pair: SessionPair, sender: str) -> list[Any]:
    return [m["id"] for m in pair.sent_by(sender) if "method" in m and "id" in m]


def cancelled(request_id: Any, reason: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"requestId": request_id}
    if reason is not None:
        params["reason"] = reason
    return notification("notifications/cancelled", params)


def progress(token: Any, value: float, **extra: Any) -> dict[str, Any]:
    return notification(
        "notifications/progress", {"progressToken": token, "progress": value, **extra}
    )


def no_cancel_events(events: list[SessionEvent]) -> bool:
    return not any(isinstance(event, RequestCancelled) for event in events)


EMPTY_CALL = CallToolResult(content=[])


# Ids ----------------------------------------------------------------------------------------


@REQUESTS_IN
def test_client_ids_count_up_and_are_never_reused(transport: str) -> None:
    pair = handshake_pair(transport, now=0.0)
    answered = pair.client.send_request("tools/list", now=1.0)
    pair.pump(1.0)
    pair.server.respond(answered, ListToolsResult(tools=[]))
    pair.pump(1.0)
    dropped = pair.client.send_request("tools/list", now=2.0)
    pair.client.cancel(dropped)
    expired = pair.client.send_request("tools/list", now=3.0, timeout=1.0)
    pair.pump(3.0)
    pair.handle_timeout(4.0)
    last = pair.client.send_request("tools/list", now=5.0)
    pair.pump(5.0)
    assert (answered, dropped, expired, last) == (2, 3, 4, 5)
    assert requests_sent(pair, "client") == [1, 2, 3, 4, 5]


@REQUESTS_IN
def test_server_ids_count_up_from_one_and_are_never_reused(transport: str) -> None:
    roots = ClientCapabilities(roots={})
    pair = handshake_pair(transport, client_caps=roots, now=0.0)
    first = pair.server.send_request("roots/list", now=1.0)
    pair.pump(1.0)
    pair.client.respond(first, ListRootsResult(roots=[]))
    second = pair.server.send_request("ping", now=2.0)
    third = pair.server.send_request("roots/list", now=2.0, timeout=1.0)
    pair.server.cancel(second)
    pair.pump(2.0)
    pair.handle_timeout(3.0)
    fourth = pair.server.send_request("ping", now=4.0)
    pair.pump(4.0)
    assert (first, second, third, fourth) == (1, 2, 3, 4)
    assert requests_sent(pair, "server") == [1, 2, 3, 4]


@REQUESTS_IN
def test_the_discover_probe_takes_id_one_in_the_stateless_era(transport: str) -> None:
    pair = stateless_pair(transport)
    assert pair.client.send_request("tools/list", now=0.0) == 2
    assert pair.client.send_request("tools/list", now=0.0) == 3


@pytest.mark.parametrize("request_id", [7, "seven"])
def test_a_duplicate_peer_request_id_is_refused_and_the_original_survives(
    request_id: int | str,
) -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    assert peer.send(request(request_id, "tools/list")) == []
    assert only(server.events_received(), RequestReceived).request_id == request_id
    (reply,) = peer.send(request(request_id, "tools/call", {"name": "x"}))
    assert reply["id"] == request_id
    assert reply["error"]["code"] == -32600
    rejected = only(server.events_received(), RequestRejected)
    assert (rejected.request_id, rejected.method) == (request_id, "tools/call")
    assert rejected.error.code == -32600
    server.respond(request_id, ListToolsResult(tools=[]))
    assert peer.replies() == [answer(request_id, {"tools": []})]


def test_a_client_refuses_a_duplicate_id_from_the_server() -> None:
    client, peer = initialized_client(client_caps=ClientCapabilities(roots={}))
    assert peer.send(request("r", "roots/list")) == []
    assert only(client.events_received(), RequestReceived).method == "roots/list"
    (reply,) = peer.send(request("r", "roots/list"))
    assert (reply["id"], reply["error"]["code"]) == ("r", -32600)
    assert only(client.events_received(), RequestRejected).request_id == "r"
    client.respond("r", ListRootsResult(roots=[Root(uri="file:///a")]))
    assert peer.replies() == [answer("r", {"roots": [{"uri": "file:///a"}]})]


def test_string_and_integer_peer_ids_are_distinct_and_kept() -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    assert peer.send(request(1, "tools/list")) == []
    assert peer.send(request("1", "tools/list")) == []
    received = server.events_received()
    assert [e.request_id for e in received if isinstance(e, RequestReceived)] == [1, "1"]
    server.respond("1", ListToolsResult(tools=[]))
    server.respond_error(1, -32000, "no")
    assert peer.replies() == [answer("1", {"tools": []}), error(1, -32000, "no")]


# Responses ----------------------------------------------------------------------------------


@REQUESTS_IN
def test_a_response_arrives_as_the_typed_result(transport: str) -> None:
    pair = stateless_pair(transport, now=10.0)
    first = pair.client.send_request("tools/call", {"name": "a"}, now=10.0)
    second = pair.client.send_request("tools/list", now=10.0)
    pair.pump(10.0)
    _, server_events = pair.events()
    assert [e.request_id for e in server_events if isinstance(e, RequestReceived)] == [2, 3]
    pair.server.respond(second, ListToolsResult(tools=[]))
    pair.server.respond(first, CallToolResult(content=[TextContent(text="hi")]))
    pair.pump(11.0)
    client_events, _ = pair.events()
    assert len(client_events) == 2
    listed, called = client_events
    assert isinstance(listed, ResponseReceived)
    assert (listed.request_id, listed.method) == (second, "tools/list")
    assert isinstance(listed.result, ListToolsResult)
    assert listed.result.tools == []
    assert isinstance(called, ResponseReceived)
    assert (called.request_id, called.method) == (first, "tools/call")
    assert isinstance(called.result, CallToolResult)
    assert called.result.content == [TextContent(text="hi")]
    assert pair.next_deadlines() == (None, None)


@REQUESTS_IN
def test_a_server_request_gets_the_clients_typed_result(transport: str) -> None:
    pair = handshake_pair(transport, client_caps=ClientCapabilities(roots={}))
    request_id = pair.server.send_request("roots/list", now=1.0)
    pair.pump(1.0)
    client_events, _ = pair.events()
    received = only(client_events, RequestReceived)
    assert (received.request_id, received.method, received.revision) == (
        request_id,
        "roots/list",
        "2025-11-25",
    )
    pair.client.respond(request_id, ListRootsResult(roots=[Root(uri="file:///r", name="r")]))
    pair.pump(2.0)
    _, server_events = pair.events()
    response = only(server_events, ResponseReceived)
    assert (response.request_id, response.method) == (request_id, "roots/list")
    assert response.result == ListRootsResult(roots=[Root(uri="file:///r", name="r")])


@REQUESTS_IN
def test_an_error_response_becomes_error_received(transport: str) -> None:
    pair = stateless_pair(transport)
    request_id = pair.client.send_request("tools/call", {"name": "a"}, now=1.0)
    pair.pump(1.0)
    pair.events()
    pair.server.respond_error(request_id, -32000, "tool exploded", {"why": "x"})
    pair.pump(2.0)
    client_events, server_events = pair.events()
    received = only(client_events, ErrorReceived)
    assert (received.request_id, received.method) == (request_id, "tools/call")
    assert received.error == ErrorObject(-32000, "tool exploded", {"why": "x"})
    assert server_events == []
    assert pair.next_deadlines() == (None, None)


def test_a_result_of_the_wrong_type_becomes_invalid_result_received() -> None:
    client, peer = initialized_client()
    request_id = client.send_request("tools/call", {"name": "a"}, now=1.0)
    peer.replies()
    assert peer.send(answer(request_id, {"content": 5}), 2.0) == []
    invalid = only(client.events_received(), InvalidResultReceived)
    assert (invalid.request_id, invalid.method, invalid.result) == (
        request_id,
        "tools/call",
        {"content": 5},
    )
    assert invalid.error.path == "content"
    assert client.next_deadline() is None


def test_a_response_to_an_unknown_id_is_reported_and_ignored() -> None:
    client, peer = initialized_client()
    request_id = client.send_request("tools/list", now=1.0)
    peer.replies()
    assert peer.send(answer(99, {"tools": []}), 2.0) == []
    unknown = only(client.events_received(), UnknownResponseReceived)
    assert unknown.response == Response(99, {"tools": []})
    assert peer.send(error(None, -32700, "parse error"), 2.0) == []
    unknown = only(client.events_received(), UnknownResponseReceived)
    assert unknown.response == ErrorResponse(None, ErrorObject(-32700, "parse error"))
    assert client.next_deadline() == 61.0
    assert peer.send(answer(request_id, {"tools": []}), 3.0) == []
    assert only(client.events_received(), ResponseReceived).request_id == request_id


def test_an_unknown_response_on_the_server_is_ignored() -> None:
    server, peer = initialized_server()
    assert peer.send(answer(5, {})) == []
    assert isinstance(only(server.events_received(), UnknownResponseReceived).response, Response)


# Timeouts -----------------------------------------------------------------------------------


@REQUESTS_IN
def test_the_default_timeout_is_sixty_seconds_then_cancelled_is_sent(transport: str) -> None:
    pair = stateless_pair(transport, now=100.0)
    request_id = pair.client.send_request("tools/list", now=100.5)
    assert pair.next_deadlines() == (160.5, None)
    pair.pump(100.5)
    pair.events()
    pair.handle_timeout(160.25)
    assert pair.events() == ([], [])
    assert pair.next_deadlines() == (160.5, None)
    mark = len(pair.wire)
    pair.handle_timeout(160.5)
    client_events, server_events = pair.events()
    assert only(client_events, RequestTimedOut) == RequestTimedOut(request_id, "tools/list")
    (sent,) = new_wire(pair, mark, "client")
    assert sent["method"] == "notifications/cancelled"
    assert sent["params"]["requestId"] == request_id
    reason = sent["params"]["reason"]
    assert isinstance(reason, str)
    assert reason
    assert only(server_events, RequestCancelled) == RequestCancelled(request_id, reason)
    assert pair.next_deadlines() == (None, None)
    mark = len(pair.wire)
    pair.server.respond(request_id, ListToolsResult(tools=[]))
    pair.pump(161.0)
    assert pair.wire[mark:] == []
    assert pair.events() == ([], [])


@REQUESTS_IN
def test_a_server_request_times_out_too(transport: str) -> None:
    pair = handshake_pair(transport, client_caps=ClientCapabilities(roots={}), now=0.0)
    request_id = pair.server.send_request("roots/list", now=2.0, timeout=3.0)
    pair.pump(2.0)
    pair.events()
    assert pair.next_deadlines() == (None, 5.0)
    pair.handle_timeout(5.0)
    client_events, server_events = pair.events()
    assert only(server_events, RequestTimedOut) == RequestTimedOut(request_id, "roots/list")
    assert only(client_events, RequestCancelled).request_id == request_id
    assert pair.next_deadlines() == (None, None)


def test_a_per_call_timeout_overrides_the_configured_one() -> None:
    client, peer = initialized_client(request_timeout=30.0)
    short = client.send_request("tools/list", now=10.0, timeout=5.0)
    assert client.next_deadline() == 15.0
    long = client.send_request("tools/list", now=10.0)
    assert client.next_deadline() == 15.0
    peer.replies()
    client.handle_timeout(15.0)
    assert only(client.events_received(), RequestTimedOut).request_id == short
    (sent,) = peer.replies()
    assert sent["params"]["requestId"] == short
    assert client.next_deadline() == 40.0
    client.handle_timeout(40.0)
    assert only(client.events_received(), RequestTimedOut).request_id == long
    assert client.next_deadline() is None


def test_timeout_none_waits_forever() -> None:
    client, peer = initialized_client()
    client.send_request("tools/list", now=1.0, timeout=None)
    assert client.next_deadline() is None
    client.handle_timeout(1e9)
    assert client.events_received() == []
    assert [m["method"] for m in peer.replies()] == ["tools/list"]


def test_a_configured_timeout_of_none_waits_forever_unless_the_call_says_otherwise() -> None:
    client, _ = initialized_client(request_timeout=None)
    client.send_request("tools/list", now=1.0)
    assert client.next_deadline() is None
    client.send_request("tools/list", now=1.0, timeout=2.5)
    assert client.next_deadline() == 3.5


@pytest.mark.parametrize("timeout", [0.0, -1.0, float("nan"), "5"])
def test_a_bad_per_call_timeout_raises_and_changes_nothing(timeout: Any) -> None:
    client, peer = initialized_client()
    with pytest.raises(LocalProtocolError, match="timeout"):
        client.send_request("tools/list", now=10.0, timeout=timeout)
    assert peer.replies() == []
    assert client.next_deadline() is None
    assert client.send_request("tools/list", now=10.0) == 2
    assert client.next_deadline() == 70.0


def test_the_next_deadline_is_the_earliest_of_several() -> None:
    client, peer = initialized_client()
    a = client.send_request("tools/list", now=0.0, timeout=50.0)
    b = client.send_request("tools/list", now=5.0, timeout=20.0)
    c = client.send_request("tools/list", now=10.0, timeout=30.0)
    assert client.next_deadline() == 25.0
    peer.replies()
    peer.send(answer(b, {"tools": []}), 11.0)
    assert client.next_deadline() == 40.0
    client.cancel(c)
    assert client.next_deadline() == 50.0
    client.handle_timeout(49.0)
    assert only(client.events_received(), ResponseReceived).request_id == b
    client.handle_timeout(50.0)
    assert only(client.events_received(), RequestTimedOut).request_id == a
    assert client.next_deadline() is None


def test_requests_due_at_once_all_time_out_earliest_first() -> None:
    client, peer = initialized_client()
    late = client.send_request("tools/list", now=0.0, timeout=9.0)
    early = client.send_request("tools/list", now=0.0, timeout=8.0)
    peer.replies()
    client.handle_timeout(100.0)
    assert client.events_received() == [
        RequestTimedOut(early, "tools/list"),
        RequestTimedOut(late, "tools/list"),
    ]
    assert [m["params"]["requestId"] for m in peer.replies()] == [early, late]


@REQUESTS_IN
def test_progress_pushes_the_deadline_when_configured(transport: str) -> None:
    pair = stateless_pair(
        transport, now=100.0, client={"request_timeout": 10.0, "reset_timeout_on_progress": True}
    )
    request_id = pair.client.send_request("tools/call", {"name": "a"}, now=100.0, progress=True)
    pair.pump(100.0)
    assert pair.next_deadlines() == (110.0, None)
    assert pair.server.send_progress(request_id, 1.0)
    pair.pump(104.0)
    assert pair.next_deadlines() == (114.0, None)
    assert pair.server.send_progress(request_id, 2.0)
    pair.pump(113.5)
    assert pair.next_deadlines() == (123.5, None)
    pair.handle_timeout(123.5)
    client_events, _ = pair.events()
    assert client_events[-1] == RequestTimedOut(request_id, "tools/call")


def test_progress_does_not_push_the_deadline_by_default() -> None:
    client, peer = initialized_client(request_timeout=10.0)
    request_id = client.send_request("tools/list", now=100.0, progress=True)
    peer.replies()
    peer.send(progress(request_id, 1), 105.0)
    assert only(client.events_received(), ProgressReceived).progress == 1
    assert client.next_deadline() == 110.0


def test_progress_does_not_push_a_request_without_timeout() -> None:
    client, peer = initialized_client(reset_timeout_on_progress=True)
    request_id = client.send_request("tools/list", now=0.0, timeout=None, progress=True)
    peer.replies()
    peer.send(progress(request_id, 1), 5.0)
    assert client.next_deadline() is None


@REQUESTS_IN
def test_max_request_time_caps_progress_resets(transport: str) -> None:
    pair = stateless_pair(
        transport,
        now=100.0,
        client={
            "request_timeout": 10.0,
            "reset_timeout_on_progress": True,
            "max_request_time": 15.0,
        },
    )
    request_id = pair.client.send_request("tools/list", now=100.0, progress=True)
    pair.pump(100.0)
    assert pair.next_deadlines() == (110.0, None)
    pair.server.send_progress(request_id, 1.0)
    pair.pump(104.0)
    assert pair.next_deadlines() == (114.0, None)
    pair.server.send_progress(request_id, 2.0)
    pair.pump(108.0)
    assert pair.next_deadlines() == (115.0, None)
    pair.server.send_progress(request_id, 3.0)
    pair.pump(114.5)
    assert pair.next_deadlines() == (115.0, None)
    pair.handle_timeout(114.75)
    client_events, _ = pair.events()
    assert not any(isinstance(event, RequestTimedOut) for event in client_events)
    pair.handle_timeout(115.0)
    client_events, server_events = pair.events()
    assert only(client_events, RequestTimedOut).request_id == request_id
    assert only(server_events, RequestCancelled).request_id == request_id


def test_max_request_time_bounds_a_request_without_timeout() -> None:
    client, _ = initialized_client(max_request_time=15.0)
    client.send_request("tools/list", now=100.0, timeout=None)
    assert client.next_deadline() == 115.0
    client.handle_timeout(115.0)
    assert isinstance(only(client.events_received(), RequestTimedOut), RequestTimedOut)


def test_max_request_time_shorter_than_the_timeout_wins_from_the_start() -> None:
    client, _ = initialized_client(max_request_time=15.0)
    client.send_request("tools/list", now=100.0)
    assert client.next_deadline() == 115.0
    client.send_request("tools/list", now=101.0, timeout=5.0)
    assert client.next_deadline() == 106.0


def test_the_cancel_reason_names_the_limit_that_expired() -> None:
    client, peer = initialized_client(max_request_time=15.0)
    client.send_request("tools/list", now=0.0, timeout=None)
    peer.replies()
    client.handle_timeout(15.0)
    (sent,) = peer.replies()
    reason = sent["params"]["reason"]
    assert "None" not in reason
    assert "15" in reason


def test_the_cancel_reason_of_a_capped_request_names_the_cap() -> None:
    client, peer = initialized_client(
        request_timeout=10.0, reset_timeout_on_progress=True, max_request_time=15.0
    )
    request_id = client.send_request("tools/list", now=0.0, progress=True)
    peer.replies()
    peer.send(progress(request_id, 1), 8.0)
    client.handle_timeout(15.0)
    (sent,) = peer.replies()
    assert "15" in sent["params"]["reason"]


def test_progress_after_a_cancel_or_a_timeout_is_ignored() -> None:
    client, peer = initialized_client()
    dropped = client.send_request("tools/list", now=0.0, progress=True)
    expired = client.send_request("tools/list", now=0.0, timeout=1.0, progress=True)
    client.cancel(dropped)
    client.handle_timeout(1.0)
    client.events_received()
    peer.replies()
    for token in (dropped, expired):
        assert peer.send(progress(token, 1)) == []
        assert only(client.events_received(), ProgressIgnored).progress_token == token


def test_a_late_response_after_a_timeout_is_unknown() -> None:
    client, peer = initialized_client()
    request_id = client.send_request("tools/list", now=0.0, timeout=1.0)
    peer.replies()
    client.handle_timeout(1.0)
    client.events_received()
    peer.replies()
    assert peer.send(answer(request_id, {"tools": []}), 2.0) == []
    assert only(client.events_received(), UnknownResponseReceived).response == Response(
        request_id, {"tools": []}
    )


# Cancellation -------------------------------------------------------------------------------


@REQUESTS_IN
def test_cancel_tells_the_peer_and_forgets_the_request(transport: str) -> None:
    pair = stateless_pair(transport, now=0.0)
    request_id = pair.client.send_request("tools/call", {"name": "a"}, now=1.0)
    pair.pump(1.0)
    pair.events()
    mark = len(pair.wire)
    pair.client.cancel(request_id, "user gave up")
    assert pair.next_deadlines() == (None, None)
    pair.pump(2.0)
    assert new_wire(pair, mark, "client") == [cancelled(request_id, "user gave up")]
    client_events, server_events = pair.events()
    assert client_events == []
    assert only(server_events, RequestCancelled) == RequestCancelled(request_id, "user gave up")
    mark = len(pair.wire)
    pair.server.respond(request_id, EMPTY_CALL)
    pair.pump(3.0)
    assert pair.wire[mark:] == []


@REQUESTS_IN
def test_a_server_cancels_its_request_without_a_reason(transport: str) -> None:
    pair = handshake_pair(transport, client_caps=ClientCapabilities(roots={}))
    request_id = pair.server.send_request("roots/list", now=1.0)
    pair.pump(1.0)
    pair.events()
    mark = len(pair.wire)
    pair.server.cancel(request_id)
    pair.pump(2.0)
    assert new_wire(pair, mark, "server") == [cancelled(request_id)]
    client_events, _ = pair.events()
    assert only(client_events, RequestCancelled) == RequestCancelled(request_id, None)
    pair.client.respond(request_id, ListRootsResult(roots=[]))
    pair.pump(3.0)
    assert new_wire(pair, mark, "client") == []


def test_a_late_answer_to_a_cancelled_request_is_unknown() -> None:
    client, peer = initialized_client()
    request_id = client.send_request("tools/list", now=0.0)
    peer.replies()
    client.cancel(request_id, "enough")
    assert peer.replies() == [cancelled(request_id, "enough")]
    assert peer.send(answer(request_id, {"tools": []}), 1.0) == []
    assert isinstance(
        only(client.events_received(), UnknownResponseReceived), UnknownResponseReceived
    )


def test_cancel_of_an_unknown_id_is_a_no_op() -> None:
    client, peer = initialized_client()
    client.send_request("tools/list", now=0.0)
    peer.replies()
    client.cancel(42, "nothing")
    client.cancel("2")
    assert peer.replies() == []
    assert client.events_received() == []
    assert client.next_deadline() == 60.0


def test_initialize_cannot_be_cancelled() -> None:
    client = ClientSession(ClientSessionConfig(revisions=("2025-11-25",)))
    client.start(3.0)
    (init,) = Peer(client).replies()
    assert init["method"] == "initialize"
    with pytest.raises(LocalProtocolError, match="initialize cannot be cancelled"):
        client.cancel(init["id"])
    assert client.messages_to_send() == []
    assert client.state is State.INITIALIZING
    assert client.next_deadline() == 63.0


def test_the_discover_probe_cannot_be_cancelled() -> None:
    client = ClientSession()
    client.start(0.0)
    (probe,) = Peer(client).replies()
    assert probe["method"] == "server/discover"
    with pytest.raises(LocalProtocolError, match="server/discover cannot be cancelled"):
        client.cancel(probe["id"])
    assert client.state is State.DISCOVERING
    assert client.next_deadline() == 10.0


def test_an_incoming_cancel_drops_the_answer() -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    peer.send(request(1, "tools/call", {"name": "a", "_meta": {"progressToken": "t"}}))
    peer.send(request(2, "tools/list"))
    server.events_received()
    assert peer.send(cancelled(1, "stop")) == []
    assert peer.send(cancelled(2)) == []
    assert server.events_received() == [RequestCancelled(1, "stop"), RequestCancelled(2, None)]
    assert server.send_progress(1, 0.5) is False
    server.respond(1, EMPTY_CALL)
    server.respond_error(2, -32000, "too late")
    assert peer.replies() == []
    with pytest.raises(LocalProtocolError):
        server.respond(1, EMPTY_CALL)


def test_a_second_cancel_for_the_same_request_is_not_reported_again() -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    peer.send(request(1, "tools/list"))
    server.events_received()
    peer.send(cancelled(1, "one"))
    peer.send(cancelled(1, "two"))
    assert server.events_received() == [RequestCancelled(1, "one")]


def test_a_cancel_for_an_unknown_id_is_ignored() -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    peer.send(request(1, "tools/list"))
    server.events_received()
    assert peer.send(cancelled(2, "who?")) == []
    assert peer.send(cancelled("1", "wrong type")) == []
    assert no_cancel_events(server.events_received())
    server.respond(1, ListToolsResult(tools=[]))
    assert peer.replies() == [answer(1, {"tools": []})]


@pytest.mark.parametrize("revision", ["2025-11-25", "2024-11-05"])
def test_a_cancel_without_request_id_is_ignored(revision: str) -> None:
    server, peer = initialized_server(revision, ServerSessionConfig(capabilities=TOOLS))
    peer.send(request(1, "tools/list"))
    server.events_received()
    assert peer.send(notification("notifications/cancelled", {"reason": "x"})) == []
    assert no_cancel_events(server.events_received())
    server.respond(1, ListToolsResult(tools=[]))
    assert peer.replies() == [answer(1, {"tools": []})]


def test_a_client_is_told_of_the_servers_cancel() -> None:
    client, peer = initialized_client(client_caps=ClientCapabilities(roots={}))
    peer.send(request(4, "roots/list"))
    client.events_received()
    peer.send(cancelled(4, "bye"))
    assert client.events_received() == [RequestCancelled(4, "bye")]
    client.respond(4, ListRootsResult(roots=[]))
    assert peer.replies() == []


# Progress -----------------------------------------------------------------------------------


@REQUESTS_IN
def test_progress_true_puts_the_request_id_in_meta(transport: str) -> None:
    pair = stateless_pair(transport)
    with_token = pair.client.send_request("tools/list", now=0.0, progress=True)
    without = pair.client.send_request(
        "tools/list", {"_meta": {"custom": 1}}, now=0.0, progress=True
    )
    plain = pair.client.send_request("tools/list", now=0.0)
    pair.pump(0.0)
    sent = {m["id"]: m for m in pair.sent_by("client")}
    assert sent[with_token]["params"]["_meta"]["progressToken"] == with_token
    assert sent[without]["params"]["_meta"]["progressToken"] == without
    assert sent[without]["params"]["_meta"]["custom"] == 1
    assert "progressToken" not in sent[plain]["params"]["_meta"]
    _, server_events = pair.events()
    params = [e.params for e in server_events if isinstance(e, RequestReceived)]
    assert all(isinstance(p, PaginatedRequestParams) for p in params)
    tokens = [(getattr(p, "meta", None) or {}).get("progressToken") for p in params]
    assert tokens == [with_token, without, None]


@REQUESTS_IN
def test_progress_reaches_the_client(transport: str) -> None:
    pair = stateless_pair(transport)
    request_id = pair.client.send_request("tools/call", {"name": "a"}, now=0.0, progress=True)
    pair.pump(0.0)
    pair.events()
    assert pair.server.send_progress(request_id, 1, total=3, message="one") is True
    assert pair.server.send_progress(request_id, 2.5) is True
    pair.pump(1.0)
    client_events, _ = pair.events()
    assert client_events == [
        ProgressReceived(request_id, 1, 3, "one"),
        ProgressReceived(request_id, 2.5, None, None),
    ]
    progress_sent = [m for m in pair.sent_by("server") if m.get("method")]
    assert progress_sent == [
        progress(request_id, 1, total=3, message="one"),
        progress(request_id, 2.5),
    ]


@REQUESTS_IN
def test_progress_reaches_the_server(transport: str) -> None:
    pair = handshake_pair(transport, client_caps=ClientCapabilities(roots={}))
    request_id = pair.server.send_request("roots/list", now=0.0, progress=True)
    pair.pump(0.0)
    client_events, _ = pair.events()
    received = only(client_events, RequestReceived)
    assert isinstance(received.params, RequestParams)
    assert received.params.meta == {"progressToken": request_id}
    assert pair.client.send_progress(request_id, 7, total=10) is True
    pair.pump(0.0)
    _, server_events = pair.events()
    assert server_events == [ProgressReceived(request_id, 7, 10, None)]


def test_send_progress_must_increase() -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    peer.send(request(1, "tools/list", {"_meta": {"progressToken": "tok"}}))
    assert server.send_progress(1, 5) is True
    assert peer.replies() == [progress("tok", 5)]
    with pytest.raises(LocalProtocolError, match="increase"):
        server.send_progress(1, 5)
    with pytest.raises(LocalProtocolError, match="increase"):
        server.send_progress(1, 4)
    assert peer.replies() == []
    assert server.send_progress(1, 6) is True
    assert peer.replies() == [progress("tok", 6)]


def test_send_progress_returns_false_without_a_token() -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    peer.send(request(1, "tools/list"))
    assert server.send_progress(1, 1) is False
    assert peer.replies() == []


def test_send_progress_for_an_unknown_request_raises() -> None:
    server, _ = initialized_server()
    with pytest.raises(LocalProtocolError, match="no request"):
        server.send_progress(9, 1)


def test_non_increasing_progress_is_ignored_by_the_client() -> None:
    client, peer = initialized_client()
    request_id = client.send_request("tools/list", now=0.0, progress=True)
    peer.replies()
    assert peer.send(progress(request_id, 2)) == []
    assert only(client.events_received(), ProgressReceived).progress == 2
    for value in (2, 1):
        assert peer.send(progress(request_id, value)) == []
        ignored = only(client.events_received(), ProgressIgnored)
        assert (ignored.progress_token, ignored.progress) == (request_id, value)
    peer.send(progress(request_id, 3))
    assert only(client.events_received(), ProgressReceived).progress == 3


def test_progress_with_an_unknown_token_is_ignored() -> None:
    client, peer = initialized_client()
    plain = client.send_request("tools/list", now=0.0)
    peer.replies()
    for token in (99, "x", plain):
        assert peer.send(progress(token, 1)) == []
        ignored = only(client.events_received(), ProgressIgnored)
        assert (ignored.progress_token, ignored.progress) == (token, 1)


def test_progress_after_the_answer_is_ignored() -> None:
    client, peer = initialized_client()
    request_id = client.send_request("tools/list", now=0.0, progress=True)
    peer.replies()
    peer.send(answer(request_id, {"tools": []}))
    client.events_received()
    peer.send(progress(request_id, 1))
    assert only(client.events_received(), ProgressIgnored).progress_token == request_id


@REQUESTS_IN
def test_the_progress_message_is_left_out_in_2024_11_05(transport: str) -> None:
    pair = handshake_pair(transport, "2024-11-05")
    request_id = pair.client.send_request("tools/list", now=0.0, progress=True)
    pair.pump(0.0)
    pair.events()
    mark = len(pair.wire)
    assert pair.server.send_progress(request_id, 1, total=2, message="half") is True
    pair.pump(0.0)
    assert new_wire(pair, mark, "server") == [progress(request_id, 1, total=2)]
    client_events, _ = pair.events()
    assert client_events == [ProgressReceived(request_id, 1, 2, None)]


@REQUESTS_IN
def test_the_progress_message_is_sent_from_2025_03_26(transport: str) -> None:
    pair = handshake_pair(transport, "2025-03-26")
    request_id = pair.client.send_request("tools/list", now=0.0, progress=True)
    pair.pump(0.0)
    pair.server.send_progress(request_id, 1, message="half")
    pair.pump(0.0)
    client_events, _ = pair.events()
    assert client_events == [ProgressReceived(request_id, 1, None, "half")]


# Limits -------------------------------------------------------------------------------------


@REQUESTS_IN
def test_local_requests_beyond_max_pending_raise_and_send_nothing(transport: str) -> None:
    pair = stateless_pair(transport, client={"max_pending_requests": 2})
    first = pair.client.send_request("tools/list", now=0.0)
    pair.client.send_request("tools/list", now=0.0)
    pair.pump(0.0)
    pair.events()
    mark = len(pair.wire)
    with pytest.raises(LocalProtocolError, match="too many requests"):
        pair.client.send_request("tools/list", now=1.0)
    pair.pump(1.0)
    assert pair.wire[mark:] == []
    assert pair.next_deadlines() == (60.0, None)
    pair.server.respond(first, ListToolsResult(tools=[]))
    pair.pump(2.0)
    assert pair.client.send_request("tools/list", now=2.0) == 4


@REQUESTS_IN
def test_peer_requests_beyond_max_pending_get_too_many_requests(transport: str) -> None:
    pair = stateless_pair(transport, server={"max_pending_requests": 2})
    ids = [pair.client.send_request("tools/list", now=0.0) for _ in range(3)]
    pair.pump(0.0)
    client_events, server_events = pair.events()
    assert [e.request_id for e in server_events if isinstance(e, RequestReceived)] == ids[:2]
    rejected = [e for e in server_events if isinstance(e, RequestRejected)]
    assert [(e.request_id, e.method, e.error.code) for e in rejected] == [
        (ids[2], "tools/list", TOO_MANY_REQUESTS)
    ]
    refused = only(client_events, ErrorReceived)
    assert (refused.request_id, refused.error.code) == (ids[2], -32005)
    pair.server.respond(ids[0], ListToolsResult(tools=[]))
    again = pair.client.send_request("tools/list", now=1.0)
    pair.pump(1.0)
    _, server_events = pair.events()
    assert only(server_events, RequestReceived).request_id == again


@REQUESTS_IN
def test_a_draining_session_refuses_new_requests_and_answers_those_in_flight(
    transport: str,
) -> None:
    pair = handshake_pair(transport)
    first = pair.client.send_request("tools/list", now=0.0)
    pair.pump(0.0)
    pair.events()
    pair.server.drain()
    second = pair.client.send_request("tools/list", now=1.0)
    pair.client.send_request("ping", now=1.0)
    pair.pump(1.0)
    client_events, server_events = pair.events()
    (rejected,) = server_events
    assert isinstance(rejected, RequestRejected)
    assert (rejected.request_id, rejected.error.code) == (second, SHUTTING_DOWN)
    refused, pong = client_events
    assert isinstance(refused, ErrorReceived)
    assert (refused.request_id, refused.error.code) == (second, -32006)
    assert refused.error.message == "the server is shutting down"
    assert isinstance(pong, ResponseReceived)
    assert pong.method == "ping"
    pair.server.respond(first, ListToolsResult(tools=[]))
    pair.pump(2.0)
    client_events, _ = pair.events()
    assert only(client_events, ResponseReceived).request_id == first


def test_a_client_answers_too_many_server_requests_with_32005() -> None:
    client, peer = initialized_client(
        client_caps=ClientCapabilities(roots={}), max_pending_requests=1
    )
    assert peer.send(request(1, "roots/list")) == []
    (reply,) = peer.send(request(2, "roots/list"))
    assert (reply["id"], reply["error"]["code"]) == (2, TOO_MANY_REQUESTS)
    assert [type(e) for e in client.events_received()] == [RequestReceived, RequestRejected]


# Capabilities -------------------------------------------------------------------------------


def test_a_client_cannot_call_tools_on_a_server_without_them() -> None:
    pair = stateless_pair("direct", server_caps=ServerCapabilities())
    mark = len(pair.wire)
    with pytest.raises(LocalProtocolError, match="tools"):
        pair.client.send_request("tools/call", {"name": "a"}, now=0.0)
    pair.pump(0.0)
    assert pair.wire[mark:] == []
    assert pair.next_deadlines() == (None, None)


def test_a_server_cannot_ask_a_client_without_sampling() -> None:
    pair = handshake_pair("direct", client_caps=ClientCapabilities(roots={}))
    params = {
        "messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}],
        "maxTokens": 5,
    }
    mark = len(pair.wire)
    with pytest.raises(LocalProtocolError, match="sampling"):
        pair.server.send_request("sampling/createMessage", params, now=0.0)
    pair.pump(0.0)
    assert pair.wire[mark:] == []
    assert pair.server.send_request("roots/list", now=0.0) == 1


def test_a_server_refuses_a_request_for_a_capability_it_did_not_declare() -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=ServerCapabilities()))
    for method, params in [("tools/call", {"name": "a"}), ("prompts/list", None)]:
        (reply,) = peer.send(request(1, method, params))
        assert reply["error"]["code"] == -32601
        rejected = only(server.events_received(), RequestRejected)
        assert (rejected.request_id, rejected.method, rejected.error.code) == (1, method, -32601)


def test_a_client_refuses_a_request_for_a_capability_it_did_not_declare() -> None:
    client, peer = initialized_client()
    (reply,) = peer.send(request(1, "roots/list"))
    assert (reply["id"], reply["error"]["code"]) == (1, -32601)
    assert "roots" in reply["error"]["message"]
    assert only(client.events_received(), RequestRejected).method == "roots/list"


def test_resources_subscribe_needs_the_subscribe_capability_to_send() -> None:
    uri = {"uri": "file:///a"}
    client, peer = initialized_client(server_caps={"resources": {}})
    with pytest.raises(LocalProtocolError, match=r"resources\.subscribe"):
        client.send_request("resources/subscribe", uri, now=0.0)
    assert peer.replies() == []
    client.send_request("resources/read", uri, now=0.0)
    subscriber, peer = initialized_client(server_caps={"resources": {"subscribe": True}})
    subscriber.send_request("resources/subscribe", uri, now=0.0)
    assert [m["method"] for m in peer.replies()] == ["resources/subscribe"]


@pytest.mark.parametrize(
    ("resources", "code"),
    [({}, -32601), ({"subscribe": False}, -32601), ({"subscribe": True}, None)],
)
def test_resources_subscribe_needs_the_subscribe_capability_to_serve(
    resources: dict[str, Any], code: int | None
) -> None:
    config = ServerSessionConfig(capabilities=ServerCapabilities(resources=resources))
    server, peer = initialized_server(config=config)
    replies = peer.send(request(1, "resources/subscribe", {"uri": "file:///a"}))
    if code is None:
        assert replies == []
        assert only(server.events_received(), RequestReceived).method == "resources/subscribe"
    else:
        assert [(r["id"], r["error"]["code"]) for r in replies] == [(1, code)]
        assert "resources.subscribe" in replies[0]["error"]["message"]


COMPLETE = {
    "ref": {"type": "ref/prompt", "name": "p"},
    "argument": {"name": "a", "value": "v"},
}


@pytest.mark.parametrize(
    ("revision", "served"),
    [("2024-11-05", True), ("2025-03-26", False), ("2025-11-25", False)],
)
def test_completion_needs_the_completions_capability_after_2024_11_05(
    revision: str, served: bool
) -> None:
    server, peer = initialized_server(revision, ServerSessionConfig(capabilities=TOOLS))
    replies = peer.send(request(1, "completion/complete", COMPLETE))
    if served:
        assert replies == []
        assert only(server.events_received(), RequestReceived).method == "completion/complete"
    else:
        assert [(r["id"], r["error"]["code"]) for r in replies] == [(1, -32601)]
    client, peer = initialized_client(revision, server_caps={"tools": {}})
    if served:
        client.send_request("completion/complete", COMPLETE, now=0.0)
        assert [m["method"] for m in peer.replies()] == ["completion/complete"]
    else:
        with pytest.raises(LocalProtocolError, match="completions"):
            client.send_request("completion/complete", COMPLETE, now=0.0)
        assert peer.replies() == []


def test_completion_is_served_with_the_completions_capability() -> None:
    config = ServerSessionConfig(capabilities=ServerCapabilities(completions={}))
    server, peer = initialized_server("2025-06-18", config)
    assert peer.send(request(1, "completion/complete", COMPLETE)) == []
    assert only(server.events_received(), RequestReceived).method == "completion/complete"


def test_tasks_methods_need_the_tasks_capability() -> None:
    client, peer = initialized_client(server_caps={"tools": {}})
    with pytest.raises(LocalProtocolError, match="tasks"):
        client.send_request("tasks/list", now=0.0)
    assert peer.replies() == []
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    (reply,) = peer.send(request(1, "tasks/list"))
    assert (reply["error"]["code"], "tasks" in reply["error"]["message"]) == (-32601, True)
    config = ServerSessionConfig(capabilities=ServerCapabilities(tasks={"list": {}}))
    server, peer = initialized_server(config=config)
    assert peer.send(request(1, "tasks/list")) == []
    assert only(server.events_received(), RequestReceived).method == "tasks/list"


# Methods the session answers by itself ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("no/such/method", None),
        ("notifications/roots/list_changed", None),
        ("notifications/initialized", None),
        ("sampling/createMessage", {"messages": [], "maxTokens": 1}),
        ("roots/list", None),
    ],
)
def test_a_server_answers_what_it_does_not_serve_with_method_not_found(
    method: str, params: Any
) -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    (reply,) = peer.send(request("q", method, params))
    assert (reply["id"], reply["error"]["code"]) == ("q", -32601)
    assert method in reply["error"]["message"]
    rejected = only(server.events_received(), RequestRejected)
    assert (rejected.request_id, rejected.method, rejected.error.code) == ("q", method, -32601)
    assert server.state is State.READY


@pytest.mark.parametrize(
    "method", ["no/such/method", "tools/list", "notifications/tools/list_changed"]
)
def test_a_client_answers_what_it_does_not_serve_with_method_not_found(method: str) -> None:
    client, peer = initialized_client()
    (reply,) = peer.send(request(3, method))
    assert (reply["id"], reply["error"]["code"]) == (3, -32601)
    assert only(client.events_received(), RequestRejected).error.code == -32601


@pytest.mark.parametrize(
    ("method", "params", "field"),
    [
        ("tools/call", {"name": 5}, "name"),
        ("tools/call", {"name": "a", "arguments": []}, "arguments"),
        ("resources/read", {}, "uri"),
        ("tools/list", {"cursor": 1}, "cursor"),
    ],
)
def test_invalid_params_are_refused_naming_the_field(method: str, params: Any, field: str) -> None:
    config = ServerSessionConfig(capabilities=ServerCapabilities(tools={}, resources={}))
    server, peer = initialized_server(config=config)
    (reply,) = peer.send(request(8, method, params))
    assert (reply["id"], reply["error"]["code"]) == (8, -32602)
    assert field in reply["error"]["message"]
    rejected = only(server.events_received(), RequestRejected)
    assert (rejected.request_id, rejected.method, rejected.error.code) == (8, method, -32602)


def test_a_client_refuses_invalid_params_naming_the_field() -> None:
    _, peer = initialized_client(client_caps=ClientCapabilities(sampling={}))
    (reply,) = peer.send(request(1, "sampling/createMessage", {"messages": []}))
    assert (reply["id"], reply["error"]["code"]) == (1, -32602)
    assert "maxTokens" in reply["error"]["message"]


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("notifications/no_such_thing", None),
        ("notifications/progress", {"progress": 1}),
        ("notifications/cancelled", {"requestId": {"a": 1}}),
        ("notifications/tools/list_changed", None),
        ("notifications/message", {"level": "info", "data": 1}),
        ("tools/list", None),
    ],
)
def test_a_server_never_answers_a_notification(method: str, params: Any) -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    assert peer.send(notification(method, params)) == []
    ignored = only(server.events_received(), NotificationIgnored)
    assert ignored.method == method
    assert ignored.reason


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("notifications/no_such_thing", None),
        ("notifications/message", {"level": "loud", "data": 1}),
        ("notifications/roots/list_changed", None),
    ],
)
def test_a_client_never_answers_a_notification(method: str, params: Any) -> None:
    client, peer = initialized_client()
    assert peer.send(notification(method, params)) == []
    assert only(client.events_received(), NotificationIgnored).method == method


def test_a_client_waiting_for_initialize_sends_only_utilities() -> None:
    client = ClientSession(ClientSessionConfig(revisions=("2025-11-25",)))
    client.start(0.0)
    peer = Peer(client)
    peer.replies()
    with pytest.raises(LocalProtocolError):
        client.send_request("tools/list", now=0.0)
    assert client.send_request("ping", now=1.0) == 2
    assert peer.replies() == [request(2, "ping")]
    assert client.next_deadline() == 60.0


def test_a_probing_client_refuses_server_requests_and_notifications() -> None:
    client = ClientSession()
    client.start(0.0)
    peer = Peer(client)
    peer.replies()
    (reply,) = peer.send(request(1, "ping"))
    assert (reply["id"], reply["error"]["code"]) == (1, -32600)
    assert only(client.events_received(), RequestRejected).method == "ping"
    assert peer.send(notification("notifications/tools/list_changed")) == []
    ignored = only(client.events_received(), NotificationIgnored)
    assert ignored.method == "notifications/tools/list_changed"
    assert "discovering" in ignored.reason


@REQUESTS_IN
def test_a_stateless_client_refuses_server_requests(transport: str) -> None:
    pair = stateless_pair(transport)
    peer = Peer(pair.client)
    (reply,) = peer.send(request(1, "roots/list"))
    assert (reply["id"], reply["error"]["code"]) == (1, -32601)
    assert only(pair.client.events_received(), RequestRejected).method == "roots/list"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("request_timeout", 0),
        ("request_timeout", -1.0),
        ("request_timeout", float("nan")),
        ("request_timeout", "60"),
        ("request_timeout", True),
        ("max_request_time", 0.0),
        ("max_request_time", True),
        ("max_pending_requests", 0),
        ("max_pending_requests", 2.0),
        ("max_pending_requests", True),
    ],
)
def test_request_limits_are_validated(option: str, value: Any) -> None:
    with pytest.raises(ValueError, match=option):
        ClientSessionConfig(**{option: value})
    with pytest.raises(ValueError, match=option):
        ServerSessionConfig(**{option: value})


# Commands -----------------------------------------------------------------------------------

RESERVED = [
    "initialize",
    "notifications/initialized",
    "server/discover",
    "notifications/cancelled",
    "notifications/progress",
]


@pytest.mark.parametrize("method", RESERVED)
def test_reserved_methods_cannot_be_sent_by_hand(method: str) -> None:
    for session in (initialized_client()[0], initialized_server()[0]):
        with pytest.raises(LocalProtocolError, match="itself"):
            session.send_request(method, now=0.0)
        with pytest.raises(LocalProtocolError, match="itself"):
            session.send_notification(method)
        assert session.messages_to_send() == []
        assert session.next_deadline() is None


def test_requests_before_the_session_opens_raise() -> None:
    for session in (ClientSession(), ServerSession()):
        with pytest.raises(LocalProtocolError):
            session.send_request("ping", now=0.0)
        with pytest.raises(LocalProtocolError):
            session.send_notification("notifications/message", {"level": "info", "data": 1})
        assert session.messages_to_send() == []
        assert session.next_deadline() is None
        assert session.state is State.IDLE


def test_mapping_params_are_validated_naming_the_field() -> None:
    client, peer = initialized_client()
    with pytest.raises(LocalProtocolError, match="name"):
        client.send_request("tools/call", {"name": 5}, now=0.0)
    with pytest.raises(LocalProtocolError, match="tools/call"):
        client.send_request("tools/call", None, now=0.0)
    with pytest.raises(LocalProtocolError, match="params must be"):
        client.send_request("tools/list", [1], now=0.0)  # type: ignore[arg-type]
    assert peer.replies() == []
    assert client.next_deadline() is None
    assert client.send_request("tools/call", {"name": "a", "arguments": {"x": 1}}, now=0.0) == 2
    assert peer.replies() == [
        request(2, "tools/call", {"name": "a", "arguments": {"x": 1}}),
    ]


def test_notification_params_are_validated() -> None:
    server, peer = initialized_server()
    with pytest.raises(LocalProtocolError, match="level"):
        server.send_notification("notifications/message", {"data": 1})
    assert peer.replies() == []


@pytest.mark.parametrize(
    ("revision", "expected"),
    [
        ("2025-11-25", {"name": "a", "arguments": {"x": 1}, "task": {"ttl": 5}}),
        ("2025-06-18", {"name": "a", "arguments": {"x": 1}}),
    ],
)
def test_model_params_are_encoded_for_the_revision(revision: str, expected: Any) -> None:
    client, peer = initialized_client(revision)
    params = CallToolRequestParams(name="a", arguments={"x": 1}, task=TaskMetadata(ttl=5))
    request_id = client.send_request("tools/call", params, now=0.0)
    assert peer.replies() == [request(request_id, "tools/call", expected)]


@pytest.mark.parametrize(
    ("revision", "method"),
    [
        ("2025-11-25", "no/such/method"),
        ("2025-03-26", "elicitation/create"),
        ("2024-11-05", "tasks/list"),
        ("2025-11-25", "notifications/tools/list_changed"),
        ("2025-11-25", "sampling/createMessage"),
    ],
)
def test_a_request_the_revision_lacks_or_the_client_may_not_send_raises(
    revision: str, method: str
) -> None:
    client, peer = initialized_client(revision)
    with pytest.raises(LocalProtocolError, match=method):
        client.send_request(method, now=0.0)
    assert peer.replies() == []
    assert client.send_request("ping", now=0.0) == 2


@pytest.mark.parametrize(
    "method", ["tools/list", "notifications/no_such_thing", "notifications/tools/list_changed"]
)
def test_a_notification_the_client_may_not_send_raises(method: str) -> None:
    client, peer = initialized_client()
    with pytest.raises(LocalProtocolError, match=method):
        client.send_notification(method)
    assert peer.replies() == []


def test_a_server_may_not_send_elicitation_before_2025_06_18() -> None:
    server, peer = initialized_server("2025-03-26")
    with pytest.raises(LocalProtocolError, match="elicitation/create"):
        server.send_request("elicitation/create", {"message": "m"}, now=0.0)
    assert peer.replies() == []


@pytest.mark.parametrize("typed", [False, True])
def test_an_unencodable_value_raises_and_consumes_no_id(typed: bool) -> None:
    client, peer = initialized_client()
    nan = float("nan")
    params: CallToolRequestParams | dict[str, Any] = (
        CallToolRequestParams(name="a", arguments={"v": nan})
        if typed
        else {"name": "a", "arguments": {"v": nan}}
    )
    with pytest.raises(LocalProtocolError):
        client.send_request("tools/call", params, now=0.0)
    assert peer.replies() == []
    assert client.next_deadline() is None
    assert client.state is State.READY
    assert client.send_request("tools/call", {"name": "a"}, now=1.0) == 2
    assert client.next_deadline() == 61.0


def test_an_unencodable_notification_raises_and_sends_nothing() -> None:
    server, peer = initialized_server()
    with pytest.raises(LocalProtocolError):
        server.send_notification("notifications/message", {"level": "info", "data": float("inf")})
    assert peer.replies() == []


def test_respond_with_the_wrong_result_raises_and_keeps_the_request() -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    peer.send(request(1, "tools/call", {"name": "a"}))
    with pytest.raises(LocalProtocolError, match="CallToolResult"):
        server.respond(1, ListToolsResult(tools=[]))
    with pytest.raises(LocalProtocolError, match="content"):
        server.respond(1, {"content": 5})
    with pytest.raises(LocalProtocolError):
        server.respond(1, CallToolResult(content=[], structured_content={"v": float("nan")}))
    assert peer.replies() == []
    (reply,) = peer.send(request(1, "tools/list"))
    assert reply["error"]["code"] == -32600
    server.respond(1, {"content": [{"type": "text", "text": "ok"}]})
    assert peer.replies() == [answer(1, {"content": [{"type": "text", "text": "ok"}]})]


def test_respond_to_an_unknown_id_raises() -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    with pytest.raises(LocalProtocolError, match="no request"):
        server.respond(1, EMPTY_CALL)
    with pytest.raises(LocalProtocolError, match="no request"):
        server.respond_error(1, -32000, "x")
    peer.send(request(1, "tools/call", {"name": "a"}))
    server.respond(1, EMPTY_CALL)
    with pytest.raises(LocalProtocolError, match="no request"):
        server.respond(1, EMPTY_CALL)
    assert peer.replies() == [answer(1, {"content": []})]


@REQUESTS_IN
def test_input_required_answers_tools_call_in_2026_07_28(transport: str) -> None:
    pair = stateless_pair(transport)
    call = pair.client.send_request("tools/call", {"name": "a"}, now=0.0)
    listing = pair.client.send_request("tools/list", now=0.0)
    pair.pump(0.0)
    pair.events()
    with pytest.raises(LocalProtocolError, match="ListToolsResult"):
        pair.server.respond(listing, InputRequiredResult(request_state="s"))
    pair.server.respond(call, InputRequiredResult(request_state="s"))
    pair.pump(0.0)
    client_events, _ = pair.events()
    response = only(client_events, ResponseReceived)
    assert response.request_id == call
    assert isinstance(response.result, InputRequiredResult)
    assert response.result.request_state == "s"
    assert pair.sent_by("server")[-1]["result"]["resultType"] == "input_required"
    assert pair.next_deadlines() == (60.0, None)


def test_input_required_is_refused_in_2025_11_25() -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    peer.send(request(1, "tools/call", {"name": "a"}))
    with pytest.raises(LocalProtocolError):
        server.respond(1, InputRequiredResult(request_state="s"))
    assert peer.replies() == []


@REQUESTS_IN
def test_results_are_completed_for_the_stateless_era(transport: str) -> None:
    pair = stateless_pair(transport)
    listing = pair.client.send_request("tools/list", now=0.0)
    call = pair.client.send_request("tools/call", {"name": "a"}, now=0.0)
    pair.pump(0.0)
    mark = len(pair.wire)
    pair.server.respond(listing, ListToolsResult(tools=[]))
    pair.server.respond(call, {"content": []})
    pair.pump(0.0)
    info = {"name": "srv", "version": "2.0"}
    assert new_wire(pair, mark, "server") == [
        answer(
            listing,
            {
                "tools": [],
                "ttlMs": 0,
                "cacheScope": "private",
                "resultType": "complete",
                "_meta": {META_SERVER_INFO: info},
            },
        ),
        answer(call, {"content": [], "resultType": "complete", "_meta": {META_SERVER_INFO: info}}),
    ]


@REQUESTS_IN
def test_stateless_members_the_app_set_are_kept_in_2026_07_28(transport: str) -> None:
    pair = stateless_pair(transport)
    listing = pair.client.send_request("tools/list", now=0.0)
    pair.pump(0.0)
    mark = len(pair.wire)
    result = ListToolsResult(tools=[], ttl_ms=500, cache_scope="public", meta={"k": 1})
    pair.server.respond(listing, result)
    pair.pump(0.0)
    (sent,) = new_wire(pair, mark, "server")
    assert sent["result"] == {
        "tools": [],
        "ttlMs": 500,
        "cacheScope": "public",
        "resultType": "complete",
        "_meta": {"k": 1, META_SERVER_INFO: {"name": "srv", "version": "2.0"}},
    }


@REQUESTS_IN
def test_stateless_members_are_stripped_in_2025_11_25(transport: str) -> None:
    pair = handshake_pair(transport, "2025-11-25")
    listing = pair.client.send_request("tools/list", now=0.0)
    call = pair.client.send_request("tools/call", {"name": "a"}, now=0.0)
    pair.pump(0.0)
    mark = len(pair.wire)
    typed = ListToolsResult(tools=[], ttl_ms=5, cache_scope="public", result_type="complete")
    pair.server.respond(listing, typed)
    pair.server.respond(call, {"content": [], "resultType": "complete", "ttlMs": 1})
    pair.pump(0.0)
    assert new_wire(pair, mark, "server") == [
        answer(listing, {"tools": []}),
        answer(call, {"content": []}),
    ]
    client_events, _ = pair.events()
    assert [type(e) for e in client_events] == [ResponseReceived, ResponseReceived]


# Notifications ------------------------------------------------------------------------------


@REQUESTS_IN
def test_ordinary_notifications_arrive_typed(transport: str) -> None:
    pair = handshake_pair(transport, server_caps=ServerCapabilities(tools={}, logging={}))
    pair.server.send_notification("notifications/tools/list_changed")
    log = LoggingMessageNotificationParams(level="info", data={"a": 1}, logger="core")
    pair.server.send_notification("notifications/message", log)
    pair.pump(0.0)
    client_events, _ = pair.events()
    changed = NotificationParams()
    assert client_events == [
        NotificationReceived("notifications/tools/list_changed", changed, "2025-11-25"),
        NotificationReceived("notifications/message", log, "2025-11-25"),
    ]
    entry = {"level": "info", "data": {"a": 1}, "logger": "core"}
    assert pair.sent_by("server")[-2:] == [
        notification("notifications/tools/list_changed"),
        notification("notifications/message", entry),
    ]


@REQUESTS_IN
def test_a_client_notification_reaches_the_server(transport: str) -> None:
    pair = handshake_pair(transport, client_caps=ClientCapabilities(roots={"listChanged": True}))
    pair.client.send_notification("notifications/roots/list_changed")
    pair.pump(0.0)
    _, server_events = pair.events()
    assert server_events == [
        NotificationReceived("notifications/roots/list_changed", NotificationParams(), "2025-11-25")
    ]


# close() ------------------------------------------------------------------------------------


def test_close_forgets_requests_in_flight_and_ignores_what_follows() -> None:
    client, peer = initialized_client(client_caps=ClientCapabilities(roots={}))
    mine = client.send_request("tools/list", now=0.0, progress=True)
    peer.send(request("theirs", "roots/list"))
    peer.replies()
    client.events_received()
    assert client.next_deadline() == 60.0
    client.close()
    assert client.state is State.CLOSED
    assert client.next_deadline() is None
    client.handle_timeout(1000.0)
    assert peer.send(answer(mine, {"tools": []})) == []
    assert peer.send(progress(mine, 1)) == []
    assert peer.send(request(9, "ping")) == []
    assert peer.send(notification("notifications/tools/list_changed")) == []
    client.respond("theirs", ListRootsResult(roots=[]))
    client.respond_error("theirs", -32000, "x")
    assert client.send_progress("theirs", 1) is False
    client.cancel(mine)
    assert peer.replies() == []
    assert client.events_received() == []


def test_close_on_the_server_drops_answers() -> None:
    server, peer = initialized_server(config=ServerSessionConfig(capabilities=TOOLS))
    peer.send(request(1, "tools/list"))
    server.events_received()
    server.close()
    server.respond(1, ListToolsResult(tools=[]))
    assert peer.send(request(2, "tools/list")) == []
    assert server.events_received() == []
    assert server.next_deadline() is None


@pytest.mark.parametrize(
    ("revisions", "message"),
    [((), "at least one revision"), (("2025-11-25", "1900-01-01"), "unknown MCP revisions")],
)
def test_the_configured_revisions_are_validated(revisions: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClientSessionConfig(revisions=revisions)
    with pytest.raises(ValueError, match=message):
        ServerSessionConfig(revisions=revisions)


@pytest.mark.parametrize("ttl", [-1, 1.5, True])
def test_the_discover_ttl_is_a_whole_number_of_milliseconds(ttl: Any) -> None:
    with pytest.raises(ValueError, match="discover_ttl_ms"):
        ServerSessionConfig(discover_ttl_ms=ttl)


def test_each_era_is_switched_on_by_its_revisions() -> None:
    config = ClientSessionConfig(revisions=["2025-06-18", "2024-11-05"])
    assert (config.handshake_revisions, config.stateless_revisions) == (
        ("2024-11-05", "2025-06-18"),
        (),
    )
    assert ServerSessionConfig(revisions=("2026-07-28",)).handshake_revisions == ()


@pytest.mark.parametrize("revision", ["2024-11-05", "2025-06-18", "2025-11-25"])
def test_a_batch_handed_to_a_session_of_another_revision_is_refused(revision: str) -> None:
    server, peer = initialized_server(revision, ServerSessionConfig(capabilities=TOOLS))
    (reply,) = peer.send([request(1, "tools/list"), request(2, "ping")])
    assert reply == {
        "jsonrpc": "2.0",
        "error": {"code": -32600, "message": "batches are only allowed in 2025-03-26"},
    }
    rejected = only(server.events_received(), RequestRejected)
    assert (rejected.request_id, rejected.method) == (None, None)


# Extensions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("revision", ["2024-11-05", "2025-11-25"])
def test_an_extension_request_goes_as_it_is_and_its_result_comes_back_whole(
    revision: str,
) -> None:
    client, peer = initialized_client(revision)
    request_id = client.send_request(
        "x/vendor", {"q": [1, 2]}, now=1.0, progress=True, extension=True
    )
    (sent,) = peer.replies()
    assert sent["method"] == "x/vendor"
    assert sent["params"]["q"] == [1, 2]
    assert sent["params"]["_meta"]["progressToken"] == request_id
    answer = {"answer": 42, "x-vendor": {"colour": "blue"}}
    assert peer.send({"jsonrpc": "2.0", "id": request_id, "result": answer}) == []
    received = only(client.events_received(), ResponseReceived)
    assert (received.request_id, received.method) == (request_id, "x/vendor")
    assert received.result.to_json() == answer


def test_an_extension_result_that_is_no_object_is_invalid() -> None:
    client, peer = initialized_client()
    request_id = client.send_request("x/vendor", now=1.0, extension=True)
    (sent,) = peer.replies()
    assert "params" not in sent
    peer.send({"jsonrpc": "2.0", "id": request_id, "result": [42]})
    invalid = only(client.events_received(), InvalidResultReceived)
    assert (invalid.request_id, invalid.result) == (request_id, [42])


def test_the_params_of_an_extension_are_a_mapping() -> None:
    client, peer = initialized_client()
    with pytest.raises(LocalProtocolError, match="the params of an extension are a mapping"):
        client.send_request("x/vendor", ListToolsResult(tools=[]), now=1.0, extension=True)
    assert peer.replies() == []


@pytest.mark.parametrize("meta", [[""], "", 0])
def test_an_extension_with_progress_needs_meta_to_be_an_object(meta: object) -> None:
    """Found by fuzz_connection: the token goes into ``_meta``, which must be an object."""
    client, peer = initialized_client()
    with pytest.raises(LocalProtocolError, match="_meta must be an object"):
        client.send_request("x/vendor", {"_meta": meta}, now=1.0, progress=True, extension=True)
    assert peer.replies() == []


@pytest.mark.parametrize("method", ["tasks/get", "tools/list"])
def test_a_method_of_mcp_is_no_extension(method: str) -> None:
    """Not even one of another revision (tasks/get is 2025-11-25's only)."""
    client, peer = initialized_client("2025-06-18")
    with pytest.raises(LocalProtocolError, match=f"{method} is a method of MCP, not an ext"):
        client.send_request(method, {"taskId": "t"}, now=1.0, extension=True)
    assert peer.replies() == []


@REQUESTS_IN
@pytest.mark.parametrize("meta", [1.5, [""], "x"])
def test_a_stateless_request_needs_meta_to_be_an_object(transport: str, meta: object) -> None:
    """Found by fuzz_connection: the stateless members go into ``_meta``."""
    pair = stateless_pair(transport)
    for method, extension in (("x/vendor", True), ("tools/list", False)):
        with pytest.raises(LocalProtocolError, match=r"_meta:? must be an object"):
            pair.client.send_request(method, {"_meta": meta}, now=1.0, extension=extension)
    pair.pump(1.0)
    assert all(sent.get("method") != "x/vendor" for sent in pair.sent_by("client"))


@REQUESTS_IN
def test_a_stateless_extension_request_names_its_revision_and_is_refused(transport: str) -> None:
    pair = stateless_pair(transport)
    request_id = pair.client.send_request("x/vendor", {"q": 1}, now=1.0, extension=True)
    pair.pump(1.0)
    sent = pair.sent_by("client")[-1]
    assert sent["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
    client_events, _ = pair.events()
    refused = only(client_events, ErrorReceived)
    assert (refused.request_id, refused.error.code) == (request_id, -32601)
