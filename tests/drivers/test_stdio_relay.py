"""``mcpws stdio URL``, the bridge a client that only launches commands runs: the official
SDK's stdio client and the MCP Inspector's command line through it to a server over
WebSocket, ids of either type carried as they are, bad lines from either side answered, a
bearer token from the environment, the end of the input, a server that is not there, one
that is killed (with ``--reconnect``: back without a new ``initialize`` from the client);
the client configuration README gives, run as given."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import attrs
import mcp
import pytest
from mcp.client.stdio import StdioServerParameters
from websockets.typing import Subprotocol

from helpers.peers import LOOPS, ServerProcess, free_port, mcpws_serving, run_on
from helpers.typescript import INSPECTOR, NODE, node_packages_folder
from mcpws import Server
from mcpws._demo import demo_server
from mcpws.app._relaying import GARBLED
from mcpws.core.connection import AuthenticationFailed, ConnectionRequested
from mcpws.lowlevel import DRIVERS, connect_options

TIMEOUT = 60
README = Path(__file__).resolve().parents[2] / "README.rst"
BRIDGE = [sys.executable, "-m", "mcpws", "stdio"]
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": "opening",
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "stdio-test", "version": "1"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def call(request_id: object, name: str, **arguments: Any) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


class Bridge:
    """``mcpws stdio`` in a process of its own, spoken to as a stdio client speaks."""

    def __init__(self, process: anyio.abc.Process) -> None:
        self.process = process
        self._lines = b""
        self._errors = b""

    async def send(self, *messages: object) -> None:
        assert self.process.stdin is not None
        for message in messages:
            line = message if isinstance(message, str) else json.dumps(message)
            await self.process.stdin.send(line.encode() + b"\n")

    async def receive(self) -> Any:
        """The next message on the bridge's output; ``None`` at its end."""
        assert self.process.stdout is not None
        while b"\n" not in self._lines:
            try:
                self._lines += await self.process.stdout.receive()
            except anyio.EndOfStream:
                assert not self._lines
                return None
        line, _, self._lines = self._lines.partition(b"\n")
        return json.loads(line)

    async def answer(self, request_id: object) -> Any:
        """The answer to *request_id*, skipping the rest."""
        while True:
            message = await self.receive()
            assert message is not None, f"no answer to {request_id!r}"
            if message.get("id") == request_id and "method" not in message:
                return message

    async def logged(self, text: str) -> str:
        """Wait until the bridge logs a line with *text*; the log so far."""
        assert self.process.stderr is not None
        while text.encode() not in self._errors:
            self._errors += await self.process.stderr.receive()
        return self._errors.decode()

    async def open_session(self) -> None:
        await self.send(INITIALIZE, INITIALIZED)
        assert "result" in await self.answer("opening")

    async def ended(self) -> tuple[int, str]:
        """The exit status and the whole log, once the bridge has exited."""
        assert self.process.stderr is not None
        assert self.process.stdin is not None
        await self.process.stdin.aclose()
        async for data in self.process.stderr:
            self._errors += data
        return await self.process.wait(), self._errors.decode()


@asynccontextmanager
async def bridge(
    url: str, *options: str, env: dict[str, str] | None = None
) -> AsyncIterator[Bridge]:
    """``mcpws stdio URL *options`` with *env* added to its environment, for the block."""
    process = await anyio.open_process([*BRIDGE, url, *options], env={**os.environ, **(env or {})})
    async with process:
        try:
            yield Bridge(process)
        finally:
            if process.returncode is None:
                process.kill()


def serving(loop: str, app: Server, **options: Any) -> Any:
    return DRIVERS[loop].load().serving(app, **options)


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_the_sdk_stdio_client_calls_a_websocket_server_through_the_bridge(
    loop: str, mode: Any
) -> None:
    async def main() -> None:
        async with serving(loop, demo_server()) as listening:
            command = StdioServerParameters(
                command=BRIDGE[0], args=[*BRIDGE[1:], listening.url], env=dict(os.environ)
            )
            async with mcp.Client(command, mode=mode) as client:
                tools = await client.list_tools()
                assert "add" in {tool.name for tool in tools.tools}
                added = await client.call_tool("add", {"a": 2, "b": 3})
                assert added.structured_content == {"result": 5}

    run_on(loop, main, timeout=TIMEOUT)


