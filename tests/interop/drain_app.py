"""A server for the command line's tests: ``mcpws serve drain_app:app``. Its ``hold`` tool
reports progress, so that a caller knows the call is in flight, then answers once a file
exists: a call that a stopping server has to wait for, for as long as the test wants. Its
``whoami`` tool tells which process answers."""

from __future__ import annotations

import os
from pathlib import Path

import anyio

from mcpws import Context, Server

app = Server("drain")


@app.tool()
async def hold(release: str, ctx: Context) -> str:
    """Report progress, then answer once the file *release* exists."""
    await ctx.report_progress(1, 2, "held")
    while not Path(release).exists():
        await anyio.sleep(0.01)
    return "released"


@app.tool()
def whoami() -> str:
    """The id of the process that answers (one of ``--workers``)."""
    return str(os.getpid())


def make_app() -> Server:
    """A factory of the same server, for ``mcpws serve drain_app:make_app``."""
    return app


not_a_server = "not a server"
