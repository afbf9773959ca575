"""MCP's stdio framing: newline-delimited JSON-RPC over a byte stream, owning a session."""

from __future__ import annotations

import itertools
import json
from typing import Any, Final

import pytest
from hypothesis import given, settings, strategies as st

from helpers.sessionpair import initialize_params, notification, open_pair, request
from mcpws.core import jsonrpc
from mcpws.core.connection import InvalidMessageAnswered, MessageReceived
from mcpws.core.errors import RemoteProtocolError
from mcpws.core.mcp import ClientCapabilities, ServerCapabilities
from mcpws.core.session import (
    ClientSession,
    ClientSessionConfig,
    NotificationIgnored,
    RequestCancelled,
    RequestReceived,
    RequestRejected,
    RequestTimedOut,
    ServerSession,
    ServerSessionConfig,
    SessionFailed,
    SessionInitialized,
    State,
)
from mcpws.core.stdio import DEFAULT_MAX_MESSAGE_SIZE, StdioConnection, StdioEvent, StreamEnded

HANDSHAKE_ONLY: Final = ServerSessionConfig(
    revisions=("2025-03-26", "2025-06-18"), capabilities=ServerCapabilities(tools={})
)


def session_of(stream: StdioConnection) -> Any:
    """The session *stream* carries."""
    assert stream.session is not None
    return stream.session


def line(value: Any) -> bytes:
    """One JSON value as a line of the stream."""
    return json.dumps(value, separators=(",", ":")).encode() + b"\n"


def replies(data: list[bytes]) -> list[Any]:
    """The JSON values of the lines in *data*, checking each item is one whole line."""
    assert all(chunk.endswith(b"\n") and chunk.count(b"\n") == 1 for chunk in data), data
    return [json.loads(chunk) for chunk in data]


def server_stdio(
    config: ServerSessionConfig | None = HANDSHAKE_ONLY, **options: Any
) -> StdioConnection:
    return StdioConnection(ServerSession(config), 0.0, **options)


def initialized(revision: str = "2025-06-18", **options: Any) -> StdioConnection:
    """A server stream whose session a hand-driven client has initialized in *revision*."""
    stdio = server_stdio(**options)
    hello = line(request(0, "initialize", initialize_params(revision, {"roots": {}})))
    stdio.receive_data(hello + line(notification("notifications/initialized")), 0.0)
    (reply,) = replies(stdio.data_to_send())
    assert reply["result"]["protocolVersion"] == revision
    assert [type(e) for e in stdio.events_received()] == [SessionInitialized]
    return stdio


def assert_ended(stdio: StdioConnection, cause: type[Exception] | None) -> StreamEnded:
    """The stream is over: ``b""`` was the last thing to send, and StreamEnded the last event."""
    data = stdio.data_to_send()
    assert data[-1:] == [b""]
    assert b"" not in data[:-1]
    ended = stdio.events_received()[-1]
    assert isinstance(ended, StreamEnded)
    if cause is None:
        assert ended.cause is None
    else:
        assert isinstance(ended.cause, cause)
    assert stdio.closed
    assert session_of(stdio).state is State.CLOSED
    return ended


# Framing ---------------------------------------------------------------------------------------


def test_each_line_is_one_message_and_each_reply_one_line() -> None:
    stdio = initialized()
    stdio.receive_data(line(request(1, "ping")) + line(request("two", "ping")), 1.0)
    data = stdio.data_to_send()
    assert data == [
        b'{"jsonrpc":"2.0","id":1,"result":{}}\n',
        b'{"jsonrpc":"2.0","id":"two","result":{}}\n',
    ]
    assert stdio.events_received() == []


def test_a_server_stream_writes_nothing_until_spoken_to() -> None:
    stdio = server_stdio()
    assert (stdio.data_to_send(), stdio.events_received(), stdio.next_deadline()) == ([], [], None)


def test_a_message_split_over_reads_is_read_once_complete() -> None:
    stdio = initialized()
    data = line(request(1, "tools/list"))
    stdio.receive_data(data[:10], 1.0)
    stdio.receive_data(data[10:-1], 1.0)
    assert stdio.events_received() == []
    stdio.receive_data(b"\n", 1.0)
    (received,) = stdio.events_received()
    assert isinstance(received, RequestReceived)
    assert (received.request_id, received.method) == (1, "tools/list")


