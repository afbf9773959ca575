"""Structured output, without I/O: the ``outputSchema`` a tool's return annotation gives
(numbers, lists, ``TypedDict``, dataclasses, ``attrs`` classes; none for text or MCP's own
types), the ``structuredContent`` its results carry beside their text, the wrapping of
values that are not objects, a schema given by hand, and a result that does not match."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Literal, TypedDict

import attrs
import pytest

from helpers.links import QuietLink
from mcpws.app import Server
from mcpws.core.mcp import CallToolResult, TextContent, Tool, decode_params
from mcpws.core.session import RequestReceived


class Weather(TypedDict):
    city: str
    celsius: float
    note: str | None


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


@attrs.define
class Box:
    corner: Point
    label: Literal["a", "b"] = "a"


def app() -> Server:
    server = Server("typed")

    @server.tool()
    def weather(city: str) -> Weather:
        return {"city": city, "celsius": 21.5, "note": None}

    @server.tool()
    def point() -> Point:
        return Point(1)

    @server.tool()
    def box() -> Box:
        return Box(Point(2, 3), "b")

    @server.tool()
    def numbers() -> list[int]:
        return [1, 2]

    @server.tool()
    def maybe() -> int | None:
        return None

    @server.tool()
    def text() -> str:
        return "plain"

    @server.tool()
    def untyped():  # type: ignore[no-untyped-def]
        return {"free": True}

    @server.tool()
    def blocks() -> CallToolResult:
        return CallToolResult(content=[TextContent(text="own")])

    @server.tool()
    def liar() -> int:
        return "five"  # type: ignore[return-value]

    @server.tool(output_schema={"type": "object", "properties": {"n": {"type": "integer"}}})
    def given() -> dict[str, Any]:
        return {"n": 1}

    return server


def handled(server: Server, method: str, params: dict[str, Any]) -> Any:
    decoded = decode_params(method, "2025-11-25", params)
    request = RequestReceived(1, method, decoded, "2025-11-25", None)
    return server.handle(request, QuietLink())


def schemas_of(server: Server) -> dict[str, Any]:
    tools: list[Tool] = handled(server, "tools/list", {}).tools
    return {tool.name: tool.output_schema for tool in tools}


def call(server: Server, name: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
    result = handled(server, "tools/call", {"name": name, "arguments": arguments or {}})
    assert isinstance(result, CallToolResult)
    return result


def wrapped(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"result": schema}, "required": ["result"]}


def test_the_return_annotation_gives_the_output_schema() -> None:
    point = {
        "type": "object",
        "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
        "required": ["x"],
        "additionalProperties": False,
    }
    assert schemas_of(app()) == {
        "weather": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "celsius": {"type": "number"},
                "note": {"type": ["string", "null"]},
            },
            "required": ["city", "celsius", "note"],
            "additionalProperties": False,
        },
        "point": point,
        "box": {
            "type": "object",
            "properties": {"corner": point, "label": {"enum": ["a", "b"]}},
            "required": ["corner"],
            "additionalProperties": False,
        },
        "numbers": wrapped({"type": "array", "items": {"type": "integer"}}),
        "maybe": wrapped({"type": ["integer", "null"]}),
        "text": None,
        "untyped": None,
        "blocks": None,
        "liar": wrapped({"type": "integer"}),
        "given": {"type": "object", "properties": {"n": {"type": "integer"}}},
    }


@pytest.mark.parametrize(
    ("name", "structured"),
    [
        ("weather", {"city": "Oslo", "celsius": 21.5, "note": None}),
        ("point", {"x": 1, "y": 0}),
        ("box", {"corner": {"x": 2, "y": 3}, "label": "b"}),
        ("numbers", {"result": [1, 2]}),
        ("maybe", {"result": None}),
        ("given", {"n": 1}),
    ],
)
def test_a_result_carries_its_structured_content_and_its_json_as_text(
    name: str, structured: Any
) -> None:
    arguments = {"city": "Oslo"} if name == "weather" else None
    result = call(app(), name, arguments)
    assert result.structured_content == structured
    value = structured.get("result", structured) if name in ("numbers", "maybe") else structured
    assert result.content == [TextContent(text=json.dumps(value))]
    assert result.is_error is None


def test_text_and_own_results_carry_no_structured_content() -> None:
    server = app()
    assert call(server, "text") == CallToolResult(content=[TextContent(text="plain")])
    assert call(server, "blocks") == CallToolResult(content=[TextContent(text="own")])
    assert call(server, "untyped").structured_content == {"free": True}  # a dict, as before


def test_a_result_that_does_not_match_its_schema_is_an_error_result(
    caplog: pytest.LogCaptureFixture,
) -> None:
    result = call(app(), "liar")
    assert result.is_error is True
    assert result.text == (
        "the result does not match the tool's output schema: "
        "member 'result' must be of type integer"
    )
    assert "does not match its output schema" in caplog.text
