"""A handler that asks the client for input, end to end on every pair of drivers: in the
handshake era a request to the client, in 2026-07-28 a multi-round-trip request that the
client answers and repeats by itself. Questions asked together go in one round, and later
ones in a round of their own. A tool, a prompt and a resource ask, and
``requestState`` is tampered with. Every message either side sends in 2026-07-28 is
checked against the schema.
"""

from __future__ import annotations

from typing import Any

import pytest

from helpers import schemas
from helpers.pairs import Pair, text_of
from mcpws.app import Client, Context, McpError, Server, UnexpectedResult
from mcpws.core.jsonrpc import INVALID_PARAMS
from mcpws.core.mcp import (
    ClientCapabilities,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
    ListRootsResult,
    Root,
    SamplingMessage,
    TextContent,
    TextResourceContents,
)

STATELESS = "2026-07-28"
#: The client's revisions: each handshake revision with elicitation, 2026-07-28, and both.
ERAS = [
    pytest.param(("2025-06-18",), id="2025-06-18"),
    pytest.param(("2025-11-25",), id="2025-11-25"),
    pytest.param((STATELESS,), id=STATELESS),
    pytest.param(None, id="both-eras"),
]
CAPABILITIES = ClientCapabilities(elicitation={}, sampling={}, roots={})
NAME = {"type": "object", "properties": {"name": {"type": "string"}}}


def form(message: str) -> ElicitRequestFormParams:
    return ElicitRequestFormParams(message=message, requested_schema=NAME)


class Asking:
    """A server whose tool, prompt and resource ask; it counts the runs of each."""

    def __init__(self, secret: str = "a secret of at least 16 bytes") -> None:
        self.app = app = Server("asking", state_secret=secret)
        self.runs: dict[str, int] = {"signup": 0, "brief": 0, "vault": 0}

        @app.tool()
        async def signup(ctx: Context, plan: str) -> str:
            """Two questions in the first round, one more in the second."""
            self.runs["signup"] += 1
            name = ctx.elicit(form("Your name?"), key="name")
            roots = ctx.list_roots()
            who, where = await name, await roots
            message = SamplingMessage(role="user", content=TextContent(text="a colour?"))
            sampled = await ctx.sample(CreateMessageRequestParams(messages=[message], max_tokens=5))
            assert isinstance(sampled.content, TextContent)
            folders = ",".join(root.uri for root in where.roots)
            return (
                f"{plan} for {(who.content or {}).get('name')} in {folders}: {sampled.content.text}"
            )

        @app.prompt()
        async def brief(ctx: Context, topic: str) -> str:
            """One question."""
            self.runs["brief"] += 1
            answer = await ctx.elicit(form(f"Who is the brief on {topic} for?"))
            return f"Write a brief on {topic} for {(answer.content or {}).get('name')}."

        @app.resource("vault://{item}")
        async def vault(ctx: Context, item: str) -> str:
            """One question, from a resource template."""
            self.runs["vault"] += 1
            answer = await ctx.elicit(form(f"Who opens {item}?"))
            return f"{item}, opened by {(answer.content or {}).get('name')}"