def test_crlf_line_endings_are_accepted() -> None:
    stdio = initialized()
    stdio.receive_data(line(request(1, "ping"))[:-1] + b"\r\n", 1.0)
    assert replies(stdio.data_to_send()) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    assert stdio.events_received() == []


def test_blank_lines_are_skipped() -> None:
    stdio = initialized()
    stdio.receive_data(b"\n\r\n   \n\t\r\n" + line(request(1, "ping")) + b"\n", 1.0)
    assert replies(stdio.data_to_send()) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    assert stdio.events_received() == []


@pytest.mark.parametrize(
    ("text", "code", "id"),
    [
        (b"not json", jsonrpc.PARSE_ERROR, None),
        (b'{"jsonrpc":"2.0","id":7,"method":5}', jsonrpc.INVALID_REQUEST, 7),
        (b'{"jsonrpc":"2.0","id":"a"}', jsonrpc.INVALID_REQUEST, "a"),
        (b"\xff\xfe", jsonrpc.PARSE_ERROR, None),
    ],
)
def test_an_invalid_line_is_answered_and_the_stream_goes_on(
    text: bytes, code: int, id: str | int | None
) -> None:
    stdio = initialized()
    stdio.receive_data(text + b"\n" + line(request(2, "ping")), 1.0)
    error, pong = replies(stdio.data_to_send())
    assert error["error"]["code"] == code
    assert error.get("id") == id
    assert pong == {"jsonrpc": "2.0", "id": 2, "result": {}}
    (answered,) = stdio.events_received()
    assert isinstance(answered, InvalidMessageAnswered)
    assert (answered.error.jsonrpc_code, answered.reply.id) == (code, id)
    assert json.loads(jsonrpc.encode(answered.reply)) == error
    assert not stdio.closed


def test_an_invalid_line_is_answered_after_what_the_session_queued() -> None:
    stdio = initialized()
    stdio.receive_data(line(request(1, "tools/list")), 1.0)
    (received,) = stdio.events_received()
    assert isinstance(received, RequestReceived)
    session_of(stdio).respond(1, {"tools": []})
    session_of(stdio).send_notification("notifications/tools/list_changed")
    stdio.receive_data(b"oops\n" + line(request(2, "ping")), 1.0)
    answer, changed, error, pong = replies(stdio.data_to_send())
    assert answer == {"jsonrpc": "2.0", "id": 1, "result": {"tools": []}}
    assert changed["method"] == "notifications/tools/list_changed"
    assert error["error"]["code"] == jsonrpc.PARSE_ERROR
    assert pong["id"] == 2


def test_events_keep_the_order_of_the_lines() -> None:
    stdio = initialized()
    stdio.receive_data(
        line(request(1, "tools/list"))
        + b"[]\n"
        + line(notification("notifications/unknown"))
        + line(request(2, "no/such/method")),
        1.0,
    )
    kinds = [type(event) for event in stdio.events_received()]
    assert kinds == [RequestReceived, InvalidMessageAnswered, NotificationIgnored, RequestRejected]


def test_the_nesting_limit_is_configurable() -> None:
    stdio = server_stdio(max_depth=3)
    stdio.receive_data(b'{"jsonrpc":"2.0","method":"x","params":{"a":{"b":{}}}}\n', 1.0)
    (answered,) = stdio.events_received()
    assert isinstance(answered, InvalidMessageAnswered)
    assert answered.error.jsonrpc_code == jsonrpc.PARSE_ERROR


# Any split of the stream --------------------------------------------------------------------

LIMIT: Final = 256
LINES: Final = (
    line(request(0, "initialize", initialize_params("2025-03-26"))).rstrip(b"\n"),
    line(notification("notifications/initialized")).rstrip(b"\n"),
    line(request(1, "ping")).rstrip(b"\n"),
    line(request("p", "ping")).rstrip(b"\n"),
    line(request(3, "tools/list")).rstrip(b"\n"),
    line(request(4, "no/such/method")).rstrip(b"\n"),
    line(notification("notifications/unknown")).rstrip(b"\n"),
    b'[{"jsonrpc":"2.0","id":5,"method":"ping"},{"jsonrpc":"2.0","id":6}]',
    b"not json",
    b'{"jsonrpc":"2.0","id":"x"}',
    b"",
    b"  ",
    b'{"jsonrpc":"2.0","method":"notifications/message","params":{"pad":"' + b"x" * LIMIT + b'"}}',
)


