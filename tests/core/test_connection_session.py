"""MCP connections over WebSocket that own a session: starting it, reporting its events,
sharing timers with it, closing with it, and the transport rules that follow it."""

from __future__ import annotations

import json
from typing import Any, Final

import pytest

from helpers.sessionpair import make_pair, open_pair
from helpers.wspair import pump
from mcpws.core import jsonrpc
from mcpws.core.connection import (
    ClientConnection,
    Closing,
    ConnectionAccepted,
    ConnectionClosed,
    ConnectionEvent,
    ConnectionRejected,
    ConnectionRequested,
    InvalidMessageAnswered,
    MessageReceived,
    ServerConnection,
)
from mcpws.core.errors import InvalidMessage, RemoteProtocolError
from mcpws.core.mcp import ClientCapabilities, ServerCapabilities
from mcpws.core.session import (
    ClientSession,
    ClientSessionConfig,
    RequestCancelled,
    RequestReceived,
    RequestTimedOut,
    ResponseReceived,
    ServerSession,
    ServerSessionConfig,
    SessionFailed,
    State,
)
from mcpws.core.websocket import WebSocketConfig

URL: Final = "ws://localhost/mcp"
TOOLS: Final = ServerCapabilities(tools={})
NO_KEEPALIVE: Final = WebSocketConfig(ping_interval=None)


def client_config(*revisions: str, **options: Any) -> ClientSessionConfig:
    return ClientSessionConfig(revisions=revisions or ("2025-06-18",), **options)


def server_config(*revisions: str, **options: Any) -> ServerSessionConfig:
    return ServerSessionConfig(
        revisions=revisions or ("2025-06-18",), capabilities=TOOLS, **options
    )


def _anyone(_: ConnectionRequested) -> None:
    return None


def connect(
    client_session: ClientSession | None = None,
    server_session: ServerSession | None = None,
    *,
    config: WebSocketConfig | None = None,
    revision: str | None = None,
    now: float = 0.0,
) -> tuple[ClientConnection, ServerConnection]:
    """A client and a server connection, joined and pumped at *now*; the server accepts
    every upgrade by itself."""
    client = ClientConnection(URL, now, config=config, revision=revision, session=client_session)
    server = ServerConnection(now, config=config, session=server_session, authenticate=_anyone)
    pump(client, server, now)
    return client, server


def kinds(events: list[ConnectionEvent]) -> list[str]:
    return [type(event).__name__ for event in events]


def messages(events: list[ConnectionEvent]) -> list[Any]:
    """The JSON values of the MessageReceived events of a connection without a session."""
    values = []
    for event in events:
        if isinstance(event, MessageReceived):
            message = event.message
            if isinstance(message, list):
                items = [item for item in message if not isinstance(item, InvalidMessage)]
                assert len(items) == len(message)
                values.append(json.loads(jsonrpc.encode(items)))
            else:
                values.append(json.loads(jsonrpc.encode(message)))
    return values


def state(session: ClientSession | ServerSession | None) -> State:
    assert session is not None
    return session.state


def open_server(
    revision: str = "2025-06-18", *, config: WebSocketConfig | None = None, **options: Any
) -> tuple[ClientConnection, ServerConnection]:
    """A server connection with a session, initialized in *revision* by a client connection
    without one (so that the test sees the raw messages)."""
    session = ServerSession(server_config(revision, **options))
    client, server = connect(server_session=session, config=config)
    hello = {
        "protocolVersion": revision,
        "capabilities": {"roots": {}},
        "clientInfo": {"name": "raw", "version": "1"},
    }
    client.send(jsonrpc.Request(1, "initialize", hello))
    client.send(jsonrpc.Notification("notifications/initialized"))
    pump(client, server, 0.0)
    (result,) = messages(client.events_received())
    assert result["result"]["protocolVersion"] == revision
    assert kinds(server.events_received()) == [
        "ConnectionRequested",
        "ConnectionAccepted",
        "SessionInitialized",
    ]
    return client, server


