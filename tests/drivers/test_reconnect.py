"""The client's reconnect policy: a server stopped and restarted while the client waits,
for every pair of drivers, and a server process killed and restarted."""

from __future__ import annotations

import logging
import runpy
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from helpers.pairs import Pair, text_of
from helpers.peers import ServerProcess
from mcpws.app import ConnectionLost, McpError, Server
from mcpws.trio import Reconnect

SERVERS = Path(__file__).resolve().parents[1] / "interop"


def _slow_app() -> Server:
    """The server the killed processes serve, here in process."""
    app: Server = runpy.run_path(str(SERVERS / "slow_app.py"))["app"]
    return app


def test_the_delays_grow_to_the_cap_and_stop_after_the_attempts() -> None:
    policy = Reconnect(initial_delay=1, multiplier=3, max_delay=5, jitter=0, max_attempts=4)
    assert list(policy.delays()) == [1, 3, 5, 5]
    spread = Reconnect(initial_delay=10, multiplier=1, jitter=0.5, max_attempts=20)
    assert all(5 <= delay <= 15 for delay in spread.delays())


@pytest.mark.parametrize(
    "options",
    [{"initial_delay": 0}, {"multiplier": 0.5}, {"jitter": 2}, {"max_delay": -1}],
)
def test_a_bad_policy_is_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        Reconnect(**options)  # type: ignore[arg-type]


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """A server process on the driver the test names."""
    process = ServerProcess(request.param)
    process.start()
    try:
        yield process
    finally:
        process.kill()


def test_a_client_comes_back_after_the_server_restarts(pair: Pair) -> None:
    """The server stops with a request in flight, which is answered with an error, never
    retried; calls fail while it is away; once it listens again on its port, the client
    reconnects (on the delays of its policy, in virtual time) and calls succeed."""
    reconnects: list[int] = []

    async def main() -> None:
        app = _slow_app()
        policy = Reconnect(initial_delay=1, multiplier=2, jitter=0, max_delay=4)
        async with (
            pair.serving(app, shutdown_timeout=0) as first,
            pair.connect(first.url, reconnect=policy, on_reconnect=reconnects.append) as client,
        ):
            assert text_of(await client.call_tool("add", {"a": 1, "b": 2})) == "3"
            await client.connected()  # at once: it is
            async with anyio.create_task_group() as group:

                async def in_flight() -> None:
                    with pytest.raises(McpError, match="shut down before answering"):
                        await client.call_tool("hang")

                group.start_soon(in_flight)
                await anyio.sleep(1)
                await first.stop()
            await first.stopped()
            with pytest.raises(ConnectionLost):
                await client.call_tool("add", {"a": 1, "b": 2})  # while away
            await anyio.sleep(6)  # attempts after 1, 2 and 4 s fail: nothing listens
            async with pair.serving(app, port=first.port):
                await client.connected()  # the next attempt, after 4 s more at most
                assert reconnects
                assert text_of(await client.call_tool("add", {"a": 2, "b": 3})) == "5"

    pair.run(main)
    assert len(reconnects) == 1
    assert reconnects[0] >= 3


def test_a_client_gives_up_when_its_attempts_run_out(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    reconnects: list[int] = []
    urls: list[str] = []

    async def main() -> None:
        policy = Reconnect(initial_delay=1, multiplier=1, jitter=0, max_attempts=3)
        async with pair.serving(_slow_app()) as server:
            urls.append(server.url)
            connecting = pair.connect(server.url, reconnect=policy, on_reconnect=reconnects.append)
            async with connecting as client:
                await server.stop()
                await server.stopped()
                with (
                    caplog.at_level(logging.INFO, logger="mcpws"),
                    pytest.raises(ConnectionLost, match="no reconnection is coming"),
                ):
                    await client.connected()  # until the three attempts, a second apart
                with pytest.raises(ConnectionLost):
                    await client.call_tool("add", {"a": 1, "b": 2})

    pair.run(main)
    assert reconnects == []
    said = [record.getMessage() for record in caplog.records if record.name == "mcpws"]
    assert len([line for line in said if line.startswith("reconnecting to ")]) == 3
    assert said[-1] == f"gave up reconnecting to {urls[0]} after 3 attempts"


def test_a_client_without_a_policy_is_not_connected_once_its_server_is_gone(
    pair: Pair,
) -> None:
    async def main() -> None:
        async with pair.serving(_slow_app()) as server, pair.connect(server.url) as client:
            await client.connected()
            await server.stop()
            await server.stopped()
            lost: ConnectionLost | None = None
            while lost is None:  # until the client has heard of the end
                try:
                    await client.connected()
                except ConnectionLost as exc:
                    lost = exc
                else:
                    await anyio.sleep(0.1)
            assert str(lost) == "the connection is lost, and no reconnection is coming"

    pair.run(main)


#: Real seconds within which a client hears that its server process was killed, and comes
#: back once the server is restarted (it tries again every 0.2 s at most).
LOST_AT_ONCE = 1.0
BACK_SHORTLY = 5.0


@pytest.mark.parametrize(
    ("server", "driver"), [("trio", "trio"), ("asyncio", "asyncio")], indirect=["server"]
)
def test_a_client_comes_back_after_the_server_process_is_killed_and_restarted(
    server: ServerProcess, driver: str
) -> None:
    """A server process killed outright: requests in flight fail with ConnectionLost at
    once, and the client is back shortly after the server is."""
    reconnects: list[int] = []
    pair = Pair("trio", "trio" if driver == "trio" else "asyncio")

    async def main() -> None:
        with anyio.fail_after(30):
            url = server.url
            policy = Reconnect(initial_delay=0.05, jitter=0, max_delay=0.2)
            async with pair.connect(
                url, reconnect=policy, on_reconnect=reconnects.append
            ) as client:
                assert (await client.call_tool("add", {"a": 1, "b": 2})).is_error is None
                async with anyio.create_task_group() as group:

                    async def in_flight() -> None:
                        with pytest.raises(ConnectionLost):
                            await client.call_tool("hang")  # never retried

                    group.start_soon(in_flight)
                    await anyio.wait_all_tasks_blocked()  # its request is out...
                    await client.call_tool("add", {"a": 1, "b": 2})  # ...and was read
                    server.kill()
                    killed = anyio.current_time()
                assert anyio.current_time() - killed < LOST_AT_ONCE
                with pytest.raises(ConnectionLost):
                    await client.call_tool("add", {"a": 1, "b": 2})  # while away
                await anyio.sleep(0.3)  # a few attempts fail: nothing listens
                server.start()
                restarted = anyio.current_time()
                while not reconnects:
                    await anyio.sleep(0.02)
                assert anyio.current_time() - restarted < BACK_SHORTLY
                result = await client.call_tool("add", {"a": 2, "b": 3})
                assert result.content[0].to_json()["text"] == "5"

    anyio.run(main, backend=pair.client)
    assert len(reconnects) == 1
    assert reconnects[0] >= 2
