"""Both drivers end to end: a :class:`~mcpws.app.Server` served with ``serve`` and used
through ``connect``, over real loopback sockets, in every era, for every pair of drivers
(see ``helpers.pairs``): each alone on a virtual clock, and each as the other's peer.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import attrs
import pytest

from helpers.network import (
    masked_text_frame_head,
    proxy,
    raw_upgrade,
    silent_server,
    upgrade_request,
)
from helpers.pairs import Pair, Served, Watch, forever, text_of
from mcpws.app import Answer, Client, ConnectError, ConnectionLost, Context, McpError, Server
from mcpws.core.connection import AuthenticationFailed, ConnectionRequested
from mcpws.core.errors import LocalProtocolError
from mcpws.core.mcp import (
    META_LOG_LEVEL,
    BlobResourceContents,
    CallToolResult,
    ClientCapabilities,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestFormParams,
    ElicitResult,
    ListRootsResult,
    ListToolsResult,
    LoggingLevel,
    LoggingMessageNotificationParams,
    Model,
    PromptMessage,
    PromptReference,
    RequestParams,
    ResourceTemplateReference,
    Root,
    SamplingMessage,
    ServerCapabilities,
    TextContent,
    TextResourceContents,
    Tool,
)
from mcpws.core.session import SHUTTING_DOWN, RequestReceived
from mcpws.core.versions import LATEST, STATELESS_REVISIONS

Revisions = tuple[str, ...] | None

#: The client's configured revisions: one of each handshake-era kind, the stateless era, and
#: the default (both eras: the ``server/discover`` probe opens a stateless session).
ERAS = [
    pytest.param(("2024-11-05",), id="2024-11-05"),
    pytest.param(("2025-06-18",), id="2025-06-18"),
    pytest.param(("2025-11-25",), id="2025-11-25"),
    pytest.param(("2026-07-28",), id="2026-07-28"),
    pytest.param(None, id="both-eras"),
]
#: Those that open a session with ``initialize``, where a server may send requests.
HANDSHAKE_ERAS = ERAS[:3]


def options(revisions: Revisions) -> dict[str, Any]:
    """The ``connect`` options that configure *revisions* (``None``: the default)."""
    return {} if revisions is None else {"revisions": revisions}


def negotiated(revisions: Revisions) -> str:
    """The revision a session opened with *revisions* against the lab speaks."""
    return LATEST if revisions is None else revisions[-1]


def is_stateless(revisions: Revisions) -> bool:
    return negotiated(revisions) in STATELESS_REVISIONS


class Lab:
    """The server under test, with probes into its handlers."""

    def __init__(self, app: Server | None = None) -> None:
        self.app = app = app or Server("lab", "1.2.3", instructions="Tools to test with.")
        app.enable_logging()
        #: Per-call gates the ``gate`` tool waits on, by number.
        self.gates: defaultdict[int, anyio.Event] = defaultdict(anyio.Event)
        #: Numbers of the ``gate`` calls that started, in order; calls running now, at most.
        self.entered: list[int] = []
        self.running = 0
        self.max_running = 0
        #: Numbers the ``mark`` tool was called with.
        self.marked: list[int] = []
        #: ``hang`` calls started, and the virtual times at which their handlers were
        #: cancelled and ended.
        self.hangs = 0
        self.hangs_cancelled: list[float] = []
        self.hangs_ended = 0
        self.changed = Watch()
        self._register(app)

    @asynccontextmanager
    async def served(self, pair: Pair, **options: Any) -> AsyncIterator[Served]:
        """Serve the lab for the block; *options* go to ``serve``."""
        async with pair.serving(self.app, **options) as server:
            self._server = server
            yield server

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait, in the server's loop, until *condition* holds."""
        await self._server.call(self.changed.until, condition)

    async def wait_entered(self, count: int) -> None:
        """Wait until *count* ``gate`` calls have started."""
        await self.until(lambda: len(self.entered) >= count)

    async def open(self, n: int) -> None:
        """Open gate *n*."""
        await self._server.call(lambda: self.gates[n].set())

    def _register(self, app: Server) -> None:
        @app.tool()
        def add(a: int, b: int) -> int:
            """Add two integers."""
            return a + b

        @app.tool()
        def echo(text: str, times: int = 1) -> dict[str, Any]:
            """Repeat a text; the answer is structured."""
            return {"text": " ".join([text] * times), "times": times}

        @app.tool(
            input_schema={
                "type": "object",
                "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
                "required": ["tags"],
            },
            description="One text block per tag.",
        )
        def blocks(tags: list[str]) -> list[TextContent]:
            return [TextContent(text=tag) for tag in tags]

        @app.tool()
        def verdict(ok: bool) -> CallToolResult:
            """A full result, an error one when not ok."""
            return CallToolResult(
                content=[TextContent(text="fine" if ok else "bad")], is_error=not ok
            )

        @app.tool()
        def nothing() -> None:
            """Return nothing at all."""

        @app.tool()
        def boom() -> str:
            """Always fails."""
            raise RuntimeError("kaput")

        @app.tool()
        async def countdown(ctx: Context, steps: int) -> str:
            """One virtual second per step, reporting progress after each."""
            for step in range(1, steps + 1):
                await anyio.sleep(1)
                await ctx.report_progress(step, steps, f"step {step}")
            return "lift-off"

        @app.tool()
        async def gate(n: int) -> str:
            """Wait for gate n to open."""
            self.entered.append(n)
            self.running += 1
            self.max_running = max(self.max_running, self.running)
            self.changed.poke()
            try:
                await self.gates[n].wait()
            finally:
                self.running -= 1
                self.changed.poke()
            return f"gate {n}"

        @app.tool()
        def mark(n: int) -> str:
            """Note that it ran."""
            self.marked.append(n)
            return f"mark {n}"

        @app.tool()
        async def hang() -> str:
            """Never return."""
            self.hangs += 1
            self.changed.poke()
            try:
                await forever()
            except anyio.get_cancelled_exc_class():
                self.hangs_cancelled.append(anyio.current_time())
                raise
            finally:
                self.hangs_ended += 1
                self.changed.poke()

        @app.tool()
        def whoami(ctx: Context) -> dict[str, Any]:
            """What the context knows of the request."""
            capabilities = ctx.peer_capabilities
            return {
                "principal": ctx.principal,
                "revision": ctx.revision,
                "stateless": ctx.stateless,
                "capabilities": None if capabilities is None else capabilities.to_json(),
            }

        @app.tool()
        async def ask(ctx: Context, what: str) -> str:
            """Ask the client for its roots, a sample or some input."""
            try:
                return await _ask(ctx, what)
            except McpError as exc:  # the client's error reply
                return f"McpError {exc.code}: {exc.message}"

        async def _ask(ctx: Context, what: str) -> str:
            if what == "roots":
                roots = await ctx.list_roots()
                return " ".join(root.uri for root in roots.roots)
            if what == "sample":
                message = SamplingMessage(role="user", content=TextContent(text="hi"))
                params = CreateMessageRequestParams(messages=[message], max_tokens=5)
                sampled = await ctx.sample(params)
                assert isinstance(sampled.content, TextContent)
                return f"{sampled.model}: {sampled.content.text}"
            schema = {"type": "object", "properties": {"name": {"type": "string"}}}
            elicited = await ctx.elicit(
                ElicitRequestFormParams(message="your name?", requested_schema=schema)
            )
            return f"{elicited.action} {elicited.content}"

        @app.tool()
        def level(ctx: Context) -> dict[str, Any]:
            """The logging level the client asked for, and where the request carried it."""
            meta = getattr(ctx.params, "meta", None) or {}
            return {"level": ctx.log_level, "in_meta": meta.get(META_LOG_LEVEL)}

        @app.tool()
        async def chatty(ctx: Context) -> str:
            """Log at four levels."""
            levels: tuple[LoggingLevel, ...] = ("debug", "info", "warning", "error")
            for level in levels:
                await ctx.log(level, {"said": level}, logger="lab")
            return "said"

        @app.resource("lab://readme", mime_type="text/markdown")
        def readme() -> str:
            """What this lab is."""
            return "# lab"

        @app.resource("lab://logo", mime_type="image/png")
        async def logo() -> bytes:
            return b"\x89PNG"

        @app.resource("lab://notes/{name}", mime_type="text/plain")
        def note(name: str) -> str:
            """A note by name."""
            return f"note {name}"

        @app.resource("lab://broken")
        def broken() -> str:
            raise OSError("disk on fire")

        @app.prompt()
        def review(code: str, language: str = "python") -> str:
            """Ask for a code review."""
            return f"Review this {language}: {code}"

        @app.prompt(description="Two messages.")
        def pair(ctx: Context, topic: str) -> list[PromptMessage]:
            return [
                PromptMessage(role="user", content=TextContent(text=f"talk about {topic}")),
                PromptMessage(role="assistant", content=TextContent(text=ctx.revision)),
            ]

        @app.completion
        def complete(ref: Any, argument: str, value: str) -> list[str]:
            if isinstance(ref, PromptReference):
                pool = ["python", "rust", "typescript"]
            else:
                pool = ["alpha", "alphabet", "beta"]
            return [item for item in pool if item.startswith(value)]


