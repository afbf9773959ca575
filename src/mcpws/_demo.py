"""The demo server (``mcpws serve`` with no application named) and the ``mcpws demo``
transcript: a client that uses every part of it, over a real loopback connection."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mcpws._version import __version__
from mcpws.app import Client, Context, Server
from mcpws.app._registry import Driver
from mcpws.core.mcp import (
    ClientCapabilities,
    ElicitRequestFormParams,
    ElicitResult,
    Model,
    PromptReference,
    TextContent,
)
from mcpws.core.versions import STATELESS_REVISIONS

__all__ = ["DEMO_CAPABILITIES", "demo_server", "run_demo"]

#: What the demo's client declares: it answers elicitations (from 2025-06-18 on).
DEMO_CAPABILITIES = ClientCapabilities(elicitation={})
_NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def demo_server() -> Server:
    """A small server with a tool of each kind, resources, a prompt and completions."""
    server = Server(
        "mcpws-demo",
        __version__,
        instructions="A demonstration server: arithmetic, a countdown, a greeting.",
    )
    server.enable_logging()

    @server.tool()
    def add(a: float, b: float) -> float:
        """Add two numbers."""
        return a + b

    @server.tool()
    def divide(a: float, b: float) -> float:
        """Divide a by b (fails when b is 0)."""
        return a / b

    @server.tool()
    async def countdown(ctx: Context, start: int = 3) -> str:
        """Count down to lift-off, reporting progress on the way."""
        for step in range(1, start + 1):
            await ctx.report_progress(step, start, f"{start - step}...")
            await ctx.log("info", {"remaining": start - step})
        return "lift-off"

    @server.tool()
    def echo(text: str, times: int = 1) -> dict[str, Any]:
        """Repeat a text; the answer is structured."""
        return {"text": " ".join([text] * times), "times": times}

    @server.tool()
    async def greet(ctx: Context) -> str:
        """Greet the user by the name they give when asked (a client without elicitation
        gets a greeting for anyone)."""
        if getattr(ctx.peer_capabilities, "elicitation", None) is None:
            return "Hello, whoever you are!"
        answer = await ctx.elicit(
            ElicitRequestFormParams(message="What is your name?", requested_schema=_NAME)
        )
        if answer.action != "accept" or not answer.content:
            return "Hello, whoever you are!"
        return f"Hello, {answer.content['name']}!"

    counter = [0]

    @server.resource("demo://counter", mime_type="text/plain")
    def count() -> str:
        """A counter that the bump tool moves on."""
        return str(counter[0])

    @server.tool()
    async def bump() -> int:
        """Move the counter on; its subscribers hear of it."""
        counter[0] += 1
        await server.resource_updated("demo://counter")
        return counter[0]

    @server.resource("demo://readme", mime_type="text/markdown")
    def readme() -> str:
        """What this server is."""
        return "# mcpws demo\n\nA server written with mcpws.Server."

    @server.resource("demo://greeting/{name}", mime_type="text/plain")
    def greeting(name: str) -> str:
        """A greeting for anyone."""
        return f"Hello, {name}!"

    @server.prompt()
    def review(code: str, language: str = "python") -> str:
        """Ask for a code review."""
        return f"Please review this {language} code:\n\n{code}"

    @server.completion
    def complete(ref: Any, argument: str, value: str) -> list[str]:
        languages = ["python", "rust", "typescript"]
        return [name for name in languages if name.startswith(value)]

    return server


def _show(value: Model | Any) -> str:
    return json.dumps(value.to_json() if isinstance(value, Model) else value, ensure_ascii=False)


async def run_demo(client: Client, write: Callable[[str], object], driver: Driver) -> None:
    """Use every part of the demo server through *client* (whose loop is *driver*'s),
    writing what happens."""
    info = client.server_info
    write(f"session open: MCP {client.revision}, server {info.name if info else '?'}")
    write(f"  instructions: {client.instructions}")
    tools = await client.list_tools()
    write(f"tools: {', '.join(tool.name for tool in tools)}")
    for name, arguments in (
        ("add", {"a": 2, "b": 3}),
        ("echo", {"text": "hi", "times": 2}),
        ("divide", {"a": 1, "b": 0}),
        ("add", {"a": "two", "b": 3}),
    ):
        result = await client.call_tool(name, arguments)
        text = " ".join(block.text for block in result.content if isinstance(block, TextContent))
        outcome = "error" if result.is_error else "result"
        write(f"call {name} {json.dumps(arguments)}\n  {outcome}: {text}")

    def elicit(params: ElicitRequestFormParams) -> ElicitResult:
        write(f"  the server asks: {params.message} (answered: Ada)")
        return ElicitResult(action="accept", content={"name": "Ada"})

    client.handlers["elicitation/create"] = elicit
    write("call greet {}")
    result = await client.call_tool("greet")
    write(f"  result: {_show(result.content[0])}")

    def progress(done: float, total: float | None, message: str | None) -> None:
        write(f"  progress {done:g}/{total:g} {message or ''}".rstrip())

    write('call countdown {"start": 3}')
    result = await client.call_tool("countdown", {"start": 3}, on_progress=progress)
    write(f"  result: {_show(result.content[0])}")
    for resource in await client.list_resources():
        contents = (await client.read_resource(resource.uri)).contents[0]
        write(f"read {resource.uri}\n  {_show(contents)}")
    for template in await client.list_resource_templates():
        uri = template.uri_template.replace("{name}", "Ada")
        contents = (await client.read_resource(uri)).contents[0]
        write(f"read {uri} (from {template.uri_template})\n  {_show(contents)}")
    for prompt in await client.list_prompts():
        rendered = await client.get_prompt(prompt.name, {"code": "print('hi')"})
        write(f"prompt {prompt.name}\n  {_show(rendered.messages[0])}")
    completed = await client.complete(PromptReference(name="review"), "language", "ty")
    write(f"complete review.language 'ty'\n  {completed.completion.values}")
    await _subscribe(client, write, driver)


async def _subscribe(client: Client, write: Callable[[str], object], driver: Driver) -> None:
    """Hear of the counter's updates: on a stream (2026-07-28), or as a subscriber."""
    acknowledged = driver.event()

    def heard(method: str, params: Model) -> None:
        write(f"  heard {method} {_show(params)}")
        acknowledged.set()

    if client.revision not in STATELESS_REVISIONS:
        write("subscribe demo://counter")
        client.on_notification = heard
        await client.subscribe_resource("demo://counter")
        result = await client.call_tool("bump")
        write(f"call bump {{}}\n  result: {_show(result.content[0])}")
        return
    write("listen for updates of demo://counter")

    async def listen() -> None:
        await client.listen(heard, uris=["demo://counter"])

    async with driver.in_background(listen):
        await acknowledged.wait()
        result = await client.call_tool("bump")
        write(f"call bump {{}}\n  result: {_show(result.content[0])}")
