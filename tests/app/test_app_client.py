"""The high-level :class:`mcpws.app.Client`, driven without I/O: over a fake
:class:`~mcpws.app.Link` that records each request and answers it with a JSON result (decoded
into its typed class as a session does), and a :class:`~mcpws.core.session.ClientSession`
for what the client knows of its session, opened against a server session with
``sessionpair.open_pair`` where that matters.

Covered: the server's description; each operation's method and params and its typed result;
pagination; the logging level in both eras; the handlers of the server's requests; and, over
a loopback link, a client talking to a :class:`~mcpws.app.Server`.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
import trio
from trio.testing import MockClock

from helpers.links import QuietLink
from helpers.sessionpair import only, open_pair
from mcpws.app import Client, Context, McpError, ProgressCallback, Server
from mcpws.core.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND
from mcpws.core.mcp import (
    CallToolResult,
    ClientCapabilities,
    CompleteResult,
    Completion,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestFormParams,
    ElicitResult,
    GetPromptResult,
    Implementation,
    ListRootsResult,
    LoggingLevel,
    Model,
    Prompt,
    PromptMessage,
    PromptReference,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    ResourceTemplateReference,
    Result,
    Root,
    ServerCapabilities,
    TextContent,
    TextResourceContents,
    Tool,
    decode_params,
    decode_result,
)
from mcpws.core.session import (
    UNSET,
    ClientSession,
    ClientSessionConfig,
    RequestReceived,
    State,
)
from mcpws.core.session._base import Params, TimeoutArg, for_revision

HANDSHAKE = "2025-11-25"
STATELESS = "2026-07-28"

T = TypeVar("T")

#: What a fake link answers: the JSON result of a request, or an exception to raise.
Answer = Callable[[str, Any], Any]


def run(fn: Callable[[], Awaitable[T]]) -> T:
    """Run *fn* under trio, with a hard timeout (on a mock clock: a hang fails at once)."""

    async def main() -> T:
        with trio.fail_after(10):
            return await fn()

    return trio.run(main, clock=MockClock(autojump_threshold=0))


def _no_answer(method: str, params: Any) -> Any:
    raise AssertionError(f"unexpected request {method}")


class FakeLink(QuietLink):
    """A :class:`~mcpws.app.Link` that records requests and notifications, and answers each
    request with ``answer(method, params)``: a JSON result, decoded for ``revision``, or an
    exception, raised."""

    def __init__(self, answer: Answer = _no_answer, revision: str = HANDSHAKE) -> None:
        self.principal: object = None
        self.log_level: LoggingLevel | None = None
        self.stateless = False
        self.answer = answer
        self.revision = revision
        self.requests: list[tuple[str, Params, TimeoutArg, ProgressCallback | None]] = []
        self.notifications: list[tuple[str, Params]] = []

    @property
    def sent(self) -> list[tuple[str, Params]]:
        """The method and params of each request, in order."""
        return [(method, params) for method, params, _, _ in self.requests]

    async def request(
        self,
        method: str,
        params: Params = None,
        *,
        timeout: TimeoutArg = UNSET,
        on_progress: ProgressCallback | None = None,
        extension: bool = False,
        on_notification: Any = None,
    ) -> Model:
        self.requests.append((method, params, timeout, on_progress))
        value = self.answer(method, params)
        if isinstance(value, Exception):
            raise value
        return decode_result(method, self.revision, value)

    async def notify(self, method: str, params: Params = None, *, extension: bool = False) -> None:
        self.notifications.append((method, params))

    async def send_progress(
        self, request_id: str | int, progress: float, total: float | None, message: str | None
    ) -> None:
        raise AssertionError("a client reports no progress here")


def answering(result: Any) -> FakeLink:
    """A link answering every request with *result*."""
    return FakeLink(lambda method, params: result)


def client_of(link: FakeLink, session: ClientSession | None = None) -> Client:
    return Client(link, ClientSession() if session is None else session)


def _app() -> Server:
    app = Server("srv", "1.0", instructions="Use add.")

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    return app


def _opened(revision: str, app: Server | None = None) -> ClientSession:
    """A client session opened in *revision* against a server session of *app*."""
    config = ClientSessionConfig(revisions=(revision,))
    pair = open_pair(client=config, server=(app or _app()).session_config())
    return pair.client


# The session ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("revision", "state"), [(HANDSHAKE, State.READY), (STATELESS, State.STATELESS)]
)
def test_the_client_describes_the_server_of_its_session(revision: str, state: State) -> None:
    session = _opened(revision)
    assert session.state is state
    client = client_of(FakeLink(), session)
    assert client.revision == revision
    assert client.server_info == Implementation(name="srv", version="1.0")
    assert client.server_capabilities == ServerCapabilities(tools={"listChanged": True})
    assert client.instructions == "Use add."


def test_before_the_session_opens_nothing_is_known_of_the_server() -> None:
    client = client_of(FakeLink())
    assert client.revision is None
    assert client.server_info is None
    assert client.server_capabilities is None
    assert client.instructions is None
    assert client.handlers == {}
    assert client.on_notification is None


def test_a_rebound_client_uses_its_new_link_and_session() -> None:
    """What a driver does when it reconnects: the same client goes on over a new link, and
    describes the new session."""
    old_link, new_link = FakeLink(), answering({"tools": []})
    client = client_of(old_link)
    session = _opened(STATELESS)
    client.rebind(new_link, session)
    assert client.revision == STATELESS
    assert client.server_info == Implementation(name="srv", version="1.0")
    assert run(client.list_tools) == []
    assert old_link.requests == []
    assert new_link.sent == [("tools/list", {})]


# Raw access ----------------------------------------------------------------------------------


def test_request_sends_the_method_params_and_options_and_returns_the_typed_result() -> None:
    link = answering({})
    client = client_of(link)

    def progress(done: float, total: float | None, message: str | None) -> None:
        return None

    result = run(lambda: client.request("ping"))
    assert result == Result()
    run(lambda: client.request("ping", {"_meta": {"k": 1}}, timeout=2.5, on_progress=progress))
    run(lambda: client.request("ping", timeout=None))
    assert link.requests == [
        ("ping", None, UNSET, None),
        ("ping", {"_meta": {"k": 1}}, 2.5, progress),
        ("ping", None, None, None),
    ]


def test_notify_sends_a_notification() -> None:
    link = FakeLink()
    client = client_of(link)
    run(lambda: client.notify("notifications/roots/list_changed"))
    run(lambda: client.notify("notifications/cancelled", {"requestId": 3}))
    assert link.notifications == [
        ("notifications/roots/list_changed", None),
        ("notifications/cancelled", {"requestId": 3}),
    ]


def test_an_error_reply_raises_mcp_error_with_code_message_and_data() -> None:
    link = answering(McpError(INVALID_PARAMS, "unknown tool: nope", {"name": "nope"}))
    client = client_of(link)
    with pytest.raises(McpError) as caught:
        run(lambda: client.call_tool("nope"))
    assert caught.value.code == INVALID_PARAMS
    assert caught.value.message == "unknown tool: nope"
    assert caught.value.data == {"name": "nope"}


# Operations ----------------------------------------------------------------------------------


def test_call_tool_sends_name_and_arguments_and_returns_the_result() -> None:
    link = answering({"content": [{"type": "text", "text": "5"}], "isError": False})
    client = client_of(link)
    result = run(lambda: client.call_tool("add", {"a": 2, "b": 3}))
    assert result == CallToolResult(content=[TextContent(text="5")], is_error=False)
    assert link.requests == [
        ("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}}, UNSET, None)
    ]


def test_call_tool_without_arguments_sends_none_and_passes_timeout_and_progress() -> None:
    link = answering({"content": [], "isError": True})
    client = client_of(link)
    seen: list[float] = []

    def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append(done)

    result = run(lambda: client.call_tool("now", timeout=1.5, on_progress=progress))
    assert result.is_error is True
    assert link.requests == [("tools/call", {"name": "now"}, 1.5, progress)]
    run(lambda: client.call_tool("now", {}))
    assert link.sent[-1] == ("tools/call", {"name": "now", "arguments": {}})


def test_read_resource_sends_the_uri() -> None:
    link = answering({"contents": [{"uri": "demo://r", "text": "hi", "mimeType": "text/plain"}]})
    client = client_of(link)
    result = run(lambda: client.read_resource("demo://r"))
    assert result == ReadResourceResult(
        contents=[TextResourceContents(uri="demo://r", text="hi", mime_type="text/plain")]
    )
    assert link.sent == [("resources/read", {"uri": "demo://r"})]


def test_get_prompt_sends_the_name_and_arguments() -> None:
    link = answering(
        {"messages": [{"role": "user", "content": {"type": "text", "text": "Review x"}}]}
    )
    client = client_of(link)
    result = run(lambda: client.get_prompt("review", {"code": "x"}))
    assert result == GetPromptResult(
        messages=[PromptMessage(role="user", content=TextContent(text="Review x"))]
    )
    run(lambda: client.get_prompt("hello"))
    assert link.sent == [
        ("prompts/get", {"name": "review", "arguments": {"code": "x"}}),
        ("prompts/get", {"name": "hello"}),
    ]


@pytest.mark.parametrize(
    ("ref", "encoded"),
    [
        (PromptReference(name="review"), {"type": "ref/prompt", "name": "review"}),
        (
            ResourceTemplateReference(uri="demo://files/{name}"),
            {"type": "ref/resource", "uri": "demo://files/{name}"},
        ),
    ],
)
def test_complete_sends_the_reference_and_argument(
    ref: PromptReference | ResourceTemplateReference, encoded: dict[str, Any]
) -> None:
    link = answering({"completion": {"values": ["a.txt"], "total": 1, "hasMore": False}})
    client = client_of(link)
    result = run(lambda: client.complete(ref, "name", "a"))
    assert result == CompleteResult(
        completion=Completion(values=["a.txt"], total=1, has_more=False)
    )
    assert link.sent == [
        ("completion/complete", {"ref": encoded, "argument": {"name": "name", "value": "a"}})
    ]


# Pagination ----------------------------------------------------------------------------------


def _paged(key: str, pages: list[list[dict[str, Any]]]) -> FakeLink:
    """A link serving *pages* of *key* items, chained by cursors "2", "3"..."""

    def answer(method: str, params: Any) -> Any:
        index = int(params["cursor"]) - 1 if params.get("cursor") else 0
        page: dict[str, Any] = {key: pages[index]}
        if index + 1 < len(pages):
            page["nextCursor"] = str(index + 2)
        return page

    return FakeLink(answer)


_LISTINGS: list[tuple[str, str, str, Callable[[int], dict[str, Any]], Callable[[int], Any]]] = [
    (
        "list_tools",
        "tools/list",
        "tools",
        lambda n: {"name": f"t{n}", "inputSchema": {"type": "object"}},
        lambda n: Tool(name=f"t{n}", input_schema={"type": "object"}),
    ),
    (
        "list_resources",
        "resources/list",
        "resources",
        lambda n: {"uri": f"demo://{n}", "name": f"r{n}"},
        lambda n: Resource(uri=f"demo://{n}", name=f"r{n}"),
    ),
    (
        "list_resource_templates",
        "resources/templates/list",
        "resourceTemplates",
        lambda n: {"uriTemplate": f"demo://{n}/{{x}}", "name": f"rt{n}"},
        lambda n: ResourceTemplate(uri_template=f"demo://{n}/{{x}}", name=f"rt{n}"),
    ),
    (
        "list_prompts",
        "prompts/list",
        "prompts",
        lambda n: {"name": f"p{n}"},
        lambda n: Prompt(name=f"p{n}"),
    ),
]


@pytest.mark.parametrize(
    ("operation", "method", "key", "item", "typed"), _LISTINGS, ids=[row[0] for row in _LISTINGS]
)
def test_listings_follow_pagination_across_pages(
    operation: str,
    method: str,
    key: str,
    item: Callable[[int], dict[str, Any]],
    typed: Callable[[int], Any],
) -> None:
    link = _paged(key, [[item(1), item(2)], [], [item(3)]])
    client = client_of(link)
    listed = run(getattr(client, operation))
    assert listed == [typed(1), typed(2), typed(3)]
    assert link.sent == [(method, {}), (method, {"cursor": "2"}), (method, {"cursor": "3"})]


@pytest.mark.parametrize(
    ("operation", "method", "key", "item", "typed"), _LISTINGS, ids=[row[0] for row in _LISTINGS]
)
def test_a_listing_of_one_page_sends_one_request(
    operation: str,
    method: str,
    key: str,
    item: Callable[[int], dict[str, Any]],
    typed: Callable[[int], Any],
) -> None:
    link = answering({key: [item(1)]})
    client = client_of(link)
    assert run(getattr(client, operation)) == [typed(1)]
    assert link.sent == [(method, {})]


def test_an_empty_next_cursor_ends_the_listing() -> None:
    link = answering({"tools": [], "nextCursor": ""})
    client = client_of(link)
    assert run(client.list_tools) == []
    assert len(link.requests) == 1


def test_a_listing_that_never_ends_stops_after_1000_pages() -> None:
    link = answering({"prompts": [{"name": "again"}], "nextCursor": "same"})
    client = client_of(link)
    prompts = run(client.list_prompts)
    assert len(prompts) == 1000
    assert len(link.requests) == 1000
    assert link.sent[1] == ("prompts/list", {"cursor": "same"})


# The logging level ---------------------------------------------------------------------------


@pytest.mark.parametrize("session", ["idle", "ready"])
def test_set_logging_level_sends_set_level_in_the_handshake_era(session: str) -> None:
    link = answering({})
    client_session = ClientSession() if session == "idle" else _opened(HANDSHAKE)
    client = client_of(link, client_session)
    assert run(lambda: client.set_logging_level("warning")) is None
    assert link.sent == [("logging/setLevel", {"level": "warning"})]
    assert client_session.log_level is None


def test_set_logging_level_sets_the_sessions_level_in_the_stateless_era() -> None:
    link = FakeLink()
    session = _opened(STATELESS)
    client = client_of(link, session)
    run(lambda: client.set_logging_level("error"))
    assert link.requests == []
    assert session.log_level == "error"


def test_a_stateless_level_reaches_the_servers_context() -> None:
    app = _app()
    pair = open_pair(
        client=ClientSessionConfig(revisions=(STATELESS,)), server=app.session_config()
    )
    client = client_of(FakeLink(), pair.client)
    run(lambda: client.set_logging_level("notice"))
    pair.client.send_request("tools/list", {}, now=0.0)
    pair.pump(0.0)
    _, server_events = pair.events()
    request = only(server_events, RequestReceived)
    assert Context(FakeLink(), request).log_level == "notice"


# The server's requests -----------------------------------------------------------------------


def _server_request(method: str, params: dict[str, Any] | None) -> RequestReceived:
    return RequestReceived(
        1, method, decode_params(method, HANDSHAKE, params), HANDSHAKE, ServerCapabilities()
    )


def test_handle_answers_with_a_sync_handler() -> None:
    client = client_of(FakeLink())
    seen: list[Any] = []
    roots = ListRootsResult(roots=[Root(uri="file:///work")])

    def list_roots(params: Any) -> ListRootsResult:
        seen.append(params)
        return roots

    client.handlers["roots/list"] = list_roots
    request = _server_request("roots/list", None)
    assert client.handle(request) is roots  # answered at once, nothing to await
    assert seen == [request.params]


def test_handle_answers_with_an_async_handler_given_typed_params() -> None:
    client = client_of(FakeLink())
    seen: list[Any] = []
    answer = CreateMessageResult(role="assistant", content=TextContent(text="hi"), model="m")

    async def sample(params: Any) -> CreateMessageResult:
        await trio.lowlevel.checkpoint()
        seen.append(params)
        return answer

    client.handlers["sampling/createMessage"] = sample
    request = _server_request(
        "sampling/createMessage",
        {"messages": [{"role": "user", "content": {"type": "text", "text": "q"}}], "maxTokens": 9},
    )
    later = client.handle(request)
    assert not isinstance(later, Model)  # the handler has to wait
    assert run(lambda: later) is answer
    (params,) = seen
    assert isinstance(params, CreateMessageRequestParams)
    assert params.max_tokens == 9


def test_handle_without_a_handler_is_method_not_found() -> None:
    client = client_of(FakeLink())
    client.handlers["roots/list"] = lambda params: ListRootsResult(roots=[])
    request = _server_request(
        "elicitation/create", {"message": "m", "requestedSchema": {"type": "object"}}
    )
    with pytest.raises(McpError) as caught:
        client.handle(request)
    assert caught.value.code == METHOD_NOT_FOUND
    assert "elicitation/create" in caught.value.message


# A client and a server over a loopback link --------------------------------------------------


class ServerSide(QuietLink):
    """The server end of a loopback: records what the server's handlers do with it."""

    def __init__(self) -> None:
        self.principal: object = "loopback"
        self.log_level: LoggingLevel | None = None
        self.stateless = False
        self.requests: list[str] = []

    async def request(
        self,
        method: str,
        params: Params = None,
        *,
        timeout: TimeoutArg = UNSET,
        on_progress: ProgressCallback | None = None,
        extension: bool = False,
        on_notification: Any = None,
    ) -> Model:
        self.requests.append(method)
        return ElicitResult(action="decline")

    async def notify(self, method: str, params: Params = None, *, extension: bool = False) -> None:
        return None

    async def send_progress(
        self, request_id: str | int, progress: float, total: float | None, message: str | None
    ) -> None:
        return None