class Answers:
    """The client's handlers, recording what they were asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def install(self, client: Client) -> None:
        client.handlers["elicitation/create"] = self.elicit
        client.handlers["roots/list"] = self.roots
        client.handlers["sampling/createMessage"] = self.sample

    def elicit(self, params: ElicitRequestFormParams) -> ElicitResult:
        self.asked.append(params.message)
        return ElicitResult(action="accept", content={"name": "Ada"})

    def roots(self, params: Any) -> ListRootsResult:
        self.asked.append("roots")
        return ListRootsResult(roots=[Root(uri="file:///a"), Root(uri="file:///b")])

    async def sample(self, params: CreateMessageRequestParams) -> CreateMessageResult:
        self.asked.append("sample")
        return CreateMessageResult(role="assistant", content=TextContent(text="teal"), model="m")


def check_against_the_schema(wire: list[tuple[str, Any]], revision: str) -> int:
    """Check the messages of *wire* against the schema of *revision*; return how many
    answered with ``input_required``."""
    schemas.skip_unless_present()
    asked = 0
    for sender, value in wire:
        assert schemas.violation(revision, "JSONRPCMessage", value) is None, (sender, value)
        if "method" in value:
            for name in schemas.method_definitions(revision, value["method"]):
                assert schemas.violation(revision, name, value) is None, (sender, value)
        elif value.get("result", {}).get("resultType") == "input_required":
            asked += 1
            problem = schemas.violation(revision, "InputRequiredResult", value["result"])
            assert problem is None, value
    return asked


@pytest.mark.parametrize("revisions", ERAS)
def test_a_tool_a_prompt_and_a_resource_ask_the_client(
    pair: Pair, revisions: tuple[str, ...] | None, wire: list[tuple[str, Any]]
) -> None:
    asking, answers = Asking(), Answers()
    stateless = revisions is None or revisions[-1] == STATELESS

    async def main() -> None:
        options = {} if revisions is None else {"revisions": revisions}
        async with (
            pair.serving(asking.app) as server,
            pair.connect(server.url, capabilities=CAPABILITIES, **options) as client,
        ):
            answers.install(client)
            called = await client.call_tool("signup", {"plan": "pro"})
            assert text_of(called) == "pro for Ada in file:///a,file:///b: teal"
            prompt = await client.get_prompt("brief", {"topic": "tides"})
            assert prompt.messages[0].content == TextContent(text="Write a brief on tides for Ada.")
            read = await client.read_resource("vault://gold")
            assert read.contents == [
                TextResourceContents(uri="vault://gold", text="gold, opened by Ada")
            ]

    pair.run(main)
    # Each question reached the client's handlers once, whatever the era.
    assert answers.asked == [
        "Your name?",
        "roots",
        "sample",
        "Who is the brief on tides for?",
        "Who opens gold?",
    ]
    if stateless:
        # One run per round: the tool asked in two rounds, the others in one.
        assert asking.runs == {"signup": 3, "brief": 2, "vault": 2}
        assert check_against_the_schema(wire, STATELESS) == 4
    else:
        assert asking.runs == {"signup": 1, "brief": 1, "vault": 1}
        assert revisions is not None
        assert check_against_the_schema(wire, revisions[-1]) == 0


def test_questions_asked_together_go_in_one_round(pair: Pair) -> None:
    asking = Asking()

    async def main() -> None:
        async with (
            pair.serving(asking.app) as server,
            pair.connect(server.url, capabilities=CAPABILITIES) as client,
        ):
            client.max_input_rounds = 0
            with pytest.raises(UnexpectedResult) as caught:
                await client.call_tool("signup", {"plan": "pro"})
        first = caught.value.result
        assert isinstance(first, InputRequiredResult)
        assert first.input_requests is not None
        assert [(key, q.method) for key, q in first.input_requests.items()] == [
            ("name", "elicitation/create"),
            ("roots-2", "roots/list"),
        ]
        assert str(caught.value) == "tools/call still asks for input after 0 rounds"

    pair.run(main)


def test_a_request_state_tampered_with_is_refused(pair: Pair) -> None:
    asking = Asking()

    async def main() -> None:
        async with (
            pair.serving(asking.app) as server,
            pair.connect(server.url, capabilities=CAPABILITIES) as client,
        ):
            client.max_input_rounds = 0
            with pytest.raises(UnexpectedResult) as caught:
                await client.read_resource("vault://gold")
            asked = caught.value.result
            assert isinstance(asked, InputRequiredResult)
            assert asked.request_state is not None
            state = asked.request_state
            answer = {"elicitation-1": {"action": "accept", "content": {"name": "Eve"}}}

            async def retry(uri: str, request_state: str) -> Any:
                params = {"uri": uri, "inputResponses": answer, "requestState": request_state}
                return await client.request("resources/read", params)

            version, body, mac = state.split(".")
            altered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
            for token, message in [
                (f"{version}.{altered}.{mac}", "was not issued by this server, or was altered"),
                ("made up", "was not issued by this server, or was altered"),
                (state, "belongs to another request or another principal"),
            ]:
                uri = "vault://silver" if token == state else "vault://gold"
                with pytest.raises(McpError) as refused:
                    await retry(uri, token)
                assert refused.value.code == INVALID_PARAMS
                assert refused.value.message == f"requestState {message}"
            # The connection is still good, and the state as issued still works.
            read = await retry("vault://gold", state)
            assert read.contents == [
                TextResourceContents(uri="vault://gold", text="gold, opened by Eve")
            ]

    pair.run(main)
    assert asking.runs["vault"] == 2  # the refused retries ran nothing


def test_a_round_without_the_answer_asks_again(pair: Pair) -> None:
    asking = Asking()

    async def main() -> None:
        async with (
            pair.serving(asking.app) as server,
            pair.connect(server.url, capabilities=CAPABILITIES) as client,
        ):
            client.max_input_rounds = 0
            with pytest.raises(UnexpectedResult) as caught:
                await client.get_prompt("brief", {"topic": "tides"})
            first = caught.value.result
            assert isinstance(first, InputRequiredResult)
            assert first.request_state is not None
            params = {
                "name": "brief",
                "arguments": {"topic": "tides"},
                "inputResponses": {"unasked": {"action": "decline"}},
                "requestState": first.request_state,
            }
            with pytest.raises(UnexpectedResult) as again:
                await client.request("prompts/get", params)
            second = again.value.result
            assert isinstance(second, InputRequiredResult)
            assert second.input_requests == first.input_requests

    pair.run(main)
