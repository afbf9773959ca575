"""Every message the session core emits validates against the official schema of its revision.

For each revision from 2024-11-05 to 2026-07-28, a client session and a server session (joined
by :func:`sessionpair.open_pair`) go through a broad scenario: opening (the ``server/discover``
probe, with the fallback to ``initialize`` in the handshake era), pings both ways, the tools,
resources, prompts and completion requests with their results, progress, a cancel, a timeout,
the error replies the core gives by itself, the server's requests answered by the client
application, notifications, a batch in 2025-03-26 and an ``InputRequiredResult`` in 2026-07-28.
Requests a well-behaved client cannot send (unknown methods, bad params, a batch) are handed
to a session directly, and only what the sessions emit is checked.

Each text in ``pair.wire`` must validate against the revision's ``JSONRPCMessage``, and against
the definitions that describe it more closely: the request or notification definitions whose
``method`` is its method, the result definition of the method it answers, the JSON-RPC error
envelope, and in 2026-07-28 the definitions of each error code. A last check makes sure each
scenario produced the kinds of messages it is meant to, so that the validation is not vacuous.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import pytest

from helpers import schemas
from helpers.sessionpair import SessionPair, only, open_pair, request, stateless_meta
from mcpws.core import jsonrpc, mcp
from mcpws.core.session import (
    TOO_MANY_REQUESTS,
    ClientSessionConfig,
    ErrorReceived,
    NotificationReceived,
    ProgressReceived,
    RequestCancelled,
    RequestReceived,
    RequestRejected,
    RequestTimedOut,
    ResponseReceived,
    ServerSessionConfig,
    SessionEvent,
)
from mcpws.core.versions import HANDSHAKE_REVISIONS, REVISIONS, STATELESS_REVISIONS

schemas.skip_unless_present()

STATELESS: Final = STATELESS_REVISIONS[-1]
BATCHES: Final = "2025-03-26"
FIRST_ELICITATION: Final = "2025-06-18"

# The official schemas --------------------------------------------------------------------------


#: The result definition of each method's answer, as the schemas name them.
RESULTS: Final = {
    "initialize": "InitializeResult",
    "ping": "EmptyResult",
    "server/discover": "DiscoverResult",
    "tools/list": "ListToolsResult",
    "tools/call": "CallToolResult",
    "resources/list": "ListResourcesResult",
    "resources/templates/list": "ListResourceTemplatesResult",
    "resources/read": "ReadResourceResult",
    "resources/subscribe": "EmptyResult",
    "resources/unsubscribe": "EmptyResult",
    "prompts/list": "ListPromptsResult",
    "prompts/get": "GetPromptResult",
    "completion/complete": "CompleteResult",
    "logging/setLevel": "EmptyResult",
    "sampling/createMessage": "CreateMessageResult",
    "roots/list": "ListRootsResult",
    "elicitation/create": "ElicitResult",
}

#: 2026-07-28's definitions of error codes: those of a whole response, and those of the
#: ``error`` member alone.
ERROR_RESPONSES: Final = {
    -32022: "UnsupportedProtocolVersionError",
    -32021: "MissingRequiredClientCapabilityError",
}
ERROR_OBJECTS: Final = {
    -32700: "ParseError",
    -32600: "InvalidRequestError",
    -32601: "MethodNotFoundError",
    -32602: "InvalidParamsError",
    -32603: "InternalError",
}


# The scenario ----------------------------------------------------------------------------------

#: What the client declares and what the server requires of it (and the client lacks).
NEEDED: Final = mcp.ClientCapabilities(experimental={"io.example/needed": {}})
TOOL: Final = mcp.Tool(
    name="echo",
    description="Echo a text",
    input_schema={"type": "object", "properties": {"text": {"type": "string"}}},
)
ECHO: Final = {"name": "echo", "arguments": {"text": "hi"}}
URI: Final = "file:///notes/a.txt"


def _server_config(revision: str) -> ServerSessionConfig:
    return ServerSessionConfig(
        revisions=(revision,),
        capabilities=mcp.ServerCapabilities(
            tools={"listChanged": True},
            resources={"subscribe": True, "listChanged": True},
            prompts={"listChanged": True},
            logging={},
            completions={},
        ),
        server_info=mcp.Implementation(name="schema-server", version="1.0"),
        instructions="Use the echo tool.",
        required_client_capabilities={"logging/setLevel": NEEDED, "subscriptions/listen": NEEDED},
        max_pending_requests=3,
    )


def _client_config(revision: str) -> ClientSessionConfig:
    # In the handshake era the client also speaks the stateless era: it probes with
    # server/discover, which a server of one older revision refuses (-32022), and falls back.
    revisions = (revision,) if revision == STATELESS else (revision, STATELESS)
    return ClientSessionConfig(
        revisions=revisions,
        capabilities=mcp.ClientCapabilities(
            sampling={},
            roots={"listChanged": True},
            elicitation={} if revision >= FIRST_ELICITATION else None,
        ),
        client_info=mcp.Implementation(name="schema-client", version="1.0"),
    )


@dataclass
class Scenario:
    """A pair driven through the scenario; ``injected`` maps (the session that answers, the
    request id) to the method of each request handed to a session directly."""

    revision: str
    pair: SessionPair
    injected: dict[tuple[str, Any], str] = field(default_factory=dict)

    @property
    def handshake(self) -> bool:
        return self.revision in HANDSHAKE_REVISIONS

    def meta(self) -> dict[str, Any]:
        """The ``_meta`` an injected request needs in the stateless era, in params."""
        return {} if self.handshake else {"_meta": stateless_meta(self.revision, {})}

    def pump(self, now: float) -> tuple[list[SessionEvent], list[SessionEvent]]:
        self.pair.pump(now)
        return self.pair.events()

    def inject(
        self, side: str, value: Any, now: float
    ) -> tuple[list[SessionEvent], list[SessionEvent]]:
        """Hand a JSON value to the client or server session as if its peer had sent it,
        then pump; returns the events of both sides."""
        session = self.pair.client if side == "client" else self.pair.server
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict) and "method" in item and "id" in item:
                self.injected[side, item["id"]] = item["method"]
        session.receive_message(jsonrpc.decode(json.dumps(value), allow_batch=True), now)
        return self.pump(now)


def _received(events: list[SessionEvent]) -> list[RequestReceived]:
    return [event for event in events if isinstance(event, RequestReceived)]


def _run_handshake_extras(run: Scenario) -> None:
    """Pings, the server's requests, and the refusals only the handshake era has."""
    pair, revision = run.pair, run.revision
    client, server = pair.client, pair.server
    # Ping, both ways: the sessions answer by themselves.
    to_server = client.send_request("ping", now=10.0)
    to_client = server.send_request("ping", now=10.0)
    client_events, server_events = run.pump(10.0)
    assert only(client_events, ResponseReceived).request_id == to_server
    assert only(server_events, ResponseReceived).request_id == to_client
    # The server's requests, answered by the client application.
    sampling = {
        "messages": [{"role": "user", "content": {"type": "text", "text": "Say hi"}}],
        "maxTokens": 20,
    }
    answers: list[tuple[str, Any, mcp.Model]] = [
        (
            "sampling/createMessage",
            sampling,
            mcp.CreateMessageResult(
                role="assistant", content=mcp.TextContent(text="hi"), model="model-1"
            ),
        ),
        ("roots/list", None, mcp.ListRootsResult(roots=[mcp.Root(uri="file:///notes")])),
    ]
    if revision >= FIRST_ELICITATION:
        form = {
            "message": "Your name?",
            "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}},
        }
        answers.append(
            ("elicitation/create", form, mcp.ElicitResult(action="accept", content={"name": "Ada"}))
        )
    for method, params, result in answers:
        request_id = server.send_request(method, params, now=11.0)
        client_events, _ = run.pump(11.0)
        assert only(client_events, RequestReceived).method == method
        client.respond(request_id, result)
        _, server_events = run.pump(11.0)
        assert only(server_events, ResponseReceived).method == method
    # A server request that times out: the server cancels it.
    request_id = server.send_request("roots/list", now=12.0, timeout=1.0)
    client_events, _ = run.pump(12.0)
    only(client_events, RequestReceived)
    pair.handle_timeout(13.0)
    client_events, server_events = pair.events()
    assert only(server_events, RequestTimedOut).request_id == request_id
    assert only(client_events, RequestCancelled).request_id == request_id
    client.respond(request_id, mcp.ListRootsResult(roots=[]))  # dropped: cancelled
    # The client's notification.
    client.send_notification("notifications/roots/list_changed")
    _, server_events = run.pump(13.0)
    assert only(server_events, NotificationReceived).method == "notifications/roots/list_changed"
    # A second initialize is refused.
    hello = {
        "protocolVersion": revision,
        "capabilities": {},
        "clientInfo": {"name": "again", "version": "1"},
    }
    _, server_events = run.inject("server", request("x-init", "initialize", hello), 14.0)
    assert only(server_events, RequestRejected).error.code == jsonrpc.INVALID_REQUEST
    # Subscriptions, and -32021 for a method that requires a capability the client lacks.
    for method in ("resources/subscribe", "resources/unsubscribe"):
        request_id = client.send_request(method, {"uri": URI}, now=15.0)
        _, server_events = run.pump(15.0)
        server.respond(request_id, {})
        client_events, _ = run.pump(15.0)
        only(client_events, ResponseReceived)
    client.send_request("logging/setLevel", {"level": "info"}, now=15.0)
    client_events, _ = run.pump(15.0)
    assert only(client_events, ErrorReceived).error.code == mcp.MISSING_REQUIRED_CLIENT_CAPABILITY


