"""A server for the tests that kill and restart ``mcpws serve``: ``slow_app:app``."""

from __future__ import annotations

import trio

from mcpws import Server

app = Server("slow")


@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@app.tool()
async def hang() -> None:
    """Never answer."""
    await trio.sleep_forever()
