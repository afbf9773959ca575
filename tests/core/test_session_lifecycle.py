"""The lifecycle of a session in every revision and over every transport: the handshake,
the server's gates, batches, ping, the stateless era, both eras at once, and the start."""

from __future__ import annotations

import json
from typing import Any, Final, get_args

import pytest

from helpers.sessionpair import (
    TRANSPORTS,
    Peer,
    SessionPair,
    initialize_params,
    make_pair,
    notification,
    only,
    open_pair,
    request,
    stateless_meta,
)
from helpers.wspair import pump
from mcpws.core import jsonrpc
from mcpws.core.connection import (
    ClientConnection,
    InvalidMessageAnswered,
    MessageReceived,
    ServerConnection,
)
from mcpws.core.errors import InvalidMessage, LocalProtocolError, RemoteProtocolError
from mcpws.core.mcp import (
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    UNSUPPORTED_PROTOCOL_VERSION,
    CallToolResult,
    ClientCapabilities,
    Implementation,
    ListToolsResult,
    ServerCapabilities,
    TextContent,
)
from mcpws.core.session import (
    ClientSession,
    ClientSessionConfig,
    NotificationIgnored,
    RequestReceived,
    RequestRejected,
    ResponseReceived,
    ServerSession,
    ServerSessionConfig,
    SessionEvent,
    SessionFailed,
    SessionInitialized,
    State,
    UnknownResponseReceived,
)
from mcpws.core.stdio import StdioConnection, StreamEnded
from mcpws.core.versions import HANDSHAKE_REVISIONS
from mcpws.core.websocket import ConnectionClosed, WebSocketConfig

URL: Final = "ws://localhost/mcp"
STATELESS: Final = "2026-07-28"
NO_KEEPALIVE: Final = WebSocketConfig(ping_interval=None)
ALL_NEWEST_FIRST: Final = [STATELESS, *reversed(HANDSHAKE_REVISIONS)]
OTHER_THAN_BATCHES: Final = [r for r in (*HANDSHAKE_REVISIONS, STATELESS) if r != "2025-03-26"]

CLIENT_INFO: Final = Implementation(name="cli", version="1.2")
SERVER_INFO: Final = Implementation(name="srv", version="2.0")
CLIENT_CAPS: Final = ClientCapabilities(roots={"listChanged": True}, sampling={})
SERVER_CAPS: Final = ServerCapabilities(tools={"listChanged": True}, logging={})

SESSION_EVENTS: Final = get_args(SessionEvent)

EACH_HANDSHAKE = pytest.mark.parametrize("revision", HANDSHAKE_REVISIONS)
EACH_TRANSPORT = pytest.mark.parametrize("transport", TRANSPORTS)
FRAMED = pytest.mark.parametrize("transport", ["websocket", "stdio"])


# Helpers ------------------------------------------------------------------------------------


def client_config(*revisions: str, **options: Any) -> ClientSessionConfig:
    return ClientSessionConfig(
        revisions=revisions or HANDSHAKE_REVISIONS,
        capabilities=options.pop("capabilities", CLIENT_CAPS),
        client_info=CLIENT_INFO,
        **options,
    )


def server_config(*revisions: str, **options: Any) -> ServerSessionConfig:
    return ServerSessionConfig(
        revisions=revisions or HANDSHAKE_REVISIONS,
        capabilities=options.pop("capabilities", SERVER_CAPS),
        server_info=SERVER_INFO,
        **options,
    )


def _anyone(_: object) -> None:
    return None


class Link:
    """One session on one transport, driven by hand from the other end.

    For ``websocket`` the other end is a connection without a session (batches allowed, so
    that it reads whatever comes); for ``stdio`` it writes and reads lines; for ``direct`` it
    hands decoded messages over. A client session is started as its transport opens.
    """

    def __init__(
        self, transport: str, session: ClientSession | ServerSession, now: float = 0.0
    ) -> None:
        self.transport = transport
        self.session = session
        self.now = now
        self.inbox: list[Any] = []
        self.ended = False
        self.end: Any
        self.raw: Any = None
        if transport == "direct":
            self.end = session
            if isinstance(session, ClientSession):
                session.start(now)
        elif transport == "websocket":
            if isinstance(session, ClientSession):
                self.end = ClientConnection(URL, now, config=NO_KEEPALIVE, session=session)
                self.raw = ServerConnection(now, config=NO_KEEPALIVE, authenticate=_anyone)
            else:
                self.end = ServerConnection(
                    now, config=NO_KEEPALIVE, session=session, authenticate=_anyone
                )
                self.raw = ClientConnection(URL, now, config=NO_KEEPALIVE)
            self.raw.allow_batches = True
            self._pump(now)
            self.end.events_received()
        else:
            assert transport == "stdio"
            self.end = StdioConnection(session, now)

    def _pump(self, now: float) -> None:
        if isinstance(self.end, ClientConnection):
            pump(self.end, self.raw, now)
        else:
            pump(self.raw, self.end, now)

    def send(self, value: Any, now: float = 0.0) -> list[Any]:
        """Deliver *value* (a JSON value, or raw text) and return what the session's side
        has sent since the last call."""
        self.now = now
        text = value if isinstance(value, str) else json.dumps(value)
        if self.transport == "direct":
            self.session.receive_message(jsonrpc.decode(text, allow_batch=True), now)
        elif self.transport == "websocket":
            if self.raw._ws.is_open:
                self.raw._ws.send_text(text)
                self._pump(now)
        else:
            self.end.receive_data(text.encode() + b"\n", now)
        return self.sent()

    def sent(self) -> list[Any]:
        """The JSON values the session's side has sent since the last call."""
        if self.transport == "direct":
            self.inbox.extend(json.loads(text) for text in self.session.messages_to_send())
        elif self.transport == "websocket":
            self._pump(self.now)
            for event in self.raw.events_received():
                if isinstance(event, MessageReceived):
                    self.inbox.append(_json(event.message))
                elif isinstance(event, ConnectionClosed):
                    self.ended = True
        else:
            for data in self.end.data_to_send():
                if data == b"":
                    self.ended = True
                else:
                    self.inbox.append(json.loads(data))
        values, self.inbox = self.inbox, []
        return values

    def handle_timeout(self, now: float) -> list[Any]:
        """Let the session's end act on its deadlines at *now*; return what it sent."""
        self.now = now
        self.end.handle_timeout(now)
        if self.transport == "websocket":
            self._pump(now)
        return self.sent()

    def events(self) -> list[Any]:
        """Every event of the session's end, transport events included."""
        events: list[Any] = self.end.events_received()
        return events

    def session_events(self) -> list[SessionEvent]:
        """The session's own events, the transport's left out."""
        return [e for e in self.events() if isinstance(e, SESSION_EVENTS)]


def _json(message: jsonrpc.Message | list[jsonrpc.Message | InvalidMessage]) -> Any:
    """The JSON value of a decoded message or batch (every item valid)."""
    if not isinstance(message, list):
        return json.loads(jsonrpc.encode(message))
    items = [item for item in message if not isinstance(item, InvalidMessage)]
    assert len(items) == len(message), message
    return json.loads(jsonrpc.encode(items))


def client_link(transport: str, config: ClientSessionConfig, now: float = 0.0) -> Link:
    return Link(transport, ClientSession(config), now)


def server_link(transport: str, config: ServerSessionConfig, now: float = 0.0) -> Link:
    return Link(transport, ServerSession(config), now)


def hello(revision: str, capabilities: Any = None) -> dict[str, Any]:
    """The params of an ``initialize`` request from a hand-driven client."""
    return initialize_params(revision, {"roots": {}} if capabilities is None else capabilities)


def initialized_link(transport: str, revision: str, **options: Any) -> Link:
    """A server session on *transport*, initialized in *revision* by a hand-driven client."""
    link = server_link(transport, server_config(revision, **options))
    (reply,) = link.send(request(0, "initialize", hello(revision)))
    assert reply["result"]["protocolVersion"] == revision, reply
    assert link.send(notification("notifications/initialized")) == []
    assert [type(e) for e in link.events()] == [SessionInitialized]
    return link


def init_result(revision: str, **extra: Any) -> dict[str, Any]:
    """A valid ``initialize`` result in *revision*."""
    return {
        "protocolVersion": revision,
        "capabilities": {"tools": {}},
        "serverInfo": {"name": "raw", "version": "9"},
        **extra,
    }


def discover_result(*versions: str, **extra: Any) -> dict[str, Any]:
    """A valid ``server/discover`` result."""
    return {
        "supportedVersions": list(versions or (STATELESS,)),
        "capabilities": {"tools": {}},
        "ttlMs": 0,
        "cacheScope": "public",
        "resultType": "complete",
        **extra,
    }


def response(id: Any, result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id, "result": result}