# Starting ----------------------------------------------------------------------------------------


def test_the_client_session_starts_when_the_connection_opens() -> None:
    session = ClientSession(client_config())
    client = ClientConnection(URL, 0.0, session=session)
    server = ServerConnection(0.0, authenticate=_anyone)
    (upgrade,) = client.data_to_send()
    assert upgrade.startswith(b"GET /mcp HTTP/1.1\r\n")
    assert state(session) is State.IDLE
    server.receive_data(upgrade, 0.0)
    (switching,) = server.data_to_send()
    server.events_received()
    client.receive_data(switching, 1.0)
    assert kinds(client.events_received()) == ["ConnectionAccepted"]
    assert state(session) is State.INITIALIZING
    for data in client.data_to_send():
        server.receive_data(data, 1.0)
    (hello,) = messages(server.events_received())
    assert (hello["id"], hello["method"]) == (1, "initialize")
    assert hello["params"]["protocolVersion"] == "2025-06-18"


def test_a_client_session_of_both_eras_probes_when_the_connection_opens() -> None:
    client, server = connect(ClientSession())
    (probe,) = messages(server.events_received())
    assert (probe["id"], probe["method"]) == (1, "server/discover")
    assert client.next_deadline() == 10.0  # the probe's timeout, before the 20 s keepalive


def test_a_server_session_waits_for_the_client() -> None:
    session = ServerSession(server_config())
    client, server = connect(server_session=session)
    assert kinds(server.events_received()) == ["ConnectionRequested", "ConnectionAccepted"]
    assert messages(client.events_received()) == []
    assert session.state is State.IDLE


# Events ------------------------------------------------------------------------------------------


def test_session_events_come_in_order_with_the_connection_events() -> None:
    pair = make_pair("websocket", client=client_config(), server=server_config())
    pair.pump(0.0)
    request_id = pair.client.send_request("tools/list", now=1.0)
    pair.pump(1.0)
    pair.client_end.close(now=2.0)
    pair.pump(2.0)
    client_events = pair.client_end.events_received()
    server_events = pair.server_end.events_received()
    assert kinds(client_events) == [
        "ConnectionAccepted",
        "SessionInitialized",
        "Closing",
        "ConnectionClosed",
    ]
    assert kinds(server_events) == [
        "ConnectionRequested",
        "ConnectionAccepted",
        "SessionInitialized",
        "RequestReceived",
        "Closing",
        "ConnectionClosed",
    ]
    received = server_events[3]
    assert isinstance(received, RequestReceived)
    assert (received.request_id, received.method) == (request_id, "tools/list")


def test_messages_go_to_the_session_not_to_the_application() -> None:
    pair = open_pair("websocket", client=client_config(), server=server_config())
    request_id = pair.client.send_request("tools/list", now=1.0)
    pair.pump(1.0)
    server_events = pair.server_end.events_received()
    pair.server.respond(request_id, {"tools": []})
    pair.pump(1.0)
    client_events = pair.client_end.events_received()
    assert kinds(server_events) == ["RequestReceived"]
    assert kinds(client_events) == ["ResponseReceived"]
    response = client_events[0]
    assert isinstance(response, ResponseReceived)
    assert response.request_id == request_id


def test_a_connection_that_holds_gives_the_session_one_message_per_resume() -> None:
    client, server = open_server()
    server.hold = True
    assert server.hold
    client.send(jsonrpc.Request(2, "tools/list"))
    client.send(jsonrpc.Request(3, "tools/list"))
    pump(client, server, 0.0)
    assert server.events_received() == []
    assert server.holding
    assert server.held > 0
    assert server.resume(0.0)
    assert kinds(server.events_received()) == ["RequestReceived"]
    assert server.resume(0.0)
    assert kinds(server.events_received()) == ["RequestReceived"]
    assert (server.holding, server.held, server.resume(0.0)) == (False, 0, False)