def _normal(event: StdioEvent) -> object:
    """An event as a comparable value (exceptions compare by identity)."""
    if isinstance(event, InvalidMessageAnswered):
        error = event.error
        return ("answered", error.jsonrpc_code, error.message, error.id, event.reply)
    if isinstance(event, StreamEnded):
        cause = event.cause
        return ("ended", None if cause is None else (type(cause), cause.message))
    return event


def _feed(chunks: list[bytes]) -> tuple[list[bytes], list[object]]:
    stdio = server_stdio(
        ServerSessionConfig(capabilities=ServerCapabilities(tools={})), max_message_size=LIMIT
    )
    data: list[bytes] = []
    events: list[object] = []
    for chunk in chunks:
        stdio.receive_data(chunk, 0.0)
        data += stdio.data_to_send()
        events += [_normal(event) for event in stdio.events_received()]
    stdio.receive_eof(0.0)
    data += stdio.data_to_send()
    events += [_normal(event) for event in stdio.events_received()]
    return data, events


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """A stream of lines with LF or CRLF endings and maybe an unterminated tail, and the
    places to cut it."""
    lines = draw(st.lists(st.sampled_from(LINES), max_size=10))
    endings = draw(
        st.lists(st.sampled_from([b"\n", b"\r\n"]), min_size=len(lines), max_size=len(lines))
    )
    tail = draw(st.sampled_from([b"", *LINES[:3]]))
    stream = b"".join(text + end for text, end in zip(lines, endings, strict=True)) + tail
    cuts = draw(st.lists(st.integers(0, len(stream)), max_size=8))
    return stream, sorted(cuts)


@settings(max_examples=300, derandomize=True, database=None, deadline=None)
@given(streams())
def test_any_split_of_the_stream_gives_the_same_replies_and_events(
    case: tuple[bytes, list[int]],
) -> None:
    stream, cuts = case
    bounds = [0, *cuts, len(stream)]
    chunks = [stream[start:end] for start, end in itertools.pairwise(bounds)]
    assert _feed(chunks) == _feed([stream])


def test_a_line_of_exactly_the_limit_is_read_whatever_the_split_of_its_crlf() -> None:
    """The CR of a CRLF ending is no part of the line, however the CR and LF arrive."""
    message = line(request(1, "ping")).rstrip(b"\n")
    together = server_stdio(max_message_size=len(message))
    together.receive_data(message + b"\r\n", 0.0)
    apart = server_stdio(max_message_size=len(message))
    apart.receive_data(message + b"\r", 0.0)
    apart.receive_data(b"\n", 0.0)
    assert replies(together.data_to_send()) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    assert replies(apart.data_to_send()) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    assert not apart.closed


# Limits and the end ----------------------------------------------------------------------------


def test_a_complete_line_over_the_limit_ends_the_stream() -> None:
    stdio = initialized(max_message_size=200)
    stdio.receive_data(
        line(request(1, "ping")) + b"x" * 201 + b"\n" + line(request(2, "ping")), 1.0
    )
    data = stdio.data_to_send()
    assert replies(data[:-1]) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    assert data[-1] == b""
    (ended,) = stdio.events_received()
    assert isinstance(ended, StreamEnded)
    assert isinstance(ended.cause, RemoteProtocolError)
    assert "longer than 200 bytes" in ended.cause.message
    assert stdio.closed
    assert session_of(stdio).state is State.CLOSED


@pytest.mark.parametrize("cut", [None, 150, 201])
def test_a_blank_line_over_the_limit_ends_the_stream_however_it_arrives(cut: int | None) -> None:
    """Blank lines are skipped, but not one over the limit: it ends the stream whole, or in
    pieces, as it did already when the first piece was over the limit."""
    blank = b" \t" * 101 + b"\r\n"
    stdio = initialized(max_message_size=200)
    for piece in [blank] if cut is None else [blank[:cut], blank[cut:]]:
        stdio.receive_data(piece, 1.0)
    ended = assert_ended(stdio, RemoteProtocolError)
    assert ended.cause is not None
    assert "longer than 200 bytes" in ended.cause.message