def error_response(id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": id, "error": error}


def assert_failed(link: Link, *fragments: str) -> SessionFailed:
    """The link's session failed once, with a message holding each of *fragments*; the
    transport is closed with the failure as its cause (1002 on WebSocket)."""
    events = link.events()
    failures = [e for e in events if isinstance(e, SessionFailed)]
    assert len(failures) == 1, events
    (failed,) = failures
    assert not any(isinstance(e, SessionInitialized) for e in events), events
    message = failed.error.message
    for fragment in fragments:
        assert fragment in message, message
    assert isinstance(failed.error, RemoteProtocolError)
    if link.transport == "direct":
        assert link.session.state is State.FAILED
    elif link.transport == "websocket":
        closed = events[-1]
        assert isinstance(closed, ConnectionClosed), events
        assert closed.code == 1002
        assert closed.cause is failed.error
        assert link.session.state is State.CLOSED
        link.sent()
        assert link.ended
    else:
        ended = events[-1]
        assert isinstance(ended, StreamEnded), events
        assert ended.cause is failed.error
        assert link.session.state is State.CLOSED
        link.sent()
        assert link.ended
    assert link.session.next_deadline() is None
    return failed


def up_to(revision: str) -> tuple[str, ...]:
    """The handshake revisions up to *revision*: a configuration whose latest it is."""
    return HANDSHAKE_REVISIONS[: HANDSHAKE_REVISIONS.index(revision) + 1]


def opened(
    transport: str, *, client: ClientSessionConfig, server: ServerSessionConfig
) -> SessionPair:
    """A pair after its opening exchange, its events left to read."""
    pair = make_pair(transport, client=client, server=server)
    if transport == "direct":
        pair.client.start(0.0)
    pair.pump(0.0)
    return pair


def state_of(session: ClientSession | ServerSession) -> State:
    """The session's state, read afresh (for mypy, which keeps a narrowed one)."""
    return session.state


def all_events(end: Any) -> list[Any]:
    """Every event of a pair's end, transport events included."""
    events: list[Any] = end.events_received()
    return events


# The handshake: the client's side ------------------------------------------------------------


@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_initialize_carries_the_latest_configured_revision_capabilities_and_info(
    transport: str, revision: str
) -> None:
    link = client_link(transport, client_config(*up_to(revision)))
    assert link.sent() == [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": revision,
                "capabilities": {"roots": {"listChanged": True}, "sampling": {}},
                "clientInfo": {"name": "cli", "version": "1.2"},
            },
        }
    ]
    assert link.session.state is State.INITIALIZING
    assert link.session_events() == []


@pytest.mark.parametrize(
    ("revision", "info", "capabilities"),
    [
        ("2024-11-05", {"name": "c", "version": "1"}, {"sampling": {}}),
        ("2025-03-26", {"name": "c", "version": "1"}, {"sampling": {}}),
        (
            "2025-06-18",
            {"name": "c", "version": "1", "title": "C"},
            {"sampling": {}, "elicitation": {}},
        ),
        (
            "2025-11-25",
            {"name": "c", "version": "1", "title": "C", "description": "d"},
            {"sampling": {}, "elicitation": {}, "tasks": {}},
        ),
    ],
)
def test_initialize_leaves_out_what_the_revision_lacks(
    revision: str, info: dict[str, Any], capabilities: dict[str, Any]
) -> None:
    config = ClientSessionConfig(
        revisions=(revision,),
        client_info=Implementation(name="c", version="1", title="C", description="d"),
        capabilities=ClientCapabilities(sampling={}, elicitation={}, tasks={}),
    )
    link = client_link("direct", config)
    (sent,) = link.sent()
    assert sent["params"] == {
        "protocolVersion": revision,
        "capabilities": capabilities,
        "clientInfo": info,
    }


@pytest.mark.parametrize(
    ("revision", "info", "capabilities"),
    [
        ("2024-11-05", {"name": "s", "version": "1"}, {"tools": {}}),
        ("2025-03-26", {"name": "s", "version": "1"}, {"tools": {}, "completions": {}}),
        (
            "2025-06-18",
            {"name": "s", "version": "1", "title": "S"},
            {"tools": {}, "completions": {}},
        ),
        (
            "2025-11-25",
            {"name": "s", "version": "1", "title": "S", "description": "d"},
            {"tools": {}, "completions": {}, "tasks": {}},
        ),
    ],
)
def test_the_initialize_result_leaves_out_what_the_revision_lacks(
    revision: str, info: dict[str, Any], capabilities: dict[str, Any]
) -> None:
    config = ServerSessionConfig(
        server_info=Implementation(name="s", version="1", title="S", description="d"),
        capabilities=ServerCapabilities(tools={}, completions={}, tasks={}),
    )
    (reply,) = Peer(ServerSession(config)).send(request(1, "initialize", hello(revision)))
    assert reply["result"] == {
        "protocolVersion": revision,
        "capabilities": capabilities,
        "serverInfo": info,
    }


@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_the_client_sends_initialized_and_reports_the_server(transport: str, revision: str) -> None:
    link = client_link(transport, client_config(revision))
    link.sent()
    result = init_result(revision, instructions="be kind")
    assert link.send(response(1, result), 1.0) == [
        {"jsonrpc": "2.0", "method": "notifications/initialized"}
    ]
    assert link.session_events() == [
        SessionInitialized(
            revision,
            Implementation(name="raw", version="9"),
            ServerCapabilities(tools={}),
            "be kind",
        )
    ]
    session = link.session
    assert isinstance(session, ClientSession)
    assert (session.state, session.revision, session.instructions) == (
        State.READY,
        revision,
        "be kind",
    )
    assert session.peer_info == Implementation(name="raw", version="9")
    assert session.next_deadline() is None


@EACH_HANDSHAKE
def test_a_client_without_instructions_reports_none(revision: str) -> None:
    link = client_link("direct", client_config(revision))
    link.sent()
    link.send(response(1, init_result(revision)))
    initialized = only(link.session_events(), SessionInitialized)
    assert initialized.instructions is None


# The handshake: the server's side ------------------------------------------------------------


@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_the_server_answers_with_the_requested_revision(transport: str, revision: str) -> None:
    pair = open_pair(
        transport,
        client=client_config(revision),
        server=server_config(instructions="hi"),
    )
    (result, *_) = pair.sent_by("server")
    assert result["result"] == {
        "protocolVersion": revision,
        "capabilities": {"tools": {"listChanged": True}, "logging": {}},
        "serverInfo": {"name": "srv", "version": "2.0"},
        "instructions": "hi",
    }
    assert (pair.client.revision, pair.server.revision) == (revision, revision)
    assert (pair.client.state, pair.server.state) == (State.READY, State.READY)


@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_both_sides_report_the_open_session(transport: str, revision: str) -> None:
    pair = opened(
        transport, client=client_config(revision), server=server_config(instructions="hi")
    )
    client_events, server_events = pair.events()
    assert client_events == [SessionInitialized(revision, SERVER_INFO, SERVER_CAPS, "hi")]
    assert server_events == [SessionInitialized(revision, CLIENT_INFO, CLIENT_CAPS, None)]
    assert pair.server.peer_info == CLIENT_INFO
    assert pair.server.peer_capabilities == CLIENT_CAPS


@pytest.mark.parametrize(
    ("client_revisions", "server_revisions", "chosen"),
    [
        (("2024-11-05", "2025-06-18"), ("2024-11-05",), "2024-11-05"),
        (("2025-03-26", "2025-11-25"), ("2024-11-05", "2025-03-26"), "2025-03-26"),
        (("2024-11-05", "2025-11-25"), ("2025-11-25",), "2025-11-25"),
        (("2025-06-18", "2025-11-25"), ("2024-11-05", "2025-03-26", "2025-06-18"), "2025-06-18"),
    ],
)
@EACH_TRANSPORT
def test_the_server_answers_its_latest_revision_when_it_lacks_the_requested_one(
    transport: str,
    client_revisions: tuple[str, ...],
    server_revisions: tuple[str, ...],
    chosen: str,
) -> None:
    pair = opened(
        transport, client=client_config(*client_revisions), server=server_config(*server_revisions)
    )
    initialize, *_ = pair.sent_by("client")
    assert initialize["params"]["protocolVersion"] == client_revisions[-1]
    assert pair.sent_by("server")[0]["result"]["protocolVersion"] == chosen
    assert (pair.client.revision, pair.server.revision) == (chosen, chosen)
    assert (pair.client.state, pair.server.state) == (State.READY, State.READY)
    _, server_events = pair.events()
    assert only(server_events, SessionInitialized).revision == chosen


@pytest.mark.parametrize("requested", ["1999-01-01", STATELESS, "2025-13-45"])
@EACH_HANDSHAKE
def test_an_unknown_requested_revision_gets_the_servers_latest(
    revision: str, requested: str
) -> None:
    server = ServerSession(server_config(*up_to(revision)))
    (reply,) = Peer(server).send(request(1, "initialize", hello(requested)))
    assert reply["result"]["protocolVersion"] == revision
    assert server.revision == revision


