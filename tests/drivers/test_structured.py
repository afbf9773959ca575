"""A typed tool's structured output end to end, on every pair of drivers and in both eras:
the ``outputSchema`` the client lists, and a ``structuredContent`` that matches it, in a
result that matches the revision's schema."""

from __future__ import annotations

import dataclasses

import jsonschema
import pytest

from helpers import schemas
from helpers.pairs import Pair
from mcpws.app import Server
from mcpws.core.session._base import for_revision


@dataclasses.dataclass
class Forecast:
    city: str
    days: list[float]
    warning: str | None = None


@pytest.mark.parametrize("revision", ["2025-06-18", "2025-11-25", "2026-07-28"])
def test_a_typed_tool_lists_its_output_schema_and_returns_structured_content(
    pair: Pair, revision: str
) -> None:
    app = Server("typed")

    @app.tool()
    def forecast(city: str) -> Forecast:
        """Three days of temperatures."""
        return Forecast(city, [20.5, 21.0, 19.5])

    async def main() -> None:
        async with (
            pair.serving(app) as served,
            pair.connect(served.url, revisions=(revision,)) as client,
        ):
            (tool,) = await client.list_tools()
            result = await client.call_tool("forecast", {"city": "Oslo"})
        assert tool.output_schema is not None
        jsonschema.validate(result.structured_content, tool.output_schema)
        assert result.structured_content == {
            "city": "Oslo",
            "days": [20.5, 21.0, 19.5],
            "warning": None,
        }
        assert result.text == '{"city": "Oslo", "days": [20.5, 21.0, 19.5], "warning": null}'
        schemas.skip_unless_present()
        for name, value in (("Tool", tool), ("CallToolResult", result)):
            assert schemas.violation(revision, name, for_revision(value, revision)) is None

    pair.run(main)
