"""The high-level :class:`mcpws.app.Server`, driven without I/O: requests are
:class:`~mcpws.core.session.RequestReceived` events built here (their params decoded by
``mcpws.core.mcp.decode_params``, as a session does) and handed to ``Server.handle`` with a
fake :class:`~mcpws.app.Link` that records what the server does with its connection.

Covered: the capabilities and session configuration a server derives from what is registered;
tools (schemas, arguments, return values, errors), resources and templates, prompts,
completion, logging, and what a handler's :class:`~mcpws.app.Context` offers.
"""

import base64
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import pytest
import trio
from trio.testing import MockClock

from helpers.links import QuietLink
from mcpws.app import (
    LEVELS,
    RESOURCE_NOT_FOUND,
    ConnectionLost,
    Context,
    McpError,
    ProgressCallback,
    Server,
)
from mcpws.core.errors import McpwsError
from mcpws.core.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND
from mcpws.core.mcp import (
    BlobResourceContents,
    CallToolResult,
    ClientCapabilities,
    CompleteResult,
    Completion,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestFormParams,
    ElicitResult,
    EmbeddedResource,
    GetPromptResult,
    ImageContent,
    Implementation,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListRootsResult,
    ListToolsResult,
    LoggingLevel,
    Model,
    Prompt,
    PromptArgument,
    PromptMessage,
    PromptReference,
    ReadResourceResult,
    Resource,
    ResourceLink,
    ResourceTemplate,
    ResourceTemplateReference,
    Result,
    Root,
    SamplingMessage,
    ServerCapabilities,
    TextContent,
    TextResourceContents,
    Tool,
    ToolAnnotations,
    decode_params,
)
from mcpws.core.session import RequestReceived, ServerSessionConfig
from mcpws.core.session._base import UNSET, Params, TimeoutArg

HANDSHAKE = "2025-11-25"
STATELESS = "2026-07-28"

T = TypeVar("T")


def run(fn: Callable[[], Awaitable[T]]) -> T:
    """Run *fn* under trio, with a hard timeout (on a mock clock: a hang fails at once)."""

    async def main() -> T:
        with trio.fail_after(10):
            return await fn()

    return trio.run(main, clock=MockClock(autojump_threshold=0))


#: What a server that registered tools, resources or prompts declares of their lists.
CHANGING = {"listChanged": True}


class FakeLink(QuietLink):
    """A :class:`~mcpws.app.Link` that records what is done with it and answers requests
    from ``answers``, by method."""

    def __init__(self, principal: object = None, answers: dict[str, Model] | None = None) -> None:
        self.principal: object = principal
        self.log_level: LoggingLevel | None = None
        self.stateless = False
        self.answers = answers or {}
        self.requests: list[tuple[str, Params, TimeoutArg, ProgressCallback | None]] = []
        self.notifications: list[tuple[str, Params]] = []
        self.progress: list[tuple[str | int, float, float | None, str | None]] = []

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
        return self.answers[method]

    async def notify(self, method: str, params: Params = None, *, extension: bool = False) -> None:
        self.notifications.append((method, params))

    async def send_progress(
        self, request_id: str | int, progress: float, total: float | None, message: str | None
    ) -> None:
        self.progress.append((request_id, progress, total, message))


def received(
    method: str,
    params: dict[str, Any] | None = None,
    *,
    revision: str = HANDSHAKE,
    request_id: str | int = 7,
    capabilities: ClientCapabilities | None = None,
) -> RequestReceived:
    """The event a session reports for a peer's request."""
    return RequestReceived(
        request_id,
        method,
        decode_params(method, revision, params),
        revision,
        ClientCapabilities() if capabilities is None else capabilities,
    )


def handle(app: Server, request: RequestReceived, link: FakeLink | None = None) -> Model:
    answer = app.handle(request, FakeLink() if link is None else link)
    if isinstance(answer, Model):
        return answer
    return run(lambda: answer)


async def _awaiting(answer: Awaitable[Model]) -> None:
    await answer


def call(
    app: Server,
    name: str,
    arguments: dict[str, Any] | None = None,
    link: FakeLink | None = None,
    **options: Any,
) -> CallToolResult:
    params: dict[str, Any] = {"name": name}
    if arguments is not None:
        params["arguments"] = arguments
    result = handle(app, received("tools/call", params, **options), link)
    assert isinstance(result, CallToolResult)
    return result


def text_of(result: CallToolResult) -> str:
    """The text of a result of one text block."""
    (block,) = result.content
    assert isinstance(block, TextContent)
    return block.text


def tools_of(app: Server) -> list[Tool]:
    result = handle(app, received("tools/list"))
    assert isinstance(result, ListToolsResult)
    return result.tools


def read(app: Server, uri: str) -> ReadResourceResult:
    result = handle(app, received("resources/read", {"uri": uri}))
    assert isinstance(result, ReadResourceResult)
    return result


def get_prompt(app: Server, name: str, arguments: dict[str, str] | None = None) -> GetPromptResult:
    params: dict[str, Any] = {"name": name}
    if arguments is not None:
        params["arguments"] = arguments
    result = handle(app, received("prompts/get", params))
    assert isinstance(result, GetPromptResult)
    return result


def complete(
    app: Server, ref: dict[str, Any], argument: str = "arg", value: str = ""
) -> CompleteResult:
    params = {"ref": ref, "argument": {"name": argument, "value": value}}
    result = handle(app, received("completion/complete", params))
    assert isinstance(result, CompleteResult)
    return result


def mcp_error(app: Server, request: RequestReceived) -> McpError:
    with pytest.raises(McpError) as caught:
        handle(app, request)
    return caught.value


# Capabilities and configuration --------------------------------------------------------------


def test_a_server_with_nothing_registered_declares_no_capability() -> None:
    assert Server("empty").capabilities == ServerCapabilities()


def _register_tool(app: Server) -> None:
    app.add_tool(lambda: None, name="t")