@pytest.mark.parametrize(
    ("client_revision", "server_revisions", "chosen"),
    [
        ("2025-06-18", ("2024-11-05", "2025-03-26"), "2025-03-26"),
        ("2024-11-05", ("2025-06-18", "2025-11-25"), "2025-11-25"),
        ("2025-11-25", ("2024-11-05",), "2024-11-05"),
        ("2025-03-26", ("2025-06-18",), "2025-06-18"),
    ],
)
@EACH_TRANSPORT
def test_the_client_fails_when_the_server_answers_a_revision_it_does_not_speak(
    transport: str, client_revision: str, server_revisions: tuple[str, ...], chosen: str
) -> None:
    pair = opened(
        transport, client=client_config(client_revision), server=server_config(*server_revisions)
    )
    assert pair.sent_by("server")[0]["result"]["protocolVersion"] == chosen
    assert [m.get("method") for m in pair.sent_by("client")] == ["initialize"]
    client_events = all_events(pair.client_end)
    failed = [e for e in client_events if isinstance(e, SessionFailed)]
    assert len(failed) == 1, client_events
    assert chosen in failed[0].error.message
    assert not any(isinstance(e, SessionInitialized) for e in client_events)
    server_events = all_events(pair.server_end)
    assert not any(isinstance(e, SessionInitialized) for e in server_events)
    if transport == "websocket":
        closed = client_events[-1]
        assert isinstance(closed, ConnectionClosed)
        assert closed.code == 1002
        assert closed.cause is failed[0].error
    if transport == "stdio":
        ended = client_events[-1]
        assert isinstance(ended, StreamEnded)
        assert ended.cause is failed[0].error


@EACH_HANDSHAKE
def test_the_server_reports_the_open_session_only_on_initialized(revision: str) -> None:
    server = ServerSession(server_config())
    peer = Peer(server)
    peer.send(request(1, "initialize", hello(revision)))
    assert server.events_received() == []
    assert server.state is State.INITIALIZING
    assert peer.send(notification("notifications/initialized")) == []
    assert server.events_received() == [
        SessionInitialized(
            revision, Implementation(name="peer", version="1"), ClientCapabilities(roots={}), None
        )
    ]
    assert state_of(server) is State.READY


@EACH_HANDSHAKE
def test_a_repeated_initialized_is_ignored(revision: str) -> None:
    link = initialized_link("direct", revision)
    assert link.send(notification("notifications/initialized")) == []
    ignored = only(link.events(), NotificationIgnored)
    assert ignored.method == "notifications/initialized"
    assert link.session.state is State.READY


@EACH_HANDSHAKE
def test_initialized_before_initialize_is_ignored(revision: str) -> None:
    server = ServerSession(server_config(revision))
    assert Peer(server).send(notification("notifications/initialized")) == []
    only(server.events_received(), NotificationIgnored)
    assert server.state is State.IDLE


# The server's gates --------------------------------------------------------------------------


@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_before_initialize_a_handshake_server_refuses_requests_as_invalid(
    transport: str, revision: str
) -> None:
    link = server_link(transport, server_config(revision))
    (reply,) = link.send(request(7, "tools/list"))
    assert reply["id"] == 7
    assert reply["error"]["code"] == jsonrpc.INVALID_REQUEST
    assert "initialize" in reply["error"]["message"]
    rejected = only(link.session_events(), RequestRejected)
    assert (rejected.request_id, rejected.method) == (7, "tools/list")
    assert link.session.state is State.IDLE


@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_before_initialize_a_server_of_both_eras_refuses_requests_as_unversioned(
    transport: str, revision: str
) -> None:
    # The protocol version is a required member of a 2026-07-28 request's _meta: its
    # absence is invalid params, as that of the client's capabilities is; the error names
    # the revisions the server speaks, for a legacy client to show.
    link = server_link(transport, server_config(revision, STATELESS))
    (reply,) = link.send(request(7, "tools/list"))
    assert reply["error"] == {
        "code": jsonrpc.INVALID_PARAMS,
        "message": "invalid params: params._meta.io.modelcontextprotocol/protocolVersion: required",
        "data": {"supported": [STATELESS, revision]},
    }
    only(link.session_events(), RequestRejected)
    assert link.session.state is State.IDLE


@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_before_initialize_notifications_are_ignored(transport: str, revision: str) -> None:
    link = server_link(transport, server_config(revision))
    assert link.send(notification("notifications/roots/list_changed")) == []
    ignored = only(link.session_events(), NotificationIgnored)
    assert ignored.method == "notifications/roots/list_changed"
    assert link.session.state is State.IDLE


@pytest.mark.parametrize("stateless", [False, True])
@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_ping_before_initialize_is_answered(transport: str, revision: str, stateless: bool) -> None:
    revisions = (revision, STATELESS) if stateless else (revision,)
    link = server_link(transport, server_config(*revisions))
    assert link.send(request("p", "ping")) == [response("p", {})]
    assert link.session_events() == []
    assert link.session.state is State.IDLE
    (reply,) = link.send(request(1, "initialize", hello(revision)))
    assert reply["result"]["protocolVersion"] == revision


@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_between_initialize_and_initialized_the_server_answers_ping(
    transport: str, revision: str
) -> None:
    link = server_link(transport, server_config(revision))
    link.send(request(1, "initialize", hello(revision)))
    assert link.send(request(2, "ping")) == [response(2, {})]
    assert link.session_events() == []
    assert link.session.state is State.INITIALIZING


@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_a_second_initialize_is_refused(transport: str, revision: str) -> None:
    link = server_link(transport, server_config())
    link.send(request(1, "initialize", hello(revision)))
    (reply,) = link.send(request(2, "initialize", hello("2024-11-05")))
    assert reply["error"]["code"] == jsonrpc.INVALID_REQUEST
    assert link.session.state is State.INITIALIZING
    assert link.send(notification("notifications/initialized")) == []
    (reply,) = link.send(request(3, "initialize", hello(revision)))
    assert reply["error"]["code"] == jsonrpc.INVALID_REQUEST
    events = link.session_events()
    assert [type(e) for e in events] == [RequestRejected, SessionInitialized, RequestRejected]
    assert link.session.revision == revision
    assert state_of(link.session) is State.READY


@EACH_HANDSHAKE
def test_between_initialize_and_initialized_the_server_sends_only_ping_and_logging(
    revision: str,
) -> None:
    server = ServerSession(server_config(revision))
    peer = Peer(server)
    peer.send(request(1, "initialize", hello(revision, {"roots": {"listChanged": True}})))
    with pytest.raises(LocalProtocolError):
        server.send_request("roots/list", now=0.0)
    with pytest.raises(LocalProtocolError):
        server.send_notification("notifications/tools/list_changed")
    assert peer.replies() == []
    assert server.state is State.INITIALIZING
    server.send_notification("notifications/message", {"level": "info", "data": "hi"})
    ping = server.send_request("ping", now=0.0)
    assert peer.replies() == [
        notification("notifications/message", {"level": "info", "data": "hi"}),
        request(ping, "ping"),
    ]
    assert peer.send(response(ping, {})) == []
    received = only(server.events_received(), ResponseReceived)
    assert (received.request_id, received.method) == (ping, "ping")
    assert server.state is State.INITIALIZING
    peer.send(notification("notifications/initialized"))
    server.events_received()
    roots = server.send_request("roots/list", now=0.0)
    server.send_notification("notifications/tools/list_changed")
    assert peer.replies() == [
        request(roots, "roots/list"),
        notification("notifications/tools/list_changed"),
    ]


@EACH_HANDSHAKE
def test_before_any_client_the_server_sends_nothing(revision: str) -> None:
    server = ServerSession(server_config(revision))
    with pytest.raises(LocalProtocolError):
        server.send_request("ping", now=0.0)
    with pytest.raises(LocalProtocolError):
        server.send_notification("notifications/message", {"level": "info", "data": "x"})
    assert server.messages_to_send() == []
    assert server.state is State.IDLE


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}, "protocolVersion"),
        (
            {"protocolVersion": 5, "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}},
            "protocolVersion",
        ),
        (
            {"protocolVersion": "2025-06-18", "clientInfo": {"name": "x", "version": "1"}},
            "capabilities",
        ),
        (
            {
                "protocolVersion": "2025-06-18",
                "capabilities": [],
                "clientInfo": {"name": "x", "version": "1"},
            },
            "capabilities",
        ),
        ({"protocolVersion": "2025-06-18", "capabilities": {}}, "clientInfo"),
        (
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "x"}},
            "clientInfo",
        ),
        (None, "protocolVersion"),
    ],
)
@EACH_TRANSPORT
def test_invalid_initialize_params_are_refused_naming_the_field(
    transport: str, params: Any, field: str
) -> None:
    link = server_link(transport, server_config())
    (reply,) = link.send(request(1, "initialize", params))
    assert reply["error"]["code"] == jsonrpc.INVALID_PARAMS
    assert field in reply["error"]["message"]
    only(link.session_events(), RequestRejected)
    assert link.session.state is State.IDLE
    (reply,) = link.send(request(2, "initialize", hello("2025-06-18")))
    assert reply["result"]["protocolVersion"] == "2025-06-18"


# The client's failures -----------------------------------------------------------------------


@pytest.mark.parametrize("code", [jsonrpc.INVALID_REQUEST, jsonrpc.INTERNAL_ERROR, -32000])
@EACH_TRANSPORT
def test_a_refused_initialize_fails_the_session(transport: str, code: int) -> None:
    link = client_link(transport, client_config("2025-06-18"))
    link.sent()
    assert link.send(error_response(1, code, "go away"), 1.0) == []
    failed = assert_failed(link, "initialize", str(code), "go away")
    assert failed.error.close_code == 1002