def test_ids_keep_their_type_and_bad_lines_are_answered_on_either_side() -> None:
    async def main() -> None:
        async with serving("trio", demo_server()) as listening, bridge(listening.url) as relay:
            await relay.open_session()
            await relay.send(call("abc", "add", a=1, b=2), call(7, "add", a=3, b=4))
            first, second = await relay.answer("abc"), await relay.answer(7)
            assert first["result"]["structuredContent"] == {"result": 3}
            assert second["result"]["structuredContent"] == {"result": 7}
            await relay.send("not json", {"jsonrpc": "2.0", "id": 8})
            refused = [await relay.receive(), await relay.receive()]
            assert [answer["error"]["code"] for answer in refused] == [-32700, -32600]
            assert refused[1]["id"] == 8
            await relay.send(call(9, "add", a=0, b=1))  # the bridge goes on
            assert (await relay.answer(9))["result"]["structuredContent"] == {"result": 1}
            status, log = await relay.ended()
        assert status == 0
        assert "not JSON-RPC" in log

    run_on("trio", main, timeout=TIMEOUT)


def test_what_the_server_sends_that_is_not_json_rpc_is_logged_and_answered() -> None:
    """A server written with ``websockets`` answers a call with a message of JSON-RPC 1.0,
    then sends a line of garbage: the call gets -32603, both are logged, the bridge goes
    on."""
    from websockets.asyncio.server import ServerConnection, serve

    async def server(websocket: ServerConnection) -> None:
        async for text in websocket:
            message = json.loads(text)
            if message.get("method") == "initialize":
                result = {"protocolVersion": "2025-06-18", "capabilities": {}, "serverInfo": {}}
                await websocket.send(
                    json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result})
                )
            elif message.get("method") == "tools/call":
                await websocket.send(
                    json.dumps({"jsonrpc": "1.0", "id": message["id"], "result": {}})
                )
                await websocket.send("garbage")
            elif "id" in message:
                await websocket.send(
                    json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": {}})
                )

    async def main() -> None:
        async with serve(server, "127.0.0.1", 0, subprotocols=[Subprotocol("mcp")]) as listening:
            port = listening.sockets[0].getsockname()[1]
            async with bridge(f"ws://127.0.0.1:{port}/mcp") as relay:
                await relay.open_session()
                await relay.send(call("x", "add", a=1, b=2))
                refused = await relay.answer("x")
                assert refused["error"] == {"code": -32603, "message": GARBLED}
                await relay.send({"jsonrpc": "2.0", "id": "still", "method": "ping"})
                assert (await relay.answer("still"))["result"] == {}
                status, log = await relay.ended()
        assert status == 0
        assert log.count("the server sent something that is not JSON-RPC") == 2

    run_on("asyncio", main, timeout=TIMEOUT)


def test_the_relay_runs_in_process_on_any_pair_of_descriptors() -> None:
    """``relay_stdio`` itself, on pipes of this process: a session opened, a call answered,
    the input's end awaited, and ``ConnectError`` for a server that is not there."""
    from mcpws.app import ConnectError
    from mcpws.trio._relay import relay_stdio

    async def main() -> None:
        async with serving("trio", demo_server()) as listening:
            into, their_input = os.pipe()
            their_output, out_of = os.pipe()
            dialing = attrs.evolve(connect_options(listening.url), session=None)
            lines = [INITIALIZE, INITIALIZED, call(5, "add", a=2, b=2)]
            text = "".join(json.dumps(line) + "\n" for line in lines).encode()
            os.write(their_input, text)
            os.close(their_input)
            await relay_stdio(dialing, stdin=into, stdout=out_of)
            os.close(into)
            os.close(out_of)
            with os.fdopen(their_output, "rb") as written:
                answers = [json.loads(line) for line in written.read().splitlines()]
        assert [answer["id"] for answer in answers] == ["opening", 5]
        nowhere = attrs.evolve(connect_options(f"ws://127.0.0.1:{free_port()}/mcp"), session=None)
        with pytest.raises(ConnectError, match="cannot reach"):
            await relay_stdio(nowhere, stdin=into, stdout=out_of)

    run_on("trio", main, timeout=TIMEOUT)


