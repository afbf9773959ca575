"""The MCP connection over WebSocket: subprotocols, JSON-RPC per text message, bad input."""

from __future__ import annotations

import json

import pytest

from helpers.wspair import pump
from mcpws.core import jsonrpc
from mcpws.core.connection import (
    AuthenticationFailed,
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
from mcpws.core.errors import LocalProtocolError, RemoteProtocolError
from mcpws.core.websocket import ServerPolicy, WebSocketClient, WebSocketConfig

Side = ServerConnection | ClientConnection


def request_of(server: ServerConnection) -> ConnectionRequested:
    (event,) = server.events_received()
    assert isinstance(event, ConnectionRequested)
    return event


def connected(
    revision: str | None = None, **server_options: object
) -> tuple[ClientConnection, ServerConnection]:
    client = ClientConnection("ws://localhost/mcp", 0.0, revision=revision)
    server = ServerConnection(0.0, **server_options)  # type: ignore[arg-type]
    pump(client, server, 0.0)
    request_of(server)
    server.accept(now=0.0)
    pump(client, server, 0.0)
    assert isinstance(server.events_received()[0], ConnectionAccepted)
    assert isinstance(client.events_received()[0], ConnectionAccepted)
    return client, server


def send_raw_text(client: ClientConnection, server: ServerConnection, text: str) -> None:
    client._ws.send_text(text)
    pump(client, server, 0.0)


class TestSubprotocols:
    def test_mcp_is_selected(self) -> None:
        client, _server = connected()
        assert client.subprotocol == "mcp"

    def test_a_supported_version_subprotocol_is_selected(self) -> None:
        client, _server = connected(revision="2025-06-18")
        assert client.subprotocol == "mcp.version.2025-06-18"

    def test_an_unsupported_version_falls_back_to_mcp(self) -> None:
        client = ClientConnection("ws://localhost/mcp", 0.0, revision="1999-01-01")
        server = ServerConnection(0.0)
        pump(client, server, 0.0)
        event = request_of(server)
        assert (event.revision, event.subprotocol) == (None, "mcp")

    def test_an_auth_token_reaches_the_application_and_is_never_selected(self) -> None:
        client = ClientConnection("ws://localhost/mcp", 0.0)
        client._ws = WebSocketClient(
            "ws://localhost/mcp", 0.0, subprotocols=["mcp", "mcp.auth.s3cret"]
        )
        server = ServerConnection(0.0)
        pump(client, server, 0.0)
        event = request_of(server)
        assert (event.auth_token, event.subprotocol) == ("s3cret", "mcp")
        with pytest.raises(LocalProtocolError, match="never select it"):
            server.accept(now=0.0, subprotocol="mcp.auth.s3cret")
        server.accept(now=0.0, principal="alice")
        pump(client, server, 0.0)
        assert server.principal == "alice"
        assert "s3cret" not in repr(client.events_received())

    @pytest.mark.parametrize("offered", [["graphql-ws"], ["mcp.auth.s3cret"], ["MCP"]])
    @pytest.mark.parametrize("policy", [None, ServerPolicy(path=None)])
    def test_a_client_offering_no_mcp_subprotocol_gets_400(
        self, offered: list[str], policy: ServerPolicy | None
    ) -> None:
        client = ClientConnection("ws://localhost/mcp", 0.0)
        client._ws = WebSocketClient("ws://localhost/mcp", 0.0, subprotocols=offered)
        server = ServerConnection(0.0, policy=policy)
        pump(client, server, 0.0)
        rejected = [e for e in client.events_received() if isinstance(e, ConnectionRejected)]
        assert rejected[0].status_code == 400
        assert rejected[0].body.startswith(b"this endpoint speaks the WebSocket subprotocols")
        assert b"'mcp.version.2026-07-28'" in rejected[0].body
        assert b"s3cret" not in rejected[0].body

    @pytest.mark.parametrize(
        ("offered", "selected"),
        [
            (["mcp"], "mcp"),
            (["mcp.auth.s3cret", "mcp"], "mcp"),
            (["foo", "mcp", "bar"], "mcp"),
            (["mcp", "mcp.version.2025-03-26"], "mcp.version.2025-03-26"),
            (["mcp.version.2025-06-18"], "mcp.version.2025-06-18"),
            ([], None),
        ],
    )
    @pytest.mark.parametrize("policy", [None, ServerPolicy(path=None, health_path=None)])
    def test_every_policy_selects_the_mcp_subprotocols(
        self, offered: list[str], selected: str | None, policy: ServerPolicy | None
    ) -> None:
        client = ClientConnection("ws://localhost/mcp", 0.0)
        client._ws = WebSocketClient("ws://localhost/mcp", 0.0, subprotocols=offered)
        server = ServerConnection(0.0, policy=policy)
        pump(client, server, 0.0)
        assert request_of(server).subprotocol == selected
        server.accept(now=0.0)
        pump(client, server, 0.0)
        (accepted,) = client.events_received()
        assert isinstance(accepted, ConnectionAccepted)
        assert accepted.subprotocol == selected

    def test_a_policy_cannot_name_other_subprotocols(self) -> None:
        with pytest.raises(LocalProtocolError, match="selects its WebSocket subprotocols itself"):
            ServerConnection(0.0, policy=ServerPolicy(subprotocols=("graphql-ws",)))

    def test_the_client_knows_where_to_connect(self) -> None:
        client = ClientConnection("wss://example.com:8443/x?y=1", 0.0)
        assert (client.host, client.port, client.secure) == ("example.com", 8443, True)


class TestRejection:
    @pytest.mark.parametrize(
        ("status", "headers", "expected"),
        [
            (401, (), ("www-authenticate", "Bearer")),
            (
                401,
                (("WWW-Authenticate", 'Bearer realm="x"'),),
                ("www-authenticate", 'Bearer realm="x"'),
            ),
            (403, (), None),
        ],
    )
    def test_a_rejection_is_a_complete_http_answer(
        self, status: int, headers: tuple[tuple[str, str], ...], expected: tuple[str, str] | None
    ) -> None:
        client = ClientConnection("ws://localhost/mcp", 0.0)
        server = ServerConnection(0.0)
        pump(client, server, 0.0)
        request_of(server)
        server.reject(status, headers=headers)
        pump(client, server, 0.0)
        rejected, closed = client.events_received()
        assert isinstance(rejected, ConnectionRejected)
        assert rejected.status_code == status
        authenticate = [h for h in rejected.headers if h[0] == "www-authenticate"]
        assert authenticate == ([expected] if expected else [])
        assert isinstance(closed, ConnectionClosed)
        assert server.closed


class TestMessages:
    def test_each_text_message_is_one_json_rpc_message(self) -> None:
        client, server = connected()
        client.send(jsonrpc.Request(1, "tools/list"))
        server.send(jsonrpc.Notification("notifications/tools/list_changed"))
        pump(client, server, 0.0)
        assert server.events_received() == [MessageReceived(jsonrpc.Request(1, "tools/list"))]
        (event,) = client.events_received()
        assert event == MessageReceived(jsonrpc.Notification("notifications/tools/list_changed"))

    def test_text_encoded_elsewhere_goes_out_as_it_is(self) -> None:
        client, server = connected()
        request = jsonrpc.Request("a", "tools/call", {"name": "echo"})
        server.send_text(json.dumps(jsonrpc.to_object(request), indent=1))
        pump(client, server, 0.0)
        assert client.events_received() == [MessageReceived(request)]

    @pytest.mark.parametrize(
        ("text", "code", "id"),
        [
            ("not json", -32700, None),
            ('{"jsonrpc":"2.0","id":7,"method":5}', -32600, 7),
            ('{"jsonrpc":"2.0","id":"a","method":"x","params":[1]}', -32600, "a"),
            ('[{"jsonrpc":"2.0","method":"x"}]', -32600, None),
        ],
    )
    def test_bad_json_rpc_gets_an_error_reply_and_the_connection_stays_open(
        self, text: str, code: int, id: str | int | None
    ) -> None:
        client, server = connected()
        send_raw_text(client, server, text)
        (answered,) = server.events_received()
        assert isinstance(answered, InvalidMessageAnswered)
        assert (answered.error.jsonrpc_code, answered.reply.id) == (code, id)
        (reply,) = client.events_received()
        assert isinstance(reply, MessageReceived)
        assert reply.message == answered.reply
        client.send(jsonrpc.Request(2, "ping"))
        pump(client, server, 0.0)
        assert server.events_received() == [MessageReceived(jsonrpc.Request(2, "ping"))]

    def test_batches_only_where_allowed(self) -> None:
        client, server = connected()
        batch: list[jsonrpc.Message] = [jsonrpc.Request(1, "ping"), jsonrpc.Notification("n")]
        with pytest.raises(LocalProtocolError, match="2025-03-26"):
            client.send(batch)
        client.allow_batches = server.allow_batches = True
        client.send(batch)
        pump(client, server, 0.0)
        assert server.events_received() == [MessageReceived(list(batch))]

    def test_a_binary_message_closes_with_1003(self) -> None:
        client, server = connected()
        client._ws.send_bytes(b"\x00\x01")
        pump(client, server, 0.0)
        closing, closed = server.events_received()
        assert closing == Closing(1003, "MCP messages are JSON text, not binary", False)
        assert isinstance(closed, ConnectionClosed)
        assert (closed.code, closed.clean) == (1003, True)
        assert isinstance(closed.cause, RemoteProtocolError)
        assert closed.cause.close_code == 1003
        peer_closing, peer_closed = client.events_received()
        assert isinstance(peer_closing, Closing)
        assert peer_closing.by_peer
        assert isinstance(peer_closed, ConnectionClosed)
        assert peer_closed.code == 1003

    def test_bad_input_after_closing_started_is_not_answered(self) -> None:
        client, server = connected()
        client._ws.send_text("not json")
        in_flight = client.data_to_send()
        server.close(now=1.0)
        for data in in_flight:
            server.receive_data(data, 1.0)
        closing, answered = server.events_received()
        assert closing == Closing(1000, "", False)
        assert isinstance(answered, InvalidMessageAnswered)
        sent = b"".join(server.data_to_send())
        assert b"Parse" not in sent
        assert b"invalid JSON" not in sent

    def test_nesting_limit_is_configurable(self) -> None:
        client = ClientConnection("ws://localhost/mcp", 0.0)
        server = ServerConnection(0.0, max_depth=3)
        pump(client, server, 0.0)
        request_of(server)
        server.accept(now=0.0)
        pump(client, server, 0.0)
        server.events_received()
        send_raw_text(client, server, '{"jsonrpc":"2.0","method":"x","params":{"a":{"b":{}}}}')
        (answered,) = server.events_received()
        assert isinstance(answered, InvalidMessageAnswered)
        assert "nested deeper than 3" in answered.error.message


class TestVocabulary:
    def test_timers_pings_and_closing_pass_through(self) -> None:
        config = WebSocketConfig(ping_interval=5.0, ping_timeout=2.0)
        client = ClientConnection("ws://localhost/mcp", 0.0, config=config)
        server = ServerConnection(0.0, config=config, policy=ServerPolicy())
        pump(client, server, 0.0)
        request_of(server)
        server.accept(now=1.0)
        pump(client, server, 1.0)
        assert server.next_deadline() == 6.0
        server.handle_timeout(6.0)
        assert server.buffered_amount > 0
        pump(client, server, 6.0)
        kinds = [type(e).__name__ for e in client.events_received()]
        assert kinds == ["ConnectionAccepted", "PingReceived"]
        assert [type(e).__name__ for e in server.events_received()][-1] == "PongReceived"
        client.ping(b"hi")
        pump(client, server, 7.0)
        client.close(now=8.0)
        pump(client, server, 8.0)
        events: list[ConnectionEvent] = client.events_received()
        assert isinstance(events[-1], ConnectionClosed)
        assert client.closed
        assert server.closed

    def test_end_of_stream_closes(self) -> None:
        _client, server = connected()
        server.receive_eof(3.0)
        (closed,) = server.events_received()
        assert isinstance(closed, ConnectionClosed)
        assert (closed.code, closed.clean) == (1006, False)

    def test_messages_are_encoded_compactly(self) -> None:
        client, _server = connected()
        client.send(jsonrpc.Request(1, "tools/call", {"name": "é"}))
        (frame,) = client.data_to_send()
        assert json.loads(jsonrpc.encode(jsonrpc.Request(1, "tools/call", {"name": "é"})))
        assert len(frame) < 80


class TestAuthenticationHook:
    @staticmethod
    def _check(requested: ConnectionRequested) -> object:
        if requested.request.header("authorization") == "Bearer good":
            return "alice"
        if requested.request.header("authorization") == "Bearer weak":
            raise AuthenticationFailed("this token may not use MCP", status_code=403)
        raise AuthenticationFailed()

    def _attempt(self, token: str) -> tuple[ServerConnection, list[ConnectionEvent]]:
        client = ClientConnection(
            "ws://localhost/mcp", 0.0, headers=[("authorization", f"Bearer {token}")]
        )
        server = ServerConnection(0.0, authenticate=self._check)
        pump(client, server, 0.0)
        return server, client.events_received()

    def test_a_good_token_is_accepted_with_its_principal(self) -> None:
        server, events = self._attempt("good")
        assert isinstance(events[0], ConnectionAccepted)
        assert server.principal == "alice"
        kinds = [type(e) for e in server.events_received()]
        assert kinds == [ConnectionRequested, ConnectionAccepted]

    @pytest.mark.parametrize(("token", "status"), [("bad", 401), ("weak", 403)])
    def test_a_failed_check_is_refused(self, token: str, status: int) -> None:
        server, events = self._attempt(token)
        rejected = events[0]
        assert isinstance(rejected, ConnectionRejected)
        assert rejected.status_code == status
        has_challenge = ("www-authenticate", "Bearer") in rejected.headers
        assert has_challenge is (status == 401)
        assert server.closed

    def test_a_failure_must_be_401_or_403(self) -> None:
        with pytest.raises(ValueError, match="401 or 403"):
            AuthenticationFailed(status_code=500)


class TestTraffic:
    def test_each_side_counts_the_messages_and_bytes_it_carried_each_way(self) -> None:
        client, server = connected()
        handshake_in, handshake_out = server.traffic.bytes_received, server.traffic.bytes_sent
        assert handshake_in > 0
        assert handshake_out > 0
        assert (client.traffic.bytes_sent, client.traffic.bytes_received) == (
            handshake_in,
            handshake_out,
        )
        client.send(jsonrpc.Notification("notifications/initialized"))
        client._ws.send_bytes(b"\x00")
        pump(client, server, 0.0)
        traffic = server.traffic
        assert (traffic.messages_received, traffic.messages_sent) == (2, 0)
        assert traffic.bytes_received == client.traffic.bytes_sent
        assert client.traffic.messages_sent == 2
        # The binary message closed the connection: the close frame is not a message.
        assert server.traffic.bytes_sent > handshake_out
        assert client.traffic.messages_received == 0


def test_a_server_connection_that_is_not_ready_answers_its_readiness_probe_503() -> None:
    server = ServerConnection(0.0)
    assert server.ready
    server.ready = False
    assert not server.ready
    server.receive_data(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n", 0.0)
    answer = b"".join(server.data_to_send())
    assert answer.startswith(b"HTTP/1.1 503 ")
    assert b"\r\nretry-after: 1\r\n" in answer