@pytest.mark.parametrize(
    "result",
    [
        {"protocolVersion": "2025-06-18"},
        {"protocolVersion": "2025-06-18", "capabilities": {}},
        {
            "protocolVersion": "2025-06-18",
            "capabilities": [],
            "serverInfo": {"name": "s", "version": "1"},
        },
        init_result("2025-06-18", serverInfo={"name": "s"}),
        {"capabilities": {}, "serverInfo": {"name": "s", "version": "1"}},
        [],
        "ok",
    ],
)
@EACH_TRANSPORT
def test_an_invalid_initialize_result_fails_the_session(transport: str, result: Any) -> None:
    link = client_link(transport, client_config("2025-06-18"))
    link.sent()
    assert link.send(response(1, result), 1.0) == []
    assert_failed(link, "initialize", "invalid result")


@pytest.mark.parametrize("chosen", ["2024-11-05", "2025-11-25", STATELESS, "1999-01-01"])
@EACH_TRANSPORT
def test_an_unsupported_chosen_revision_fails_the_session(transport: str, chosen: str) -> None:
    link = client_link(transport, client_config("2025-03-26", "2025-06-18"))
    link.sent()
    assert link.send(response(1, init_result(chosen)), 1.0) == []
    assert_failed(link, "initialize", repr(chosen))


@EACH_TRANSPORT
def test_an_unanswered_initialize_fails_the_session_at_its_deadline(transport: str) -> None:
    link = client_link(transport, client_config("2025-06-18"), now=0.0)
    assert [m["method"] for m in link.sent()] == ["initialize"]
    assert link.session.next_deadline() == 60.0
    assert link.handle_timeout(59.999) == []
    assert link.session_events() == []
    assert link.session.next_deadline() == 60.0
    assert link.handle_timeout(60.0) == []
    assert_failed(link, "initialize", "no answer in time")


@pytest.mark.parametrize(("timeout", "deadline"), [(5.0, 7.5), (None, None)])
def test_the_initialize_deadline_follows_the_request_timeout(
    timeout: float | None, deadline: float | None
) -> None:
    link = client_link("direct", client_config("2025-06-18", request_timeout=timeout), now=2.5)
    assert link.session.next_deadline() == deadline


def test_a_late_initialize_answer_after_the_timeout_is_not_taken() -> None:
    link = client_link("direct", client_config("2025-06-18"))
    link.sent()
    link.handle_timeout(60.0)
    only(link.events(), SessionFailed)
    assert link.send(response(1, init_result("2025-06-18")), 61.0) == []
    assert not any(isinstance(e, SessionInitialized) for e in link.events())
    assert link.session.state is State.FAILED


def test_initialize_cannot_be_cancelled() -> None:
    link = client_link("direct", client_config("2025-06-18"))
    link.sent()
    with pytest.raises(LocalProtocolError):
        link.session.cancel(1)
    assert link.sent() == []
    assert link.session.next_deadline() == 60.0


# Ping ----------------------------------------------------------------------------------------


@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_ping_either_way_is_answered_by_the_core(transport: str, revision: str) -> None:
    pair = open_pair(transport, client=client_config(revision), server=server_config())
    pair.events()
    sent = len(pair.wire)
    client_ping = pair.client.send_request("ping", now=1.0)
    server_ping = pair.server.send_request("ping", now=1.0)
    pair.pump(1.0)
    client_events, server_events = pair.events()
    client_response = only(client_events, ResponseReceived)
    server_response = only(server_events, ResponseReceived)
    assert (client_response.request_id, client_response.method) == (client_ping, "ping")
    assert (server_response.request_id, server_response.method) == (server_ping, "ping")
    wire = [(who, json.loads(text)) for who, text in pair.wire[sent:]]
    assert sorted(map(json.dumps, wire)) == sorted(
        map(
            json.dumps,
            [
                ("client", request(client_ping, "ping")),
                ("client", response(server_ping, {})),
                ("server", request(server_ping, "ping")),
                ("server", response(client_ping, {})),
            ],
        )
    )
    assert pair.next_deadlines() == (None, None)


@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_the_client_answers_a_ping_before_the_initialize_answer(
    transport: str, revision: str
) -> None:
    link = client_link(transport, client_config(revision))
    link.sent()
    assert link.send(request("srv-1", "ping"), 0.5) == [response("srv-1", {})]
    assert link.session_events() == []
    assert link.session.state is State.INITIALIZING
    link.send(response(1, init_result(revision)), 1.0)
    assert state_of(link.session) is State.READY


@EACH_HANDSHAKE
def test_the_server_pings_between_initialize_and_initialized(revision: str) -> None:
    pair = make_pair(client=client_config(revision), server=server_config())
    pair.client.start(0.0)
    (initialize,) = pair.client.messages_to_send()
    pair.server.receive_message(jsonrpc.decode(initialize), 0.0)
    ping = pair.server.send_request("ping", now=0.0)
    pair.pump(0.0)
    _, server_events = pair.events()
    assert [type(e) for e in server_events] == [SessionInitialized, ResponseReceived]
    assert pair.sent_by("client")[-2:] == [
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        response(ping, {}),
    ]


# Batches -------------------------------------------------------------------------------------


def by_id(batch: list[Any]) -> dict[Any, Any]:
    return {item["id"]: item for item in batch}


@EACH_TRANSPORT
def test_a_batch_is_answered_as_one_batch_once_every_request_is_answered(transport: str) -> None:
    link = initialized_link(transport, "2025-03-26")
    batch = [
        request(1, "tools/call", {"name": "a"}),
        request(2, "ping"),
        {"jsonrpc": "2.0", "id": 3},
        notification("notifications/roots/list_changed"),
        request(4, "tools/list"),
        request(5, "no/such/method"),
        5,
    ]
    assert link.send(batch, 1.0) == []
    events = link.session_events()
    received = [e for e in events if isinstance(e, RequestReceived)]
    assert [(e.request_id, e.method) for e in received] == [(1, "tools/call"), (4, "tools/list")]
    link.session.respond(4, ListToolsResult(tools=[]))
    assert link.sent() == []
    link.session.respond(1, CallToolResult(content=[TextContent(text="done")]))
    (answer,) = link.sent()
    assert isinstance(answer, list)
    assert len(answer) == 6
    replies = by_id([item for item in answer if "id" in item])
    assert set(replies) == {1, 2, 3, 4, 5}
    assert replies[1]["result"] == {"content": [{"type": "text", "text": "done"}]}
    assert replies[2]["result"] == {}
    assert replies[3]["error"]["code"] == jsonrpc.INVALID_REQUEST
    assert replies[4]["result"] == {"tools": []}
    assert replies[5]["error"]["code"] == jsonrpc.METHOD_NOT_FOUND
    (unreadable,) = [item for item in answer if "id" not in item]
    assert unreadable["error"]["code"] == jsonrpc.INVALID_REQUEST
    assert link.sent() == []


@EACH_TRANSPORT
def test_errors_the_application_gives_join_the_batch(transport: str) -> None:
    link = initialized_link(transport, "2025-03-26")
    link.send([request(1, "tools/call", {"name": "a"}), request(2, "tools/list")])
    link.session_events()
    link.session.respond_error(2, -32000, "busy")
    assert link.sent() == []
    link.session.respond_error(1, jsonrpc.INVALID_PARAMS, "no tool a")
    (answer,) = link.sent()
    assert by_id(answer) == {
        1: error_response(1, jsonrpc.INVALID_PARAMS, "no tool a"),
        2: error_response(2, -32000, "busy"),
    }


@EACH_TRANSPORT
def test_a_batch_the_core_answers_alone_is_answered_at_once(transport: str) -> None:
    link = initialized_link(transport, "2025-03-26")
    assert link.send([request(1, "ping"), request(2, "ping")]) == [
        [response(1, {}), response(2, {})]
    ]
    assert link.session_events() == []


@EACH_TRANSPORT
def test_a_batch_does_not_wait_for_a_request_the_peer_cancelled(transport: str) -> None:
    """The application stops a cancelled request's handler and need not answer it."""
    link = initialized_link(transport, "2025-03-26")
    link.send([request(1, "tools/list"), request(2, "tools/call", {"name": "slow"})])
    link.session_events()
    link.session.respond(1, ListToolsResult(tools=[]))
    assert link.sent() == []
    assert link.send(notification("notifications/cancelled", {"requestId": 2})) == [
        [response(1, {"tools": []})]
    ]
    link.session.respond(2, CallToolResult(content=[]))
    assert link.sent() == []


@EACH_TRANSPORT
def test_a_request_cancelled_within_its_batch_is_not_waited_for(transport: str) -> None:
    link = initialized_link(transport, "2025-03-26")
    batch = [
        request(1, "tools/list"),
        notification("notifications/cancelled", {"requestId": 1}),
        request(2, "ping"),
    ]
    assert link.send(batch) == [[response(2, {})]]
    link.session.respond(1, ListToolsResult(tools=[]))
    assert link.sent() == []


@EACH_TRANSPORT
def test_notifications_in_a_batch_get_nothing(transport: str) -> None:
    link = initialized_link(transport, "2025-03-26")
    batch = [
        notification("notifications/roots/list_changed"),
        notification("notifications/cancelled", {"requestId": 99}),
    ]
    assert link.send(batch) == []
    assert [e.method for e in link.session_events() if isinstance(e, RequestReceived)] == []


