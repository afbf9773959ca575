"""A server for the reconnection tests, which kill and restart ``mcpws serve slow_app:app``
or serve it in process, on either driver."""

from __future__ import annotations

import anyio

from mcpws import Server

app = Server("slow")


@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@app.tool()
async def hang() -> None:
    """Never answer."""
    await anyio.sleep_forever()