def test_the_end_of_the_input_waits_for_the_answers_in_flight() -> None:
    """``printf ... | mcpws stdio URL``: the answers come, then the bridge exits 0."""
    lines = [INITIALIZE, INITIALIZED, call(1, "add", a=20, b=22)]

    async def main() -> None:
        async with serving("trio", demo_server()) as listening:
            text = "".join(json.dumps(line) + "\n" for line in lines)
            done = await anyio.run_process([*BRIDGE, listening.url], input=text.encode())
        answers = [json.loads(line) for line in done.stdout.splitlines()]
        assert [answer["id"] for answer in answers] == ["opening", 1]
        assert answers[1]["result"]["structuredContent"] == {"result": 42}
        assert done.stderr == b""

    run_on("trio", main, timeout=TIMEOUT)


def test_a_bearer_token_from_the_environment_goes_with_the_upgrade() -> None:
    def authenticate(request: ConnectionRequested) -> object:
        if request.request.header("authorization") != "Bearer s3cret":
            raise AuthenticationFailed()
        return "ada"

    async def main() -> None:
        async with serving("trio", demo_server(), authenticate=authenticate) as listening:
            options = ("--bearer-env", "MCP_TOKEN")
            async with bridge(listening.url, *options, env={"MCP_TOKEN": "s3cret"}) as relay:
                await relay.open_session()
                await relay.send(call(1, "add", a=1, b=1))
                assert "result" in await relay.answer(1)
            done = await anyio.run_process(
                [*BRIDGE, listening.url, *options],
                env={**os.environ, "MCP_TOKEN": "wrong"},
                check=False,
            )
            assert done.returncode == 3
            assert b"401" in done.stderr

    run_on("trio", main, timeout=TIMEOUT)