@EACH_TRANSPORT
def test_a_batch_of_answers_reaches_the_servers_requests(transport: str) -> None:
    link = initialized_link(transport, "2025-03-26")
    session = link.session
    first = session.send_request("ping", now=0.0)
    second = session.send_request("roots/list", now=0.0)
    link.sent()
    answers = [response(second, {"roots": []}), response(first, {})]
    assert link.send(answers) == []
    events = link.session_events()
    assert [(e.request_id, e.method) for e in events if isinstance(e, ResponseReceived)] == [
        (second, "roots/list"),
        (first, "ping"),
    ]
    assert session.next_deadline() is None


@EACH_TRANSPORT
def test_the_client_answers_a_servers_batch_in_2025_03_26(transport: str) -> None:
    link = client_link(transport, client_config("2025-03-26"))
    link.sent()
    link.send(response(1, init_result("2025-03-26")))
    link.session_events()
    assert link.send([request("a", "ping"), request("b", "roots/list")]) == []
    received = only(link.session_events(), RequestReceived)
    assert received.method == "roots/list"
    link.session.respond("b", {"roots": []})
    assert link.sent() == [[response("a", {}), response("b", {"roots": []})]]


@pytest.mark.parametrize("revision", OTHER_THAN_BATCHES)
@FRAMED
def test_a_batch_is_an_invalid_message_in_other_revisions(transport: str, revision: str) -> None:
    if revision == STATELESS:
        link = server_link(transport, server_config(STATELESS))
        link.send(request(0, "tools/list", {"_meta": stateless_meta()}))
        meta = {"_meta": stateless_meta()}
    else:
        link = initialized_link(transport, revision)
        meta = {}
    link.events()
    (reply,) = link.send([request(1, "ping"), request(2, "tools/list", meta)])
    assert "id" not in reply
    assert reply["error"]["code"] == jsonrpc.INVALID_REQUEST
    assert [type(e) for e in link.events()] == [InvalidMessageAnswered]
    assert link.sent() == []


@FRAMED
def test_a_batch_before_initialize_is_an_invalid_message(transport: str) -> None:
    link = server_link(transport, server_config("2025-03-26"))
    (reply,) = link.send([request(1, "initialize", hello("2025-03-26"))])
    assert "id" not in reply
    assert reply["error"]["code"] == jsonrpc.INVALID_REQUEST
    assert link.session.state is State.IDLE
    assert [type(e) for e in link.events()] == [InvalidMessageAnswered]


@FRAMED
def test_an_empty_batch_is_one_invalid_request(transport: str) -> None:
    link = initialized_link(transport, "2025-03-26")
    (reply,) = link.send([])
    assert reply == {
        "jsonrpc": "2.0",
        "error": {"code": jsonrpc.INVALID_REQUEST, "message": reply["error"]["message"]},
    }
    assert [type(e) for e in link.events()] == [InvalidMessageAnswered]


# The stateless era ---------------------------------------------------------------------------


def stateless_client(transport: str, **options: Any) -> Link:
    """A stateless-only client whose probe a hand-driven server answered."""
    link = client_link(transport, client_config(STATELESS, **options))
    (probe,) = link.sent()
    assert probe["method"] == "server/discover"
    result = discover_result(
        _meta={"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "3"}}
    )
    assert link.send(response(probe["id"], result)) == []
    only(link.session_events(), SessionInitialized)
    return link


@EACH_TRANSPORT
def test_stateless_requests_carry_revision_capabilities_and_info(transport: str) -> None:
    link = client_link(transport, client_config(STATELESS))
    meta = {
        "io.modelcontextprotocol/protocolVersion": STATELESS,
        "io.modelcontextprotocol/clientCapabilities": {
            "roots": {"listChanged": True},
            "sampling": {},
        },
        "io.modelcontextprotocol/clientInfo": {"name": "cli", "version": "1.2"},
    }
    assert link.sent() == [
        {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta}}
    ]
    link.send(response(1, discover_result()))
    link.session_events()
    session = link.session
    assert isinstance(session, ClientSession)
    session.send_request("tools/list", {"cursor": "c"}, now=0.0)
    session.log_level = "warning"
    session.send_request("tools/call", {"name": "t", "_meta": {"progressToken": "x"}}, now=0.0)
    assert link.sent() == [
        request(2, "tools/list", {"cursor": "c", "_meta": meta}),
        request(
            3,
            "tools/call",
            {
                "name": "t",
                "_meta": {
                    "progressToken": "x",
                    **meta,
                    "io.modelcontextprotocol/logLevel": "warning",
                },
            },
        ),
    ]


@EACH_TRANSPORT
def test_a_stateless_client_reports_the_discovered_server(transport: str) -> None:
    link = client_link(transport, client_config(STATELESS))
    link.sent()
    result = discover_result(
        STATELESS,
        "2025-11-25",
        instructions="read me",
        _meta={"io.modelcontextprotocol/serverInfo": {"name": "s", "version": "3"}},
    )
    assert link.send(response(1, result), 1.0) == []
    assert link.session_events() == [
        SessionInitialized(
            STATELESS,
            Implementation(name="s", version="3"),
            ServerCapabilities(tools={}),
            "read me",
        )
    ]
    assert link.session.state is State.STATELESS
    assert link.session.revision == STATELESS
    assert link.session.next_deadline() is None


@EACH_TRANSPORT
def test_stateless_requests_without_a_revision_get_invalid_params(transport: str) -> None:
    # The revision is a required member of _meta, as the client's capabilities are.
    link = server_link(transport, server_config(STATELESS))
    params: Any
    for params in (
        None,
        {},
        {"_meta": {}},
        {"_meta": {"io.modelcontextprotocol/clientCapabilities": {}}},
    ):
        (reply,) = link.send(request(1, "tools/list", params))
        assert reply["error"]["code"] == jsonrpc.INVALID_PARAMS
        assert "io.modelcontextprotocol/protocolVersion: required" in reply["error"]["message"]
        assert reply["error"]["data"] == {"supported": [STATELESS]}
    assert link.session.state is State.IDLE


@pytest.mark.parametrize(
    "requested", ["2025-11-25", "2025-06-18", "2024-11-05", "2027-01-01", "latest"]
)
@EACH_TRANSPORT
def test_stateless_requests_with_an_unsupported_revision_get_unsupported_version(
    transport: str, requested: str
) -> None:
    link = server_link(transport, server_config("2025-06-18", STATELESS))
    (reply,) = link.send(request(1, "tools/list", {"_meta": stateless_meta(requested)}))
    assert reply["error"]["code"] == UNSUPPORTED_PROTOCOL_VERSION
    assert reply["error"]["data"] == {
        "requested": requested,
        "supported": [STATELESS, "2025-06-18"],
    }
    rejected = only(link.session_events(), RequestRejected)
    assert rejected.error.code == UNSUPPORTED_PROTOCOL_VERSION


def test_unsupported_version_lists_every_configured_revision_newest_first() -> None:
    link = server_link("direct", ServerSessionConfig())
    (reply,) = link.send(request(1, "tools/list", {"_meta": stateless_meta("1999-01-01")}))
    assert reply["error"]["data"]["supported"] == ALL_NEWEST_FIRST


@pytest.mark.parametrize(
    ("capabilities", "path"),
    [
        ("missing", "params._meta.io.modelcontextprotocol/clientCapabilities"),
        (None, "params._meta.io.modelcontextprotocol/clientCapabilities"),
        ("all", "params._meta.io.modelcontextprotocol/clientCapabilities"),
        ([], "params._meta.io.modelcontextprotocol/clientCapabilities"),
        ({"roots": 5}, "params._meta.io.modelcontextprotocol/clientCapabilities: roots"),
    ],
)
@EACH_TRANSPORT
def test_missing_or_invalid_client_capabilities_get_invalid_params_naming_the_path(
    transport: str, capabilities: Any, path: str
) -> None:
    link = server_link(transport, server_config(STATELESS))
    meta = stateless_meta()
    if capabilities == "missing":
        del meta["io.modelcontextprotocol/clientCapabilities"]
    else:
        meta["io.modelcontextprotocol/clientCapabilities"] = capabilities
    (reply,) = link.send(request(1, "tools/list", {"_meta": meta}))
    assert reply["error"]["code"] == jsonrpc.INVALID_PARAMS
    assert path in reply["error"]["message"]
    only(link.session_events(), RequestRejected)


@EACH_TRANSPORT
def test_required_client_capabilities_are_enforced(transport: str) -> None:
    required = {"tools/call": ClientCapabilities(sampling={}, elicitation={})}
    link = server_link(transport, server_config(STATELESS, required_client_capabilities=required))
    call = {"name": "t", "_meta": stateless_meta(capabilities={"sampling": {}})}
    (reply,) = link.send(request(1, "tools/call", call))
    assert reply["error"]["code"] == MISSING_REQUIRED_CLIENT_CAPABILITY
    assert reply["error"]["data"] == {"requiredCapabilities": {"sampling": {}, "elicitation": {}}}
    assert "elicitation" in reply["error"]["message"]
    only(link.session_events(), RequestRejected)
    assert link.send(request(2, "tools/list", {"_meta": stateless_meta()})) == []
    call = {"name": "t", "_meta": stateless_meta(capabilities={"sampling": {}, "elicitation": {}})}
    assert link.send(request(3, "tools/call", call)) == []
    events = link.session_events()
    assert [(e.request_id, e.method) for e in events if isinstance(e, RequestReceived)] == [
        (2, "tools/list"),
        (3, "tools/call"),
    ]
    third = events[-1]
    assert isinstance(third, RequestReceived)
    assert third.peer_capabilities == ClientCapabilities(sampling={}, elicitation={})
    assert third.revision == STATELESS


