"""A server that dials out to its client (``mcpws.trio.dial``, ``mcpws.asyncio.dial``, and
``mcpws serve --dial`` / ``mcpws expose --dial``): an MCP client written with ``websockets``
waits on a port, the server connects to it, and the client lists and calls the server's
tools; the client's process is killed and started again, and the server dials again."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import pytest

from helpers.peers import INTEROP, LOOPS, free_port, run_on
from mcpws._demo import demo_server
from mcpws.app import ConnectError, LocalBus, Reconnect, Server, StdioServer
from mcpws.lowlevel import DRIVERS

TIMEOUT = 60
ENDPOINT = INTEROP / "dial_endpoint.py"
STDIO_APP = INTEROP / "stdio_app.py"
#: Dialing again at once, then every 0.2 s at most.
QUICKLY = Reconnect(initial_delay=0.05, max_delay=0.2, jitter=0)


class Endpoint:
    """``dial_endpoint.py`` on one port, which can be killed and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}/mcp"
        self._process: anyio.abc.Process | None = None
        self._lines = b""

    async def start(self) -> None:
        self._process = await anyio.open_process([sys.executable, str(ENDPOINT), str(self.port)])
        self._lines = b""
        assert await self._line() == "listening"

    async def _line(self) -> str:
        assert self._process is not None
        assert self._process.stdout is not None
        while b"\n" not in self._lines:
            self._lines += await self._process.stdout.receive()
        line, _, self._lines = self._lines.partition(b"\n")
        return line.decode()

    async def seen(self) -> dict[str, Any]:
        """What the client saw of the next server that dialed it."""
        seen: dict[str, Any] = json.loads(await self._line())
        return seen

    async def kill(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
            await self._process.aclose()


@asynccontextmanager
async def endpoint() -> AsyncIterator[Endpoint]:
    waiting = Endpoint()
    await waiting.start()
    try:
        yield waiting
    finally:
        with anyio.CancelScope(shield=True):
            await waiting.kill()


@asynccontextmanager
async def dialing(loop: str, app: object, url: str, **options: Any) -> AsyncIterator[None]:
    """``dial()`` on *loop* for the block, from its first open connection on; stopped as
    its users stop it: a cancelled scope on trio, one ``cancel()`` of its task on asyncio
    (an anyio scope cancels at every await, and asyncio's ``dial()`` then stops at once)."""
    dial = DRIVERS[loop].load().dial
    if loop == "trio":
        async with anyio.create_task_group() as group:
            await group.start(functools.partial(dial, app, url, **options))
            yield
            group.cancel_scope.cancel()
        return
    import asyncio

    from mcpws.asyncio import TaskStatus

    status = TaskStatus()
    task = asyncio.create_task(dial(app, url, task_status=status, **options))
    try:
        await status.wait()
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("kind", ["mcpws", "stdio"])
def test_the_server_dials_its_client_and_dials_again_after_a_restart(loop: str, kind: str) -> None:
    """An ``mcpws.Server``, and a stdio server's child, served over a connection the server
    opened; the client's process is killed and started again on its port, and the server is
    back without anyone's help."""
    app = demo_server() if kind == "mcpws" else StdioServer([sys.executable, str(STDIO_APP)])
    name = "mcpws-demo" if kind == "mcpws" else "stdio-sdk"
    reconnected: list[int] = []

    async def main() -> None:
        options = {"reconnect": QUICKLY, "on_reconnect": reconnected.append}
        async with endpoint() as waiting, dialing(loop, app, waiting.url, **options):
            seen = await waiting.seen()
            assert seen["server"] == name
            assert "add" in seen["tools"]
            assert seen["result"] == {"result": 5}
            assert seen["subprotocol"] == "mcp"
            assert seen["path"] == "/mcp"
            await waiting.kill()
            await waiting.start()  # on the same port: the server comes back to it
            assert (await waiting.seen())["result"] == {"result": 5}
        assert len(reconnected) == 1

    run_on(loop, main, timeout=TIMEOUT)


@pytest.mark.parametrize("loop", LOOPS)
def test_without_reconnect_a_client_not_there_is_a_connect_error(loop: str) -> None:
    async def main() -> None:
        dial = DRIVERS[loop].load().dial
        url = f"ws://127.0.0.1:{free_port()}/mcp"
        with pytest.raises(ConnectError, match="cannot reach"):
            await dial(demo_server(), url, reconnect=None)
        policy = Reconnect(initial_delay=0.01, max_attempts=2, jitter=0)
        with pytest.raises(ConnectError, match=r"gave up dialing .* after 2 attempts"):
            await dial(demo_server(), url, reconnect=policy)

    run_on(loop, main, timeout=TIMEOUT)


def test_the_dialing_server_sends_its_headers() -> None:
    async def main() -> None:
        async with endpoint() as waiting, anyio.create_task_group() as group:
            headers = [("Authorization", "Bearer s3cret")]
            await group.start(
                functools.partial(
                    DRIVERS["trio"].load().dial, demo_server(), waiting.url, headers=headers
                )
            )
            assert (await waiting.seen())["authorization"] == "Bearer s3cret"
            group.cancel_scope.cancel()

    run_on("trio", main, timeout=TIMEOUT)


@pytest.mark.parametrize(
    "command",
    [
        ["serve", "--dial", "{url}", "--bearer-env", "MCP_TOKEN", "slow_app:app"],
        [
            "expose",
            "--dial",
            "{url}",
            "--bearer-env",
            "MCP_TOKEN",
            "--",
            sys.executable,
            str(STDIO_APP),
        ],
    ],
    ids=["serve", "expose"],
)
def test_the_command_line_dials_out(command: list[str]) -> None:
    """``mcpws serve --dial`` and ``mcpws expose --dial``: the client is served, killed,
    started again and served again; SIGTERM stops the server with status 0."""

    async def main() -> None:
        async with endpoint() as waiting:
            arguments = [part.replace("{url}", waiting.url) for part in command]
            process = await anyio.open_process(
                [sys.executable, "-m", "mcpws", *arguments],
                cwd=INTEROP,
                env={**os.environ, "MCP_TOKEN": "s3cret"},
                stderr=subprocess.STDOUT,
            )
            async with process:
                try:
                    seen = await waiting.seen()
                    assert seen["result"] == {"result": 5}
                    assert seen["authorization"] == "Bearer s3cret"
                    await waiting.kill()
                    await waiting.start()
                    assert (await waiting.seen())["result"] == {"result": 5}
                    process.send_signal(signal.SIGTERM)
                    assert await process.wait() == 0
                finally:
                    if process.returncode is None:
                        process.kill()

    run_on("trio", main, timeout=TIMEOUT)


def _replica() -> Server:
    app = Server("replica")

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add two whole numbers."""
        return a + b

    @app.tool()
    async def reorganise() -> str:
        """Change the tool list."""
        await app.list_changed("tools")
        return "done"

    return app


@pytest.mark.parametrize("loop", LOOPS)
def test_a_dialing_server_on_a_bus_tells_its_client_of_a_replicas_change(loop: str) -> None:
    """``dial(..., bus=...)``: the client a server dialed hears of the change a call makes
    on a replica that listens, on the same bus."""
    bus = LocalBus()
    driver = DRIVERS[loop].load()

    async def main() -> None:
        async with (
            endpoint() as waiting,
            dialing(loop, _replica(), waiting.url, bus=bus),
            driver.serving(_replica(), bus=bus) as listening,
            driver.connect(listening.url) as caller,
        ):
            assert (await waiting.seen())["result"] == {"result": 5}
            await caller.call_tool("reorganise", {})
            assert await waiting.seen() == {"notification": "notifications/tools/list_changed"}

    run_on(loop, main, timeout=TIMEOUT)
