"""MCP over whole messages framed elsewhere (an ASGI server's WebSocket): a session carried
over text messages, one JSON-RPC message each; limits, binary messages, failures and the end
of the connection, with the close code each deserves."""

from __future__ import annotations

import json
from typing import Any, Final

import pytest

from helpers.sessionpair import initialize_params, notification, request
from mcpws.core.channel import InvalidMessageAnswered, MessageReceived
from mcpws.core.mcp import ServerCapabilities
from mcpws.core.messages import DEFAULT_MAX_MESSAGE_SIZE, MessageConnection
from mcpws.core.session import (
    ClientSession,
    ClientSessionConfig,
    RequestReceived,
    RequestTimedOut,
    ServerSession,
    ServerSessionConfig,
    SessionFailed,
    SessionInitialized,
)
from mcpws.core.stdio import StreamEnded

CONFIG: Final = ServerSessionConfig(
    revisions=("2025-06-18",), capabilities=ServerCapabilities(tools={})
)


def text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def sent(connection: MessageConnection) -> list[Any]:
    """The JSON values of the messages *connection* has to send (each chunk one message)."""
    return [json.loads(chunk) for chunk in connection.data_to_send()]


def opened(**options: Any) -> MessageConnection:
    """A server connection whose handshake-era session is open."""
    connection = MessageConnection(ServerSession(CONFIG), 0.0, **options)
    params = initialize_params("2025-06-18", {"roots": {}})
    connection.receive_text(text(request(1, "initialize", params)), 0.0)
    connection.receive_text(text(notification("notifications/initialized")), 0.0)
    (answer,) = sent(connection)
    assert answer["result"]["protocolVersion"] == "2025-06-18"
    assert [type(e) for e in connection.events_received()] == [SessionInitialized]
    return connection


def test_each_message_is_one_json_rpc_message_and_each_answer_one_message() -> None:
    connection = opened()
    connection.receive_text(text(request("a", "ping")), 1.0)
    connection.receive_data(text(request(7, "ping")).encode(), 1.0)
    assert sent(connection) == [
        {"jsonrpc": "2.0", "id": "a", "result": {}},
        {"jsonrpc": "2.0", "id": 7, "result": {}},
    ]
    connection.receive_text(text(request(2, "tools/list")), 1.0)
    (received,) = connection.events_received()
    assert isinstance(received, RequestReceived)
    assert connection.is_open


def test_an_invalid_message_is_answered_and_the_connection_goes_on() -> None:
    connection = opened()
    connection.receive_text("not json", 1.0)
    (answer,) = sent(connection)
    assert answer["error"]["code"] == -32700
    (event,) = connection.events_received()
    assert isinstance(event, InvalidMessageAnswered)
    assert connection.is_open


@pytest.mark.parametrize("kind", ["text", "bytes"])
def test_a_message_over_the_limit_ends_the_connection_with_1009(kind: str) -> None:
    connection = MessageConnection(None, 0.0, max_message_size=120)
    message = text(request(3, "ping", {"pad": "é" * 50}))  # 100 bytes of UTF-8 in 50 characters
    assert len(message) < 120 < len(message.encode())
    connection.receive_text(message if kind == "text" else message.encode(), 1.0)
    assert connection.data_to_send() == [b""]
    (ended,) = connection.events_received()
    assert isinstance(ended, StreamEnded)
    assert ended.cause is not None
    assert ended.cause.close_code == 1009
    assert (connection.close_code, connection.close_reason) == (
        1009,
        "a message is larger than 120 bytes",
    )
    connection.receive_text(text(request(4, "ping")), 1.0)  # nothing after the end
    assert connection.data_to_send() == []


def test_a_message_of_exactly_the_limit_is_read_and_the_default_is_16_mib() -> None:
    message = text(request(3, "ping", {"pad": "é" * 40}))
    connection = MessageConnection(None, 0.0, max_message_size=len(message.encode()))
    connection.receive_text(message, 1.0)
    (received,) = connection.events_received()
    assert isinstance(received, MessageReceived)
    assert DEFAULT_MAX_MESSAGE_SIZE == 16 * 2**20
    unbounded = opened(max_message_size=None)
    unbounded.receive_text(text(request(4, "ping", {"pad": "x" * 1000})), 1.0)
    assert sent(unbounded)[0]["id"] == 4


def test_a_binary_message_ends_the_connection_with_1003() -> None:
    connection = opened()
    connection.receive_bytes(b"\x00\x01", 1.0)
    assert connection.data_to_send() == [b""]
    (ended,) = connection.events_received()
    assert isinstance(ended, StreamEnded)
    assert connection.close_code == 1003
    assert "binary" in connection.close_reason
    connection.receive_bytes(b"again", 1.0)
    assert connection.events_received() == []