@asynccontextmanager
async def session(
    pair: Pair, served: Server | Lab, revisions: Revisions, **client_options: Any
) -> AsyncIterator[Client]:
    """A client connected to *served* (an app, or a lab), served for the block."""
    serving = served.served(pair) if isinstance(served, Lab) else pair.serving(served)
    async with (
        serving as server,
        pair.connect(server.url, **options(revisions), **client_options) as client,
    ):
        yield client


def error_texts(result: CallToolResult) -> str:
    assert result.is_error is True
    return text_of(result)


# Opening -------------------------------------------------------------------------------------


@pytest.mark.parametrize("revisions", ERAS)
def test_connect_returns_a_ready_client_that_knows_the_server(
    pair: Pair, revisions: Revisions
) -> None:
    async def main() -> None:
        async with session(pair, Lab(), revisions) as client:
            assert client.revision == negotiated(revisions)
            assert client.server_info is not None
            assert (client.server_info.name, client.server_info.version) == ("lab", "1.2.3")
            assert client.instructions == "Tools to test with."
            capabilities = client.server_capabilities
            assert capabilities is not None
            assert capabilities.tools is not None
            assert capabilities.resources is not None
            assert capabilities.prompts is not None
            assert capabilities.logging is not None

    pair.run(main)


@pytest.mark.parametrize(
    ("server_revisions", "client_revisions", "expected"),
    [
        pytest.param(("2025-06-18",), None, "2025-06-18", id="probe-falls-back-to-initialize"),
        pytest.param(("2026-07-28",), None, "2026-07-28", id="probe-succeeds"),
        pytest.param(("2024-11-05",), ("2025-06-18",), None, id="older-server"),
        pytest.param(("2025-11-25",), ("2026-07-28",), None, id="handshake-only-server"),
        pytest.param(("2026-07-28",), ("2025-11-25",), None, id="stateless-only-server"),
    ],
)
def test_the_revision_is_agreed_or_connect_fails(
    pair: Pair, server_revisions: tuple[str, ...], client_revisions: Revisions, expected: str | None
) -> None:
    async def main() -> None:
        async with Lab().served(pair, revisions=server_revisions) as server:
            if expected is None:
                with pytest.raises(ConnectError):
                    async with pair.connect(server.url, **options(client_revisions)):
                        pytest.fail("the session opened")  # pragma: no cover
            else:
                async with pair.connect(server.url, **options(client_revisions)) as client:
                    assert client.revision == expected
                    assert text_of(await client.call_tool("add", {"a": 1, "b": 2})) == "3"

    pair.run(main)


