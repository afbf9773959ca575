"""MCP over text messages: the channel every framing drives, and the subprotocol rule."""

from __future__ import annotations

import json
from typing import Any, Final

import pytest

from helpers.sessionpair import initialize_params, notification, request
from helpers.wspair import pump
from mcpws.core import jsonrpc
from mcpws.core.channel import (
    ChannelFailed,
    InvalidMessageAnswered,
    MessageChannel,
    MessageReceived,
    SubprotocolChoice,
    select_subprotocol,
    spoken_subprotocols,
)
from mcpws.core.connection import ClientConnection, ConnectionRejected, ServerConnection
from mcpws.core.errors import InvalidMessage, LocalProtocolError, RemoteProtocolError
from mcpws.core.mcp import ServerCapabilities
from mcpws.core.session import (
    ClientSession,
    ClientSessionConfig,
    RequestReceived,
    ServerSession,
    ServerSessionConfig,
    SessionFailed,
    SessionInitialized,
    State,
)
from mcpws.core.websocket import WebSocketClient

SERVER: Final = ServerSessionConfig(
    revisions=("2025-03-26", "2025-06-18"), capabilities=ServerCapabilities(tools={})
)


def text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def values(texts: list[str]) -> list[Any]:
    return [json.loads(item) for item in texts]


def server_channel(revision: str = "2025-06-18") -> MessageChannel:
    """A channel whose server session a hand-driven client has initialized in *revision*."""
    channel = MessageChannel(ServerSession(SERVER))
    channel.receive_text(text(request(0, "initialize", initialize_params(revision))), 0.0)
    channel.receive_text(text(notification("notifications/initialized")), 0.0)
    (reply,) = values(channel.texts_to_send())
    assert reply["result"]["protocolVersion"] == revision
    assert [type(e) for e in channel.events_received()] == [SessionInitialized]
    return channel


def client_channel(timeout: float | None = 10.0) -> MessageChannel:
    """A channel whose client session has sent its initialize request at 0.0."""
    config = ClientSessionConfig(revisions=("2025-06-18",), request_timeout=timeout)
    session = ClientSession(config)
    channel = MessageChannel(session)
    session.start(0.0)
    (hello,) = values(channel.texts_to_send())
    assert hello["method"] == "initialize"
    return channel


# Without a session ----------------------------------------------------------------------------


@pytest.mark.parametrize("as_bytes", [False, True])
def test_a_text_message_is_one_message(as_bytes: bool) -> None:
    data = '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    channel = MessageChannel()
    channel.receive_text(data.encode() if as_bytes else data, 0.0)
    assert channel.events_received() == [MessageReceived(jsonrpc.Request(1, "ping"))]
    assert (channel.texts_to_send(), channel.events_received()) == ([], [])
    assert channel.next_deadline() is None
    channel.handle_timeout(100.0)
    assert (channel.texts_to_send(), channel.events_received()) == ([], [])


@pytest.mark.parametrize(
    ("data", "code", "id"),
    [
        ("not json", jsonrpc.PARSE_ERROR, None),
        (b"\xff\xfe", jsonrpc.PARSE_ERROR, None),
        ("[" * 200 + "]" * 200, jsonrpc.PARSE_ERROR, None),
        ("5", jsonrpc.INVALID_REQUEST, None),
        ('{"jsonrpc":"2.0","id":7,"method":5}', jsonrpc.INVALID_REQUEST, 7),
        ('{"jsonrpc":"2.0","id":"a"}', jsonrpc.INVALID_REQUEST, "a"),
        ('[{"jsonrpc":"2.0","method":"x"}]', jsonrpc.INVALID_REQUEST, None),
    ],
)
def test_an_invalid_message_is_answered_and_the_channel_goes_on(
    data: str | bytes, code: int, id: str | int | None
) -> None:
    channel = MessageChannel()
    channel.receive_text(data, 1.0)
    channel.receive_text(text(notification("ping")), 1.0)
    (reply,) = values(channel.texts_to_send())
    assert reply["error"]["code"] == code
    assert reply.get("id") == id
    answered, received = channel.events_received()
    assert isinstance(answered, InvalidMessageAnswered)
    assert isinstance(answered.error, InvalidMessage)
    assert (answered.error.jsonrpc_code, answered.reply.id) == (code, id)
    assert json.loads(jsonrpc.encode(answered.reply)) == reply
    assert received == MessageReceived(jsonrpc.Notification("ping"))
    assert channel.failure is None


