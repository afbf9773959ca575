"""Asking the client for input in 2026-07-28, without I/O: :class:`~mcpws.app.StateSeal`
(sealing, opening, expiry, secrets), the rounds of a request handled by
:meth:`Server.handle` (answers carried in the state, answers of the wrong kind, a state
presented by another principal, keys, capabilities, requests that may not ask), and the
errors of :class:`~mcpws.app.Client` for results it cannot use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio

from helpers.links import QuietLink
from mcpws.app import (
    STATE_SECRET_VARIABLE,
    Client,
    Context,
    McpError,
    Server,
    StateSeal,
    UnexpectedResult,
)
from mcpws.core.errors import LocalProtocolError, RemoteProtocolError
from mcpws.core.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND
from mcpws.core.mcp import (
    CallToolResult,
    ClientCapabilities,
    ElicitRequestFormParams,
    ElicitResult,
    GetPromptResult,
    InputRequiredResult,
    Model,
    TextContent,
    decode_params,
)
from mcpws.core.session import ClientSession, ClientSessionConfig, RequestReceived
from mcpws.core.session._base import UNSET, Params, TimeoutArg

STATELESS = "2026-07-28"
SECRET = "sixteen bytes or more"
EVERYTHING = ClientCapabilities(elicitation={}, sampling={}, roots={})


def run(fn: Callable[[], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        with trio.fail_after(10):
            return await fn()

    return trio.run(main)


class Link(QuietLink):
    """A link of the stateless era for one principal (no request to the client then)."""

    stateless = True

    def __init__(self, principal: object = None) -> None:
        self.principal = principal


def handle(
    app: Server,
    method: str,
    params: dict[str, Any],
    *,
    principal: object = None,
    capabilities: ClientCapabilities = EVERYTHING,
) -> Model:
    request = RequestReceived(
        1, method, decode_params(method, STATELESS, params), STATELESS, capabilities
    )
    answer = app.handle(request, Link(principal))
    return answer if isinstance(answer, Model) else run(lambda: answer)


def asked(result: Model) -> InputRequiredResult:
    assert isinstance(result, InputRequiredResult)
    assert result.request_state is not None
    return result


def form(message: str) -> ElicitRequestFormParams:
    return ElicitRequestFormParams(message=message, requested_schema={"type": "object"})


def accept(name: str) -> dict[str, Any]:
    return {"action": "accept", "content": {"name": name}}


# The seal -------------------------------------------------------------------------------------


def test_a_seal_opens_what_it_sealed_until_it_expires() -> None:
    now = [1000.0]
    seal = StateSeal(SECRET, ttl=60, clock=lambda: now[0])
    token = seal.seal({"x": [1, "two"]})
    assert seal.open(token) == {"x": [1, "two"]}
    now[0] += 59.9
    assert seal.open(token) == {"x": [1, "two"]}
    now[0] += 0.1
    with pytest.raises(McpError) as caught:
        seal.open(token)
    assert caught.value.code == INVALID_PARAMS
    assert caught.value.message == "requestState has expired: send the request again without it"


def test_only_a_seal_with_the_same_secret_opens_a_token() -> None:
    token = StateSeal(SECRET).seal({})
    assert StateSeal(SECRET.encode()).open(token) == {}
    for other in (StateSeal("another secret, as long"), StateSeal()):
        with pytest.raises(McpError) as caught:
            other.open(token)
        assert caught.value.message == "requestState was not issued by this server, or was altered"


def test_a_seal_without_a_secret_takes_the_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STATE_SECRET_VARIABLE, SECRET)
    assert StateSeal(SECRET).open(StateSeal().seal({"a": 1})) == {"a": 1}
    monkeypatch.delenv(STATE_SECRET_VARIABLE)
    with pytest.raises(McpError):
        StateSeal(SECRET).open(StateSeal().seal({"a": 1}))


@pytest.mark.parametrize(
    ("secret", "ttl", "message"),
    [
        ("short", 1.0, "a state secret has at least 16 bytes"),
        (SECRET, 0.0, "ttl must be positive, not 0.0"),
        (SECRET, float("nan"), "ttl must be positive, not nan"),
    ],
)
def test_a_seal_refuses_a_weak_secret_or_no_lifetime(secret: str, ttl: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StateSeal(secret, ttl=ttl)


def test_a_server_seals_with_its_secret_for_its_ttl() -> None:
    app = Server("s", state_secret=SECRET, state_ttl=5)
    assert app.state_seal.ttl == 5
    assert StateSeal(SECRET).open(app.state_seal.seal({})) == {}


# Rounds -------------------------------------------------------------------------------------


def quiz() -> tuple[Server, list[str]]:
    app = Server("quiz", state_secret=SECRET)
    runs: list[str] = []

    @app.tool()
    async def two(ctx: Context) -> str:
        runs.append("two")
        first = await ctx.elicit(form("first?"))
        second = await ctx.elicit(form("second?"))
        return f"{(first.content or {})['name']} {(second.content or {})['name']}"

    return app, runs


def test_answers_are_carried_from_round_to_round_in_the_state() -> None:
    app, runs = quiz()
    one = asked(handle(app, "tools/call", {"name": "two"}))
    assert list(one.input_requests or {}) == ["elicitation-1"]
    params = {
        "name": "two",
        "inputResponses": {"elicitation-1": accept("ada")},
        "requestState": one.request_state,
    }
    two = asked(handle(app, "tools/call", params))
    assert list(two.input_requests or {}) == ["elicitation-2"]
    params = {
        "name": "two",
        "inputResponses": {"elicitation-2": accept("bob")},
        "requestState": two.request_state,
    }
    done = handle(app, "tools/call", params)
    assert isinstance(done, CallToolResult)
    assert done.content == [TextContent(text="ada bob")]
    assert runs == ["two"] * 3


def test_answers_without_a_state_are_ignored() -> None:
    app, _runs = quiz()
    params = {"name": "two", "inputResponses": {"elicitation-1": accept("eve")}}
    assert list(asked(handle(app, "tools/call", params)).input_requests or {}) == ["elicitation-1"]


def test_an_answer_of_the_wrong_kind_is_invalid_params() -> None:
    app, _runs = quiz()
    one = asked(handle(app, "tools/call", {"name": "two"}))
    params: dict[str, Any] = {
        "name": "two",
        "inputResponses": {"elicitation-1": {"roots": []}},
        "requestState": one.request_state,
    }
    with pytest.raises(McpError) as caught:
        handle(app, "tools/call", params)
    assert caught.value.code == INVALID_PARAMS
    assert (
        caught.value.message == "inputResponses['elicitation-1'] does not answer elicitation/create"
    )


def test_a_state_presented_by_another_principal_is_refused() -> None:
    app, _runs = quiz()
    one = asked(handle(app, "tools/call", {"name": "two"}, principal="ada"))
    params = {
        "name": "two",
        "inputResponses": {"elicitation-1": accept("eve")},
        "requestState": one.request_state,
    }
    with pytest.raises(McpError) as caught:
        handle(app, "tools/call", params, principal="eve")
    assert caught.value.message == "requestState belongs to another request or another principal"
    assert isinstance(handle(app, "tools/call", params, principal="ada"), InputRequiredResult)


def test_a_key_used_twice_and_an_undeclared_capability_fail_the_tool() -> None:
    app = Server("keys", state_secret=SECRET)

    @app.tool()
    async def twice(ctx: Context) -> str:
        ctx.elicit(form("a"), key="k")
        await ctx.elicit(form("b"), key="k")
        return "never"

    @app.tool()
    async def roots(ctx: Context) -> str:
        await ctx.list_roots()
        return "never"

    result = handle(app, "tools/call", {"name": "twice"})
    assert isinstance(result, CallToolResult)
    assert result.is_error is True
    assert result.content == [
        TextContent(text="LocalProtocolError: the input key 'k' is used twice in one request")
    ]
    result = handle(app, "tools/call", {"name": "roots"}, capabilities=ClientCapabilities())
    assert isinstance(result, CallToolResult)
    assert result.content == [
        TextContent(text="LocalProtocolError: the client did not declare the roots capability")
    ]


def test_only_tools_prompts_and_resources_may_ask() -> None:
    app = Server("complete", state_secret=SECRET)
    contexts: list[Context] = []

    @app.prompt()
    def p(ctx: Context) -> str:
        contexts.append(ctx)
        return "p"

    @app.completion
    def complete(ref: Any, argument: str, value: str) -> list[str]:
        return []

    request = RequestReceived(
        1,
        "completion/complete",
        decode_params(
            "completion/complete",
            STATELESS,
            {"ref": {"type": "ref/prompt", "name": "p"}, "argument": {"name": "a", "value": ""}},
        ),
        STATELESS,
        EVERYTHING,
    )
    context = Context(Link(), request)
    assert context.rounds is None
    with pytest.raises(LocalProtocolError, match="only prompts/get, resources/read, tools/call"):
        context.elicit(form("?"))


def test_a_handler_may_return_an_input_required_result_itself() -> None:
    app = Server("own", state_secret=SECRET)
    own = InputRequiredResult(request_state="mine")

    @app.prompt()
    async def p() -> InputRequiredResult:
        return own

    assert handle(app, "prompts/get", {"name": "p"}) is own


# The client's errors --------------------------------------------------------------------------


class Replies(QuietLink):
    """A link to a server that answers with the results given, in turn."""

    stateless = True

    def __init__(self, *results: Model) -> None:
        self.results = list(results)
        self.sent: list[tuple[str, Any]] = []

    async def request(
        self,
        method: str,
        params: Params = None,
        *,
        timeout: TimeoutArg = UNSET,
        on_progress: Any = None,
        extension: bool = False,
        on_notification: Any = None,
    ) -> Model:
        self.sent.append((method, params))
        return self.results.pop(0)


def client_of(link: Replies) -> Client:
    return Client(link, ClientSession(ClientSessionConfig()))


def test_a_result_of_another_kind_is_an_unexpected_result() -> None:
    wrong = GetPromptResult(messages=[])
    with pytest.raises(UnexpectedResult) as caught:
        run(lambda: client_of(Replies(wrong)).call_tool("t"))
    assert str(caught.value) == "tools/call was answered with GetPromptResult, not CallToolResult"
    assert caught.value.result is wrong
    assert isinstance(caught.value, RemoteProtocolError)


def test_the_client_answers_each_round_and_repeats_the_request() -> None:
    question = {"method": "elicitation/create", "params": {"message": "?", "requestedSchema": {}}}
    rounds = [
        InputRequiredResult.from_json(
            {"resultType": "input_required", "inputRequests": {"q": question}, "requestState": "1"}
        ),
        InputRequiredResult(request_state="2"),
        CallToolResult(content=[]),
    ]
    link = Replies(*rounds)
    client = client_of(link)
    client.handlers["elicitation/create"] = lambda params: ElicitResult(action="decline")
    assert run(lambda: client.call_tool("t", {"a": 1})) is rounds[2]
    assert link.sent == [
        ("tools/call", {"name": "t", "arguments": {"a": 1}}),
        (
            "tools/call",
            {
                "name": "t",
                "arguments": {"a": 1},
                "inputResponses": {"q": {"action": "decline"}},
                "requestState": "1",
            },
        ),
        (
            "tools/call",
            {"name": "t", "arguments": {"a": 1}, "inputResponses": {}, "requestState": "2"},
        ),
    ]


def test_the_client_gives_up_after_its_rounds_and_without_a_handler() -> None:
    again = InputRequiredResult(request_state="s")
    client = client_of(Replies(*[again] * 4))
    client.max_input_rounds = 3
    with pytest.raises(UnexpectedResult) as caught:
        run(lambda: client.read_resource("x://y"))
    assert str(caught.value) == "resources/read still asks for input after 3 rounds"
    assert caught.value.result is again
    question = {"method": "roots/list"}
    asking = InputRequiredResult.from_json(
        {"resultType": "input_required", "inputRequests": {"r": question}}
    )
    with pytest.raises(McpError) as refused:
        run(lambda: client_of(Replies(asking)).get_prompt("p"))
    assert refused.value.code == METHOD_NOT_FOUND
    assert refused.value.message == "the server asks for roots/list and no handler answers it"