# Timers ------------------------------------------------------------------------------------------


def test_the_next_deadline_is_the_earliest_of_the_websocket_and_the_session() -> None:
    client, server = connect(ClientSession(client_config()), ServerSession(server_config()))
    assert (client.next_deadline(), server.next_deadline()) == (20.0, 20.0)  # keepalive
    session = client.session
    assert session is not None
    early = session.send_request("tools/list", now=3.0, timeout=5.0)
    assert client.next_deadline() == 8.0
    late = session.send_request("tools/list", now=3.0, timeout=30.0)
    assert client.next_deadline() == 8.0
    session.cancel(early)
    assert client.next_deadline() == 20.0
    session.cancel(late)
    assert client.next_deadline() == 20.0


def test_without_keepalive_the_deadline_is_the_sessions_alone() -> None:
    client, server = connect(
        ClientSession(client_config()), ServerSession(server_config()), config=NO_KEEPALIVE
    )
    assert (client.next_deadline(), server.next_deadline()) == (None, None)
    session = client.session
    assert session is not None
    request_id = session.send_request("tools/list", now=3.0, timeout=30.0)
    assert client.next_deadline() == 33.0
    session.cancel(request_id)
    assert client.next_deadline() is None


def test_an_unanswered_initialize_sets_the_deadline_before_keepalive_does() -> None:
    config = client_config(request_timeout=15.0)
    client = ClientConnection(URL, 0.0, session=ClientSession(config))
    server = ServerConnection(0.0, authenticate=_anyone)  # no session: initialize stays unanswered
    assert client.next_deadline() == 10.0  # the opening handshake
    pump(client, server, 2.0)
    assert client.next_deadline() == 17.0
    client.handle_timeout(17.0)
    events = client.events_received()
    assert kinds(events) == ["ConnectionAccepted", "SessionFailed", "Closing"]


def test_a_server_request_sets_the_server_deadline() -> None:
    pair = open_pair(
        "websocket",
        client=client_config(capabilities=ClientCapabilities(roots={})),
        server=server_config(request_timeout=7.0),
        now=0.0,
    )
    assert pair.server_end.next_deadline() == 20.0
    pair.server.send_request("roots/list", now=1.0)
    assert pair.server_end.next_deadline() == 8.0


def test_handle_timeout_times_out_session_requests() -> None:
    pair = open_pair("websocket", client=client_config(), server=server_config())
    request_id = pair.client.send_request("tools/list", now=1.0, timeout=4.0)
    pair.pump(1.0)
    _, server_events = pair.events()
    assert [type(event) for event in server_events] == [RequestReceived]
    assert pair.client_end.next_deadline() == 5.0
    pair.client_end.handle_timeout(4.9)
    assert pair.client_end.events_received() == []
    pair.client_end.handle_timeout(5.0)
    assert pair.client_end.events_received() == [RequestTimedOut(request_id, "tools/list")]
    pair.pump(5.0)
    assert pair.server_end.events_received() == [
        RequestCancelled(request_id, "timed out after 4.0 s")
    ]
    cancelled = pair.sent_by("client")[-1]
    assert cancelled["method"] == "notifications/cancelled"
    assert cancelled["params"]["requestId"] == request_id
    assert pair.client_end.next_deadline() == 20.0


# Failing and closing -----------------------------------------------------------------------------