class Loopback(FakeLink):
    """A client link that hands each request to *app*, as the wire would: the params are
    decoded on the server's side and the result encoded for the revision, then decoded."""

    def __init__(self, app: Server, revision: str = HANDSHAKE) -> None:
        super().__init__(revision=revision)
        self.app = app
        self.server_side = ServerSide()
        self.next_id = 0

    async def request(
        self,
        method: str,
        params: Params = None,
        *,
        timeout: TimeoutArg = UNSET,
        on_progress: ProgressCallback | None = None,
        extension: bool = False,
        on_notification: Any = None,
    ) -> Model:
        self.requests.append((method, params, timeout, on_progress))
        self.next_id += 1
        assert params is None or isinstance(params, dict)
        request = RequestReceived(
            self.next_id,
            method,
            decode_params(method, self.revision, params),
            self.revision,
            ClientCapabilities(elicitation={}),
        )
        result = self.app.handle(request, self.server_side)
        if not isinstance(result, Model):
            result = await result
        return decode_result(method, self.revision, for_revision(result, self.revision))


@pytest.mark.parametrize("revision", ["2024-11-05", HANDSHAKE, STATELESS])
def test_a_client_uses_a_server_over_a_loopback(revision: str) -> None:
    app = _app()

    @app.tool()
    async def ask(ctx: Context) -> dict[str, Any]:
        answer = await ctx.elicit(ElicitRequestFormParams(message="?", requested_schema={}))
        return {"action": answer.action, "principal": ctx.principal}

    @app.resource("demo://files/{name}")
    def file(name: str) -> str:
        return f"content of {name}"

    @app.prompt()
    def review(code: str) -> str:
        return f"Review {code}"

    @app.completion
    def suggest(ref: Any, name: str, value: str) -> list[str]:
        return [value + "!"]

    link = Loopback(app, revision)
    client = client_of(link)
    # In 2026-07-28 the question is the client's to answer, in a second round.
    client.handlers["elicitation/create"] = lambda params: ElicitResult(action="decline")

    async def main() -> None:
        assert [tool.name for tool in await client.list_tools()] == ["add", "ask"]
        result = await client.call_tool("add", {"a": 2, "b": 3})
        assert result.content == [TextContent(text="5")]
        assert result.is_error is not True
        refused = await client.call_tool("add", {"a": "2", "b": 3})
        assert refused.is_error is True
        extra = await client.call_tool("add", {"a": 2, "b": 3, "c": 4})
        assert extra.is_error is True
        assert extra.content == [
            TextContent(text="invalid arguments: argument 'c' is not expected")
        ]
        asked = await client.call_tool("ask")
        (block,) = asked.content
        assert isinstance(block, TextContent)
        assert block.text == '{"action": "decline", "principal": "loopback"}'
        with pytest.raises(McpError) as caught:
            await client.call_tool("nope")
        assert caught.value.code == INVALID_PARAMS
        (template,) = await client.list_resource_templates()
        assert template.uri_template == "demo://files/{name}"
        assert await client.list_resources() == []
        read = await client.read_resource("demo://files/a")
        assert read.contents == [TextResourceContents(uri="demo://files/a", text="content of a")]
        prompt = await client.get_prompt("review", {"code": "x"})
        assert prompt.messages[0].content == TextContent(text="Review x")
        assert [prompt.name for prompt in await client.list_prompts()] == ["review"]
        completed = await client.complete(PromptReference(name="review"), "code", "x")
        assert completed.completion.values == ["x!"]

    run(main)
    asked = [] if revision == STATELESS else ["elicitation/create"]
    assert link.server_side.requests == asked
    assert [method for method, *_ in link.requests].count("tools/call") == (
        6 if revision == STATELESS else 5
    )


