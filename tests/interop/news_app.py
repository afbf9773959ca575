"""A server for the notification bus's tests: ``mcpws serve news_app:app --bus URL``. Its
``publish`` tool updates the resource it is given and changes the tool list, so that the
clients of every replica are told; ``whoami`` tells which process answers."""

from __future__ import annotations

import os

from mcpws import Server

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
def whoami() -> str:
    """The id of the process that answers."""
    return str(os.getpid())