def test_a_failed_session_closes_the_connection_with_1002() -> None:
    pair = make_pair(
        "websocket", client=client_config("2024-11-05"), server=server_config("2025-06-18")
    )
    pair.pump(0.0)
    client_events = pair.client_end.events_received()
    assert kinds(client_events) == [
        "ConnectionAccepted",
        "SessionFailed",
        "Closing",
        "ConnectionClosed",
    ]
    failed, closing, closed = client_events[1:]
    assert isinstance(failed, SessionFailed)
    reason = failed.error.message
    assert "2025-06-18" in reason
    assert closing == Closing(1002, reason, False)
    assert isinstance(closed, ConnectionClosed)
    assert (closed.code, closed.reason, closed.clean) == (1002, reason, True)
    assert closed.cause is failed.error
    assert isinstance(closed.cause, RemoteProtocolError)
    peer_closed = pair.server_end.events_received()[-1]
    assert isinstance(peer_closed, ConnectionClosed)
    assert (peer_closed.code, peer_closed.reason) == (1002, reason)
    assert (pair.client.state, pair.server.state) == (State.CLOSED, State.CLOSED)
    assert pair.client_end.closed
    assert pair.server_end.closed


def test_the_close_reason_of_a_failed_session_is_the_one_sent() -> None:
    """A close reason holds at most 123 bytes; the closing side reports the one it sent."""
    client = ClientConnection(URL, 0.0, session=ClientSession(client_config()))
    server = ServerConnection(0.0, authenticate=_anyone)
    pump(client, server, 0.0)
    server.events_received()
    refusal = jsonrpc.ErrorResponse(1, jsonrpc.ErrorObject(-32600, "é" * 200))
    server.send(refusal)
    pump(client, server, 1.0)
    closed = client.events_received()[-1]
    peer_closed = server.events_received()[-1]
    assert isinstance(closed, ConnectionClosed)
    assert isinstance(peer_closed, ConnectionClosed)
    assert closed.code == peer_closed.code == 1002
    assert len(peer_closed.reason.encode()) <= 123
    assert closed.reason == peer_closed.reason


def test_a_session_failing_while_the_connection_closes_does_not_close_it_again() -> None:
    config = WebSocketConfig(ping_interval=None, close_timeout=None)
    session = ClientSession(client_config(request_timeout=30.0))
    client = ClientConnection(URL, 0.0, config=config, session=session)
    server = ServerConnection(0.0, config=config, authenticate=_anyone)
    pump(client, server, 0.0)
    client.events_received()
    client.close(now=1.0)
    assert client.next_deadline() == 30.0
    client.handle_timeout(30.0)
    (closing, failed) = client.events_received()
    assert closing == Closing(1000, "", False)
    assert isinstance(failed, SessionFailed)
    assert session.state is State.FAILED
    assert not client.closed
    assert client.next_deadline() is None


def test_the_end_of_the_connection_closes_the_session() -> None:
    pair = open_pair("websocket", client=client_config(), server=server_config())
    pair.server_end.close(now=1.0)
    pair.pump(1.0)
    assert (pair.client.state, pair.server.state) == (State.CLOSED, State.CLOSED)
    assert kinds(pair.client_end.events_received()) == ["Closing", "ConnectionClosed"]


def test_a_lost_transport_closes_the_session() -> None:
    pair = open_pair("websocket", client=client_config(), server=server_config())
    pair.server.send_request("ping", now=1.0)
    pair.server_end.receive_eof(1.0)
    (closed,) = pair.server_end.events_received()
    assert isinstance(closed, ConnectionClosed)
    assert closed.code == 1006
    assert pair.server.state is State.CLOSED
    assert pair.server_end.next_deadline() is None
    assert pair.server_end.data_to_send() == [b""]  # the queued ping is dropped


def test_messages_the_session_queues_after_the_close_started_are_dropped() -> None:
    pair = open_pair("websocket", client=client_config(), server=server_config())
    pair.client_end.close(now=1.0)
    pair.client.send_request("tools/list", now=1.0)
    assert pair.client_end.buffered_amount > 0  # the close frame alone
    (close_frame,) = pair.client_end.data_to_send()
    assert close_frame[0] == 0x88
    pair.server_end.receive_data(close_frame, 1.0)
    assert kinds(pair.server_end.events_received()) == ["Closing", "ConnectionClosed"]
    pair.pump(1.0)
    assert (pair.client.state, pair.server.state) == (State.CLOSED, State.CLOSED)