def _register_resource(app: Server) -> None:
    app.resource("demo://r")(lambda: "r")


def _register_template(app: Server) -> None:
    app.resource("demo://{name}")(lambda name: name)


def _register_prompt(app: Server) -> None:
    app.prompt("p")(lambda: "p")


def _register_completion(app: Server) -> None:
    app.completion(lambda ref, name, value: [])


@pytest.mark.parametrize(
    ("register", "declared"),
    [
        (_register_tool, ServerCapabilities(tools=CHANGING)),
        (_register_resource, ServerCapabilities(resources={"subscribe": True, **CHANGING})),
        (_register_template, ServerCapabilities(resources={"subscribe": True, **CHANGING})),
        (_register_prompt, ServerCapabilities(prompts=CHANGING)),
        (_register_completion, ServerCapabilities(completions={})),
        (Server.enable_logging, ServerCapabilities(logging={})),
    ],
)
def test_each_registration_declares_its_capability(
    register: Callable[[Server], None], declared: ServerCapabilities
) -> None:
    app = Server("one")
    register(app)
    assert app.capabilities == declared


def test_capabilities_follow_every_registration() -> None:
    app = Server("all")
    for register in (
        _register_tool,
        _register_resource,
        _register_prompt,
        _register_completion,
        Server.enable_logging,
    ):
        register(app)
    assert app.capabilities == ServerCapabilities(
        tools=CHANGING,
        resources={"subscribe": True, **CHANGING},
        prompts=CHANGING,
        completions={},
        logging={},
    )


def test_session_config_carries_info_capabilities_instructions_and_options() -> None:
    app = Server("srv", "1.2.3", instructions="Call add.", title="The server")
    _register_tool(app)
    app.enable_logging()
    config = app.session_config(
        revisions=("2025-06-18", HANDSHAKE), request_timeout=5.0, max_pending_requests=3
    )
    assert isinstance(config, ServerSessionConfig)
    assert config.server_info == Implementation(name="srv", version="1.2.3", title="The server")
    assert config.capabilities == ServerCapabilities(tools=CHANGING, logging={})
    assert config.instructions == "Call add."
    assert config.revisions == ("2025-06-18", HANDSHAKE)
    assert config.request_timeout == 5.0
    assert config.max_pending_requests == 3


def test_session_config_defaults() -> None:
    app = Server("srv")
    config = app.session_config()
    assert app.info == Implementation(name="srv", version="0.0.0")
    assert config.server_info == app.info
    assert config.instructions is None
    assert config.capabilities == ServerCapabilities()
    assert config == ServerSessionConfig(server_info=app.info)


def test_an_unknown_method_is_method_not_found() -> None:
    app = Server("srv")
    _register_tool(app)
    for method, params in [("ping", None), ("tasks/list", None)]:
        error = mcp_error(app, received(method, params))
        assert error.code == METHOD_NOT_FOUND
        assert method in error.message


# Tools: registration -------------------------------------------------------------------------


def test_tools_list_describes_the_registered_tools_in_order() -> None:
    app = Server("srv")

    @app.tool()
    def add(a: int, b: int = 0) -> int:
        """Add two integers.

        Indented detail.
        """
        return a + b

    @app.tool(
        "shout",
        description="Upper case.",
        title="Shout",
        annotations=ToolAnnotations(read_only_hint=True),
    )
    async def loud(text: str) -> str:
        return text.upper()

    def undocumented(flag: bool) -> None:
        return None

    registered = app.add_tool(undocumented)

    assert tools_of(app) == [
        Tool(
            name="add",
            description="Add two integers.\n\nIndented detail.",
            input_schema={
                "type": "object",
                "properties": {
                    "a": {"type": "integer"},
                    "b": {"type": "integer", "default": 0},
                },
                "required": ["a"],
                "additionalProperties": False,
            },
            output_schema={
                "type": "object",
                "properties": {"result": {"type": "integer"}},
                "required": ["result"],
            },
        ),
        Tool(
            name="shout",
            title="Shout",
            description="Upper case.",
            annotations=ToolAnnotations(read_only_hint=True),
            input_schema={
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
                "additionalProperties": False,
            },
        ),
        registered,
    ]
    assert registered.name == "undocumented"
    assert registered.description is None
    assert registered.input_schema == {
        "type": "object",
        "properties": {"flag": {"type": "boolean"}},
        "required": ["flag"],
        "additionalProperties": False,
    }
    # The decorator gives the function back unchanged.
    assert add(2, 3) == 5


def test_an_explicit_description_overrides_the_docstring() -> None:
    app = Server("srv")

    @app.tool(description="")
    def documented() -> None:
        """Docstring."""

    (tool,) = tools_of(app)
    assert tool.description == ""


def test_an_explicit_input_schema_is_used_and_enforced() -> None:
    app = Server("srv")
    schema = {
        "type": "object",
        "properties": {"point": {"type": "array", "items": {"type": "number"}}},
        "required": ["point"],
        "additionalProperties": False,
    }
    seen: list[Any] = []

    class Point:
        pass

    @app.tool(input_schema=schema)
    def norm(point: Point, **rest: Any) -> str:
        seen.append(point)
        return "ok"

    (tool,) = tools_of(app)
    assert tool.input_schema == schema
    assert text_of(call(app, "norm", {"point": [3, 4]})) == "ok"
    assert seen == [[3, 4]]
    refused = call(app, "norm", {"point": [3, 4], "z": 1})
    assert refused.is_error is True
    assert "'z'" in text_of(refused)
    assert seen == [[3, 4]]


def test_a_duplicate_tool_name_is_a_value_error() -> None:
    app = Server("srv")

    @app.tool()
    def echo(text: str) -> str:
        return text

    def other(text: str) -> str:
        return text

    with pytest.raises(ValueError, match="'echo'"):
        app.add_tool(other, name="echo")
    with pytest.raises(ValueError, match="'echo'"):
        app.tool()(echo)
    app.add_tool(other)
    assert [tool.name for tool in tools_of(app)] == ["echo", "other"]
    assert text_of(call(app, "echo", {"text": "first"})) == "first"