def test_a_blank_line_within_the_limit_is_skipped() -> None:
    stdio = initialized(max_message_size=200)
    stdio.receive_data(b" \t" * 100 + b"\r\n" + line(request(1, "ping")), 1.0)
    assert replies(stdio.data_to_send()) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    assert not stdio.closed


def test_an_incomplete_line_over_the_limit_ends_the_stream() -> None:
    stdio = initialized(max_message_size=200)
    stdio.receive_data(b"x" * 200, 1.0)
    assert stdio.data_to_send() == []
    assert not stdio.closed
    stdio.receive_data(b"x", 1.0)
    ended = assert_ended(stdio, RemoteProtocolError)
    assert ended.cause is not None
    assert "longer than 200 bytes" in ended.cause.message


def test_a_line_of_exactly_the_limit_is_read() -> None:
    message = line(request(1, "ping"))
    stdio = server_stdio(max_message_size=len(message) - 1)
    stdio.receive_data(message, 0.0)
    assert replies(stdio.data_to_send()) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]


def test_the_default_limit_is_16_mib_and_none_switches_it_off() -> None:
    assert DEFAULT_MAX_MESSAGE_SIZE == 16 * 1024 * 1024
    huge = b" " * (DEFAULT_MAX_MESSAGE_SIZE + 1)
    bounded = initialized()
    bounded.receive_data(huge, 1.0)
    assert_ended(bounded, RemoteProtocolError)
    unbounded = initialized(max_message_size=None)
    unbounded.receive_data(huge, 1.0)
    unbounded.receive_data(b"\n" + line(request(1, "ping")), 1.0)
    assert replies(unbounded.data_to_send()) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    assert not unbounded.closed


def test_end_of_file_reads_the_last_unterminated_line_and_ends_the_stream() -> None:
    stdio = initialized()
    stdio.receive_data(line(request(1, "ping")) + line(request(2, "ping"))[:-1], 1.0)
    assert replies(stdio.data_to_send()) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    stdio.receive_eof(2.0)
    data = stdio.data_to_send()
    assert replies(data[:-1]) == [{"jsonrpc": "2.0", "id": 2, "result": {}}]
    assert data[-1] == b""
    assert stdio.events_received() == [StreamEnded(None)]
    assert session_of(stdio).state is State.CLOSED


@pytest.mark.parametrize("rest", [b"", b"\r", b"  \t"])
def test_end_of_file_after_whole_lines_just_ends_the_stream(rest: bytes) -> None:
    stdio = initialized()
    stdio.receive_data(rest, 1.0)
    stdio.receive_eof(1.0)
    assert stdio.data_to_send() == [b""]
    assert stdio.events_received() == [StreamEnded(None)]


def test_end_of_file_reads_a_last_line_of_exactly_the_limit() -> None:
    message = line(request(1, "ping")).rstrip(b"\n")
    stdio = server_stdio(max_message_size=len(message))
    stdio.receive_data(message, 0.0)
    stdio.receive_eof(0.0)
    data = stdio.data_to_send()
    assert replies(data[:-1]) == [{"jsonrpc": "2.0", "id": 1, "result": {}}]
    assert data[-1] == b""
    assert stdio.events_received() == [StreamEnded(None)]


def test_close_ends_the_stream_after_what_the_session_queued() -> None:
    stdio = initialized()
    stdio.receive_data(line(request(1, "tools/list")), 1.0)
    stdio.events_received()
    session_of(stdio).respond(1, {"tools": []})
    stdio.close()
    data = stdio.data_to_send()
    assert replies(data[:-1]) == [{"jsonrpc": "2.0", "id": 1, "result": {"tools": []}}]
    assert data[-1] == b""
    assert stdio.events_received() == [StreamEnded(None)]
    assert session_of(stdio).state is State.CLOSED
    stdio.close()
    assert (stdio.data_to_send(), stdio.events_received()) == ([], [])


def test_nothing_is_processed_after_the_end() -> None:
    stdio = initialized()
    stdio.close()
    stdio.data_to_send()
    stdio.events_received()
    stdio.receive_data(line(request(1, "ping")) + b"not json\n", 1.0)
    stdio.receive_eof(1.0)
    stdio.handle_timeout(1000.0)
    stdio.close()
    assert (stdio.data_to_send(), stdio.events_received()) == ([], [])
    assert stdio.next_deadline() is None