def test_a_missing_token_variable_is_a_bad_command_line() -> None:
    environment = {k: v for k, v in os.environ.items() if k != "MCP_NO_SUCH_TOKEN"}
    done = subprocess.run(
        [*BRIDGE, "ws://127.0.0.1:9/mcp", "--bearer-env", "MCP_NO_SUCH_TOKEN"],
        capture_output=True, text=True, env=environment, stdin=subprocess.DEVNULL, timeout=TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "mcpws: --bearer-env: the variable MCP_NO_SUCH_TOKEN is not set\n"


def test_without_a_server_the_bridge_exits_3_with_one_line() -> None:
    url = f"ws://127.0.0.1:{free_port()}/mcp"
    done = subprocess.run(
        [*BRIDGE, url], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=TIMEOUT
    )
    assert done.returncode == 3
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("mcpws: cannot reach 127.0.0.1:")


def test_a_line_over_the_limit_ends_the_bridge_with_a_clear_error() -> None:
    async def main() -> None:
        async with serving("trio", demo_server()) as listening, bridge(listening.url) as relay:
            await relay.open_session()
            await relay.send(call(1, "add", a=1, b=1))
            with contextlib.suppress(anyio.BrokenResourceError):  # it stops reading early
                await relay.send('"' + "x" * (17 * 2**20) + '"')
            assert "result" in await relay.answer(1)
            assert await relay.receive() is None
            status, log = await relay.ended()
        assert status == 3
        assert log.splitlines()[-1] == (
            "mcpws: the client's input: a line is longer than 16777216 bytes"
        )

    run_on("trio", main, timeout=TIMEOUT)


def readme_clients() -> dict[str, Any]:
    """The ``mcpServers`` of the client configuration in README."""
    text = README.read_text(encoding="utf-8")
    [block] = re.findall(r"^\.\. code-block:: json\n\n((?:(?: {4}.*)?\n)+)", text, re.MULTILINE)
    servers: dict[str, Any] = json.loads(textwrap.dedent(block))["mcpServers"]
    return servers


@pytest.mark.parametrize("name", ["calculator", "behind-a-token"])
def test_the_client_configuration_in_readme_works_as_given(name: str) -> None:
    """Each entry, run as a client runs it (its URL pointed at the test's server): the
    ``mcpws`` command on the path, its arguments, its environment."""
    entry = readme_clients()[name]
    program = shutil.which(
        entry["command"], path=f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    )
    assert program is not None, "the mcpws command is not installed"
    environment = {**os.environ, **entry.get("env", {})}
    token = environment.get("MCP_TOKEN") if "--bearer-env" in entry["args"] else None

    def authenticate(request: ConnectionRequested) -> object:
        if token is not None and request.request.header("authorization") != f"Bearer {token}":
            raise AuthenticationFailed()
        return None

    async def main() -> None:
        async with serving("trio", demo_server(), authenticate=authenticate) as listening:
            args = [listening.url if "://" in arg else arg for arg in entry["args"]]
            command = StdioServerParameters(command=program, args=args, env=environment)
            async with mcp.Client(command) as client:
                added = await client.call_tool("add", {"a": 2, "b": 3})
                assert added.structured_content == {"result": 5}

    run_on("trio", main, timeout=TIMEOUT)


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    """``mcpws serve slow_app:app``, which the test kills (and may start again)."""
    process = ServerProcess("trio")
    process.start()
    try:
        yield process
    finally:
        process.kill()


def test_the_bridge_comes_back_after_the_server_is_killed(server: ServerProcess) -> None:
    """The call in flight at the drop gets an error, one made while away too; once the
    server is back, the next call succeeds with no new ``initialize`` from the client (the
    bridge opened the session again with the client's own)."""

    async def main() -> None:
        options = ("--reconnect", "--reconnect-delay", "0.2")
        async with bridge(server.url, *options) as relay:
            await relay.open_session()
            await relay.send(call("one", "add", a=1, b=2), call("hung", "hang"))
            assert (await relay.answer("one"))["result"]["structuredContent"] == {"result": 3}
            await anyio.to_thread.run_sync(server.kill)
            dropped = await relay.answer("hung")
            assert dropped["error"]["code"] == -32603
            assert "closed before the answer" in dropped["error"]["message"]
            await relay.send(call("away", "add", a=1, b=1))
            assert "not connected" in (await relay.answer("away"))["error"]["message"]
            await anyio.to_thread.run_sync(server.start)
            await relay.logged("reconnected to")
            await relay.send(call("back", "add", a=2, b=3))
            answer = await relay.answer("back")
            assert answer["result"]["structuredContent"] == {"result": 5}
            status, log = await relay.ended()
        assert status == 0
        assert "reconnecting" in log

    run_on("trio", main, timeout=TIMEOUT)


def test_without_reconnect_a_drop_ends_the_bridge(server: ServerProcess) -> None:
    async def main() -> None:
        async with bridge(server.url) as relay:
            await relay.open_session()
            await relay.send(call("hung", "hang"))
            await anyio.sleep(0.1)  # not needed for the outcome: either way it fails
            await anyio.to_thread.run_sync(server.kill)
            assert (await relay.answer("hung"))["error"]["code"] == -32603
            assert await relay.receive() is None
            status, log = await relay.ended()
        assert status == 3
        assert log.splitlines()[-1].startswith(f"mcpws: the connection to {server.url}")

    run_on("trio", main, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def node_packages() -> Path:
    return node_packages_folder()


@pytest.mark.parametrize("loop", LOOPS)
def test_the_inspector_cli_lists_and_calls_tools_through_the_bridge(
    node_packages: Path, loop: str, tmp_path: Path
) -> None:
    inspector = [str(node_packages / NODE), str(node_packages / INSPECTOR), "--cli"]
    environment = {**os.environ, "MCP_CATALOG_PATH": str(tmp_path / "catalog.json")}

    def inspect(url: str, *arguments: str) -> Any:
        done = subprocess.run(
            [*inspector, *BRIDGE, url, "--method", *arguments],
            capture_output=True, text=True, env=environment, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    with mcpws_serving(loop) as port:
        url = f"ws://127.0.0.1:{port}/mcp"
        listed = inspect(url, "tools/list")
        assert "add" in {tool["name"] for tool in listed["tools"]}
        called = inspect(url, "tools/call", "--tool-name", "add", "--tool-arg", "a=2", "b=40")
        assert called["structuredContent"] == {"result": 42}