def test_an_annotation_without_a_schema_is_a_type_error_and_registers_nothing() -> None:
    app = Server("srv")

    def area(shape: set[int]) -> int:
        return len(shape)

    with pytest.raises(TypeError, match=r"area: parameter 'shape'.*input_schema"):
        app.add_tool(area)
    with pytest.raises(TypeError, match="'shape'"):
        app.tool("area")(area)
    assert app.capabilities.tools is None
    assert tools_of(app) == []


# Tools: calls --------------------------------------------------------------------------------


def test_a_sync_tool_is_called_with_its_arguments() -> None:
    app = Server("srv")

    @app.tool()
    def add(a: int, b: int = 10) -> int:
        return a + b

    result = call(app, "add", {"a": 2, "b": 3})
    assert result == CallToolResult(
        content=[TextContent(text="5")], structured_content={"result": 5}
    )
    assert result.is_error is not True
    assert text_of(call(app, "add", {"a": 2})) == "12"


def test_an_async_tool_is_awaited() -> None:
    app = Server("srv")

    @app.tool()
    async def later(text: str) -> str:
        await trio.lowlevel.checkpoint()
        return text * 2

    assert call(app, "later", {"text": "ab"}) == CallToolResult(content=[TextContent(text="abab")])


def test_a_tool_without_parameters_may_be_called_without_arguments() -> None:
    app = Server("srv")

    @app.tool()
    def now() -> str:
        return "noon"

    assert text_of(call(app, "now")) == "noon"
    assert text_of(call(app, "now", {})) == "noon"


def test_the_context_parameter_is_injected_and_not_an_argument() -> None:
    app = Server("srv")
    seen: list[tuple[Context, int]] = []

    @app.tool()
    async def inspect_me(n: int, here: Context) -> str:
        seen.append((here, n))
        return "seen"

    (tool,) = tools_of(app)
    assert tool.input_schema == {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
        "additionalProperties": False,
    }
    capabilities = ClientCapabilities(sampling={})
    link = FakeLink(principal={"user": "ann"})
    request = received(
        "tools/call",
        {"name": "inspect_me", "arguments": {"n": 1}},
        request_id="r-1",
        capabilities=capabilities,
    )
    result = handle(app, request, link)
    assert result == CallToolResult(content=[TextContent(text="seen")])
    ((context, n),) = seen
    assert n == 1
    assert context.request_id == "r-1"
    assert context.method == "tools/call"
    assert context.params is request.params
    assert context.revision == HANDSHAKE
    assert context.stateless is False
    assert context.peer_capabilities == capabilities
    assert context.principal == {"user": "ann"}


def test_an_argument_named_like_the_context_parameter_is_refused() -> None:
    """The context parameter is no argument: the derived schema refuses one of its name."""
    app = Server("srv")
    seen: list[object] = []

    @app.tool()
    def tool(ctx: Context) -> None:
        seen.append(ctx)

    result = call(app, "tool", {"ctx": "forged"})
    assert result.is_error is True
    assert text_of(result) == "invalid arguments: argument 'ctx' is not expected"
    assert seen == []
    call(app, "tool", {})
    (ctx,) = seen
    assert isinstance(ctx, Context)


def test_an_argument_named_like_the_context_parameter_does_not_replace_it() -> None:
    """Where a given schema lets such an argument through, the context still wins."""
    app = Server("srv")
    seen: list[object] = []

    @app.tool(input_schema={"type": "object"})
    def tool(ctx: Context) -> None:
        seen.append(ctx)

    result = call(app, "tool", {"ctx": "forged"})
    assert result.is_error is not True
    (ctx,) = seen
    assert isinstance(ctx, Context)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hello", CallToolResult(content=[TextContent(text="hello")])),
        ("", CallToolResult(content=[TextContent(text="")])),
        (None, CallToolResult(content=[])),
        (
            {"sum": 5, "word": "été"},
            CallToolResult(
                content=[TextContent(text='{"sum": 5, "word": "été"}')],
                structured_content={"sum": 5, "word": "été"},
            ),
        ),
        ({}, CallToolResult(content=[TextContent(text="{}")], structured_content={})),
        (
            [TextContent(text="a"), ImageContent(data="AAAA", mime_type="image/png")],
            CallToolResult(
                content=[TextContent(text="a"), ImageContent(data="AAAA", mime_type="image/png")]
            ),
        ),
        (
            [
                ResourceLink(uri="demo://r", name="r"),
                EmbeddedResource(resource=TextResourceContents(uri="demo://r", text="t")),
            ],
            CallToolResult(
                content=[
                    ResourceLink(uri="demo://r", name="r"),
                    EmbeddedResource(resource=TextResourceContents(uri="demo://r", text="t")),
                ]
            ),
        ),
        (
            CallToolResult(content=[TextContent(text="own")], is_error=True),
            CallToolResult(content=[TextContent(text="own")], is_error=True),
        ),
        (42, CallToolResult(content=[TextContent(text="42")])),
        (2.5, CallToolResult(content=[TextContent(text="2.5")])),
        (True, CallToolResult(content=[TextContent(text="true")])),
        ([1, "two", None], CallToolResult(content=[TextContent(text='[1, "two", null]')])),
        ([], CallToolResult(content=[TextContent(text="[]")])),
    ],
    ids=lambda value: type(value).__name__,
)
def test_each_kind_of_return_value_becomes_a_result(value: Any, expected: CallToolResult) -> None:
    app = Server("srv")

    @app.tool()
    def give() -> Any:
        return value

    result = call(app, "give")
    assert result == expected
    if isinstance(value, dict):
        assert json.loads(text_of(result)) == value