def test_lines_after_the_fatal_one_are_not_read() -> None:
    stdio = initialized(max_message_size=200)
    stdio.receive_data(b"z" * 300 + b"\n" + line(request(1, "ping")), 1.0)
    assert stdio.data_to_send() == [b""]
    stdio.receive_eof(1.0)
    assert stdio.data_to_send() == []
    assert [type(event) for event in stdio.events_received()] == [StreamEnded]


# The client --------------------------------------------------------------------------------------


def test_a_client_stream_starts_its_session_at_once_with_the_probe() -> None:
    stdio = StdioConnection(ClientSession(), 5.0)
    (probe,) = replies(stdio.data_to_send())
    assert (probe["id"], probe["method"]) == (1, "server/discover")
    assert stdio.next_deadline() == 15.0


def test_a_client_stream_of_the_handshake_era_starts_with_initialize() -> None:
    config = ClientSessionConfig(
        revisions=("2025-06-18",), capabilities=ClientCapabilities(roots={})
    )
    stdio = StdioConnection(ClientSession(config), 5.0)
    (hello,) = replies(stdio.data_to_send())
    assert (hello["id"], hello["method"]) == (1, "initialize")
    assert hello["params"]["protocolVersion"] == "2025-06-18"
    assert stdio.next_deadline() == 65.0


def test_a_failed_client_session_ends_the_stream_with_its_cause() -> None:
    config = ClientSessionConfig(revisions=("2025-06-18",))
    stdio = StdioConnection(ClientSession(config), 0.0)
    stdio.data_to_send()
    refusal = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32600, "message": "go away"}}
    stdio.receive_data(line(refusal) + line(request(1, "ping")), 1.0)
    assert stdio.data_to_send() == [b""]
    failed, ended = stdio.events_received()
    assert isinstance(failed, SessionFailed)
    assert isinstance(ended, StreamEnded)
    assert ended.cause is failed.error
    assert "go away" in failed.error.message
    assert session_of(stdio).state is State.CLOSED
    assert stdio.next_deadline() is None


def test_a_last_line_that_fails_the_session_ends_the_stream_once() -> None:
    stdio = StdioConnection(ClientSession(ClientSessionConfig(revisions=("2025-06-18",))), 0.0)
    stdio.data_to_send()
    refusal = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32600, "message": "go away"}}
    stdio.receive_data(line(refusal).rstrip(b"\n"), 1.0)
    assert stdio.events_received() == []
    stdio.receive_eof(1.0)
    assert stdio.data_to_send() == [b""]
    failed, ended = stdio.events_received()
    assert isinstance(failed, SessionFailed)
    assert ended == StreamEnded(failed.error)


def test_a_client_session_failing_on_a_timeout_ends_the_stream() -> None:
    config = ClientSessionConfig(revisions=("2025-06-18",), request_timeout=30.0)
    stdio = StdioConnection(ClientSession(config), 0.0)
    stdio.data_to_send()
    assert stdio.next_deadline() == 30.0
    stdio.handle_timeout(29.9)
    assert (stdio.data_to_send(), stdio.events_received()) == ([], [])
    stdio.handle_timeout(30.0)
    assert stdio.data_to_send() == [b""]
    failed, ended = stdio.events_received()
    assert isinstance(failed, SessionFailed)
    assert ended == StreamEnded(failed.error)
    assert stdio.next_deadline() is None


def test_close_after_a_failure_not_yet_reported_ends_the_stream_once() -> None:
    """The session failed when driven directly; close() reports it and ends with its cause."""
    config = ClientSessionConfig(revisions=("2025-06-18",), request_timeout=30.0)
    stdio = StdioConnection(ClientSession(config), 0.0)
    stdio.data_to_send()
    session_of(stdio).handle_timeout(30.0)
    stdio.close()
    assert stdio.data_to_send() == [b""]
    failed, ended = stdio.events_received()
    assert isinstance(failed, SessionFailed)
    assert ended == StreamEnded(failed.error)