def _run_batch(run: Scenario) -> None:
    """2025-03-26: a batch of requests, a notification and bad items gets one batch answer."""
    batch = [
        request("x-b1", "tools/list"),
        request("x-b2", "ping"),
        {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
        request("x-b3", "no/such/method"),
        {"jsonrpc": "2.0", "id": "x-b4"},
    ]
    _, server_events = run.inject("server", batch, 16.0)
    (listing,) = _received(server_events)
    run.pair.server.respond(listing.request_id, mcp.ListToolsResult(tools=[TOOL]))
    run.pump(16.0)


def _run_stateless_extras(run: Scenario) -> None:
    """2026-07-28: the answers that ask the client for input, and the admission refusals."""
    pair = run.pair
    client, server = pair.client, pair.server
    # tools/call answered with an InputRequiredResult, then retried with the input.
    first = client.send_request("tools/call", {"name": "book", "arguments": {}}, now=10.0)
    _, server_events = run.pump(10.0)
    only(server_events, RequestReceived)
    ask = mcp.InputRequiredResult(
        input_requests={
            "confirm": mcp.ElicitRequest(
                params=mcp.ElicitRequestFormParams(
                    message="Book it?",
                    requested_schema={
                        "type": "object",
                        "properties": {"ok": {"type": "boolean"}},
                    },
                )
            ),
            "roots": mcp.ListRootsRequest(),
            "draft": mcp.CreateMessageRequest(
                params=mcp.CreateMessageRequestParams(
                    messages=[
                        mcp.SamplingMessage(role="user", content=mcp.TextContent(text="Draft"))
                    ],
                    max_tokens=50,
                )
            ),
        },
        request_state="state-1",
    )
    server.respond(first, ask)
    client_events, _ = run.pump(10.0)
    assert isinstance(only(client_events, ResponseReceived).result, mcp.InputRequiredResult)
    retry = {
        "name": "book",
        "arguments": {},
        "inputResponses": {
            "confirm": {"action": "accept", "content": {"ok": True}},
            "roots": {"roots": [{"uri": "file:///notes"}]},
            "draft": {
                "role": "assistant",
                "content": {"type": "text", "text": "A draft"},
                "model": "model-1",
            },
        },
        "requestState": "state-1",
    }
    second = client.send_request("tools/call", retry, now=11.0)
    run.pump(11.0)
    server.respond(second, mcp.CallToolResult(content=[mcp.TextContent(text="booked")]))
    client_events, _ = run.pump(11.0)
    assert isinstance(only(client_events, ResponseReceived).result, mcp.CallToolResult)
    # A log level rides on every request's _meta.
    client.log_level = "debug"
    listed = client.send_request("prompts/list", now=12.0)
    run.pump(12.0)
    server.respond(listed, mcp.ListPromptsResult(prompts=[]))
    run.pump(12.0)
    client.log_level = None
    # -32021 for a method that requires a capability the client lacks.
    listen = {"notifications": {"toolsListChanged": True, "resourceSubscriptions": [URI]}}
    client.send_request("subscriptions/listen", listen, now=13.0)
    client_events, _ = run.pump(13.0)
    assert only(client_events, ErrorReceived).error.code == mcp.MISSING_REQUIRED_CLIENT_CAPABILITY
    # -32022 for a revision the server does not speak; -32602 for none named at all.
    unsupported = {"_meta": stateless_meta("1999-01-01", {})}
    run.inject("server", request("x-old", "tools/list", unsupported), 14.0)
    run.inject("server", request("x-none", "tools/list", {}), 14.0)
    # -32602 for a request without the client's capabilities.
    bare = {"_meta": {"io.modelcontextprotocol/protocolVersion": run.revision}}
    run.inject("server", request("x-bare", "tools/list", bare), 14.0)


def _run(revision: str) -> Scenario:
    pair = open_pair(client=_client_config(revision), server=_server_config(revision), now=0.0)
    run = Scenario(revision, pair)
    client, server = pair.client, pair.server
    assert client.revision == revision
    # tools/list and the other listing and reading requests, answered by the application.
    answers: list[tuple[str, Any, mcp.Model]] = [
        ("tools/list", None, mcp.ListToolsResult(tools=[TOOL], next_cursor="page-2")),
        ("tools/list", {"cursor": "page-2"}, mcp.ListToolsResult(tools=[])),
        (
            "resources/list",
            None,
            mcp.ListResourcesResult(resources=[mcp.Resource(uri=URI, name="a")]),
        ),
        (
            "resources/templates/list",
            None,
            mcp.ListResourceTemplatesResult(
                resource_templates=[mcp.ResourceTemplate(uri_template="file:///{name}", name="f")]
            ),
        ),
        (
            "resources/read",
            {"uri": URI},
            mcp.ReadResourceResult(contents=[mcp.TextResourceContents(uri=URI, text="A")]),
        ),
        ("prompts/list", None, mcp.ListPromptsResult(prompts=[mcp.Prompt(name="greet")])),
        (
            "prompts/get",
            {"name": "greet", "arguments": {"who": "Ada"}},
            mcp.GetPromptResult(
                messages=[mcp.PromptMessage(role="user", content=mcp.TextContent(text="Hi Ada"))]
            ),
        ),
        (
            "completion/complete",
            {
                "ref": {"type": "ref/prompt", "name": "greet"},
                "argument": {"name": "who", "value": "A"},
            },
            mcp.CompleteResult(completion=mcp.Completion(values=["Ada"], total=1)),
        ),
    ]
    for method, params, result in answers:
        request_id = client.send_request(method, params, now=1.0)
        _, server_events = run.pump(1.0)
        assert only(server_events, RequestReceived).method == method
        server.respond(request_id, result)
        client_events, _ = run.pump(1.0)
        assert only(client_events, ResponseReceived).method == method
    # tools/call with progress.
    call = client.send_request("tools/call", ECHO, now=2.0, progress=True)
    run.pump(2.0)
    assert server.send_progress(call, 0.5, total=1.0, message="half way")
    assert server.send_progress(call, 1.0, total=1.0)
    server.respond(call, mcp.CallToolResult(content=[mcp.TextContent(text="hi")]))
    client_events, _ = run.pump(2.0)
    assert [type(event) for event in client_events] == [
        ProgressReceived,
        ProgressReceived,
        ResponseReceived,
    ]
    # An error the application answers with.
    call = client.send_request("tools/call", {"name": "missing"}, now=2.0)
    run.pump(2.0)
    server.respond_error(call, jsonrpc.INVALID_PARAMS, "unknown tool: missing")
    client_events, _ = run.pump(2.0)
    assert only(client_events, ErrorReceived).error.code == jsonrpc.INVALID_PARAMS
    # A cancel: the late answer is dropped.
    call = client.send_request("tools/call", ECHO, now=3.0)
    run.pump(3.0)
    client.cancel(call, "no longer needed")
    _, server_events = run.pump(3.0)
    assert only(server_events, RequestCancelled).request_id == call
    server.respond(call, mcp.CallToolResult(content=[]))
    # A timeout: notifications/cancelled goes out.
    call = client.send_request("resources/read", {"uri": URI}, now=4.0, timeout=1.0)
    run.pump(4.0)
    pair.handle_timeout(5.0)
    client_events, server_events = pair.events()
    assert only(client_events, RequestTimedOut).request_id == call
    assert only(server_events, RequestCancelled).request_id == call
    server.respond_error(call, jsonrpc.INTERNAL_ERROR, "too late")  # dropped: cancelled
    # Error replies the core gives by itself: unknown method, invalid params, a duplicate id.
    run.inject("server", request("x-unknown", "no/such/method", run.meta() or None), 6.0)
    run.inject("client", request("x-unknown", "no/such/method"), 6.0)
    run.inject("server", request("x-bad", "tools/call", {"name": 5, **run.meta()}), 6.0)
    valid = request("x-dup", "tools/call", {**ECHO, **run.meta()})
    run.inject("server", valid, 6.0)
    run.inject("server", valid, 6.0)
    server.respond("x-dup", mcp.CallToolResult(content=[mcp.TextContent(text="once")]))
    run.pump(6.0)
    # -32005: a fourth request while three are in flight.
    calls = [client.send_request("tools/call", ECHO, now=7.0) for _ in range(4)]
    client_events, server_events = run.pump(7.0)
    assert [event.request_id for event in _received(server_events)] == calls[:3]
    assert only(client_events, ErrorReceived).error.code == TOO_MANY_REQUESTS
    server.respond(calls[0], mcp.CallToolResult(content=[mcp.TextContent(text="1")]))
    server.respond(calls[1], mcp.CallToolResult(content=[], is_error=True))
    server.respond(calls[2], {"content": [{"type": "text", "text": "3"}]})
    run.pump(7.0)
    # The server's notifications.
    server.send_notification("notifications/tools/list_changed")
    server.send_notification("notifications/resources/list_changed")
    server.send_notification("notifications/prompts/list_changed")
    server.send_notification("notifications/resources/updated", {"uri": URI})
    server.send_notification(
        "notifications/message", {"level": "warning", "logger": "db", "data": {"slow": True}}
    )
    client_events, _ = run.pump(8.0)
    assert len(client_events) == 5
    if run.handshake:
        _run_handshake_extras(run)
    else:
        _run_stateless_extras(run)
    if revision == BATCHES:
        _run_batch(run)
    return run


@functools.cache
def scenario(revision: str) -> Scenario:
    return _run(revision)


# Reading the wire ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One message on the wire (an item of a batch is one too), and what it answers."""

    sender: str
    value: Any
    #: The method of the request a response answers.
    answers: str | None = None
    in_batch: bool = False

    @property
    def label(self) -> str:
        """What kind of message this is, as ``"<sender> <kind>"``."""
        value = self.value
        if "method" in value:
            kind = "request" if "id" in value else "notification"
            return f"{self.sender} {kind} {value['method']}"
        if "error" in value:
            return f"{self.sender} error {value['error'].get('code')}"
        result_type = value["result"].get("resultType")
        suffix = " input_required" if result_type == "input_required" else ""
        return f"{self.sender} result {self.answers}{suffix}"


def _messages(run: Scenario) -> Iterator[Sent]:
    """The messages the sessions sent, with the method each response answers."""
    methods: dict[tuple[str, Any], str] = dict(run.injected)
    for sender, text in run.pair.wire:
        value = json.loads(text)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if "method" in item and "id" in item:
                receiver = "server" if sender == "client" else "client"
                methods[receiver, item["id"]] = item["method"]
            answers = methods.get((sender, item.get("id"))) if "method" not in item else None
            yield Sent(sender, item, answers, isinstance(value, list))


def _method_of(sent: Sent) -> str | None:
    return sent.value.get("method") or sent.answers


def _revision_of(run: Scenario, sent: Sent) -> str:
    """The probe of the handshake-era scenarios is a 2026-07-28 message, as is its answer."""
    return STATELESS if _method_of(sent) == "server/discover" else run.revision


def _definitions_for(revision: str, sent: Sent) -> list[tuple[str, Any]]:
    """The definitions (and the part of the message) that describe *sent* most closely."""
    value, definitions = sent.value, schemas.definitions(revision)
    if "method" in value:
        found = schemas.method_definitions(revision, value["method"])
        assert found, f"MCP {revision} has no definition of {value['method']}"
        return [(name, value) for name in found]
    if "error" in value:
        envelope = (
            "JSONRPCErrorResponse" if "JSONRPCErrorResponse" in definitions else "JSONRPCError"
        )
        checks = [(envelope, value)]
        code = value["error"].get("code")
        if revision == STATELESS and code in ERROR_RESPONSES:
            checks.append((ERROR_RESPONSES[code], value))
        if revision == STATELESS and code in ERROR_OBJECTS:
            checks.append((ERROR_OBJECTS[code], value["error"]))
        return checks
    envelope = (
        "JSONRPCResultResponse" if "JSONRPCResultResponse" in definitions else "JSONRPCResponse"
    )
    assert sent.answers is not None, f"a response to no request on the wire: {value}"
    name = RESULTS[sent.answers]
    checks = [(envelope, value)]
    if f"{name}Response" in definitions:
        checks.append((f"{name}Response", value))
    if value["result"].get("resultType") == "input_required":
        name = "InputRequiredResult"
    checks.append((name, value["result"]))
    return checks


def _texts(run: Scenario) -> list[tuple[str, Any]]:
    return [(sender, json.loads(text)) for sender, text in run.pair.wire]


# The tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("revision", REVISIONS)
def test_every_text_is_a_json_rpc_message_of_the_revision(revision: str) -> None:
    run = scenario(revision)
    problems = [
        f"{sender}: {problem}\n{json.dumps(value)}"
        for sender, value in _texts(run)
        if (problem := schemas.violation(revision, "JSONRPCMessage", value)) is not None
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("revision", REVISIONS)
def test_every_message_fits_its_own_definitions(revision: str) -> None:
    run = scenario(revision)
    problems = []
    for sent in _messages(run):
        target = _revision_of(run, sent)
        for name, instance in _definitions_for(target, sent):
            problem = schemas.violation(target, name, instance)
            if problem is not None:
                problems.append(f"{sent.label}: {problem}\n{json.dumps(sent.value)}")
    assert not problems, "\n".join(problems)


#: What every scenario must have produced.
COMMON: Final = {
    "client request tools/list",
    "server result tools/list",
    "client request tools/call",
    "server result tools/call",
    "client request resources/list",
    "server result resources/list",
    "client request resources/templates/list",
    "server result resources/templates/list",
    "client request resources/read",
    "server result resources/read",
    "client request prompts/list",
    "server result prompts/list",
    "client request prompts/get",
    "server result prompts/get",
    "client request completion/complete",
    "server result completion/complete",
    "server notification notifications/progress",
    "client notification notifications/cancelled",
    "server notification notifications/tools/list_changed",
    "server notification notifications/resources/list_changed",
    "server notification notifications/prompts/list_changed",
    "server notification notifications/resources/updated",
    "server notification notifications/message",
    "client request server/discover",
    "server error -32600",
    "server error -32601",
    "server error -32602",
    "server error -32005",
    "server error -32021",
    "server error -32022",
    "client error -32601",
}
HANDSHAKE: Final = {
    "client request initialize",
    "server result initialize",
    "client notification notifications/initialized",
    "client request ping",
    "server result ping",
    "server request ping",
    "client result ping",
    "server request sampling/createMessage",
    "client result sampling/createMessage",
    "server request roots/list",
    "client result roots/list",
    "server notification notifications/cancelled",
    "client notification notifications/roots/list_changed",
    "client request resources/subscribe",
    "server result resources/subscribe",
    "client request resources/unsubscribe",
    "server result resources/unsubscribe",
    "client request logging/setLevel",
}
ELICITATION: Final = {"server request elicitation/create", "client result elicitation/create"}
STATELESS_ONLY: Final = {
    "server result server/discover",
    "server result tools/call input_required",
    "client request subscriptions/listen",
}


def _expected(revision: str) -> set[str]:
    expected = set(COMMON)
    if revision in HANDSHAKE_REVISIONS:
        expected |= HANDSHAKE
    else:
        expected |= STATELESS_ONLY
    if FIRST_ELICITATION <= revision < STATELESS:
        expected |= ELICITATION
    return expected


@pytest.mark.parametrize("revision", REVISIONS)
def test_the_scenario_produced_every_kind_of_message(revision: str) -> None:
    labels = {sent.label for sent in _messages(scenario(revision))}
    assert _expected(revision) - labels == set()


@pytest.mark.parametrize("revision", REVISIONS)
def test_only_2025_03_26_answers_with_a_batch(revision: str) -> None:
    batches = [value for _, value in _texts(scenario(revision)) if isinstance(value, list)]
    if revision != BATCHES:
        assert batches == []
        return
    (batch,) = batches
    assert [(item.get("id"), "error" in item) for item in batch] == [
        ("x-b2", False),
        ("x-b3", True),
        ("x-b4", True),
        ("x-b1", False),
    ]
    assert schemas.violation(revision, "JSONRPCBatchResponse", batch) is None


def test_the_stateless_errors_carry_their_data() -> None:
    run = scenario(STATELESS)
    errors = {
        sent.value["id"]: sent.value["error"] for sent in _messages(run) if "error" in sent.value
    }
    assert errors["x-old"]["data"] == {"requested": "1999-01-01", "supported": [STATELESS]}
    assert errors["x-none"]["code"] == jsonrpc.INVALID_PARAMS
    assert errors["x-bare"]["code"] == jsonrpc.INVALID_PARAMS
    assert "io.modelcontextprotocol/clientCapabilities" in errors["x-bare"]["message"]
    refused = [e for e in errors.values() if e["code"] == mcp.MISSING_REQUIRED_CLIENT_CAPABILITY]
    assert [e["data"] for e in refused] == [
        {"requiredCapabilities": {"experimental": {"io.example/needed": {}}}}
    ]


@pytest.mark.parametrize("revision", HANDSHAKE_REVISIONS)
def test_the_probe_is_refused_with_minus_32022_and_the_client_falls_back(revision: str) -> None:
    sent = list(_messages(scenario(revision)))
    assert [s.label for s in sent[:5]] == [
        "client request server/discover",
        "server error -32022",
        "client request initialize",
        "server result initialize",
        "client notification notifications/initialized",
    ]
    data = sent[1].value["error"]["data"]
    assert data == {"requested": STATELESS, "supported": [revision]}
    assert schemas.violation(STATELESS, "UnsupportedProtocolVersionError", sent[1].value) is None