def test_max_depth_bounds_the_nesting_of_a_message() -> None:
    channel = MessageChannel(max_depth=3)
    channel.receive_text('{"jsonrpc":"2.0","method":"x","params":{"a":[1]}}', 0.0)
    channel.receive_text('{"jsonrpc":"2.0","method":"x","params":{"a":[[1]]}}', 0.0)
    received, answered = channel.events_received()
    assert isinstance(received, MessageReceived)
    assert isinstance(answered, InvalidMessageAnswered)
    assert answered.error.jsonrpc_code == jsonrpc.PARSE_ERROR


def test_a_batch_is_one_message_where_allowed() -> None:
    channel = MessageChannel()
    assert not channel.allow_batches
    channel.allow_batches = True
    channel.receive_text('[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0"}]', 0.0)
    (received,) = channel.events_received()
    assert isinstance(received, MessageReceived)
    assert isinstance(received.message, list)
    first, second = received.message
    assert first == jsonrpc.Notification("a")
    assert isinstance(second, InvalidMessage)
    assert channel.texts_to_send() == []


def test_a_binary_message_fails_the_channel_once_and_texts_still_come() -> None:
    channel = MessageChannel()
    channel.receive_bytes(b"\x00\x01", 1.0)
    (failed,) = channel.events_received()
    assert isinstance(failed, ChannelFailed)
    assert failed.close_code == 1003
    assert isinstance(failed.error, RemoteProtocolError)
    assert (failed.error.message, failed.error.close_code) == (
        "MCP messages are JSON text, not binary",
        1003,
    )
    assert channel.failure is failed
    channel.receive_bytes(b"again", 1.0)
    channel.receive_text(text(notification("x")), 1.0)
    assert channel.events_received() == [MessageReceived(jsonrpc.Notification("x"))]
    assert channel.failure is failed


def test_send_queues_a_message_and_a_batch_only_where_allowed() -> None:
    channel = MessageChannel()
    channel.send(jsonrpc.Notification("a"))
    with pytest.raises(LocalProtocolError, match="batches are only allowed"):
        channel.send([jsonrpc.Notification("b")])
    channel.allow_batches = True
    channel.send([jsonrpc.Notification("b")])
    assert values(channel.texts_to_send()) == [
        {"jsonrpc": "2.0", "method": "a"},
        [{"jsonrpc": "2.0", "method": "b"}],
    ]


def test_the_end_of_input_ends_the_channel() -> None:
    assert not MessageChannel().closed
    channel = MessageChannel()
    channel.receive_eof()
    channel.receive_eof()
    channel.close()
    assert channel.closed
    channel.receive_text(text(notification("x")), 1.0)
    channel.receive_bytes(b"x", 1.0)
    assert (channel.events_received(), channel.texts_to_send()) == ([], [])
    assert channel.failure is None


# With a session -------------------------------------------------------------------------------


def test_messages_go_to_the_session_and_its_texts_are_sent() -> None:
    channel = server_channel()
    channel.receive_text(text(request(1, "ping")), 1.0)
    channel.receive_text(text(request(2, "tools/list")), 1.0)
    assert values(channel.texts_to_send()) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    (received,) = channel.events_received()
    assert isinstance(received, RequestReceived)
    assert (received.request_id, received.method) == (2, "tools/list")
    assert channel.next_deadline() is None