def test_a_stdio_pair_opens_and_talks() -> None:
    pair = open_pair("stdio", server=ServerSessionConfig(capabilities=ServerCapabilities(tools={})))
    assert pair.client.state is State.STATELESS
    request_id = pair.client.send_request("tools/list", now=1.0)
    pair.pump(1.0)
    _, server_events = pair.events()
    (received,) = server_events
    assert isinstance(received, RequestReceived)
    pair.server.respond(request_id, {"tools": []})
    pair.pump(1.0)
    client_events, _ = pair.events()
    assert [type(event).__name__ for event in client_events] == ["ResponseReceived"]


# Timers ------------------------------------------------------------------------------------------


def test_deadlines_are_the_sessions_and_timeouts_reach_it() -> None:
    stdio = initialized()
    assert stdio.next_deadline() is None
    request_id = session_of(stdio).send_request("roots/list", now=1.0, timeout=5.0)
    assert stdio.next_deadline() == 6.0
    stdio.handle_timeout(5.9)
    roots, *rest = replies(stdio.data_to_send())
    assert (roots["method"], rest) == ("roots/list", [])
    stdio.handle_timeout(6.0)
    (cancelled,) = replies(stdio.data_to_send())
    assert cancelled["method"] == "notifications/cancelled"
    assert cancelled["params"]["requestId"] == request_id
    assert stdio.events_received() == [RequestTimedOut(request_id, "roots/list")]
    assert stdio.next_deadline() is None


def test_there_is_no_deadline_after_the_end() -> None:
    stdio = initialized()
    session_of(stdio).send_request("roots/list", now=1.0)
    assert stdio.next_deadline() == 61.0
    stdio.receive_eof(2.0)
    assert stdio.next_deadline() is None
    stdio.handle_timeout(61.0)
    assert stdio.events_received() == [StreamEnded(None)]


def test_a_peer_cancel_reaches_the_application() -> None:
    stdio = initialized()
    stdio.receive_data(line(request(1, "tools/list")), 1.0)
    cancel = notification("notifications/cancelled", {"requestId": 1, "reason": "bored"})
    stdio.receive_data(line(cancel), 2.0)
    received, cancelled = stdio.events_received()
    assert isinstance(received, RequestReceived)
    assert cancelled == RequestCancelled(1, "bored")
    session_of(stdio).respond(1, {"tools": []})
    assert stdio.data_to_send() == []


# Batches -----------------------------------------------------------------------------------------

BATCH: Final = (
    b'[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]\n'
)


def test_a_batch_is_answered_with_one_batch_line_in_2025_03_26() -> None:
    stdio = initialized("2025-03-26")
    stdio.receive_data(BATCH, 1.0)
    (answer,) = replies(stdio.data_to_send())
    assert answer == [
        {"jsonrpc": "2.0", "id": 1, "result": {}},
        {"jsonrpc": "2.0", "id": 2, "result": {}},
    ]


@pytest.mark.parametrize("revision", ["2025-06-18", None])
def test_a_batch_is_refused_in_other_revisions_and_before_negotiation(
    revision: str | None,
) -> None:
    stdio = server_stdio() if revision is None else initialized(revision)
    stdio.receive_data(BATCH, 1.0)
    (error,) = replies(stdio.data_to_send())
    assert error["error"]["code"] == jsonrpc.INVALID_REQUEST
    (answered,) = stdio.events_received()
    assert isinstance(answered, InvalidMessageAnswered)
    assert not stdio.closed


# Without a session: a bridge's stream ----------------------------------------------------------


def test_without_a_session_each_message_is_reported_and_sent_as_given() -> None:
    stream = StdioConnection(None, 0.0)
    assert stream.data_to_send() == []
    stream.receive_data(line({"jsonrpc": "2.0", "id": "abc", "method": "tools/list"}), 0.0)
    stream.receive_data(b"not json\n", 0.0)
    received, answered = stream.events_received()
    assert received == MessageReceived(jsonrpc.Request("abc", "tools/list"))
    assert isinstance(answered, InvalidMessageAnswered)
    assert answered.error.jsonrpc_code == -32700
    assert stream.next_deadline() is None
    stream.send(jsonrpc.Response("abc", {"tools": []}))
    stream.send_text('{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}')
    reply, response, notified = stream.data_to_send()
    assert json.loads(reply)["error"]["code"] == -32700
    assert json.loads(response) == {"jsonrpc": "2.0", "id": "abc", "result": {"tools": []}}
    assert notified == b'{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}\n'
    stream.close()
    stream.send(jsonrpc.Notification("notifications/initialized"))  # dropped: it is over
    assert stream.data_to_send() == [b""]
    assert stream.events_received() == [StreamEnded()]