def test_an_answer_given_before_closing_is_sent_before_the_close_frame() -> None:
    pair = open_pair("websocket", client=client_config(), server=server_config())
    request_id = pair.client.send_request("tools/list", now=1.0)
    pair.pump(1.0)
    pair.server.respond(request_id, {"tools": []})
    pair.server_end.close(now=2.0)
    pair.pump(2.0)
    events = pair.client_end.events_received()
    assert kinds(events) == ["ResponseReceived", "Closing", "ConnectionClosed"]


def test_an_answer_queued_before_the_peer_closes_does_not_depend_on_when_the_driver_drains() -> (
    None
):
    """The answer to a ping that came before the peer's close frame goes out before the echo."""
    sent = []
    for drain_between in (True, False):
        client, server = open_server()
        client.send(jsonrpc.Request(7, "ping"))
        client.close(now=1.0)
        data: list[bytes] = []
        for frame in client.data_to_send():
            server.receive_data(frame, 1.0)
            if drain_between:
                data += server.data_to_send()
        data += server.data_to_send()
        for chunk in data:
            if chunk:
                client.receive_data(chunk, 1.0)
        sent.append(messages(client.events_received()))
    assert sent[0] == [{"jsonrpc": "2.0", "id": 7, "result": {}}]
    assert sent[1] == sent[0]


# Transport rules that follow the session ---------------------------------------------------------


@pytest.mark.parametrize(
    ("revision", "allowed"),
    [
        ("2024-11-05", False),
        ("2025-03-26", True),
        ("2025-06-18", False),
        ("2025-11-25", False),
        ("2026-07-28", False),
    ],
)
def test_batches_follow_the_session(revision: str, allowed: bool) -> None:
    pair = make_pair("websocket", client=client_config(revision), server=server_config(revision))
    assert (pair.client_end.allow_batches, pair.server_end.allow_batches) == (False, False)
    pair.pump(0.0)
    assert pair.client.revision == revision
    assert (pair.client_end.allow_batches, pair.server_end.allow_batches) == (allowed, allowed)


def test_batches_can_still_be_allowed_on_a_connection_without_a_session() -> None:
    client, server = connect()
    assert (client.allow_batches, server.allow_batches) == (False, False)
    client.allow_batches = server.allow_batches = True
    assert (client.allow_batches, server.allow_batches) == (True, True)
    client.send([jsonrpc.Request(1, "ping"), jsonrpc.Notification("notifications/x")])
    pump(client, server, 0.0)
    (received,) = [e for e in server.events_received() if isinstance(e, MessageReceived)]
    assert isinstance(received.message, list)


@pytest.mark.parametrize(
    ("revision", "batch_answered"), [("2025-03-26", True), ("2025-06-18", False)]
)
def test_a_batch_reaches_the_session_only_where_the_session_allows(
    revision: str, batch_answered: bool
) -> None:
    client, server = open_server(revision)
    client.allow_batches = True
    client._ws.send_text('[{"jsonrpc":"2.0","id":5,"method":"ping"}]')
    pump(client, server, 1.0)
    (reply,) = messages(client.events_received())
    server_events = server.events_received()
    if batch_answered:
        assert reply == [{"jsonrpc": "2.0", "id": 5, "result": {}}]
        assert server_events == []
    else:
        assert reply["error"]["code"] == jsonrpc.INVALID_REQUEST
        assert kinds(server_events) == ["InvalidMessageAnswered"]


