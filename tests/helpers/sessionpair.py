"""Helpers for the session tests: a client session and a server session joined over one of
three transports, and a hand-driven peer.

* ``direct``: the sessions' messages are decoded and handed over as they are;
* ``websocket``: each session is owned by a real MCP connection core, joined by the
  WebSocket pump of :mod:`helpers.wspair`;
* ``stdio``: each session is owned by a :class:`~mcpws.core.stdio.StdioConnection`.

Every JSON text either session emits is recorded in ``wire`` with its sender, so that tests
can validate it against the schemas. Not a test module; imported as ``helpers.sessionpair``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar, get_args

from mcpws.core import jsonrpc
from mcpws.core.connection import ClientConnection, ServerConnection
from mcpws.core.session import (
    ClientSession,
    ClientSessionConfig,
    ServerSession,
    ServerSessionConfig,
    SessionEvent,
    SessionInitialized,
)
from mcpws.core.stdio import StdioConnection

from .wspair import pump as pump_bytes

TRANSPORTS: Final = ("direct", "websocket", "stdio")

E = TypeVar("E")

_SESSION_EVENTS: Final = get_args(SessionEvent)


def _record(
    session: ClientSession | ServerSession, sender: str, wire: list[tuple[str, str]]
) -> None:
    """Make *session* record every text it hands out in *wire*."""
    original = session.messages_to_send

    def recording() -> list[str]:
        texts = original()
        wire.extend((sender, text) for text in texts)
        return texts

    setattr(session, "messages_to_send", recording)  # noqa: B010


@dataclass
class SessionPair:
    """A client session and a server session, joined over ``transport``."""

    client: ClientSession
    server: ServerSession
    transport: str
    wire: list[tuple[str, str]] = field(default_factory=list)
    client_end: Any = None
    server_end: Any = None

    def pump(self, now: float) -> None:
        """Move messages both ways until neither side has any."""
        if self.transport == "direct":
            moved = True
            while moved:
                moved = False
                for source, sink in ((self.client, self.server), (self.server, self.client)):
                    for text in source.messages_to_send():
                        moved = True
                        message = jsonrpc.decode(text, allow_batch=True)
                        sink.receive_message(message, now)
        else:
            pump_bytes(self.client_end, self.server_end, now)

    def handle_timeout(self, now: float) -> None:
        """Let both sides act on their deadlines at *now*, then pump."""
        for end in (self.client_end, self.server_end):
            end.handle_timeout(now)
        self.pump(now)

    def next_deadlines(self) -> tuple[float | None, float | None]:
        """The sessions' own deadlines (the transports' keepalive timers left out)."""
        return self.client.next_deadline(), self.server.next_deadline()

    def events(self) -> tuple[list[SessionEvent], list[SessionEvent]]:
        """Drain the session events of both sides: (client's, server's)."""
        return _session_events(self.client_end), _session_events(self.server_end)

    def sent_by(self, sender: str) -> list[Any]:
        """The JSON values *sender* ("client" or "server") has emitted so far."""
        return [json.loads(text) for who, text in self.wire if who == sender]


def _session_events(end: Any) -> list[SessionEvent]:
    return [event for event in end.events_received() if isinstance(event, _SESSION_EVENTS)]


def make_pair(
    transport: str = "direct",
    *,
    client: ClientSessionConfig | None = None,
    server: ServerSessionConfig | None = None,
    now: float = 0.0,
) -> SessionPair:
    """Join a new client session and server session; nothing is sent yet for ``direct``
    (call ``pair.client.start(now)``), while the other transports start the client as
    their connection opens."""
    client_session = ClientSession(client)
    server_session = ServerSession(server)
    pair = SessionPair(client_session, server_session, transport)
    _record(client_session, "client", pair.wire)
    _record(server_session, "server", pair.wire)
    if transport == "direct":
        pair.client_end, pair.server_end = client_session, server_session
    elif transport == "websocket":
        pair.server_end = ServerConnection(now, session=server_session, authenticate=_anyone)
        pair.client_end = ClientConnection("ws://localhost/mcp", now, session=client_session)
    else:
        assert transport == "stdio"
        pair.server_end = StdioConnection(server_session, now)
        pair.client_end = StdioConnection(client_session, now)
    return pair


def _anyone(_: object) -> None:
    return None


def open_pair(
    transport: str = "direct",
    *,
    client: ClientSessionConfig | None = None,
    server: ServerSessionConfig | None = None,
    now: float = 0.0,
) -> SessionPair:
    """A pair whose session is open at *now*, with no events left over."""
    pair = make_pair(transport, client=client, server=server, now=now)
    if transport == "direct":
        pair.client.start(now)
    pair.pump(now)
    client_events, _ = pair.events()
    assert any(isinstance(event, SessionInitialized) for event in client_events), client_events
    return pair


def only(events: list[Any], kind: type[E]) -> E:
    """The one event in *events*, checked to be a *kind*."""
    assert len(events) == 1, events
    (event,) = events
    assert isinstance(event, kind), event
    return event


@dataclass
class Peer:
    """A hand-driven peer of one session: feed it JSON values, read back what it sends."""

    session: ClientSession | ServerSession

    def send(self, value: Any, now: float = 0.0) -> list[Any]:
        """Deliver *value* (a JSON value, or raw text) and return the JSON values the
        session sends in reply."""
        text = value if isinstance(value, str) else json.dumps(value)
        self.session.receive_message(jsonrpc.decode(text, allow_batch=True), now)
        return self.replies()

    def replies(self) -> list[Any]:
        """The JSON values the session has queued."""
        return [json.loads(text) for text in self.session.messages_to_send()]


def request(id: Any, method: str, params: Any = None) -> dict[str, Any]:
    """A JSON-RPC request value."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def notification(method: str, params: Any = None) -> dict[str, Any]:
    """A JSON-RPC notification value."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message


def stateless_meta(
    revision: str = "2026-07-28", capabilities: Any = None, **extra: Any
) -> dict[str, Any]:
    """The ``_meta`` of a stateless-era request."""
    return {
        "io.modelcontextprotocol/protocolVersion": revision,
        "io.modelcontextprotocol/clientCapabilities": {} if capabilities is None else capabilities,
        **extra,
    }


def initialize_params(revision: str, capabilities: Any = None) -> dict[str, Any]:
    """The params of an ``initialize`` request."""
    return {
        "protocolVersion": revision,
        "capabilities": {} if capabilities is None else capabilities,
        "clientInfo": {"name": "peer", "version": "1"},
    }


def initialized_server(
    revision: str = "2025-11-25", config: ServerSessionConfig | None = None
) -> tuple[ServerSession, Peer]:
    """A server session a hand-driven client has initialized in *revision*."""
    server = ServerSession(config)
    peer = Peer(server)
    (reply,) = peer.send(request(0, "initialize", initialize_params(revision)))
    assert reply["result"]["protocolVersion"] == revision, reply
    assert peer.send(notification("notifications/initialized")) == []
    server.events_received()
    return server, peer
