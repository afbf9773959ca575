"""Methods MCP does not define (a vendor's extensions), on a session configured with
``extension_methods``: their requests and notifications reach the application with their
params as they are, in both eras and both directions; their answers go as they are; the
methods nobody declared still get -32601, and MCP's own names cannot be declared."""

from __future__ import annotations

from typing import Any

import pytest

from helpers.sessionpair import (
    Peer,
    initialized_server,
    notification,
    open_pair,
    request,
    stateless_meta,
)
from mcpws.core import jsonrpc
from mcpws.core.errors import LocalProtocolError
from mcpws.core.mcp import NotificationParams, RequestParams, Result
from mcpws.core.session import (
    ClientSessionConfig,
    NotificationIgnored,
    NotificationReceived,
    RequestReceived,
    ResponseReceived,
    ServerSession,
    ServerSessionConfig,
)

VENDOR = "x-acme/sync"


def test_a_declared_extension_request_reaches_the_application_in_the_handshake_era() -> None:
    server, peer = initialized_server(config=ServerSessionConfig(extension_methods={VENDOR}))
    assert peer.send(request(1, VENDOR, {"since": 5, "_meta": {"trace": "t"}})) == []
    (received,) = server.events_received()
    assert isinstance(received, RequestReceived)
    assert received.params == RequestParams(meta={"trace": "t"}, extra={"since": 5})
    server.respond(1, {"changes": []})
    assert peer.replies() == [{"jsonrpc": "2.0", "id": 1, "result": {"changes": []}}]
    assert peer.send(request(2, "x-acme/other")) == [
        {
            "jsonrpc": "2.0",
            "id": 2,
            "error": {
                "code": jsonrpc.METHOD_NOT_FOUND,
                "message": "method not found: x-acme/other (MCP 2025-11-25)",
            },
        }
    ]


def test_a_declared_extension_request_is_served_statelessly() -> None:
    server = ServerSession(ServerSessionConfig(extension_methods={VENDOR}))
    peer = Peer(server)
    assert peer.send(request(1, VENDOR, {"_meta": stateless_meta()})) == []
    server.events_received()
    server.respond(1, Result(extra={"ok": True}))
    (reply,) = peer.replies()
    assert reply["result"]["ok"] is True
    assert reply["result"]["resultType"] == "complete"
    (refused,) = peer.send(request(2, "x-acme/other", {"_meta": stateless_meta()}))
    assert refused["error"]["code"] == jsonrpc.METHOD_NOT_FOUND


def test_a_declared_extension_notification_reaches_the_application_when_open() -> None:
    config = ServerSessionConfig(extension_methods={VENDOR})
    early = ServerSession(
        ServerSessionConfig(extension_methods={VENDOR}, revisions=("2025-11-25",))
    )
    assert Peer(early).send(notification(VENDOR, {"n": 1})) == []
    (ignored,) = early.events_received()
    assert isinstance(ignored, NotificationIgnored)
    assert ignored.reason == "not allowed while the session is idle"
    server, peer = initialized_server(config=config)
    assert peer.send(notification(VENDOR, {"n": 1})) == []
    (heard,) = server.events_received()
    assert isinstance(heard, NotificationReceived)
    assert heard.params == NotificationParams(extra={"n": 1})


def test_both_sides_send_extensions_both_ways() -> None:
    pair = open_pair(
        client=ClientSessionConfig(revisions=("2025-11-25",), extension_methods={"x/ask"}),
        server=ServerSessionConfig(revisions=("2025-11-25",), extension_methods={VENDOR}),
    )
    call = pair.client.send_request(VENDOR, {"a": 1}, now=0.0, extension=True)
    pair.client.send_notification(VENDOR, {"b": 2}, extension=True)
    asked = pair.server.send_request("x/ask", None, now=0.0, extension=True)
    pair.pump(0.0)
    client_events, server_events = pair.events()
    assert [type(event) for event in server_events] == [RequestReceived, NotificationReceived]
    pair.server.respond(call, {"done": True})
    (question,) = [e for e in client_events if isinstance(e, RequestReceived)]
    pair.client.respond(question.request_id, {"answer": 42})
    pair.pump(0.0)
    client_events, server_events = pair.events()
    (answer,) = [e for e in client_events if isinstance(e, ResponseReceived)]
    assert answer.request_id == call
    assert answer.result.extra == {"done": True}
    (reply,) = [e for e in server_events if isinstance(e, ResponseReceived)]
    assert (reply.request_id, reply.result.extra) == (asked, {"answer": 42})


def test_only_an_extension_is_sent_or_declared_as_one() -> None:
    server, _ = initialized_server()
    with pytest.raises(LocalProtocolError, match="is a method of MCP, not an extension"):
        server.send_notification("notifications/tools/list_changed", extension=True)
    methods: list[Any] = ["tools/list", "", 5]
    for method in methods:
        with pytest.raises(ValueError, match="not an extension"):
            ServerSessionConfig(extension_methods={method})