@pytest.mark.parametrize("revision", ["2024-11-05", HANDSHAKE, STATELESS])
def test_a_derived_schema_reaches_the_client_and_is_enforced_over_a_loopback(
    revision: str,
) -> None:
    """What the client is told of a tool's arguments is what the server holds it to: no
    argument it does not name, every parameter without a default, ``null`` for ``X | None``."""
    app = Server("srv")
    calls: list[Any] = []

    @app.tool()
    def maybe(x: int | None, tags: list[str | None] | None = None) -> str:
        calls.append((x, tags))
        return repr((x, tags))

    link = Loopback(app, revision)
    client = client_of(link)

    async def text(arguments: dict[str, Any]) -> tuple[bool, str]:
        result = await client.call_tool("maybe", arguments)
        (block,) = result.content
        assert isinstance(block, TextContent)
        return result.is_error is True, block.text

    async def main() -> None:
        (tool,) = await client.list_tools()
        assert tool.input_schema == {
            "type": "object",
            "properties": {
                "x": {"type": ["integer", "null"]},
                "tags": {
                    "type": ["array", "null"],
                    "items": {"type": ["string", "null"]},
                    "default": None,
                },
            },
            "required": ["x"],
            "additionalProperties": False,
        }
        assert await text({"x": None}) == (False, "(None, None)")
        assert await text({"x": 1, "tags": ["a", None]}) == (False, "(1, ['a', None])")
        assert await text({}) == (True, "invalid arguments: argument 'x' is required")
        assert await text({"x": 1, "y": 2}) == (
            True,
            "invalid arguments: argument 'y' is not expected",
        )
        assert await text({"x": 1, "tags": [1]}) == (
            True,
            "invalid arguments: argument 'tags[0]' must be of type string or null",
        )

    run(main)
    assert calls == [(None, None), (1, ["a", None])]


@pytest.mark.parametrize("revision", ["2024-11-05", HANDSHAKE])
def test_completing_against_a_server_without_completion_is_method_not_found(
    revision: str,
) -> None:
    """A request the session lets through (in 2024-11-05 ``completion/complete`` needs no
    declared capability) to a server that registered no completion gets an error reply."""
    app = _app()
    client = client_of(Loopback(app, revision))
    assert app.capabilities.completions is None

    async def main() -> None:
        with pytest.raises(McpError) as caught:
            await client.complete(PromptReference(name="review"), "code", "x")
        assert caught.value.code == METHOD_NOT_FOUND

    run(main)