# Tools ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("revisions", ERAS)
def test_list_tools_describes_every_tool(pair: Pair, revisions: Revisions) -> None:
    async def main() -> None:
        async with session(pair, Lab(), revisions) as client:
            tools = {tool.name: tool for tool in await client.list_tools()}
        assert list(tools)[:4] == ["add", "echo", "blocks", "verdict"]
        assert "whoami" in tools
        assert tools["add"].description == "Add two integers."
        add = tools["add"].input_schema
        assert add["type"] == "object"
        assert add["properties"] == {"a": {"type": "integer"}, "b": {"type": "integer"}}
        assert add["required"] == ["a", "b"]
        echo = tools["echo"].input_schema
        assert echo["required"] == ["text"]
        assert "ctx" not in tools["countdown"].input_schema["properties"]
        assert tools["blocks"].description == "One text block per tag."
        assert tools["blocks"].input_schema["properties"]["tags"]["items"] == {"type": "string"}

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_call_tool_returns_each_kind_of_result(pair: Pair, revisions: Revisions) -> None:
    async def main() -> None:
        async with session(pair, Lab(), revisions) as client:
            added = await client.call_tool("add", {"a": 2, "b": 3})
            assert text_of(added) == "5"
            assert not added.is_error
            echoed = await client.call_tool("echo", {"text": "hi", "times": 2})
            # structuredContent came in 2025-06-18: older clients have the text only
            structured = None if revisions == ("2024-11-05",) else {"text": "hi hi", "times": 2}
            assert echoed.structured_content == structured
            assert text_of(echoed) == '{"text": "hi hi", "times": 2}'
            tagged = await client.call_tool("blocks", {"tags": ["x", "y"]})
            assert tagged.content == [TextContent(text="x"), TextContent(text="y")]
            assert (await client.call_tool("nothing")).content == []
            fine = await client.call_tool("verdict", {"ok": True})
            assert (text_of(fine), fine.is_error) == ("fine", False)
            assert error_texts(await client.call_tool("verdict", {"ok": False})) == "bad"

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_bad_arguments_are_a_tool_error_naming_the_field(pair: Pair, revisions: Revisions) -> None:
    async def main() -> None:
        async with session(pair, Lab(), revisions) as client:
            wrong_type = await client.call_tool("add", {"a": "two", "b": 3})
            assert "'a'" in error_texts(wrong_type)
            assert "integer" in error_texts(wrong_type)
            missing = await client.call_tool("add", {"a": 1})
            assert "'b'" in error_texts(missing)
            wrong_item = await client.call_tool("blocks", {"tags": ["x", 1]})
            assert "tags" in error_texts(wrong_item)
            # The connection is none the worse for it.
            assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_an_exception_in_a_tool_is_an_error_result_its_traceback_logged_not_sent(
    pair: Pair, revisions: Revisions, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with session(pair, Lab(), revisions) as client:
            with caplog.at_level(logging.ERROR, logger="mcpws"):
                failed = await client.call_tool("boom")
            assert error_texts(failed) == "RuntimeError: kaput"
            assert "Traceback" not in error_texts(failed)
            assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"

    pair.run(main)
    (record,) = [r for r in caplog.records if r.name == "mcpws"]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


@pytest.mark.parametrize("revisions", ERAS)
def test_progress_reaches_on_progress_in_order(pair: Pair, revisions: Revisions) -> None:
    async def main() -> None:
        seen: list[tuple[float, float | None, str | None, float]] = []

        def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, total, message, anyio.current_time()))

        async with session(pair, Lab(), revisions) as client:
            start = anyio.current_time()
            result = await client.call_tool("countdown", {"steps": 4}, on_progress=on_progress)
            assert text_of(result) == "lift-off"
            assert pair.lasted(start, 4)
        # A progress message came in 2025-03-26.
        old = revisions == ("2024-11-05",)
        expected = [(i, 4, None if old else f"step {i}") for i in range(1, 5)]
        assert [(p, t, m) for p, t, m, _ in seen] == expected
        assert all(pair.took(when - start, i) for i, (*_, when) in enumerate(seen, 1))

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_list_tools_follows_pagination(pair: Pair, revisions: Revisions) -> None:
    class Paged(Server):
        """Serves its tools three pages long."""

        def handle(self, request: RequestReceived, link: Any) -> Answer:
            if request.method != "tools/list":
                return super().handle(request, link)
            cursor = getattr(request.params, "cursor", None)
            page = int(cursor or 0)
            tools = [Tool(name=f"t{page}-{i}", input_schema={"type": "object"}) for i in (0, 1)]
            return ListToolsResult(tools=tools, next_cursor=str(page + 1) if page < 2 else None)

    async def main() -> None:
        async with session(pair, Lab(Paged("paged")), revisions) as client:
            names = [tool.name for tool in await client.list_tools()]
        assert names == ["t0-0", "t0-1", "t1-0", "t1-1", "t2-0", "t2-1"]

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_a_handler_result_that_does_not_answer_the_method_is_an_internal_error(
    pair: Pair, revisions: Revisions, caplog: pytest.LogCaptureFixture
) -> None:
    class Confused(Server):
        """Answers ``prompts/list`` with a list of tools."""

        def handle(self, request: RequestReceived, link: Any) -> Answer:
            if request.method == "prompts/list":
                return ListToolsResult(tools=[])
            return super().handle(request, link)

    async def main() -> None:
        async with session(pair, Lab(Confused("confused")), revisions) as client:
            with caplog.at_level(logging.ERROR, logger="mcpws"), pytest.raises(McpError) as err:
                await client.list_prompts()
            assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"
        assert (err.value.code, err.value.message) == (-32603, "invalid result")

    pair.run(main)
    assert [r.name for r in caplog.records] == ["mcpws"]


# Resources, prompts, completion --------------------------------------------------------------