def test_stateless_capabilities_are_never_inferred_from_earlier_requests() -> None:
    required = {"tools/call": ClientCapabilities(sampling={})}
    link = server_link("direct", server_config(STATELESS, required_client_capabilities=required))
    sampling = stateless_meta(capabilities={"sampling": {}})
    assert link.send(request(1, "tools/call", {"name": "t", "_meta": sampling})) == []
    (reply,) = link.send(request(2, "tools/call", {"name": "t", "_meta": stateless_meta()}))
    assert reply["error"]["code"] == MISSING_REQUIRED_CLIENT_CAPABILITY
    assert link.send(request(3, "tools/list", {"_meta": stateless_meta()})) == []
    first, _, third = link.session_events()
    assert isinstance(first, RequestReceived)
    assert isinstance(third, RequestReceived)
    assert first.peer_capabilities == ClientCapabilities(sampling={})
    assert third.peer_capabilities == ClientCapabilities()


@pytest.mark.parametrize(
    ("declared", "missing"),
    [
        ({}, ["experimental", "extensions"]),
        (
            {"experimental": {"x": {}}, "extensions": {}},
            ["extensions.io.modelcontextprotocol/tasks"],
        ),
        (
            {"experimental": {"y": {}}, "extensions": {"io.modelcontextprotocol/tasks": {}}},
            ["experimental.x"],
        ),
        (
            {
                "experimental": {"x": {}, "y": {}},
                "extensions": {"io.modelcontextprotocol/tasks": {}, "a.b/c": {}},
            },
            [],
        ),
    ],
)
def test_required_experimental_and_extension_capabilities_are_checked_by_key(
    declared: dict[str, Any], missing: list[str]
) -> None:
    required = ClientCapabilities(
        experimental={"x": {}}, extensions={"io.modelcontextprotocol/tasks": {}}
    )
    config = server_config(STATELESS, required_client_capabilities={"tools/list": required})
    link = server_link("direct", config)
    replies = link.send(request(1, "tools/list", {"_meta": stateless_meta(capabilities=declared)}))
    if not missing:
        assert replies == []
        only(link.session_events(), RequestReceived)
        return
    (reply,) = replies
    assert reply["error"]["code"] == MISSING_REQUIRED_CLIENT_CAPABILITY
    assert reply["error"]["data"] == {"requiredCapabilities": required.to_json()}
    for name in missing:
        assert name in reply["error"]["message"]


@pytest.mark.parametrize(
    ("ttl", "scope", "instructions"), [(0, "public", None), (60000, "private", "use tools")]
)
@EACH_TRANSPORT
def test_server_discover_is_answered_from_the_config(
    transport: str, ttl: int, scope: str, instructions: str | None
) -> None:
    link = server_link(
        transport,
        server_config(
            "2025-06-18",
            STATELESS,
            discover_ttl_ms=ttl,
            discover_cache_scope=scope,
            instructions=instructions,
        ),
    )
    (reply,) = link.send(request(1, "server/discover", {"_meta": stateless_meta()}))
    expected: dict[str, Any] = {
        "supportedVersions": [STATELESS, "2025-06-18"],
        "capabilities": {"tools": {"listChanged": True}, "logging": {}},
        "ttlMs": ttl,
        "cacheScope": scope,
        "resultType": "complete",
        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "srv", "version": "2.0"}},
    }
    if instructions is not None:
        expected["instructions"] = instructions
    assert reply == response(1, expected)
    assert link.session_events() == []
    assert link.session.state is State.STATELESS


@EACH_TRANSPORT
def test_ping_does_not_exist_in_the_stateless_era(transport: str) -> None:
    link = server_link(transport, server_config(STATELESS))
    (reply,) = link.send(request(1, "ping", {"_meta": stateless_meta()}))
    assert reply["error"]["code"] == jsonrpc.METHOD_NOT_FOUND
    (reply,) = link.send(request(2, "ping"))
    assert reply["error"]["code"] == jsonrpc.METHOD_NOT_FOUND


@EACH_TRANSPORT
def test_a_stateless_client_refuses_server_requests(transport: str) -> None:
    link = stateless_client(transport)
    (reply,) = link.send(request("s", "ping"))
    assert reply["error"]["code"] == jsonrpc.METHOD_NOT_FOUND


@EACH_TRANSPORT
def test_initialize_on_a_stateless_only_server_gets_unsupported_version(transport: str) -> None:
    link = server_link(transport, server_config(STATELESS))
    (reply,) = link.send(request(1, "initialize", hello("2025-11-25")))
    assert reply["error"]["code"] == UNSUPPORTED_PROTOCOL_VERSION
    assert reply["error"]["data"]["supported"] == [STATELESS]
    assert link.session.state is State.IDLE
    assert link.send(notification("notifications/initialized")) == []
    assert not any(isinstance(e, SessionInitialized) for e in link.session_events())


@EACH_TRANSPORT
def test_an_initialize_carrying_2026_07_28_meta_is_a_legacy_handshake(transport: str) -> None:
    # "An initialize request selects legacy semantics" (versioning): initialize is no method
    # of 2026-07-28, so its _meta does not make it stateless. A server of both eras opens a
    # handshake-era session and ignores the _meta; a server of 2026-07-28 alone refuses the
    # method, naming its revision.
    params = {**hello("2025-11-25"), "_meta": stateless_meta()}
    link = server_link(transport, server_config("2025-11-25", STATELESS))
    (reply,) = link.send(request(1, "initialize", params))
    assert reply["result"]["protocolVersion"] == "2025-11-25"
    assert link.session.state is State.INITIALIZING
    modern = server_link(transport, server_config(STATELESS))
    (reply,) = modern.send(request(1, "initialize", params))
    assert reply["error"] == {
        "code": jsonrpc.METHOD_NOT_FOUND,
        "message": f"method not found: initialize (MCP {STATELESS})",
    }
    assert modern.session.state is State.STATELESS  # a stateless request, of no method


def test_the_server_sends_no_requests_in_the_stateless_era() -> None:
    link = server_link("direct", server_config(STATELESS))
    meta = stateless_meta(capabilities={"roots": {}, "sampling": {}})
    link.send(request(1, "tools/list", {"_meta": meta}))
    assert link.session.state is State.STATELESS
    for method in ("ping", "roots/list", "sampling/createMessage"):
        with pytest.raises(LocalProtocolError):
            link.session.send_request(method, now=0.0)
    assert link.sent() == []


@EACH_TRANSPORT
def test_stateless_results_get_result_type_and_server_info(transport: str) -> None:
    link = server_link(transport, server_config(STATELESS))
    link.send(request(1, "tools/list", {"_meta": stateless_meta()}))
    link.send(request(2, "tools/call", {"name": "t", "_meta": stateless_meta()}))
    link.session.respond(1, ListToolsResult(tools=[]))
    link.session.respond(2, {"content": []})
    info = {"io.modelcontextprotocol/serverInfo": {"name": "srv", "version": "2.0"}}
    assert link.sent() == [
        response(
            1,
            {
                "tools": [],
                "ttlMs": 0,
                "cacheScope": "private",
                "resultType": "complete",
                "_meta": info,
            },
        ),
        response(2, {"content": [], "resultType": "complete", "_meta": info}),
    ]


def test_a_stateless_result_keeps_the_servers_own_meta() -> None:
    link = server_link("direct", server_config(STATELESS))
    for id in (1, 2):
        link.send(request(id, "tools/call", {"name": "t", "_meta": stateless_meta()}))
    own = {"io.modelcontextprotocol/serverInfo": {"name": "other", "version": "0"}}
    link.session.respond(1, {"content": [], "_meta": own})
    link.session.respond(2, {"content": [], "_meta": {"x.y/z": 1}})
    first, second = link.sent()
    assert first["result"]["_meta"] == own
    assert second["result"]["_meta"] == {
        "x.y/z": 1,
        "io.modelcontextprotocol/serverInfo": {"name": "srv", "version": "2.0"},
    }


@EACH_HANDSHAKE
def test_handshake_results_leave_the_stateless_members_out(revision: str) -> None:
    link = initialized_link("direct", revision)
    link.send(request(1, "tools/list"))
    link.session.respond(
        1, {"tools": [], "ttlMs": 5, "cacheScope": "public", "resultType": "complete"}
    )
    assert link.sent() == [response(1, {"tools": []})]


@EACH_TRANSPORT
def test_a_null_member_of_a_stateless_request_is_invalid_params(transport: str) -> None:
    link = server_link(transport, server_config(STATELESS))
    params = {"name": "a", "inputResponses": None, "_meta": stateless_meta()}
    (reply,) = link.send(request(1, "tools/call", params))
    assert reply["error"]["code"] == jsonrpc.INVALID_PARAMS
    assert reply["error"]["message"] == "invalid params: inputResponses: must not be null"


