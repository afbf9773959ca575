"""The MCP server ``mcpws serve`` runs in the load and hostile benchmarks, with the tools of
the reference in ``_reference.py``: ``echo`` and ``blob``."""

from __future__ import annotations

from mcpws import Server

app = Server("bench")


@app.tool()
def echo(text: str) -> str:
    """The text, back."""
    return text


@app.tool()
def blob(kib: int) -> str:
    """A text of kib KiB."""
    return "x" * (kib << 10)