def test_an_invalid_text_is_answered_after_what_the_session_queued() -> None:
    channel = server_channel()
    channel.receive_text(text(request(1, "tools/list")), 1.0)
    assert channel.session is not None
    channel.session.respond(1, {"tools": []})
    channel.receive_text("not json", 1.0)
    answer, error = values(channel.texts_to_send())
    assert answer == {"jsonrpc": "2.0", "id": 1, "result": {"tools": []}}
    assert error["error"]["code"] == jsonrpc.PARSE_ERROR
    received, answered = channel.events_received()
    assert isinstance(received, RequestReceived)
    assert isinstance(answered, InvalidMessageAnswered)


@pytest.mark.parametrize(("revision", "allowed"), [("2025-03-26", True), ("2025-06-18", False)])
def test_batches_follow_the_session(revision: str, allowed: bool) -> None:
    channel = MessageChannel(ServerSession(SERVER))
    channel.allow_batches = True  # the session decides, not this
    assert not channel.allow_batches
    channel = server_channel(revision)
    assert channel.allow_batches is allowed


def test_send_comes_after_what_the_session_queued() -> None:
    channel = server_channel()
    assert channel.session is not None
    channel.session.send_notification("notifications/tools/list_changed")
    channel.send(jsonrpc.Notification("vendor/x"))
    assert [item["method"] for item in values(channel.texts_to_send())] == [
        "notifications/tools/list_changed",
        "vendor/x",
    ]


def test_a_session_that_fails_fails_the_channel_with_1002() -> None:
    channel = client_channel()
    wrong = initialize_params("1999-01-01")
    reply = {"jsonrpc": "2.0", "id": 1, "result": {**wrong, "serverInfo": wrong["clientInfo"]}}
    channel.receive_text(text(reply), 1.0)
    failed_session, failed = channel.events_received()
    assert isinstance(failed_session, SessionFailed)
    assert failed == ChannelFailed(1002, failed_session.error)
    assert channel.failure is failed
    assert "1999-01-01" in failed.error.message
    assert channel.events_received() == []


def test_deadlines_are_the_sessions() -> None:
    channel = client_channel(timeout=10.0)
    assert channel.next_deadline() == 10.0
    channel.handle_timeout(9.5)
    assert (channel.events_received(), channel.failure) == ([], None)
    channel.handle_timeout(10.0)
    failed_session, failed = channel.events_received()
    assert isinstance(failed_session, SessionFailed)
    assert isinstance(failed, ChannelFailed)
    assert failed.close_code == 1002
    assert channel.next_deadline() is None


def test_a_binary_message_fails_the_channel_after_the_sessions_events() -> None:
    channel = server_channel()
    channel.receive_text(text(request(1, "tools/list")), 1.0)
    channel.receive_bytes(b"\x00", 1.0)
    received, failed = channel.events_received()
    assert isinstance(received, RequestReceived)
    assert isinstance(failed, ChannelFailed)
    assert failed.close_code == 1003
    assert channel.session is not None
    assert channel.session.state is not State.CLOSED  # the framing ends it: receive_eof


def test_the_end_of_input_closes_the_session_and_drops_what_it_queued() -> None:
    channel = server_channel()
    assert channel.session is not None
    channel.receive_text(text(request(1, "tools/list")), 1.0)
    channel.session.respond(1, {"tools": []})
    channel.receive_eof()
    assert channel.session.state is State.CLOSED
    assert channel.texts_to_send() == []
    (received,) = channel.events_received()  # taken when the request came
    assert isinstance(received, RequestReceived)
    channel.receive_text(text(request(2, "ping")), 2.0)
    assert (channel.texts_to_send(), channel.events_received()) == ([], [])


def test_the_end_of_input_ends_the_sessions_deadlines() -> None:
    channel = client_channel(timeout=10.0)
    channel.receive_eof()
    assert channel.next_deadline() is None
    channel.handle_timeout(10.0)
    assert (channel.texts_to_send(), channel.events_received()) == ([], [])