def test_an_invalid_text_is_answered_after_what_the_session_queued() -> None:
    client, server = open_server()
    assert server.session is not None
    server.session.send_notification("notifications/tools/list_changed")
    client.send(jsonrpc.Request(2, "ping"))
    client._ws.send_text("not json")
    pump(client, server, 1.0)
    changed, pong, error = messages(client.events_received())
    assert changed == {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
    assert pong == {"jsonrpc": "2.0", "id": 2, "result": {}}
    assert error["error"]["code"] == jsonrpc.PARSE_ERROR
    (answered,) = server.events_received()
    assert isinstance(answered, InvalidMessageAnswered)
    assert not server.closed


def test_buffered_amount_counts_the_sessions_queued_messages() -> None:
    pair = open_pair("websocket", client=client_config(), server=server_config())
    assert pair.client_end.buffered_amount == 0
    pair.client.send_request("tools/list", now=1.0)
    buffered = pair.client_end.buffered_amount
    assert buffered > 0
    assert sum(len(data) for data in pair.client_end.data_to_send()) == buffered
    assert pair.client_end.buffered_amount == 0


@pytest.mark.parametrize(
    ("offered", "selected", "revision"),
    [
        ("2025-06-18", "mcp.version.2025-06-18", "2025-06-18"),
        ("2025-03-26", "mcp", None),
    ],
)
def test_a_server_session_decides_the_version_subprotocols(
    offered: str, selected: str, revision: str | None
) -> None:
    session = ServerSession(server_config("2025-06-18"))
    client, server = connect(server_session=session, revision=offered)
    requested, accepted = server.events_received()[:2]
    assert isinstance(requested, ConnectionRequested)
    assert (requested.revision, requested.subprotocol) == (revision, selected)
    assert isinstance(accepted, ConnectionAccepted)
    assert client.subprotocol == selected


def test_explicit_revisions_override_the_sessions() -> None:
    session = ServerSession(server_config("2025-06-18"))
    client = ClientConnection(URL, 0.0, revision="2025-03-26")
    server = ServerConnection(0.0, session=session, revisions=("2025-03-26",), authenticate=_anyone)
    pump(client, server, 0.0)
    assert client.subprotocol == "mcp.version.2025-03-26"


def test_is_open_follows_the_websocket() -> None:
    pair = open_pair("websocket")
    assert pair.client_end.is_open
    pair.client_end.close(now=1.0)
    assert not pair.client_end.is_open


def test_a_draining_session_has_an_upgrade_refused_with_503() -> None:
    """A connection that arrives while the server shuts down is told to come back later,
    before anything is reported to the application."""
    session = ServerSession(server_config())
    session.drain()
    assert session.draining
    client = ClientConnection(URL, 0.0, session=ClientSession(client_config()))
    server = ServerConnection(0.0, session=session, authenticate=_anyone)
    pump(client, server, 0.0)
    assert kinds(server.events_received()) == ["HttpAnswered", "ConnectionClosed"]
    (rejected, *_) = client.events_received()
    assert isinstance(rejected, ConnectionRejected)
    assert (rejected.status_code, rejected.body) == (503, b"the server is shutting down\n")
    assert ("retry-after", "1") in rejected.headers


def test_a_server_session_dials_out_over_a_client_connection() -> None:
    """A server that dials out: its WebSocket is a client's, its session a server's (not
    started by the opening: the peer, an MCP client behind a WebSocket server, sends the
    ``initialize``)."""
    dialing = ClientConnection(
        URL, 0.0, config=NO_KEEPALIVE, session=ServerSession(server_config())
    )
    client = ServerConnection(0.0, config=NO_KEEPALIVE, authenticate=_anyone)
    pump(dialing, client, 0.0)
    assert "ConnectionAccepted" in kinds(dialing.events_received())
    assert dialing.data_to_send() == []  # nothing of its own to say
    params = {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "the far end", "version": "1"},
    }
    client.send(jsonrpc.Request("one", "initialize", params))
    pump(dialing, client, 1.0)
    answers = [e for e in client.events_received() if isinstance(e, MessageReceived)]
    [answer] = answers
    assert isinstance(answer.message, jsonrpc.Response)
    assert answer.message.id == "one"
    assert answer.message.result["protocolVersion"] == "2025-06-18"