def test_a_stream_that_sends_no_replies_reports_an_invalid_line_only() -> None:
    stream = StdioConnection(None, 0.0, reply=False)
    stream.receive_data(b'{"jsonrpc":"2.0","id":3}\n', 0.0)
    (answered,) = stream.events_received()
    assert isinstance(answered, InvalidMessageAnswered)
    assert answered.reply.id == 3
    assert stream.data_to_send() == []


# Holding lines for a driver --------------------------------------------------------------------


def test_held_lines_wait_for_resume_one_at_a_time() -> None:
    stream = StdioConnection(None, 0.0)
    stream.hold = True
    first = line({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    second = line({"jsonrpc": "2.0", "id": "two", "method": "ping"})
    stream.receive_data(first + second[:5], 0.0)
    assert stream.events_received() == []
    assert (stream.held, stream.holding) == (len(first), True)
    stream.receive_data(second[5:], 0.0)
    assert stream.held == len(first) + len(second)
    assert stream.resume(0.0)
    assert stream.events_received() == [MessageReceived(jsonrpc.Request(1, "ping"))]
    assert stream.held == len(second)
    assert stream.resume(0.0)
    assert stream.events_received() == [MessageReceived(jsonrpc.Request("two", "ping"))]
    assert (stream.held, stream.holding, stream.resume(0.0)) == (0, False, False)


def test_the_end_of_the_stream_waits_behind_held_lines() -> None:
    stream = StdioConnection(None, 0.0)
    stream.hold = True
    stream.receive_data(line({"jsonrpc": "2.0", "method": "notifications/initialized"}), 0.0)
    stream.receive_eof(0.0)
    assert stream.events_received() == []
    assert stream.resume(0.0)
    assert stream.events_received() == [
        MessageReceived(jsonrpc.Notification("notifications/initialized"))
    ]
    assert stream.holding
    assert stream.resume(0.0)
    assert stream.events_received() == [StreamEnded()]
    assert not stream.holding


def test_with_nothing_held_the_end_of_the_stream_ends_it_at_once() -> None:
    stream = StdioConnection(None, 0.0)
    stream.hold = True
    stream.receive_data(b'{"jsonrpc":"2.0",', 0.0)  # an unterminated last line is read
    stream.receive_eof(0.0)
    (answered, ended) = stream.events_received()
    assert isinstance(answered, InvalidMessageAnswered)
    assert ended == StreamEnded()


def test_a_held_stream_still_refuses_an_incomplete_line_over_the_limit() -> None:
    stream = StdioConnection(None, 0.0, max_message_size=10)
    stream.hold = True
    stream.receive_data(b'"short"\n' + b"x" * 11, 0.0)
    (ended,) = stream.events_received()
    assert isinstance(ended, StreamEnded)
    assert isinstance(ended.cause, RemoteProtocolError)


def test_a_stream_speaks_as_a_connection_does_for_a_driver() -> None:
    stream = StdioConnection(None, 0.0)
    assert stream.is_open
    stream.send(jsonrpc.Notification("notifications/initialized"))
    assert stream.buffered_amount == len(
        line({"jsonrpc": "2.0", "method": "notifications/initialized"})
    )
    stream.close(1001, "going away", now=1.0)
    assert (stream.is_open, stream.closed) == (False, True)
    assert stream.data_to_send()[-1] == b""


def test_traffic_counts_lines_and_bytes_each_way_but_not_blank_lines() -> None:
    stdio = server_stdio()
    hello = line(request(0, "initialize", initialize_params("2025-06-18", {"roots": {}})))
    stdio.receive_data(hello + b"\n  \n", 0.0)
    out = stdio.data_to_send()
    traffic = stdio.traffic
    assert (traffic.messages_received, traffic.bytes_received) == (1, len(hello) + 4)
    assert (traffic.messages_sent, traffic.bytes_sent) == (1, sum(map(len, out)))