def test_the_peer_ending_the_connection_leaves_nothing_to_close_with() -> None:
    connection = opened()
    connection.receive_eof(1.0)
    assert connection.data_to_send() == [b""]
    assert connection.events_received() == [StreamEnded(None)]
    assert connection.close_code is None
    assert not connection.is_open
    connection.receive_eof(2.0)
    connection.close(1000)
    assert connection.events_received() == []


def test_close_ends_the_connection_with_its_code_after_what_was_queued() -> None:
    connection = opened()
    connection.send_text(text(notification("notifications/tools/list_changed")))
    connection.close(1001, "going away")
    connection.send_text(text(notification("notifications/tools/list_changed")))
    data = connection.data_to_send()
    assert [json.loads(data[0])["method"], data[1:]] == ["notifications/tools/list_changed", [b""]]
    assert (connection.close_code, connection.close_reason) == (1001, "going away")
    assert connection.events_received() == [StreamEnded(None)]


def test_a_failed_session_ends_the_connection_with_1002_once() -> None:
    config = ClientSessionConfig(revisions=("2025-06-18",), request_timeout=30.0)
    connection = MessageConnection(ClientSession(config), 0.0)
    (initialize,) = sent(connection)
    assert initialize["method"] == "initialize"
    refusal = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32600, "message": "go away"}}
    connection.receive_text(text(refusal), 1.0)
    assert connection.data_to_send() == [b""]
    failed, ended = connection.events_received()
    assert isinstance(failed, SessionFailed)
    assert ended == StreamEnded(failed.error)
    assert connection.close_code == 1002


def test_close_after_a_failure_not_yet_reported_ends_with_the_failure() -> None:
    config = ClientSessionConfig(revisions=("2025-06-18",), request_timeout=30.0)
    connection = MessageConnection(ClientSession(config), 0.0)
    connection.data_to_send()
    session = connection.session
    assert session is not None
    session.handle_timeout(30.0)
    connection.close(1000)
    assert connection.close_code == 1002
    assert connection.data_to_send() == [b""]


def test_deadlines_are_the_sessions_and_there_are_none_after_the_end() -> None:
    connection = opened()
    session = connection.session
    assert isinstance(session, ServerSession)
    request_id = session.send_request("roots/list", now=1.0, timeout=5.0)
    assert connection.next_deadline() == 6.0
    assert connection.buffered_amount > 0
    connection.handle_timeout(6.0)
    roots, cancelled = sent(connection)
    assert (roots["method"], cancelled["method"]) == ("roots/list", "notifications/cancelled")
    assert connection.events_received() == [RequestTimedOut(request_id, "roots/list")]
    connection.close()
    assert connection.next_deadline() is None
    connection.handle_timeout(100.0)
    assert connection.events_received() == [StreamEnded(None)]


def test_held_messages_wait_for_resume_and_the_end_waits_behind_them() -> None:
    connection = opened()
    connection.hold = True
    connection.receive_text(text(request(1, "ping")), 1.0)
    connection.receive_text(text(request(2, "ping")), 1.0)
    connection.receive_eof(1.0)
    assert (connection.data_to_send(), connection.held > 0, connection.holding) == ([], True, True)
    assert connection.resume(1.0)
    assert sent(connection) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    assert connection.resume(1.0)
    assert sent(connection) == [{"jsonrpc": "2.0", "id": 2, "result": {}}]
    assert connection.held == 0
    assert connection.resume(1.0)  # the end
    assert connection.data_to_send() == [b""]
    assert not connection.resume(1.0)
    assert connection.events_received() == [StreamEnded(None)]


def test_without_a_session_each_message_is_reported_and_sent_as_given() -> None:
    connection = MessageConnection(None, 0.0)
    connection.receive_text(text(request(1, "ping")), 0.0)
    (received,) = connection.events_received()
    assert isinstance(received, MessageReceived)
    connection.send(received.message)  # type: ignore[arg-type]
    assert sent(connection) == [request(1, "ping")]


def test_traffic_counts_each_message_and_its_utf8_each_way() -> None:
    connection = MessageConnection(ServerSession(CONFIG), 0.0)
    ping = text(request(1, "ping", {"note": "é"}))
    connection.receive_text(ping, 0.0)
    connection.receive_data(text(request(2, "ping")).encode(), 0.0)
    answers = connection.data_to_send()
    connection.receive_bytes(b"\x00", 0.0)
    traffic = connection.traffic
    assert traffic.messages_received == 3
    assert traffic.bytes_received == len(ping.encode()) + len(text(request(2, "ping"))) + 1
    assert (traffic.messages_sent, traffic.bytes_sent) == (2, sum(map(len, answers)))
    assert connection.data_to_send() == [b""]
    assert connection.traffic == traffic  # the end of the connection is no message