def test_a_returned_call_tool_result_is_passed_through_as_is() -> None:
    app = Server("srv")
    own = CallToolResult(content=[], structured_content={"a": 1})

    @app.tool()
    async def give() -> CallToolResult:
        return own

    assert call(app, "give") is own


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"b": 1}, "argument 'a' is required"),
        ({"a": "1", "b": 1}, "argument 'a' must be of type integer"),
        ({"a": True, "b": 1}, "argument 'a' must be of type integer"),
        ({"a": 1, "b": 1, "mode": "up"}, "argument 'mode' must be one of ['fast', 'slow']"),
        ({"a": 1, "b": 1, "tags": ["x", 2]}, "argument 'tags[1]' must be of type string"),
        (
            {"a": 1, "b": 1, "weights": {"w": "heavy"}},
            "argument 'weights.w' must be of type number",
        ),
    ],
)
def test_arguments_that_do_not_match_are_a_tool_error_naming_the_field(
    arguments: dict[str, Any], named: str
) -> None:
    app = Server("srv")
    calls: list[Any] = []

    @app.tool()
    def act(
        a: int,
        b: int,
        mode: Literal["fast", "slow"] = "fast",
        tags: list[str] | None = None,
        weights: dict[str, float] | None = None,
    ) -> str:
        calls.append(a)
        return "done"

    result = call(app, "act", arguments)
    assert result.is_error is True
    assert text_of(result) == f"invalid arguments: {named}"
    assert calls == []