@EACH_TRANSPORT
def test_each_stateless_request_is_checked_on_its_own(transport: str) -> None:
    link = server_link(transport, server_config(STATELESS))
    assert link.send(request(1, "tools/list", {"_meta": stateless_meta()})) == []
    (reply,) = link.send(request(2, "tools/list"))
    assert reply["error"]["code"] == jsonrpc.INVALID_PARAMS
    meta = stateless_meta()
    del meta["io.modelcontextprotocol/clientCapabilities"]
    (reply,) = link.send(request(3, "tools/list", {"_meta": meta}))
    assert reply["error"]["code"] == jsonrpc.INVALID_PARAMS
    events = link.session_events()
    assert [type(e) for e in events] == [RequestReceived, RequestRejected, RequestRejected]


# Both eras -----------------------------------------------------------------------------------


@EACH_TRANSPORT
def test_a_server_of_both_eras_serves_each_on_its_own_session(transport: str) -> None:
    handshake = server_link(transport, ServerSessionConfig(capabilities=SERVER_CAPS))
    (reply,) = handshake.send(request(1, "initialize", hello("2025-06-18")))
    assert reply["result"]["protocolVersion"] == "2025-06-18"
    handshake.send(notification("notifications/initialized"))
    assert handshake.send(request(2, "tools/list")) == []
    event = handshake.session_events()[-1]
    assert isinstance(event, RequestReceived)
    assert event.revision == "2025-06-18"
    assert handshake.session.state is State.READY

    stateless = server_link(transport, ServerSessionConfig(capabilities=SERVER_CAPS))
    assert stateless.send(request(1, "tools/list", {"_meta": stateless_meta()})) == []
    received = only(stateless.session_events(), RequestReceived)
    assert received.revision == STATELESS
    assert stateless.session.state is State.STATELESS
    # A client whose probe timed out falls back to initialize on the same connection.
    (reply,) = stateless.send(request(2, "initialize", hello("2025-06-18")))
    assert reply["result"]["protocolVersion"] == "2025-06-18"
    assert state_of(stateless.session) is State.INITIALIZING
    (reply,) = stateless.send(request(3, "initialize", hello("2025-06-18")))
    assert reply["error"]["code"] == jsonrpc.INVALID_REQUEST


@pytest.mark.parametrize(
    ("client_revisions", "state", "revision"),
    [
        (HANDSHAKE_REVISIONS, State.READY, "2025-11-25"),
        (("2025-03-26",), State.READY, "2025-03-26"),
        ((STATELESS,), State.STATELESS, STATELESS),
        ((*HANDSHAKE_REVISIONS, STATELESS), State.STATELESS, STATELESS),
    ],
)
@EACH_TRANSPORT
def test_a_server_of_both_eras_opens_with_any_client(
    transport: str, client_revisions: tuple[str, ...], state: State, revision: str
) -> None:
    pair = open_pair(
        transport,
        client=client_config(*client_revisions),
        server=server_config(*HANDSHAKE_REVISIONS, STATELESS),
    )
    assert (pair.client.state, pair.client.revision) == (state, revision)


@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_a_handshake_only_server_refuses_stateless_requests(transport: str, revision: str) -> None:
    link = server_link(transport, server_config(revision))
    for id, method in enumerate(("server/discover", "tools/list")):
        (reply,) = link.send(request(id, method, {"_meta": stateless_meta()}))
        assert reply["error"]["code"] == UNSUPPORTED_PROTOCOL_VERSION
        assert reply["error"]["data"] == {"requested": STATELESS, "supported": [revision]}
    assert link.session.state is State.IDLE
    (reply,) = link.send(request(9, "initialize", hello(revision)))
    assert reply["result"]["protocolVersion"] == revision


@EACH_TRANSPORT
def test_a_client_of_both_eras_probes_first(transport: str) -> None:
    link = client_link(transport, client_config(*HANDSHAKE_REVISIONS, STATELESS), now=3.0)
    (probe,) = link.sent()
    assert probe["method"] == "server/discover"
    assert probe["id"] == 1
    assert probe["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] == STATELESS
    assert link.session.state is State.DISCOVERING
    assert link.session.next_deadline() == 13.0


def fallback_initialize(id: int = 2) -> dict[str, Any]:
    """The initialize a client of both eras (client_config) falls back to."""
    return request(
        id,
        "initialize",
        {
            "protocolVersion": "2025-11-25",
            "capabilities": {"roots": {"listChanged": True}, "sampling": {}},
            "clientInfo": {"name": "cli", "version": "1.2"},
        },
    )


def assert_falls_back(link: Link, reply: Any, now: float) -> None:
    """*reply* to the probe makes the client send initialize, which then opens the session."""
    assert link.send(reply, now) == [fallback_initialize()]
    assert link.session_events() == []
    assert link.session.state is State.INITIALIZING
    assert link.session.next_deadline() == now + 60.0
    assert link.send(response(2, init_result("2025-06-18")), now + 1) == [
        notification("notifications/initialized")
    ]
    assert only(link.session_events(), SessionInitialized).revision == "2025-06-18"


@pytest.mark.parametrize(
    "code",
    [
        jsonrpc.METHOD_NOT_FOUND,
        jsonrpc.INVALID_REQUEST,
        UNSUPPORTED_PROTOCOL_VERSION,
        jsonrpc.INTERNAL_ERROR,
        -1,
    ],
)
@EACH_TRANSPORT
def test_a_client_of_both_eras_falls_back_on_any_error(transport: str, code: int) -> None:
    link = client_link(transport, client_config(*HANDSHAKE_REVISIONS, STATELESS))
    link.sent()
    assert_falls_back(link, error_response(1, code, "no"), 1.0)


@pytest.mark.parametrize(
    "result",
    [
        {},
        {"supportedVersions": STATELESS, "capabilities": {}},
        {"supportedVersions": [STATELESS]},
        discover_result(capabilities=[]),
        [],
        None,
    ],
)
@EACH_TRANSPORT
def test_a_client_of_both_eras_falls_back_on_an_invalid_discover_result(
    transport: str, result: Any
) -> None:
    link = client_link(transport, client_config(*HANDSHAKE_REVISIONS, STATELESS))
    link.sent()
    assert_falls_back(link, response(1, result), 2.0)


@pytest.mark.parametrize(
    "versions", [[], ["2025-11-25"], ["2025-06-18", "2024-11-05"], ["2027-01-01"]]
)
@EACH_TRANSPORT
def test_a_client_of_both_eras_falls_back_without_a_common_stateless_revision(
    transport: str, versions: list[str]
) -> None:
    link = client_link(transport, client_config(*HANDSHAKE_REVISIONS, STATELESS))
    link.sent()
    assert_falls_back(
        link, response(1, discover_result(*versions) | {"supportedVersions": versions}), 4.0
    )


@EACH_TRANSPORT
def test_a_client_of_both_eras_falls_back_when_the_probe_times_out(transport: str) -> None:
    link = client_link(transport, client_config(*HANDSHAKE_REVISIONS, STATELESS), now=0.0)
    link.sent()
    assert link.session.next_deadline() == 10.0
    assert link.handle_timeout(9.999) == []
    assert link.handle_timeout(10.0) == [fallback_initialize()]
    assert link.session_events() == []
    assert link.session.next_deadline() == 70.0
    assert link.send(response(1, discover_result()), 11.0) == []
    late = only(link.session_events(), UnknownResponseReceived)
    assert late.response.id == 1
    assert link.session.state is State.INITIALIZING
    assert link.send(response(2, init_result("2025-11-25")), 12.0) == [
        notification("notifications/initialized")
    ]
    assert only(link.session_events(), SessionInitialized).revision == "2025-11-25"


def test_a_slow_probe_answer_does_not_break_the_fallback_to_a_server_of_both_eras() -> None:
    """The probe's answer arrives after the fallback initialize was sent: the default
    client and the default server must still open a handshake-era session."""
    pair = make_pair(client=ClientSessionConfig(), server=ServerSessionConfig())
    pair.client.start(0.0)
    pair.client.handle_timeout(10.0)
    pair.pump(10.5)
    client_events, server_events = pair.events()
    assert [type(e) for e in client_events] == [UnknownResponseReceived, SessionInitialized]
    assert [type(e) for e in server_events] == [SessionInitialized]
    assert (pair.client.state, pair.server.state) == (State.READY, State.READY)
    assert (pair.client.revision, pair.server.revision) == ("2025-11-25", "2025-11-25")


@pytest.mark.parametrize(("probe", "deadline"), [(2.5, 3.5), (None, None)])
def test_the_probe_deadline_follows_probe_timeout(
    probe: float | None, deadline: float | None
) -> None:
    config = client_config(*HANDSHAKE_REVISIONS, STATELESS, probe_timeout=probe)
    link = client_link("direct", config, now=1.0)
    assert link.session.next_deadline() == deadline


def test_the_fallback_initialize_can_time_out_too() -> None:
    link = client_link("direct", client_config(*HANDSHAKE_REVISIONS, STATELESS))
    link.sent()
    link.handle_timeout(10.0)
    link.sent()
    assert link.handle_timeout(69.0) == []
    assert link.handle_timeout(70.0) == []
    assert_failed(link, "initialize")


@EACH_TRANSPORT
def test_the_fallback_initialize_can_be_refused(transport: str) -> None:
    link = client_link(transport, client_config(*HANDSHAKE_REVISIONS, STATELESS))
    link.sent()
    link.send(error_response(1, jsonrpc.METHOD_NOT_FOUND, "what?"))
    link.sent()
    link.send(error_response(2, jsonrpc.INVALID_REQUEST, "no thanks"))
    assert_failed(link, "initialize", "no thanks")


@EACH_TRANSPORT
def test_a_client_of_both_eras_falls_back_against_a_handshake_only_server(
    transport: str,
) -> None:
    pair = open_pair(
        transport,
        client=client_config(*HANDSHAKE_REVISIONS, STATELESS),
        server=server_config("2025-06-18"),
    )
    assert (pair.client.state, pair.client.revision) == (State.READY, "2025-06-18")
    assert (pair.server.state, pair.server.revision) == (State.READY, "2025-06-18")
    assert [m.get("method") for m in pair.sent_by("client")] == [
        "server/discover",
        "initialize",
        "notifications/initialized",
    ]
    assert "error" in pair.sent_by("server")[0]


@EACH_TRANSPORT
def test_a_handshake_only_client_fails_against_a_stateless_only_server(transport: str) -> None:
    pair = opened(transport, client=client_config("2025-11-25"), server=server_config(STATELESS))
    (refusal,) = pair.sent_by("server")
    assert refusal["error"]["code"] == UNSUPPORTED_PROTOCOL_VERSION
    failed = [e for e in all_events(pair.client_end) if isinstance(e, SessionFailed)]
    assert len(failed) == 1
    assert str(UNSUPPORTED_PROTOCOL_VERSION) in failed[0].error.message


@pytest.mark.parametrize(
    "reply",
    [
        error_response(1, jsonrpc.METHOD_NOT_FOUND, "what?"),
        error_response(1, UNSUPPORTED_PROTOCOL_VERSION, "old"),
        response(1, {"supportedVersions": [STATELESS]}),
        response(1, discover_result("2025-11-25")),
    ],
)
@EACH_TRANSPORT
def test_a_stateless_only_client_fails_when_discover_fails(transport: str, reply: Any) -> None:
    link = client_link(transport, client_config(STATELESS))
    link.sent()
    assert link.send(reply, 1.0) == []
    assert_failed(link, "server/discover")


@EACH_TRANSPORT
def test_a_stateless_only_client_fails_when_discover_times_out(transport: str) -> None:
    link = client_link(transport, client_config(STATELESS), now=0.0)
    link.sent()
    assert link.session.next_deadline() == 60.0
    assert link.handle_timeout(59.0) == []
    assert link.handle_timeout(60.0) == []
    assert_failed(link, "server/discover", "no answer in time")


# Starting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "revisions", [("2025-06-18",), (STATELESS,), (*HANDSHAKE_REVISIONS, STATELESS)]
)
def test_start_twice_raises(revisions: tuple[str, ...]) -> None:
    session = ClientSession(client_config(*revisions))
    session.start(0.0)
    state, sent = session.state, session.messages_to_send()
    with pytest.raises(LocalProtocolError):
        session.start(1.0)
    assert session.state is state
    assert session.messages_to_send() == []
    assert len(sent) == 1
    assert session.next_deadline() == (
        60.0 if revisions == ("2025-06-18",) or revisions == (STATELESS,) else 10.0
    )