@pytest.mark.parametrize("revisions", ERAS)
def test_resources_and_templates_are_listed_and_read(pair: Pair, revisions: Revisions) -> None:
    async def main() -> None:
        async with session(pair, Lab(), revisions) as client:
            resources = {r.uri: r for r in await client.list_resources()}
            templates = await client.list_resource_templates()
            readme = await client.read_resource("lab://readme")
            logo = await client.read_resource("lab://logo")
            note = await client.read_resource("lab://notes/monday")
        assert list(resources) == ["lab://readme", "lab://logo", "lab://broken"]
        assert resources["lab://readme"].mime_type == "text/markdown"
        assert resources["lab://readme"].description == "What this lab is."
        assert [(t.uri_template, t.name) for t in templates] == [("lab://notes/{name}", "note")]
        assert readme.contents == [
            TextResourceContents(uri="lab://readme", text="# lab", mime_type="text/markdown")
        ]
        assert logo.contents == [
            BlobResourceContents(uri="lab://logo", blob="iVBORw==", mime_type="image/png")
        ]
        assert note.contents == [
            TextResourceContents(
                uri="lab://notes/monday", text="note monday", mime_type="text/plain"
            )
        ]

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_prompts_are_listed_and_rendered(pair: Pair, revisions: Revisions) -> None:
    async def main() -> None:
        async with session(pair, Lab(), revisions) as client:
            prompts = {p.name: p for p in await client.list_prompts()}
            review = await client.get_prompt("review", {"code": "x = 1"})
            two = await client.get_prompt("pair", {"topic": "tides"})
            with pytest.raises(McpError) as missing:
                await client.get_prompt("review")
            with pytest.raises(McpError) as unknown:
                await client.get_prompt("nope", {})
        arguments = prompts["review"].arguments or []
        assert [(a.name, a.required) for a in arguments] == [("code", True), ("language", False)]
        assert [a.name for a in prompts["pair"].arguments or []] == ["topic"]
        assert review.messages == [
            PromptMessage(role="user", content=TextContent(text="Review this python: x = 1"))
        ]
        assert review.description == "Ask for a code review."
        assert [m.content for m in two.messages] == [
            TextContent(text="talk about tides"),
            TextContent(text=negotiated(revisions)),
        ]
        assert (missing.value.code, missing.value.message) == (
            -32602,
            "missing prompt arguments: code",
        )
        assert unknown.value.code == -32602

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_complete_answers_for_prompts_and_templates(pair: Pair, revisions: Revisions) -> None:
    async def main() -> None:
        async with session(pair, Lab(), revisions) as client:
            language = await client.complete(PromptReference(name="review"), "language", "ty")
            name = await client.complete(
                ResourceTemplateReference(uri="lab://notes/{name}"), "name", "al"
            )
        assert language.completion.values == ["typescript"]
        assert (language.completion.total, language.completion.has_more) == (1, False)
        assert name.completion.values == ["alpha", "alphabet"]

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_complete_without_a_completion_handler_is_method_not_found(
    pair: Pair, revisions: Revisions
) -> None:
    """A server with no completion handler does not offer ``completion/complete``: the
    client refuses locally where the capability exists, and in 2024-11-05, which has no
    such capability, the server answers -32601 (not an internal error)."""

    async def main() -> None:
        app = Server("plain")

        @app.prompt()
        def review(code: str) -> str:
            return code

        async with session(pair, app, revisions) as client:
            if revisions == ("2024-11-05",):
                with pytest.raises(McpError) as refused:
                    await client.complete(PromptReference(name="review"), "code", "x")
                assert refused.value.code == -32601
            else:
                with pytest.raises(LocalProtocolError, match="completions"):
                    await client.complete(PromptReference(name="review"), "code", "x")

    pair.run(main)


# Logging -------------------------------------------------------------------------------------


@pytest.mark.parametrize("revisions", ERAS)
def test_log_messages_reach_on_notification_from_the_level_asked_for(
    pair: Pair,
    revisions: Revisions,
) -> None:
    async def main() -> None:
        heard: list[tuple[str, Model]] = []
        async with session(pair, Lab(), revisions) as client:
            client.on_notification = lambda method, params: heard.append((method, params))
            assert text_of(await client.call_tool("chatty")) == "said"
            assert heard == []  # nobody asked for log messages yet
            await client.set_logging_level("warning")
            assert text_of(await client.call_tool("chatty")) == "said"
        levels: tuple[LoggingLevel, ...] = ("warning", "error")
        assert heard == [
            (
                "notifications/message",
                LoggingMessageNotificationParams(level=level, data={"said": level}, logger="lab"),
            )
            for level in levels
        ]

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_the_logging_level_travels_by_set_level_or_in_each_request(
    pair: Pair, revisions: Revisions
) -> None:
    """Handshake era: ``logging/setLevel`` sets it for the connection. Stateless era: each
    request carries it in ``_meta``."""

    async def main() -> None:
        async with session(pair, Lab(), revisions) as client:
            before = json.loads(text_of(await client.call_tool("level")))
            await client.set_logging_level("error")
            after = json.loads(text_of(await client.call_tool("level")))
        assert before == {"level": None, "in_meta": None}
        in_meta = "error" if is_stateless(revisions) else None
        assert after == {"level": "error", "in_meta": in_meta}

    pair.run(main)


# Raw requests and errors ---------------------------------------------------------------------


@pytest.mark.parametrize("revisions", ERAS)
def test_raw_request_and_notify(pair: Pair, revisions: Revisions) -> None:
    async def main() -> None:
        progress: list[float] = []
        async with session(pair, Lab(), revisions) as client:
            listed = await client.request("tools/list")
            assert isinstance(listed, ListToolsResult)
            assert "add" in [tool.name for tool in listed.tools]
            called = await client.request(
                "tools/call",
                {"name": "countdown", "arguments": {"steps": 2}},
                on_progress=lambda p, t, m: progress.append(p),
            )
            assert isinstance(called, CallToolResult)
            assert (text_of(called), progress) == ("lift-off", [1, 2])
            if is_stateless(revisions):
                # A client of the stateless era has no notification of its own to send.
                with pytest.raises(LocalProtocolError):
                    await client.notify("notifications/roots/list_changed")
            else:
                await client.notify("notifications/roots/list_changed")
            assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"

    pair.run(main)


class Subscribable(Server):
    """Declares ``resources.subscribe`` without handling ``resources/subscribe``."""

    @property
    def capabilities(self) -> ServerCapabilities:
        return attrs.evolve(super().capabilities, resources={"subscribe": True})


