"""The demo server with two tools more, for clients whose progress handling is under test:
``hold`` reports progress, then answers only once ``release`` has been called, so that the
progress reaches the client well before the answer does."""

from __future__ import annotations

import anyio

from mcpws import Context, Server
from mcpws._demo import demo_server

app: Server = demo_server()
_held: list[anyio.Event] = []


@app.tool()
async def hold(ctx: Context) -> str:
    """Report progress, then wait until ``release`` is called."""
    gate = anyio.Event()
    _held.append(gate)
    await ctx.report_progress(1, 2, "held")
    await gate.wait()
    return "released"


@app.tool()
def release() -> int:
    """Let every held call answer; the number released."""
    count = len(_held)
    for gate in _held:
        gate.set()
    _held.clear()
    return count