def test_close_hands_over_what_the_session_queued_first() -> None:
    channel = server_channel()
    assert channel.session is not None
    channel.receive_text(text(request(1, "tools/list")), 1.0)
    channel.session.respond(1, {"tools": []})
    channel.close()
    assert channel.closed
    assert channel.session.state is State.CLOSED
    assert values(channel.texts_to_send()) == [{"jsonrpc": "2.0", "id": 1, "result": {"tools": []}}]
    (received,) = channel.events_received()
    assert isinstance(received, RequestReceived)


# The subprotocol ------------------------------------------------------------------------------

SPOKEN: Final = "'mcp', 'mcp.version.2025-06-18', 'mcp.version.2025-11-25'"
REFUSAL: Final = f"this endpoint speaks the WebSocket subprotocols {SPOKEN} only"
REVISIONS: Final = ("2025-06-18", "2025-11-25")


@pytest.mark.parametrize(
    ("offered", "expected"),
    [
        ([], SubprotocolChoice(None, None, None, None)),
        (["mcp"], SubprotocolChoice("mcp", None, None, None)),
        (["foo", "mcp", "bar"], SubprotocolChoice("mcp", None, None, None)),
        (
            ["mcp", "mcp.version.2025-06-18"],
            SubprotocolChoice("mcp.version.2025-06-18", "2025-06-18", None, None),
        ),
        (
            ["mcp.version.2025-11-25", "mcp.version.2025-06-18"],
            SubprotocolChoice("mcp.version.2025-11-25", "2025-11-25", None, None),
        ),
        (["mcp.version.1999-01-01", "mcp"], SubprotocolChoice("mcp", None, None, None)),
        (["mcp", "mcp.auth.s3cret"], SubprotocolChoice("mcp", None, "s3cret", None)),
        (
            ["mcp.auth.a", "mcp.auth.b", "mcp.version.2025-06-18"],
            SubprotocolChoice("mcp.version.2025-06-18", "2025-06-18", "a", None),
        ),
        (["mcp.auth.s3cret"], SubprotocolChoice(None, None, "s3cret", REFUSAL)),
        (["graphql-ws"], SubprotocolChoice(None, None, None, REFUSAL)),
        (["MCP"], SubprotocolChoice(None, None, None, REFUSAL)),
        (["mcp.version.1999-01-01"], SubprotocolChoice(None, None, None, REFUSAL)),
    ],
)
def test_select_subprotocol(offered: list[str], expected: SubprotocolChoice) -> None:
    assert select_subprotocol(offered, REVISIONS) == expected


def test_the_subprotocols_spoken_follow_the_revisions() -> None:
    assert spoken_subprotocols(REVISIONS) == (
        "mcp",
        "mcp.version.2025-06-18",
        "mcp.version.2025-11-25",
    )
    assert spoken_subprotocols()[0] == "mcp"
    assert select_subprotocol(["mcp.version.2026-07-28"]).revision == "2026-07-28"


@pytest.mark.parametrize("offered", [["graphql-ws"], ["mcp.auth.s3cret"], ["mcp"], []])
def test_a_server_connection_refuses_what_select_subprotocol_refuses(offered: list[str]) -> None:
    client = ClientConnection("ws://localhost/mcp", 0.0)
    client._ws = WebSocketClient("ws://localhost/mcp", 0.0, subprotocols=offered)
    server = ServerConnection(0.0, revisions=REVISIONS)
    pump(client, server, 0.0)
    rejected = [e for e in client.events_received() if isinstance(e, ConnectionRejected)]
    refusal = select_subprotocol(offered, REVISIONS).refusal
    if refusal is None:
        assert rejected == []
    else:
        assert [(e.status_code, e.body) for e in rejected] == [(400, f"{refusal}\n".encode())]


def test_a_session_failing_after_a_binary_message_does_not_fail_the_channel_again() -> None:
    channel = client_channel(timeout=10.0)
    channel.receive_bytes(b"\x00", 1.0)
    (failed,) = channel.events_received()
    assert isinstance(failed, ChannelFailed)
    channel.handle_timeout(10.0)
    (failed_session,) = channel.events_received()
    assert isinstance(failed_session, SessionFailed)
    assert channel.failure is failed