@pytest.mark.parametrize("revisions", ERAS)
def test_an_error_reply_raises_mcp_error_with_code_message_and_data(
    pair: Pair,
    revisions: Revisions,
) -> None:
    async def main() -> None:
        async with session(pair, Lab(Subscribable("lab")), revisions) as client:
            with pytest.raises(McpError) as resource:
                await client.read_resource("lab://nope")
            with pytest.raises(McpError) as tool:
                await client.call_tool("nope", {})
            assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"
        assert (resource.value.code, resource.value.message, resource.value.data) == (
            -32602 if is_stateless(revisions) else -32002,  # as 2026-07-28 says
            "resource not found: lab://nope",
            {"uri": "lab://nope"},
        )
        assert (tool.value.code, tool.value.message, tool.value.data) == (
            -32602,
            "unknown tool: nope",
            None,
        )

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_an_exception_in_another_handler_is_an_internal_error_its_traceback_logged(
    pair: Pair, revisions: Revisions, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with session(pair, Lab(), revisions) as client:
            with caplog.at_level(logging.ERROR, logger="mcpws"), pytest.raises(McpError) as err:
                await client.read_resource("lab://broken")
            assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"
        assert (err.value.code, err.value.message) == (-32603, "internal error")
        assert "disk on fire" not in repr(err.value.data)

    pair.run(main)
    (record,) = [r for r in caplog.records if r.name == "mcpws"]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], OSError)


# Concurrency ---------------------------------------------------------------------------------


@pytest.mark.parametrize("revisions", ERAS)
def test_concurrent_requests_complete_out_of_order_with_the_right_answers(
    pair: Pair,
    revisions: Revisions,
) -> None:
    calls = 20

    async def main() -> None:
        lab = Lab()
        answers: dict[int, str] = {}
        finished: list[int] = []
        answered: defaultdict[int, anyio.Event] = defaultdict(anyio.Event)

        async with session(pair, lab, revisions) as client:

            async def call(n: int) -> None:
                answers[n] = text_of(await client.call_tool("gate", {"n": n}))
                finished.append(n)
                answered[n].set()

            async with anyio.create_task_group() as group:
                for n in range(calls):
                    group.start_soon(call, n)
                await lab.until(lambda: lab.running == calls)
                for n in reversed(range(calls)):
                    await lab.open(n)
                    await answered[n].wait()
        assert finished == list(reversed(range(calls)))
        assert answers == {n: f"gate {n}" for n in range(calls)}
        assert lab.max_running == calls

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_handlers_are_bounded_per_connection(pair: Pair, revisions: Revisions) -> None:
    async def main() -> None:
        lab = Lab()
        answers: list[str] = []
        async with (
            lab.served(pair, max_concurrent_requests=2) as server,
            pair.connect(server.url, **options(revisions)) as client,
            pair.connect(server.url, **options(revisions)) as other,
        ):

            async def call(n: int) -> None:
                answers.append(text_of(await client.call_tool("gate", {"n": n})))

            async with anyio.create_task_group() as group:
                for n in range(5):
                    group.start_soon(call, n)
                await lab.until(lambda: lab.running == 2)
                # A round trip on another connection lets the server run all it can: two
                # handlers run, three wait, and the other connection is not held up.
                assert text_of(await other.call_tool("add", {"a": 1, "b": 1})) == "2"
                assert lab.running == 2
                for started in range(1, 6):  # open the gates in the order the calls began
                    await lab.wait_entered(started)
                    await lab.open(lab.entered[started - 1])
        assert sorted(answers) == [f"gate {n}" for n in range(5)]
        assert lab.max_running == 2

    pair.run(main)


# Cancellation and timeouts -------------------------------------------------------------------


@pytest.mark.parametrize("revisions", ERAS)
def test_cancelling_the_caller_cancels_the_server_handler(pair: Pair, revisions: Revisions) -> None:
    async def main() -> None:
        lab = Lab()
        async with lab.served(pair) as server:
            async with pair.connect(server.url, **options(revisions)) as client:
                with anyio.CancelScope() as caller:
                    async with anyio.create_task_group() as group:
                        group.start_soon(client.call_tool, "hang")
                        await lab.until(lambda: lab.hangs == 1)
                        caller.cancel()
                assert caller.cancelled_caught
                await lab.until(lambda: lab.hangs_ended == 1)
                assert len(lab.hangs_cancelled) == 1
                # The connection and the server keep serving.
                assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"
            async with pair.connect(server.url, **options(revisions)) as client:
                assert text_of(await client.call_tool("add", {"a": 2, "b": 2})) == "4"

    pair.run(main)


async def read_so_far(client: Client) -> None:
    """Make a round trip that the server's session answers by itself, with no handler: once
    it is back, the server has read every message the client sent before it."""
    with pytest.raises(McpError):
        await client.request("mcpws/unknown", extension=True)


@pytest.mark.parametrize("revisions", ERAS)
def test_a_request_cancelled_while_queued_never_runs(pair: Pair, revisions: Revisions) -> None:
    """With every handler slot taken, a request waits; cancelled by its caller meanwhile,
    its handler must not run once a slot frees."""

    async def main() -> None:
        lab = Lab()
        async with (
            lab.served(pair, max_concurrent_requests=1) as server,
            pair.connect(server.url, **options(revisions)) as client,
        ):
            async with anyio.create_task_group() as group:
                group.start_soon(client.call_tool, "gate", {"n": 0})
                await lab.until(lambda: lab.running == 1)
                with anyio.move_on_after(1) as queued:
                    await client.call_tool("mark", {"n": 1})
                assert queued.cancelled_caught
                await read_so_far(client)  # the cancellation is read before the gate opens
                await lab.open(0)
            assert text_of(await client.call_tool("mark", {"n": 2})) == "mark 2"
        assert lab.marked == [2]

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_a_request_timeout_raises_timeout_error_and_cancels_the_handler(
    pair: Pair,
    revisions: Revisions,
) -> None:
    async def main() -> None:
        lab = Lab()
        async with session(pair, lab, revisions) as client:
            start = anyio.current_time()
            with pytest.raises(TimeoutError):
                await client.call_tool("hang", timeout=5)
            assert pair.lasted(start, 5)
            await lab.until(lambda: lab.hangs_ended == 1)
            assert [pair.took(when - start, 5) for when in lab.hangs_cancelled] == [True]
            assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_the_configured_request_timeout_applies_unless_a_call_overrides_it(
    pair: Pair,
    revisions: Revisions,
) -> None:
    async def main() -> None:
        lab = Lab()
        async with session(pair, lab, revisions, request_timeout=3) as client:
            start = anyio.current_time()
            with pytest.raises(TimeoutError):
                await client.call_tool("hang")
            assert pair.lasted(start, 3)
            # timeout=None waits as long as it takes: 6 virtual seconds here.
            result = await client.call_tool("countdown", {"steps": 6}, timeout=None)
            assert text_of(result) == "lift-off"

    pair.run(main)


