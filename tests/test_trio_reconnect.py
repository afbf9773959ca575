"""The trio client's reconnect policy: a server process killed and restarted while the
client waits."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from mcpws.app import ConnectionLost
from mcpws.trio import Reconnect, connect

SERVERS = Path(__file__).parent / "interop"


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


class ServerProcess:
    """``mcpws serve slow_app:app`` on one port, which can be killed and started again."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "mcpws", "serve", "slow_app:app", "--port", str(self.port)]
        self.process = subprocess.Popen(command, cwd=SERVERS, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        assert b"serving slow" in self.process.stdout.readline()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    process = ServerProcess()
    process.start()
    try:
        yield process
    finally:
        process.kill()


def test_a_client_comes_back_after_the_server_is_killed_and_restarted(
    server: ServerProcess,
) -> None:
    reconnects: list[int] = []

    async def main() -> None:
        with trio.fail_after(30):
            url = f"ws://127.0.0.1:{server.port}/mcp"
            policy = Reconnect(initial_delay=0.05, jitter=0, max_delay=0.2)
            async with connect(url, reconnect=policy, on_reconnect=reconnects.append) as client:
                assert (await client.call_tool("add", {"a": 1, "b": 2})).is_error is None
                async with trio.open_nursery() as nursery:

                    async def in_flight() -> None:
                        with pytest.raises(ConnectionLost):
                            await client.call_tool("hang")  # never retried

                    nursery.start_soon(in_flight)
                    await trio.sleep(0.2)
                    server.kill()
                with pytest.raises(ConnectionLost):
                    await client.call_tool("add", {"a": 1, "b": 2})  # while away
                await trio.sleep(0.3)  # a few attempts fail: nothing listens
                server.start()
                while not reconnects:
                    await trio.sleep(0.02)
                result = await client.call_tool("add", {"a": 2, "b": 3})
                assert result.content[0].to_json()["text"] == "5"

    trio.run(main)
    assert len(reconnects) == 1
    assert reconnects[0] >= 2