@pytest.mark.parametrize(
    "revisions", [("2025-06-18",), (STATELESS,), (*HANDSHAKE_REVISIONS, STATELESS)]
)
def test_sending_before_start_raises(revisions: tuple[str, ...]) -> None:
    session = ClientSession(client_config(*revisions))
    with pytest.raises(LocalProtocolError):
        session.send_request("ping", now=0.0)
    with pytest.raises(LocalProtocolError):
        session.send_request("tools/list", now=0.0)
    with pytest.raises(LocalProtocolError):
        session.send_notification("notifications/roots/list_changed")
    assert session.messages_to_send() == []
    assert session.state is State.IDLE
    assert session.next_deadline() is None


def test_the_client_sends_no_operation_before_the_initialize_answer() -> None:
    link = client_link("direct", client_config("2025-06-18"))
    link.sent()
    with pytest.raises(LocalProtocolError):
        link.session.send_request("tools/list", now=0.0)
    with pytest.raises(LocalProtocolError):
        link.session.send_notification("notifications/roots/list_changed")
    ping = link.session.send_request("ping", now=0.0)
    assert link.sent() == [request(ping, "ping")]


# The wire ------------------------------------------------------------------------------------


@EACH_TRANSPORT
@EACH_HANDSHAKE
def test_the_full_handshake_on_the_wire(transport: str, revision: str) -> None:
    pair = opened(
        transport,
        client=client_config(revision, capabilities=ClientCapabilities(roots={})),
        server=server_config(
            revision, capabilities=ServerCapabilities(tools={}), instructions="hi"
        ),
    )
    assert pair.sent_by("client") == [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": revision,
                "capabilities": {"roots": {}},
                "clientInfo": {"name": "cli", "version": "1.2"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]
    assert pair.sent_by("server") == [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "result": {
                "protocolVersion": revision,
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "srv", "version": "2.0"},
                "instructions": "hi",
            },
        }
    ]
    assert [who for who, _ in pair.wire] == ["client", "server", "client"]
    _, server_events = pair.events()
    assert server_events == [
        SessionInitialized(revision, CLIENT_INFO, ClientCapabilities(roots={}), None)
    ]
    assert pair.next_deadlines() == (None, None)


@EACH_TRANSPORT
def test_the_fallback_on_the_wire(transport: str) -> None:
    pair = open_pair(
        transport,
        client=client_config(*HANDSHAKE_REVISIONS, STATELESS, capabilities=ClientCapabilities()),
        server=server_config("2025-03-26", capabilities=ServerCapabilities()),
    )
    meta = {
        "io.modelcontextprotocol/protocolVersion": STATELESS,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "cli", "version": "1.2"},
    }
    assert pair.sent_by("client") == [
        request(1, "server/discover", {"_meta": meta}),
        request(
            2,
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "cli", "version": "1.2"},
            },
        ),
        notification("notifications/initialized"),
    ]
    refusal, result = pair.sent_by("server")
    assert refusal["id"] == 1
    assert refusal["error"]["code"] == UNSUPPORTED_PROTOCOL_VERSION
    assert result == response(
        2,
        {
            "protocolVersion": "2025-03-26",
            "capabilities": {},
            "serverInfo": {"name": "srv", "version": "2.0"},
        },
    )


@EACH_TRANSPORT
def test_the_discovery_on_the_wire(transport: str) -> None:
    pair = open_pair(
        transport,
        client=client_config(*HANDSHAKE_REVISIONS, STATELESS, capabilities=ClientCapabilities()),
        server=server_config(
            STATELESS,
            capabilities=ServerCapabilities(tools={}),
            instructions="hi",
            discover_ttl_ms=1000,
        ),
    )
    meta = {
        "io.modelcontextprotocol/protocolVersion": STATELESS,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "cli", "version": "1.2"},
    }
    assert pair.sent_by("client") == [request(1, "server/discover", {"_meta": meta})]
    assert pair.sent_by("server") == [
        response(
            1,
            {
                "supportedVersions": [STATELESS],
                "capabilities": {"tools": {}},
                "instructions": "hi",
                "ttlMs": 1000,
                "cacheScope": "public",
                "resultType": "complete",
                "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "srv", "version": "2.0"}},
            },
        )
    ]
    assert (pair.client.state, pair.server.state) == (State.STATELESS, State.STATELESS)
    assert pair.client.peer_info == SERVER_INFO
    assert pair.next_deadlines() == (None, None)


def test_a_probing_client_sends_nothing_until_it_knows_the_era() -> None:
    link = client_link("direct", client_config(*HANDSHAKE_REVISIONS, STATELESS))
    link.sent()
    with pytest.raises(LocalProtocolError):
        link.session.send_request("ping", now=0.0)
    with pytest.raises(LocalProtocolError):
        link.session.send_request("tools/list", now=0.0)
    assert link.sent() == []
    assert link.session.state is State.DISCOVERING


def test_a_stateless_client_has_no_ping() -> None:
    link = stateless_client("direct")
    with pytest.raises(LocalProtocolError):
        link.session.send_request("ping", now=0.0)
    assert link.sent() == []


@EACH_TRANSPORT
def test_a_probing_client_refuses_requests_and_ignores_notifications(transport: str) -> None:
    link = client_link(transport, client_config(*HANDSHAKE_REVISIONS, STATELESS))
    link.sent()
    (reply,) = link.send(request("s", "ping"))
    assert reply["error"]["code"] == jsonrpc.INVALID_REQUEST
    assert link.send(notification("notifications/message", {"level": "info", "data": 1})) == []
    rejected, ignored = link.session_events()
    assert isinstance(rejected, RequestRejected)
    assert isinstance(ignored, NotificationIgnored)
    assert link.session.state is State.DISCOVERING
