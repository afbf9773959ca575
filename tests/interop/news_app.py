"""A server for the notification bus's tests: ``mcpws serve news_app:app --bus URL``. Its
``publish`` tool updates the resource it is given and changes the tool list, so that the
clients of every replica are told; ``publish_later`` does so once a file exists (a call in
flight while the server drains)."""

from __future__ import annotations

from pathlib import Path

import anyio

from mcpws import Context, Server

app = Server("news")


@app.resource("news://today")
def today() -> str:
    """The news of the day."""
    return "nothing yet"


@app.resource("news://late")
def late() -> str:
    """The late news."""
    return "nothing yet"


@app.tool()
async def publish(uri: str) -> str:
    """Tell the subscribers of *uri* that it was updated, and everyone that the tools
    changed."""
    await app.resource_updated(uri)
    await app.list_changed("tools")
    return "published"


@app.tool()
async def publish_later(release: str, uri: str, ctx: Context) -> str:
    """Report progress, then once the file *release* exists, publish as ``publish`` does."""
    await ctx.report_progress(1, 2, "held")
    while not Path(release).exists():
        await anyio.sleep(0.01)
    return await publish(uri)