def test_an_unexpected_argument_is_a_tool_error_naming_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The schema check refuses it before the call: no ``TypeError`` from Python, no
    traceback logged."""
    app = Server("srv")
    calls: list[int] = []

    @app.tool()
    def add(a: int, b: int) -> int:
        calls.append(a)
        return a + b

    caplog.set_level(logging.DEBUG, logger="mcpws")
    result = call(app, "add", {"a": 1, "b": 2, "c": 3})
    assert result == CallToolResult(
        content=[TextContent(text="invalid arguments: argument 'c' is not expected")],
        is_error=True,
    )
    assert calls == []
    assert [record for record in caplog.records if record.name == "mcpws"] == []
    (tool,) = tools_of(app)
    assert tool.input_schema["additionalProperties"] is False


def test_a_tool_taking_var_keyword_gets_the_other_arguments() -> None:
    app = Server("srv")
    seen: list[dict[str, Any]] = []

    @app.tool()
    def record(a: int, **rest: Any) -> str:
        seen.append({"a": a, **rest})
        return "ok"

    (tool,) = tools_of(app)
    assert tool.input_schema == {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "required": ["a"],
    }
    assert text_of(call(app, "record", {"a": 1, "z": [None], "y": "y"})) == "ok"
    assert seen == [{"a": 1, "z": [None], "y": "y"}]
    refused = call(app, "record", {"a": "1", "z": 1})
    assert text_of(refused) == "invalid arguments: argument 'a' must be of type integer"


def test_an_optional_parameter_without_a_default_is_required_and_may_be_null() -> None:
    """Required exactly when there is no default: leaving ``x: int | None`` out is refused by
    the schema (rather than failing the call), and ``null`` passes ``None``."""
    app = Server("srv")

    @app.tool()
    def maybe(x: int | None) -> str:
        return repr(x)

    (tool,) = tools_of(app)
    assert tool.input_schema == {
        "type": "object",
        "properties": {"x": {"type": ["integer", "null"]}},
        "required": ["x"],
        "additionalProperties": False,
    }
    left_out = call(app, "maybe", {})
    assert left_out.is_error is True
    assert text_of(left_out) == "invalid arguments: argument 'x' is required"
    given = call(app, "maybe", {"x": None})
    assert given.is_error is not True, text_of(given)
    assert text_of(given) == "None"
    assert text_of(call(app, "maybe", {"x": 4})) == "4"
    wrong = call(app, "maybe", {"x": "4"})
    assert text_of(wrong) == "invalid arguments: argument 'x' must be of type integer or null"


def test_null_is_accepted_for_an_optional_parameter() -> None:
    app = Server("srv")

    @app.tool()
    def maybe(x: int | None = 5) -> str:
        return repr(x)

    result = call(app, "maybe", {"x": None})
    assert result.is_error is not True, text_of(result)
    assert text_of(result) == "None"
    assert text_of(call(app, "maybe", {})) == "5"


def test_null_is_accepted_for_optional_items_and_enums() -> None:
    app = Server("srv")

    @app.tool()
    def pick(
        values: list[int | None], mode: Literal["a", "b"] | None, flag: bool | None = True
    ) -> str:
        return repr((values, mode, flag))

    (tool,) = tools_of(app)
    assert tool.input_schema["properties"] == {
        "values": {"type": "array", "items": {"type": ["integer", "null"]}},
        "mode": {"enum": ["a", "b", None]},
        "flag": {"type": ["boolean", "null"], "default": True},
    }
    result = call(app, "pick", {"values": [1, None], "mode": None, "flag": None})
    assert text_of(result) == "([1, None], None, None)"
    assert text_of(call(app, "pick", {"values": [], "mode": "b"})) == "([], 'b', True)"
    refused = call(app, "pick", {"values": [], "mode": "c"})
    assert text_of(refused) == "invalid arguments: argument 'mode' must be one of ['a', 'b', None]"


def test_null_is_refused_for_a_parameter_that_is_not_optional() -> None:
    app = Server("srv")
    calls: list[Any] = []

    @app.tool()
    def strict(x: int = 5) -> str:
        calls.append(x)
        return repr(x)

    result = call(app, "strict", {"x": None})
    assert result.is_error is True
    assert text_of(result) == "invalid arguments: argument 'x' must be of type integer"
    assert calls == []


@pytest.mark.parametrize(
    ("argument", "value"), [("level", True), ("level", False), ("flag", 1), ("flag", 0)]
)
def test_an_enum_argument_tells_booleans_from_numbers(argument: str, value: Any) -> None:
    app = Server("srv")
    calls: list[Any] = []

    @app.tool()
    def choose(level: Literal[0, 1] = 0, flag: Literal[True] = True) -> str:
        calls.append((level, flag))
        return "chosen"

    result = call(app, "choose", {argument: value})
    assert result.is_error is True
    assert text_of(result).startswith(f"invalid arguments: argument '{argument}' must be one of")
    assert calls == []
    assert text_of(call(app, "choose", {"level": 1, "flag": True})) == "chosen"
    assert text_of(call(app, "choose", {"level": 1.0})) == "chosen"


def test_an_unknown_tool_is_invalid_params() -> None:
    app = Server("srv")
    _register_tool(app)
    error = mcp_error(app, received("tools/call", {"name": "nope", "arguments": {}}))
    assert error.code == INVALID_PARAMS
    assert "nope" in error.message


@pytest.mark.parametrize("is_async", [False, True])
def test_an_exception_in_a_tool_is_an_error_result_and_its_traceback_is_logged(
    is_async: bool, caplog: pytest.LogCaptureFixture
) -> None:
    app = Server("srv")
    failure = ValueError("bad value")

    def fail(n: int) -> str:
        raise failure

    async def fail_later(n: int) -> str:
        await trio.lowlevel.checkpoint()
        raise failure

    app.add_tool(fail_later if is_async else fail, name="fail")
    caplog.set_level(logging.DEBUG, logger="mcpws")
    result = call(app, "fail", {"n": 1})
    assert result == CallToolResult(
        content=[TextContent(text="ValueError: bad value")], is_error=True
    )
    (record,) = [record for record in caplog.records if record.name == "mcpws"]
    assert record.levelno == logging.ERROR
    assert "fail" in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[1] is failure
    assert "Traceback" in caplog.text
    assert "Traceback" not in text_of(result)
    assert __file__ not in text_of(result)


@pytest.mark.parametrize(
    "value",
    [{1, 2}, {"a": {1}}, [1, object()], b"bytes", [TextContent(text="a"), 1]],
    ids=["set", "dict-of-set", "list-of-object", "bytes", "mixed-content"],
)
def test_a_return_value_that_cannot_be_encoded_is_an_error_result_and_logged(
    value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = Server("srv")

    @app.tool()
    async def give() -> Any:
        return value

    caplog.set_level(logging.DEBUG, logger="mcpws")
    result = call(app, "give")
    assert result.is_error is True
    assert text_of(result).startswith("TypeError: ")
    assert "is not JSON serializable" in text_of(result)
    (record,) = [record for record in caplog.records if record.name == "mcpws"]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "tool give failed"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], TypeError)
    assert "Traceback" not in text_of(result)


def test_an_exception_without_a_message_is_named_by_its_type() -> None:
    app = Server("srv")

    @app.tool()
    def fail() -> None:
        raise KeyError

    result = call(app, "fail")
    assert result.is_error is True
    assert text_of(result) == "KeyError: "


@pytest.mark.parametrize("coroutine", [True, False])
def test_a_tool_raising_mcp_error_gets_that_error_reply(coroutine: bool) -> None:
    app = Server("srv")

    async def later() -> str:
        raise McpError(-32099, "not today", {"retry": 60})

    def now() -> str:
        raise McpError(-32099, "not today", {"retry": 60})

    app.add_tool(later if coroutine else now, name="refuse")
    error = mcp_error(app, received("tools/call", {"name": "refuse"}))
    assert (error.code, error.message, error.data) == (-32099, "not today", {"retry": 60})


def test_a_tool_being_cancelled_is_not_turned_into_a_result() -> None:
    app = Server("srv")
    started = trio.Event()

    @app.tool()
    async def forever() -> str:
        started.set()
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    async def main() -> bool:
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:
                answer = app.handle(received("tools/call", {"name": "forever"}), FakeLink())
                assert not isinstance(answer, Model)
                nursery.start_soon(_awaiting, answer)
                await started.wait()
                scope.cancel()
        return scope.cancelled_caught

    assert run(main) is True


# Resources -----------------------------------------------------------------------------------


def test_resources_and_templates_are_listed() -> None:
    app = Server("srv")

    @app.resource("demo://readme", mime_type="text/markdown")
    def readme() -> str:
        """The readme."""
        return "# Hi"

    @app.resource("demo://logo", name="logo.png", description="A logo.", mime_type="image/png")
    def logo() -> bytes:
        return b"\x89PNG"

    @app.resource("demo://files/{name}", mime_type="text/plain")
    def file(name: str) -> str:
        """A file."""
        return name

    @app.resource("demo://db/{table}/{row}", name="row")
    def row(table: str, row: str) -> str:
        return f"{table}:{row}"

    resources = handle(app, received("resources/list"))
    assert resources == ListResourcesResult(
        resources=[
            Resource(
                uri="demo://readme",
                name="readme",
                description="The readme.",
                mime_type="text/markdown",
            ),
            Resource(
                uri="demo://logo", name="logo.png", description="A logo.", mime_type="image/png"
            ),
        ]
    )
    templates = handle(app, received("resources/templates/list"))
    assert templates == ListResourceTemplatesResult(
        resource_templates=[
            ResourceTemplate(
                uri_template="demo://files/{name}",
                name="file",
                description="A file.",
                mime_type="text/plain",
            ),
            ResourceTemplate(uri_template="demo://db/{table}/{row}", name="row"),
        ]
    )


def test_a_text_resource_is_read_as_text() -> None:
    app = Server("srv")

    @app.resource("demo://readme", mime_type="text/markdown")
    def readme() -> str:
        return "# Hi"

    @app.resource("demo://plain")
    async def plain() -> str:
        return "plain"

    assert read(app, "demo://readme") == ReadResourceResult(
        contents=[TextResourceContents(uri="demo://readme", text="# Hi", mime_type="text/markdown")]
    )
    assert read(app, "demo://plain") == ReadResourceResult(
        contents=[TextResourceContents(uri="demo://plain", text="plain")]
    )


def test_a_bytes_resource_is_read_as_a_base64_blob() -> None:
    app = Server("srv")
    data = bytes(range(256))

    @app.resource("demo://logo", mime_type="image/png")
    async def logo() -> bytes:
        return data

    result = read(app, "demo://logo")
    (contents,) = result.contents
    assert isinstance(contents, BlobResourceContents)
    assert contents.uri == "demo://logo"
    assert contents.mime_type == "image/png"
    assert base64.b64decode(contents.blob, validate=True) == data


def test_a_resource_may_return_a_full_result_or_its_contents() -> None:
    app = Server("srv")
    own = ReadResourceResult(contents=[TextResourceContents(uri="demo://elsewhere", text="x")])
    parts: list[TextResourceContents | BlobResourceContents] = [
        TextResourceContents(uri="demo://many#1", text="one"),
        BlobResourceContents(uri="demo://many#2", blob="AA=="),
    ]

    @app.resource("demo://own")
    def whole() -> ReadResourceResult:
        return own

    @app.resource("demo://many")
    def many() -> list[TextResourceContents | BlobResourceContents]:
        return parts

    assert read(app, "demo://own") is own
    assert read(app, "demo://many") == ReadResourceResult(contents=parts)


def test_a_template_matches_uris_and_passes_its_variables() -> None:
    app = Server("srv")
    calls: list[dict[str, str]] = []

    @app.resource("demo://files/{name}", mime_type="text/plain")
    def file(name: str) -> str:
        calls.append({"name": name})
        return f"content of {name}"

    @app.resource("demo://db/{table}/rows/{row_id}")
    async def row(table: str, row_id: str) -> str:
        calls.append({"table": table, "row_id": row_id})
        return "row"

    assert read(app, "demo://files/a.txt") == ReadResourceResult(
        contents=[
            TextResourceContents(
                uri="demo://files/a.txt", text="content of a.txt", mime_type="text/plain"
            )
        ]
    )
    assert read(app, "demo://db/users/rows/42").contents == [
        TextResourceContents(uri="demo://db/users/rows/42", text="row")
    ]
    assert calls == [{"name": "a.txt"}, {"table": "users", "row_id": "42"}]


@pytest.mark.parametrize(
    "uri",
    [
        "demo://files/",  # an empty variable
        "demo://files/a/b",  # a variable spans no slash
        "demo://files",
        "xdemo://files/a",
        "demo://files/a.json",  # the literal ".txt" of the template
        "demo://files/aXtxt",  # "." is a literal dot, not any character
        "demo://other/a.txt",
    ],
)
def test_a_uri_no_template_matches_is_resource_not_found(uri: str) -> None:
    app = Server("srv")

    @app.resource("demo://files/{name}.txt")
    def file(name: str) -> str:
        return name

    error = mcp_error(app, received("resources/read", {"uri": uri}))
    assert error.code == RESOURCE_NOT_FOUND == -32002
    assert uri in error.message
    assert error.data == {"uri": uri}


def test_a_static_resource_wins_over_a_template_and_templates_go_in_order() -> None:
    app = Server("srv")

    @app.resource("demo://{name}")
    def first(name: str) -> str:
        return f"first {name}"

    @app.resource("demo://{other}")
    def second(other: str) -> str:
        return f"second {other}"

    @app.resource("demo://fixed")
    def fixed() -> str:
        return "fixed"

    (contents,) = read(app, "demo://fixed").contents
    assert isinstance(contents, TextResourceContents)
    assert contents.text == "fixed"
    (contents,) = read(app, "demo://x").contents
    assert isinstance(contents, TextResourceContents)
    assert contents.text == "first x"


def test_an_unknown_uri_is_resource_not_found_with_the_uri_as_data() -> None:
    app = Server("srv")
    _register_resource(app)
    error = mcp_error(app, received("resources/read", {"uri": "demo://nope"}))
    assert error.code == RESOURCE_NOT_FOUND
    assert error.message == "resource not found: demo://nope"
    assert error.data == {"uri": "demo://nope"}


# Prompts -------------------------------------------------------------------------------------


def test_prompts_are_listed_with_arguments_derived_from_parameters() -> None:
    app = Server("srv")

    @app.prompt()
    def review(code: str, ctx: Context, style: str = "short") -> str:
        """Review some code."""
        return code

    @app.prompt("hello", description="Say hello.")
    async def greet() -> str:
        return "hello"

    result = handle(app, received("prompts/list"))
    assert result == ListPromptsResult(
        prompts=[
            Prompt(
                name="review",
                description="Review some code.",
                arguments=[
                    PromptArgument(name="code", required=True),
                    PromptArgument(name="style", required=False),
                ],
            ),
            Prompt(name="hello", description="Say hello."),
        ]
    )


def test_a_string_prompt_is_one_user_message() -> None:
    app = Server("srv")

    @app.prompt()
    def review(code: str, style: str = "short") -> str:
        """Review some code."""
        return f"Review ({style}): {code}"

    assert get_prompt(app, "review", {"code": "x = 1"}) == GetPromptResult(
        messages=[PromptMessage(role="user", content=TextContent(text="Review (short): x = 1"))],
        description="Review some code.",
    )
    result = get_prompt(app, "review", {"code": "y", "style": "long"})
    assert result.messages[0].content == TextContent(text="Review (long): y")


def test_a_prompt_may_return_messages_or_a_full_result() -> None:
    app = Server("srv")
    messages = [
        PromptMessage(role="user", content=TextContent(text="Q")),
        PromptMessage(role="assistant", content=TextContent(text="A")),
    ]
    own = GetPromptResult(messages=messages[:1], description="own")

    @app.prompt()
    async def chat() -> list[PromptMessage]:
        return messages

    @app.prompt()
    def whole() -> GetPromptResult:
        """Ignored for a full result."""
        return own

    assert get_prompt(app, "chat") == GetPromptResult(messages=messages)
    assert get_prompt(app, "whole") is own


def test_a_prompt_gets_the_context() -> None:
    app = Server("srv")
    seen: list[Context] = []

    @app.prompt()
    def mine(topic: str, context: Context) -> str:
        seen.append(context)
        return topic

    get_prompt(app, "mine", {"topic": "t"})
    (context,) = seen
    assert context.method == "prompts/get"


def test_a_prompt_missing_required_arguments_is_invalid_params() -> None:
    app = Server("srv")
    calls: list[str] = []

    @app.prompt()
    def pair(first: str, second: str, third: str = "") -> str:
        calls.append(first)
        return first

    error = mcp_error(app, received("prompts/get", {"name": "pair", "arguments": {"third": "3"}}))
    assert error.code == INVALID_PARAMS
    assert error.message == "missing prompt arguments: first, second"
    error = mcp_error(app, received("prompts/get", {"name": "pair"}))
    assert error.code == INVALID_PARAMS
    assert calls == []


def test_an_unknown_prompt_is_invalid_params() -> None:
    app = Server("srv")
    _register_prompt(app)
    error = mcp_error(app, received("prompts/get", {"name": "nope"}))
    assert error.code == INVALID_PARAMS
    assert "nope" in error.message


# Completion ----------------------------------------------------------------------------------


def test_completion_gets_the_reference_argument_and_value() -> None:
    app = Server("srv")
    seen: list[tuple[Any, str, str]] = []

    @app.completion
    def suggest(ref: PromptReference | ResourceTemplateReference, name: str, value: str) -> Any:
        seen.append((ref, name, value))
        return [f"{value}1", f"{value}2", 3]

    result = complete(app, {"type": "ref/prompt", "name": "review"}, "style", "s")
    assert result == CompleteResult(
        completion=Completion(values=["s1", "s2", "3"], total=3, has_more=False)
    )
    complete(app, {"type": "ref/resource", "uri": "demo://files/{name}"}, "name", "")
    assert seen == [
        (PromptReference(name="review"), "style", "s"),
        (ResourceTemplateReference(uri="demo://files/{name}"), "name", ""),
    ]
    assert suggest(PromptReference(name="x"), "a", "b") == ["b1", "b2", 3]


@pytest.mark.parametrize(
    ("count", "has_more"), [(0, False), (1, False), (100, False), (101, True), (250, True)]
)
def test_completion_values_are_capped_at_100_with_the_total(count: int, has_more: bool) -> None:
    app = Server("srv")

    @app.completion
    async def suggest(ref: Any, name: str, value: str) -> list[str]:
        return [str(index) for index in range(count)]

    result = complete(app, {"type": "ref/prompt", "name": "p"})
    assert result.completion == Completion(
        values=[str(index) for index in range(min(count, 100))], total=count, has_more=has_more
    )


def test_a_complete_result_is_passed_through() -> None:
    app = Server("srv")
    own = CompleteResult(completion=Completion(values=["x"], total=1000, has_more=True))

    @app.completion
    def suggest(ref: Any, name: str, value: str) -> CompleteResult:
        return own

    assert complete(app, {"type": "ref/prompt", "name": "p"}) is own


def test_completion_without_a_completion_handler_is_method_not_found() -> None:
    """In 2024-11-05 ``completion/complete`` needs no declared capability, so a session hands
    it to a server that registered no completion; that is an unknown method for it."""
    app = Server("srv")
    _register_prompt(app)
    request = received(
        "completion/complete",
        {"ref": {"type": "ref/prompt", "name": "p"}, "argument": {"name": "a", "value": ""}},
        revision="2024-11-05",
    )
    assert app.capabilities.completions is None
    error = mcp_error(app, request)
    assert error.code == METHOD_NOT_FOUND == -32601
    assert error.message == "this server completes nothing"


def test_completion_without_a_handler_is_method_not_found_in_any_revision() -> None:
    app = Server("srv")
    params = {"ref": {"type": "ref/prompt", "name": "p"}, "argument": {"name": "a", "value": ""}}
    for revision in (HANDSHAKE, STATELESS):
        error = mcp_error(app, received("completion/complete", params, revision=revision))
        assert error.code == METHOD_NOT_FOUND


# Logging -------------------------------------------------------------------------------------


def test_set_level_sets_the_level_of_the_link() -> None:
    app = Server("srv")
    app.enable_logging()
    link = FakeLink()
    result = handle(app, received("logging/setLevel", {"level": "warning"}), link)
    assert result == Result()
    levels = [link.log_level]
    handle(app, received("logging/setLevel", {"level": "debug"}), link)
    levels.append(link.log_level)
    assert levels == ["warning", "debug"]


def _sent_levels(context: Context, link: FakeLink) -> list[str]:
    async def log_all() -> None:
        for level in LEVELS:
            await context.log(level, {"at": level})

    link.notifications.clear()
    run(log_all)
    levels = []
    for method, params in link.notifications:
        assert method == "notifications/message"
        assert isinstance(params, dict)
        assert params["data"] == {"at": params["level"]}
        levels.append(params["level"])
    return levels


def test_levels_go_from_least_to_most_severe() -> None:
    assert LEVELS == (
        "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"
    )  # fmt: skip


@pytest.mark.parametrize("wanted", LEVELS)
def test_handshake_era_log_messages_follow_the_links_level(wanted: LoggingLevel) -> None:
    link = FakeLink()
    context = Context(link, received("tools/list"))
    assert Context(link, received("tools/list")).log_level is None
    assert _sent_levels(context, link) == []
    link.log_level = wanted
    assert context.log_level == wanted
    assert _sent_levels(context, link) == list(LEVELS[LEVELS.index(wanted) :])


def test_a_log_message_carries_its_logger_when_given() -> None:
    link = FakeLink()
    link.log_level = "info"
    context = Context(link, received("tools/list"))

    async def main() -> None:
        await context.log("error", "disk full", logger="storage")
        await context.log("info", ["a", 1])

    run(main)
    assert link.notifications == [
        ("notifications/message", {"level": "error", "data": "disk full", "logger": "storage"}),
        ("notifications/message", {"level": "info", "data": ["a", 1]}),
    ]


def test_set_log_level_from_a_context_sets_the_links_level() -> None:
    link = FakeLink()
    context = Context(link, received("tools/list"))
    context.set_log_level("critical")
    assert link.log_level == "critical"
    assert context.log_level == "critical"


@pytest.mark.parametrize("wanted", LEVELS)
def test_stateless_era_log_messages_follow_the_requests_meta(wanted: LoggingLevel) -> None:
    link = FakeLink()
    link.log_level = "debug"  # a handshake-era setting plays no part
    request = received(
        "tools/list",
        {"_meta": {"io.modelcontextprotocol/logLevel": wanted}},
        revision=STATELESS,
    )
    context = Context(link, request)
    assert context.stateless is True
    assert context.log_level == wanted
    assert _sent_levels(context, link) == list(LEVELS[LEVELS.index(wanted) :])


@pytest.mark.parametrize(
    "params",
    [None, {"_meta": {}}, {"_meta": {"io.modelcontextprotocol/logLevel": "verbose"}}],
)
def test_a_stateless_request_without_a_valid_level_gets_no_log_messages(
    params: dict[str, Any] | None,
) -> None:
    link = FakeLink()
    link.log_level = "debug"
    context = Context(link, received("tools/list", params, revision=STATELESS))
    assert context.log_level is None
    assert _sent_levels(context, link) == []


def test_a_tool_logs_and_reports_progress_through_its_context() -> None:
    app = Server("srv")
    app.enable_logging()

    @app.tool()
    async def work(ctx: Context, steps: int) -> str:
        for step in range(steps):
            await ctx.report_progress(step + 1, steps, f"step {step + 1}")
            await ctx.log("info", f"did {step + 1}")
        await ctx.report_progress(steps)
        return "done"

    link = FakeLink()
    link.log_level = "info"
    result = call(app, "work", {"steps": 2}, link, request_id=99)
    assert text_of(result) == "done"
    assert link.progress == [(99, 1, 2, "step 1"), (99, 2, 2, "step 2"), (99, 2, None, None)]
    assert link.notifications == [
        ("notifications/message", {"level": "info", "data": "did 1"}),
        ("notifications/message", {"level": "info", "data": "did 2"}),
    ]


# The client's features, asked from a handler -------------------------------------------------


def test_a_context_asks_the_client_for_sampling_elicitation_and_roots() -> None:
    sampled = CreateMessageResult(role="assistant", content=TextContent(text="hi"), model="m")
    elicited = ElicitResult(action="accept", content={"name": "Ann"})
    roots = ListRootsResult(roots=[Root(uri="file:///work", name="work")])
    link = FakeLink(
        answers={
            "sampling/createMessage": sampled,
            "elicitation/create": elicited,
            "roots/list": roots,
        }
    )
    context = Context(
        link,
        received(
            "tools/call",
            {"name": "t"},
            capabilities=ClientCapabilities(sampling={}, elicitation={}, roots={}),
        ),
    )
    sample = CreateMessageRequestParams(
        messages=[SamplingMessage(role="user", content=TextContent(text="hello"))], max_tokens=10
    )
    elicit = ElicitRequestFormParams(
        message="Your name?",
        requested_schema={"type": "object", "properties": {"name": {"type": "string"}}},
    )

    async def main() -> tuple[Any, Any, Any]:
        return (
            await context.sample(sample),
            await context.elicit(elicit),
            await context.list_roots(),
        )

    assert run(main) == (sampled, elicited, roots)
    assert [(method, params) for method, params, _, _ in link.requests] == [
        ("sampling/createMessage", sample),
        ("elicitation/create", elicit),
        ("roots/list", None),
    ]


def test_a_tool_can_sample_through_its_context() -> None:
    app = Server("srv")
    sampled = CreateMessageResult(role="assistant", content=TextContent(text="42"), model="m")

    @app.tool()
    async def ask(question: str, ctx: Context) -> str:
        params = CreateMessageRequestParams(
            messages=[SamplingMessage(role="user", content=TextContent(text=question))],
            max_tokens=5,
        )
        answer = await ctx.sample(params)
        assert isinstance(answer.content, TextContent)
        return answer.content.text

    link = FakeLink(answers={"sampling/createMessage": sampled})
    assert text_of(call(app, "ask", {"question": "why?"}, link)) == "42"
    ((method, _, _, _),) = link.requests
    assert method == "sampling/createMessage"


# Errors --------------------------------------------------------------------------------------


def test_mcp_error_carries_code_message_and_data() -> None:
    error = McpError(-32602, "bad params", {"field": "a"})
    assert (error.code, error.message, error.data) == (-32602, "bad params", {"field": "a"})
    assert str(error) == "bad params"
    assert repr(error) == "McpError(-32602, 'bad params')"
    assert McpError(1, "m").data is None
    assert isinstance(error, McpwsError)
    assert issubclass(ConnectionLost, McpwsError)


def test_a_tool_returning_nan_gets_an_error_result() -> None:
    server = Server("nan")

    @server.tool()
    def nan() -> dict[str, float]:
        return {"x": float("nan")}

    @server.tool()
    def bare() -> float:
        return float("inf")

    for name in ("nan", "bare"):
        result = call(server, name)
        assert result.is_error
        assert "Out of range float values" in text_of(result)


def test_a_prompt_refuses_unexpected_arguments() -> None:
    server = Server("prompts")

    @server.prompt()
    def greet(name: str) -> str:
        return f"hi {name}"

    request = received("prompts/get", {"name": "greet", "arguments": {"name": "a", "mood": "x"}})
    error = mcp_error(server, request)
    assert (error.code, error.message) == (-32602, "unexpected prompt arguments: mood")