# Misbehaving peers and networks --------------------------------------------------------------


async def _misbehave(port: int, how: str) -> None:
    """Connect by hand and misbehave in the way named *how*, then go away."""
    if how == "half-upgrade":
        stream = await anyio.connect_tcp("127.0.0.1", port)
        request = upgrade_request(port)
        await stream.send(request[: len(request) // 2])
    else:
        stream, head = await raw_upgrade(port)
        assert head.startswith(b"HTTP/1.1 101")
        if how == "half-frame":
            payload = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}'.ljust(200)
            await stream.send(masked_text_frame_head(len(payload)) + payload[:100])
        else:  # an unmasked frame from a client: a protocol error
            await stream.send(b"\x81\x05hello")
    await stream.aclose()


@pytest.mark.parametrize("how", ["half-upgrade", "half-frame", "unmasked-frame"])
@pytest.mark.parametrize("revisions", ERAS)
def test_a_client_killed_mid_message_leaves_the_server_serving_others(
    pair: Pair, revisions: Revisions, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        lab = Lab()
        answer: list[str] = []
        async with (
            lab.served(pair) as server,
            pair.connect(server.url, **options(revisions)) as client,
        ):

            async def call() -> None:
                answer.append(text_of(await client.call_tool("gate", {"n": 1})))

            async with anyio.create_task_group() as group:
                group.start_soon(call)
                await lab.until(lambda: lab.running == 1)
                await _misbehave(server.port, how)
                async with pair.connect(server.url, **options(revisions)) as newcomer:
                    assert text_of(await newcomer.call_tool("add", {"a": 1, "b": 1})) == "2"
                await lab.open(1)
            assert answer == ["gate 1"]
            assert text_of(await client.call_tool("add", {"a": 2, "b": 2})) == "4"

    with caplog.at_level(logging.ERROR, logger="mcpws"):
        pair.run(main)
    assert [r.getMessage() for r in caplog.records if r.name == "mcpws"] == []


def _refuse(request: ConnectionRequested) -> object:
    raise AuthenticationFailed("who are you?")


@pytest.mark.parametrize(
    ("how", "status"),
    [
        pytest.param({"path": "/elsewhere"}, 404, id="wrong-path"),
        pytest.param({"origin": "https://evil.example"}, 403, id="bad-origin"),
        pytest.param({"authenticate": _refuse}, 401, id="authentication-failed"),
        pytest.param({"allowed_hosts": ["mcp.example"]}, 403, id="bad-host"),
    ],
)
@pytest.mark.parametrize("revisions", ERAS)
def test_a_refused_upgrade_raises_connect_error(
    pair: Pair, revisions: Revisions, how: dict[str, Any], status: int
) -> None:
    async def main() -> None:
        serve_options = {k: v for k, v in how.items() if k in ("authenticate", "allowed_hosts")}
        async with Lab().served(pair, **serve_options) as server:
            url = server.url.replace("/mcp", how.get("path", "/mcp"))
            start = anyio.current_time()
            with pytest.raises(ConnectError, match=f"HTTP {status}"):
                async with pair.connect(url, origin=how.get("origin"), **options(revisions)):
                    pytest.fail("the session opened")  # pragma: no cover
            assert pair.lasted(start, 0)  # refused at once, no timeout waited for
            if not serve_options:
                async with pair.connect(server.url, **options(revisions)) as client:
                    assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"

    pair.run(main)


def test_connect_to_a_closed_port_raises_connect_error(pair: Pair) -> None:
    async def main() -> None:
        async with Lab().served(pair) as server:
            port = server.port
        with pytest.raises(ConnectError):
            async with pair.connect(f"ws://127.0.0.1:{port}/mcp"):
                pytest.fail("the session opened")  # pragma: no cover

    pair.run(main)


def test_connect_to_a_silent_server_gives_up_after_the_open_timeout(pair: Pair) -> None:
    async def main() -> None:
        async with silent_server() as port:
            start = anyio.current_time()
            with pytest.raises(ConnectError):
                async with pair.connect(f"ws://127.0.0.1:{port}/mcp", open_timeout=3):
                    pytest.fail("the session opened")  # pragma: no cover
            assert pair.lasted(start, 3)

    pair.run(main)


def test_beyond_max_connections_an_upgrade_is_refused_with_503(pair: Pair) -> None:
    async def main() -> None:
        async with Lab().served(pair, max_connections=2) as server:
            async with pair.connect(server.url) as first, pair.connect(server.url) as second:
                with pytest.raises(ConnectError, match="HTTP 503"):
                    async with pair.connect(server.url):
                        pytest.fail("the session opened")  # pragma: no cover
                assert text_of(await first.call_tool("add", {"a": 1, "b": 1})) == "2"
                assert text_of(await second.call_tool("add", {"a": 1, "b": 2})) == "3"
            # Closed, they count no more, though the server may still be closing their
            # transports as the third client connects.
            async with pair.connect(server.url) as third:
                assert text_of(await third.call_tool("add", {"a": 1, "b": 3})) == "4"

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_requests_in_flight_fail_with_connection_lost_when_the_connection_drops(
    pair: Pair,
    revisions: Revisions,
) -> None:
    async def main() -> None:
        lab = Lab()
        failures: list[BaseException] = []
        async with lab.served(pair) as server, proxy(server.port) as network:
            async with pair.connect(network.url, **options(revisions)) as client:

                async def call(n: int) -> None:
                    try:
                        await client.call_tool("gate", {"n": n})
                    except ConnectionLost as exc:
                        failures.append(exc)

                async with anyio.create_task_group() as group:
                    for n in range(3):
                        group.start_soon(call, n)
                    await lab.until(lambda: lab.running == 3)
                    network.cut()
                assert len(failures) == 3
                with pytest.raises(ConnectionLost):
                    await client.call_tool("add", {"a": 1, "b": 1})
            # The server lost a connection, not its wits.
            async with pair.connect(server.url, **options(revisions)) as client:
                assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_a_server_shutting_down_lets_requests_finish_within_the_grace_period(
    pair: Pair,
    revisions: Revisions,
) -> None:
    async def main() -> None:
        lab = Lab()
        answers: list[str] = []
        async with (
            lab.served(pair, shutdown_timeout=3) as server,
            pair.connect(server.url, **options(revisions)) as client,
        ):

            async def hang() -> None:
                with contextlib.suppress(McpError, ConnectionLost):  # its own test below
                    await client.call_tool("hang")

            async def gate() -> None:
                answers.append(text_of(await client.call_tool("gate", {"n": 0})))

            start = anyio.current_time()
            async with anyio.create_task_group() as group:
                group.start_soon(hang)
                group.start_soon(gate)
                await lab.until(lambda: lab.hangs == 1 and lab.running == 1)
                await server.stop()
                await anyio.sleep(1)
                await lab.open(0)
            await server.stopped()
            assert answers == ["gate 0"]
            assert [pair.took(when - start, 3) for when in lab.hangs_cancelled] == [True]
            with pytest.raises(ConnectionLost):
                await client.call_tool("add", {"a": 1, "b": 1})

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_a_request_outliving_the_grace_period_is_answered_with_an_error(
    pair: Pair,
    revisions: Revisions,
) -> None:
    """Cancelling ``serve`` while a slow tool runs: at the end of the grace period the
    handler is cancelled, the request answered with an internal error, and the connection
    closed (a shutdown, not a drop: the server says so before it goes)."""

    async def main() -> None:
        lab = Lab()
        async with (
            lab.served(pair, shutdown_timeout=3) as server,
            pair.connect(server.url, **options(revisions)) as client,
        ):
            start = anyio.current_time()
            async with anyio.create_task_group() as group:
                group.start_soon(_stop_when_hanging, lab, server.stop)
                with pytest.raises(McpError) as refused:
                    await client.call_tool("hang")
            assert refused.value.code == -32603
            assert pair.lasted(start, 3)
            assert [pair.took(when - start, 3) for when in lab.hangs_cancelled] == [True]
            await server.stopped()
            with pytest.raises(ConnectionLost):
                await client.call_tool("add", {"a": 1, "b": 1})

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_a_new_request_during_a_graceful_shutdown_is_refused_at_once(
    pair: Pair,
    revisions: Revisions,
) -> None:
    """While the requests in flight get their grace period, a new one gets an error at
    once, saying why, instead of waiting for the connection to close. (The grace period is
    much longer than the slack a pair of two loops allows: "at once" is not "at its end".)"""

    async def main() -> None:
        lab = Lab()
        async with (
            lab.served(pair, shutdown_timeout=30) as server,
            pair.connect(server.url, **options(revisions)) as client,
        ):
            async with anyio.create_task_group() as group:
                group.start_soon(_answered_in_the_end, client)
                await lab.until(lambda: lab.running == 1)
                await server.stop()
                asked = anyio.current_time()
                with pytest.raises(McpError) as refused:
                    await client.call_tool("add", {"a": 1, "b": 1})
                assert (refused.value.code, refused.value.message) == (
                    SHUTTING_DOWN,
                    "the server is shutting down",
                )
                assert pair.lasted(asked, 0)
                await lab.open(0)
            await server.stopped()

    pair.run(main)


async def _answered_in_the_end(client: Client) -> None:
    assert text_of(await client.call_tool("gate", {"n": 0})) == "gate 0"


async def _stop_when_hanging(lab: Lab, stop: Callable[[], Awaitable[None]]) -> None:
    await lab.until(lambda: lab.hangs == 1)
    await stop()


# What a handler sees and asks ----------------------------------------------------------------


@pytest.mark.parametrize("revisions", ERAS)
def test_the_context_sees_principal_revision_and_capabilities(
    pair: Pair, revisions: Revisions
) -> None:
    def authenticate(request: ConnectionRequested) -> object:
        return {"user": "ada", "authorization": request.request.header("authorization")}

    async def main() -> None:
        capabilities = ClientCapabilities(roots={"listChanged": True}, sampling={})
        async with (
            Lab().served(pair, authenticate=authenticate) as server,
            pair.connect(
                server.url,
                headers=[("Authorization", "Bearer ada")],
                capabilities=capabilities,
                **options(revisions),
            ) as client,
        ):
            seen = json.loads(text_of(await client.call_tool("whoami")))
        assert seen == {
            "principal": {"user": "ada", "authorization": "Bearer ada"},
            "revision": negotiated(revisions),
            "stateless": is_stateless(revisions),
            "capabilities": {"roots": {"listChanged": True}, "sampling": {}},
        }

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_a_tool_asks_the_client_for_roots_sampling_and_input(
    pair: Pair, revisions: Revisions
) -> None:
    async def main() -> None:
        asked: list[Any] = []

        def roots(params: RequestParams) -> ListRootsResult:
            asked.append(params)
            return ListRootsResult(roots=[Root(uri="file:///a"), Root(uri="file:///b")])

        async def sample(params: CreateMessageRequestParams) -> CreateMessageResult:
            asked.append(params)
            await anyio.sleep(1)  # a slow model, in virtual time
            return CreateMessageResult(
                role="assistant", content=TextContent(text="hello"), model="tiny"
            )

        def elicit(params: ElicitRequestFormParams) -> ElicitResult:
            asked.append(params)
            return ElicitResult(action="accept", content={"name": "ada"})

        capabilities = ClientCapabilities(roots={}, sampling={}, elicitation={})
        async with session(pair, Lab(), revisions, capabilities=capabilities) as client:
            client.handlers["roots/list"] = roots
            client.handlers["sampling/createMessage"] = sample
            client.handlers["elicitation/create"] = elicit
            results = {
                what: await client.call_tool("ask", {"what": what})
                for what in ("roots", "sample", "elicit")
            }
        # In the stateless era each question is a round trip, with the same results.
        assert text_of(results["roots"]) == "file:///a file:///b"
        assert text_of(results["sample"]) == "tiny: hello"
        sampled = asked[1]
        assert isinstance(sampled, CreateMessageRequestParams)
        assert sampled.messages[0].content == TextContent(text="hi")
        if revisions == ("2024-11-05",):  # elicitation came in 2025-06-18
            assert error_texts(results["elicit"]).startswith("LocalProtocolError: ")
        else:
            assert text_of(results["elicit"]) == "accept {'name': 'ada'}"

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_a_tool_cannot_ask_for_what_the_client_did_not_declare(
    pair: Pair, revisions: Revisions
) -> None:
    async def main() -> None:
        async with session(pair, Lab(), revisions) as client:
            client.handlers["roots/list"] = lambda params: ListRootsResult(roots=[])
            result = await client.call_tool("ask", {"what": "roots"})
        assert error_texts(result).startswith("LocalProtocolError: ")

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_a_server_request_without_a_client_handler_is_answered_method_not_found(
    pair: Pair,
    revisions: Revisions,
) -> None:
    async def main() -> None:
        capabilities = ClientCapabilities(roots={})
        async with session(pair, Lab(), revisions, capabilities=capabilities) as client:
            if is_stateless(revisions):
                # The question comes to the client, which cannot answer it.
                with pytest.raises(McpError) as caught:
                    await client.call_tool("ask", {"what": "roots"})
                assert (caught.value.code, caught.value.message) == (
                    -32601,
                    "the server asks for roots/list and no handler answers it",
                )
                return
            result = await client.call_tool("ask", {"what": "roots"})
        assert text_of(result) == "McpError -32601: no handler for roots/list"

    pair.run(main)


class StuckModel:
    """A client's sampling handler that never answers, and notes when it is cancelled."""

    def __init__(self) -> None:
        self.asked = anyio.Event()
        self.ended = anyio.Event()
        self.cancelled = False

    async def __call__(self, params: CreateMessageRequestParams) -> CreateMessageResult:
        self.asked.set()
        try:
            await forever()
        except anyio.get_cancelled_exc_class():
            self.cancelled = True
            raise
        finally:
            self.ended.set()


@pytest.mark.parametrize("revisions", HANDSHAKE_ERAS)
def test_cancelling_a_tool_cancels_the_request_it_made_of_the_client(
    pair: Pair,
    revisions: Revisions,
) -> None:
    async def main() -> None:
        model = StuckModel()
        capabilities = ClientCapabilities(sampling={})
        async with session(pair, Lab(), revisions, capabilities=capabilities) as client:
            client.handlers["sampling/createMessage"] = model
            with anyio.CancelScope() as caller:
                async with anyio.create_task_group() as group:
                    group.start_soon(client.call_tool, "ask", {"what": "sample"})
                    await model.asked.wait()
                    caller.cancel()
            # client -> server: cancelled; the tool's own request -> client: cancelled too.
            await model.ended.wait()
            assert model.cancelled
            assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"

    pair.run(main)


@pytest.mark.parametrize("revisions", HANDSHAKE_ERAS)
def test_a_request_of_the_client_times_out_on_the_server_timeout(
    pair: Pair, revisions: Revisions
) -> None:
    async def main() -> None:
        model = StuckModel()
        capabilities = ClientCapabilities(sampling={})
        async with (
            Lab().served(pair, request_timeout=2) as server,
            pair.connect(server.url, capabilities=capabilities, **options(revisions)) as client,
        ):
            client.handlers["sampling/createMessage"] = model
            start = anyio.current_time()
            result = await client.call_tool("ask", {"what": "sample"})
            assert error_texts(result).startswith("TimeoutError: ")
            assert pair.lasted(start, 2)
            await model.ended.wait()
            assert model.cancelled

    pair.run(main)


# The pair.connect() block -------------------------------------------------------------------------


@pytest.mark.parametrize("revisions", ERAS)
def test_connect_propagates_an_exception_from_its_body_unchanged(
    pair: Pair, revisions: Revisions
) -> None:
    class Oops(Exception):
        pass

    async def main() -> None:
        oops = Oops("from the body")
        async with Lab().served(pair) as server:
            with pytest.raises(Oops) as raised:  # noqa: PT012 - the block is the subject
                async with pair.connect(server.url, **options(revisions)) as client:
                    await client.call_tool("add", {"a": 1, "b": 1})
                    raise oops
            assert raised.value is oops
            assert type(raised.value) is Oops  # not an exception group around it

    pair.run(main)


@pytest.mark.parametrize("revisions", ERAS)
def test_a_body_cancelled_from_outside_leaves_connect_cleanly(
    pair: Pair, revisions: Revisions
) -> None:
    async def main() -> None:
        async with Lab().served(pair) as server:
            start = anyio.current_time()
            with anyio.move_on_after(2) as outside:
                async with pair.connect(server.url, **options(revisions)) as client:
                    await client.call_tool("countdown", {"steps": 5})
            assert outside.cancelled_caught
            assert pair.lasted(start, 2)
            async with pair.connect(server.url, **options(revisions)) as client:
                assert text_of(await client.call_tool("add", {"a": 1, "b": 1})) == "2"

    pair.run(main)
