"""The ``mcpws`` command line: the demo, serving and stopping a server, and one request at a
time against a real one.

The commands run as subprocesses, without ``PYTHONUNBUFFERED``, as under a service manager:
the lines a server prints must reach a pipe as they are printed. Every wait is for an event
(a line printed, a progress notification, a connection accepted), each with a hard timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import resource
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pytest
import trio
import trustme

from helpers.descriptors import LIMIT, SPARE, close, fill, let_go, refused
from helpers.network import INITIALIZE, RawClient, upgrade_request
from helpers.peers import INTEROP, LOOPS, RedisServer, free_port, upgrade_status
from helpers.typescript import NODE, node_packages_folder
from helpers.vendor_server import ANSWER, VendorServer
from mcpws.__main__ import main
from mcpws.app import (
    STATE_SECRET_VARIABLE,
    ConnectError,
    ConnectionLost,
    McpError,
    UnexpectedResult,
)
from mcpws.core.jsonrpc import INVALID_PARAMS
from mcpws.core.mcp import CallToolResult, ClientCapabilities, InputRequiredResult, TextContent
from mcpws.core.websocket import ConnectionClosed
from mcpws.trio import connect

#: The environment of the commands run here: that of the tests, with output buffered as
#: Python buffers it when nothing says otherwise.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}

#: Seconds any one wait here may take before the test fails: far more than anything takes,
#: even on a slow, busy machine.
HARD = 60.0


def _interruptible() -> None:
    """In a command's process before it starts: Ctrl-C as a terminal gives it, even when
    the tests run where SIGINT is ignored (a background job of a script), which a child
    would inherit and Python then keep."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run(
    *args: str, timeout: float = HARD, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpws", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=ENV,
        cwd=cwd,
        preexec_fn=_interruptible,
    )


def _lines(stream: IO[str], sink: queue.Queue[str | None]) -> None:
    for line in stream:
        sink.put(line.rstrip("\n"))
    sink.put(None)


class Serving:
    """``mcpws serve`` in a subprocess, on a free port; its output read as it comes."""

    def __init__(
        self,
        *args: str,
        python: Sequence[str] = (),
        cwd: Path | None = None,
        files: int | None = None,
        env: dict[str, str] | None = None,
        command: str = "serve",
    ) -> None:
        """``mcpws serve *args`` (or another *command* that serves), run by ``python
        *python``, in *cwd*, able to open *files* files at most (``None``: as many as the
        tests), with *env* added to the environment."""

        def before_it_starts() -> None:
            _interruptible()
            if files is not None:
                _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                resource.setrlimit(resource.RLIMIT_NOFILE, (files, hard))

        self.process = subprocess.Popen(
            [sys.executable, *python, "-m", "mcpws", command, "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**ENV, **(env or {})},
            cwd=cwd,
            preexec_fn=before_it_starts,
        )
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._out: queue.Queue[str | None] = queue.Queue()
        self._err: queue.Queue[str | None] = queue.Queue()
        self._readers = [
            threading.Thread(target=_lines, args=(self.process.stdout, self._out), daemon=True),
            threading.Thread(target=_lines, args=(self.process.stderr, self._err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        try:
            self.first = self.line()
            found = re.search(r"wss?://\S+", self.first)
            assert found is not None, self.first
        except BaseException:
            self.__exit__()
            raise
        self.url = found.group()

    def line(self) -> str:
        """The next line printed; fails when the output ends first."""
        line = self._out.get(timeout=HARD)
        assert line is not None, f"the output ended: {self.stderr()}"
        return line

    @property
    def port(self) -> int:
        port = urlsplit(self.url).port
        assert port is not None
        return port

    def error_line(self) -> str:
        """The next line written to standard error; fails when it ends first."""
        line = self._err.get(timeout=HARD)
        assert line is not None, "standard error ended"
        return line

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self) -> int:
        """The exit status, once the process has exited."""
        return self.process.wait(timeout=HARD)

    def rest(self) -> list[str]:
        """The lines printed after those read, once the process has exited."""
        self.wait()
        lines = []
        while (line := self._out.get(timeout=HARD)) is not None:
            lines.append(line)
        return lines

    def stderr(self) -> str:
        """What the process wrote to standard error, once it has exited."""
        self.wait()
        lines = []
        while (line := self._err.get(timeout=HARD)) is not None:
            lines.append(line + "\n")
        return "".join(lines)

    def __enter__(self) -> Serving:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=HARD)
        for reader in self._readers:
            reader.join(timeout=HARD)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


# The demo -----------------------------------------------------------------------------------


@pytest.mark.parametrize("loop", LOOPS)
def test_the_demo_uses_every_part_of_the_demo_server(loop: str) -> None:
    lines: list[str] = []
    assert main(["demo", "--loop", loop], write=lines.append) == 0
    transcript = "\n".join(lines)
    assert "session open: MCP 2026-07-28, server mcpws-demo" in transcript
    assert "tools: add, divide, countdown, echo, greet, bump" in transcript
    listening = transcript.split("listen for updates of demo://counter\n")[1].splitlines()
    assert listening[0].startswith("  heard notifications/subscriptions/acknowledged ")
    assert listening[1].startswith(
        '  heard notifications/resources/updated {"uri": "demo://counter"'
    )
    assert listening[2:4] == ["call bump {}", '  result: {"type": "text", "text": "1"}']
    assert "  the server asks: What is your name? (answered: Ada)" in transcript
    assert '  result: {"type": "text", "text": "Hello, Ada!"}' in transcript
    assert "  result: 5" in transcript
    assert "  error: ZeroDivisionError: division by zero" in transcript
    assert "  error: invalid arguments: argument 'a' must be of type number" in transcript
    assert "  progress 3/3 0..." in transcript
    assert '"text": "Hello, Ada!"' in transcript
    assert "['typescript']" in transcript
    assert lines[0].endswith(f"({loop})")
    assert lines[-1] == "done"


@pytest.mark.parametrize("revision", ["2024-11-05", "2025-11-25"])
def test_the_demo_runs_in_the_handshake_era(revision: str) -> None:
    lines: list[str] = []
    assert main(["demo", "--revision", revision], write=lines.append) == 0
    assert f"session open: MCP {revision}, server mcpws-demo" in lines
    # Elicitation came in 2025-06-18: before it, the greeting is for anyone.
    greeting = "Hello, whoever you are!" if revision == "2024-11-05" else "Hello, Ada!"
    assert f'  result: {{"type": "text", "text": "{greeting}"}}' in lines
    at = lines.index("subscribe demo://counter")  # no streams before 2026-07-28
    assert lines[at + 1] == '  heard notifications/resources/updated {"uri": "demo://counter"}'


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc_info:
        main([])
    assert exc_info.value.code == 2


def test_python_dash_m_runs_the_demo() -> None:
    done = run("demo")
    assert done.returncode == 0, done.stderr
    assert "call countdown" in done.stdout
    assert done.stderr == ""


@pytest.mark.parametrize("command", [[], ["demo"], ["serve"], ["call"], ["tools"], ["tool"]])
def test_the_help_gives_the_exit_statuses(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc_info:
        main([*command, "--help"])
    assert exc_info.value.code == 0
    out = capsys.readouterr().out
    assert "\nexit status:\n" in out
    statuses = [line.split()[0] for line in out.splitlines() if re.match(r"  \d", line)]
    assert statuses == ["0", "1", "2", "3", "130", *(["128+N"] if command == ["serve"] else [])]
    text = " ".join(out.split())
    assert "a tool result with isError (still printed)" in text
    assert "the server could not be reached or used" in text


def test_a_retry_may_reach_another_process_that_shares_the_secret() -> None:
    """The demo's ``greet`` asks for a name (2026-07-28): the question comes from one
    ``mcpws serve``, the retry with the answer goes to a second one with the same secret
    (as the workers or replicas of a deployment); a third, with a secret of its own,
    refuses the state."""
    shared = {STATE_SECRET_VARIABLE: "the secret the workers of a deployment share"}
    own = {STATE_SECRET_VARIABLE: "a secret nobody else has, just as long"}
    capabilities = ClientCapabilities(elicitation={})
    answer = {"elicitation-1": {"action": "accept", "content": {"name": "Ada"}}}

    async def main(first: str, second: str, stranger: str) -> None:
        with trio.fail_after(HARD):
            async with connect(first, capabilities=capabilities) as client:
                client.max_input_rounds = 0
                with pytest.raises(UnexpectedResult) as caught:
                    await client.call_tool("greet")
            asked = caught.value.result
            assert isinstance(asked, InputRequiredResult)
            retry = {"name": "greet", "inputResponses": answer, "requestState": asked.request_state}
            async with connect(second, capabilities=capabilities) as client:
                result = await client.request("tools/call", retry)
            assert isinstance(result, CallToolResult)
            assert result.content == [TextContent(text="Hello, Ada!")]
            async with connect(stranger, capabilities=capabilities) as client:
                with pytest.raises(McpError) as refused:
                    await client.request("tools/call", retry)
            assert refused.value.code == INVALID_PARAMS
            assert "requestState was not issued by this server" in refused.value.message

    with (
        Serving(env=shared) as first,
        Serving("--loop", "asyncio", env=shared) as second,
        Serving(env=own) as stranger,
    ):
        trio.run(main, first.url, second.url, stranger.url)


# Requests against a server ------------------------------------------------------------------


@pytest.fixture(scope="module", params=LOOPS)
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    """``mcpws serve`` of the demo server in a subprocess, on each loop; its URL."""
    with Serving("--loop", request.param) as server:
        assert server.first.startswith("serving mcpws-demo on ws://127.0.0.1:")
        yield server.url


@pytest.mark.parametrize("loop", LOOPS)
def test_tools_lists_the_tools(served: str, loop: str) -> None:
    done = run("tools", served, "--loop", loop)
    assert done.returncode == 0, done.stderr
    assert [tool["name"] for tool in json.loads(done.stdout)] == [
        "add",
        "divide",
        "countdown",
        "echo",
        "greet",
        "bump",
    ]


def test_tool_calls_one_tool_with_key_value_arguments(served: str) -> None:
    done = run("tool", served, "echo", "text=hi", "times=3", "--revision", "2025-06-18")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["structuredContent"] == {"text": "hi hi hi", "times": 3}


def test_call_sends_any_request(served: str) -> None:
    done = run("call", served, "resources/read", '{"uri": "demo://greeting/Bo"}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["contents"][0]["text"] == "Hello, Bo!"


@pytest.mark.parametrize("loop", LOOPS)
def test_an_error_reply_is_one_line_and_status_1(served: str, loop: str) -> None:
    done = run("call", served, "resources/read", '{"uri": "demo://nope"}', "--loop", loop)
    assert done.returncode == 1
    assert done.stderr == "mcpws: the server answered -32602: resource not found: demo://nope\n"
    # Before 2026-07-28, a resource not found had a code of its own.
    args = ('{"uri": "demo://nope"}', "--loop", loop, "--revision", "2025-11-25")
    done = run("call", served, "resources/read", *args)
    assert done.stderr == "mcpws: the server answered -32002: resource not found: demo://nope\n"


@pytest.mark.parametrize("loop", LOOPS)
def test_a_tool_error_is_printed_and_status_1(served: str, loop: str) -> None:
    done = run("tool", served, "divide", "a=1", "b=0", "--loop", loop)
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["isError"] is True
    assert result["content"][0]["text"] == "ZeroDivisionError: division by zero"
    assert done.stderr == "mcpws: the tool divide answered with an error (isError)\n"
    called = run("call", served, "tools/call", '{"name": "divide", "arguments": {"a": 1, "b": 0}}')
    assert called.returncode == 1
    assert json.loads(called.stdout)["isError"] is True


@pytest.mark.parametrize("loop", LOOPS)
def test_call_sends_a_method_mcp_does_not_define(loop: str) -> None:
    """A vendor's method goes out as it is, and its result is printed as the server sent it."""
    with VendorServer() as server:
        done = run(
            "call", server.url, "x/vendor", '{"q": 1}', "--revision", "2025-11-25", "--loop", loop
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {**ANSWER, "echo": {"q": 1}}


@pytest.mark.parametrize("loop", LOOPS)
def test_a_method_the_server_does_not_know_is_its_error(served: str, loop: str) -> None:
    done = run("call", served, "x/vendor", '{"q": 1}', "--loop", loop)
    assert done.returncode == 1
    assert done.stderr == (
        "mcpws: the server answered -32601: method not found: x/vendor (MCP 2026-07-28)\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tool", "URL", "echo", "text"), "a tool argument is key=value, not 'text'"),
        (("call", "URL", "ping", "[1]"), "PARAMS_JSON must be a JSON object"),
        (("call", "URL", "ping", "{"), "PARAMS_JSON is not JSON"),
        (("call", "URL", "ping", "--header", "nocolon"), "a header is NAME: VALUE"),
        (("tools", "http://127.0.0.1:1/mcp"), "not a ws:// or wss:// URL"),
        (("tools", "ws://127.0.0.1:99999/mcp"), "not a ws:// or wss:// URL"),
        (("tools", "URL", "--timeout", "0"), "a positive number of seconds"),
    ],
)
def test_a_bad_command_line_is_status_2(served: str, args: tuple[str, ...], message: str) -> None:
    done = run(*(served if arg == "URL" else arg for arg in args))
    assert done.returncode == 2
    assert done.stderr.startswith("usage: mcpws ")
    assert message in done.stderr.splitlines()[-1]


@pytest.mark.parametrize("loop", LOOPS)
def test_a_server_that_is_not_there_is_one_line_and_status_3(loop: str) -> None:
    done = run("tools", f"ws://127.0.0.1:{free_port()}/mcp", "--loop", loop)
    assert done.returncode == 3
    assert done.stderr.startswith("mcpws: ")
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize("loop", LOOPS)
def test_a_refused_upgrade_is_one_line_and_status_3(served: str, loop: str) -> None:
    done = run("tools", served.replace("/mcp", "/elsewhere"), "--loop", loop)
    assert done.returncode == 3
    assert done.stderr.startswith("mcpws: ")
    assert "404" in done.stderr
    assert done.stderr.count("\n") == 1


def _against_a_silent_server(
    *args: str, meanwhile: Callable[[socket.socket, subprocess.Popen[str]], None] | None = None
) -> tuple[int, str]:
    """Run ``mcpws tools URL *args`` against a server that accepts the connection and never
    answers, calling *meanwhile* once the connection is there; the exit status and what
    the command wrote to standard error."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(HARD)
        url = f"ws://127.0.0.1:{listener.getsockname()[1]}/mcp"
        with subprocess.Popen(
            [sys.executable, "-m", "mcpws", "tools", url, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
            preexec_fn=_interruptible,
        ) as process:
            connection, _ = listener.accept()
            with connection:
                connection.settimeout(HARD)
                if meanwhile is not None:
                    meanwhile(connection, process)
                _, err = process.communicate(timeout=HARD)
    return process.returncode, err


@pytest.mark.parametrize("loop", LOOPS)
def test_the_timeout_covers_connecting_to_a_silent_server(loop: str) -> None:
    """The whole command ends within the timeout."""
    status, err = _against_a_silent_server("--timeout", "1", "--loop", loop)
    assert status == 3
    # The 1 s of --timeout ended it (or connect()'s open_timeout, given the same), not the
    # handshake's own 10 s.
    assert re.fullmatch(r"mcpws: [^\n]*\b1 s\b[^\n]*\n", err), err


@pytest.mark.parametrize("loop", LOOPS)
def test_the_timeout_covers_the_answer(loop: str, tmp_path: Path) -> None:
    with Serving("drain_app:app", "--loop", loop, cwd=INTEROP) as server:
        release = tmp_path / "never"
        done = run(
            "tool", server.url, "hold", f"release={release}", "--timeout", "2", "--loop", loop
        )
        assert done.returncode == 3
        assert done.stderr == "mcpws: timed out after 2 s waiting for the answer to tools/call\n"


def _interrupt_once_asked(connection: socket.socket, process: subprocess.Popen[str]) -> None:
    assert connection.recv(4096).startswith(b"GET /mcp HTTP/1.1")  # waiting for the answer
    process.send_signal(signal.SIGINT)


@pytest.mark.parametrize("loop", LOOPS)
def test_an_interrupted_request_is_one_line_and_status_130(loop: str) -> None:
    status, err = _against_a_silent_server("--loop", loop, meanwhile=_interrupt_once_asked)
    assert (status, err) == (130, "mcpws: interrupted\n")


# Serving ------------------------------------------------------------------------------------


def test_the_serve_help_gives_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--shutdown-timeout SECONDS" in text
    assert "(default: 10 s)" in text
    assert "--allow-origin PATTERN" in text
    assert "scheme://host:port" in text
    assert "--allow-host PATTERN" in text
    assert "host[:port]" in text
    assert "'*' allows any" in text
    assert "SIGTERM" in text
    assert "128 plus the number of the signal" in text


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "eighty"])
def test_a_port_out_of_range_is_refused(port: str) -> None:
    done = run("serve", "--port", port)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: mcpws serve ")
    assert f"argument --port: a port is a whole number from 0 to 65535, not {port!r}" in (
        done.stderr
    )


@pytest.mark.parametrize("path", ["nopath", "/mcp?x=1", "/a b"])
def test_a_path_that_cannot_be_requested_is_refused(path: str) -> None:
    done = run("serve", "--path", path)
    assert done.returncode == 2
    assert f"argument --path: a path starts with / and has no ?, # or space: {path!r}" in (
        done.stderr
    )


@pytest.mark.parametrize("loop", LOOPS)
def test_serving_on_a_port_in_use_is_one_line_and_status_3(loop: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        done = run("serve", "--port", str(taken.getsockname()[1]), "--loop", loop)
    assert done.returncode == 3
    assert done.stderr.startswith("mcpws: cannot serve on 127.0.0.1:")
    assert done.stderr.count("\n") == 1


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="::1 cannot be bound here")
@pytest.mark.parametrize("loop", LOOPS)
def test_an_ipv6_address_is_bracketed_in_the_url(loop: str) -> None:
    with Serving("--host", "::1", "--loop", loop) as server:
        assert server.url.startswith("ws://[::1]:")
        done = run("tools", server.url, "--loop", loop)
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("loop", LOOPS)
def test_allowed_origins_and_hosts_add_to_the_loopback_ones(loop: str) -> None:
    with Serving(
        "--allow-origin", "http://app.example:*", "--allow-host", "mcp.example", "--loop", loop
    ) as server:
        port = int(server.url.split(":")[2].split("/")[0])
        assert upgrade_status(port) == 101
        assert upgrade_status(port, origin="http://localhost") == 101
        assert upgrade_status(port, origin="http://app.example:8080") == 101
        assert upgrade_status(port, origin="http://evil.example") == 403
        assert upgrade_status(port, host="mcp.example") == 101
        assert upgrade_status(port, host="evil.example") == 403


def test_any_origin_and_host_with_a_star() -> None:
    with Serving("--allow-origin", "*", "--allow-host", "*") as server:
        port = int(server.url.split(":")[2].split("/")[0])
        assert upgrade_status(port, host="evil.example", origin="http://evil.example") == 101


@pytest.mark.parametrize("spec", ["drain_app:app", "drain_app:make_app"])
def test_serve_imports_the_app_from_the_current_folder(spec: str) -> None:
    """As the ``mcpws`` script is run: ``-P`` keeps the current folder off ``sys.path``."""
    with Serving(spec, python=["-P"], cwd=INTEROP) as server:
        assert server.first.startswith("serving drain on ws://127.0.0.1:")
        server.signal(signal.SIGTERM)
        assert server.wait() == 0


def _sdk_client_adds(url: str) -> None:
    """``mcp.Client`` over ``mcpws.sdk.websocket_client`` calls ``add`` at *url*."""
    import mcp

    from mcpws.sdk import websocket_client

    async def call() -> None:
        with trio.fail_after(30):
            async with mcp.Client(websocket_client(url)) as client:
                result = await client.call_tool("add", {"a": 2, "b": 3})
                assert result.structured_content == {"result": 5}

    trio.run(call)


@pytest.mark.parametrize("loop", LOOPS)
def test_serve_serves_an_sdk_server_and_drains_it_on_sigterm(loop: str) -> None:
    with Serving("sdk_apps:mcp_server", "--loop", loop, cwd=INTEROP) as server:
        assert server.first.startswith("serving sdk-mcpserver on ws://127.0.0.1:")

        _sdk_client_adds(server.url)
        server.signal(signal.SIGTERM)
        assert server.wait() == 0
        assert server.rest()[-1] == "stopped"


@pytest.mark.parametrize("loop", LOOPS)
def test_expose_serves_a_stdio_server_and_drains_on_sigterm(loop: str) -> None:
    child = ["--", sys.executable, "stdio_app.py"]
    options = ["--loop", loop, "--env", "MCPWS_TEST=1"]
    with Serving(*options, *child, command="expose", cwd=INTEROP) as server:
        name = Path(sys.executable).name
        assert server.first.startswith(f"serving {name} on ws://127.0.0.1:")
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=30) as up:
            assert (up.status, up.read()) == (200, b"ok\n")

        _sdk_client_adds(server.url)
        server.signal(signal.SIGTERM)
        assert server.wait() == 0
        assert server.rest()[-1] == "stopped"


def test_expose_answers_503_beyond_its_children() -> None:
    child = ["--", sys.executable, "-c", "import sys; sys.stdin.read()"]
    with Serving("--max-children", "1", *child, command="expose") as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as first:
            first.sendall(upgrade_request(server.port))
            assert first.recv(12) == b"HTTP/1.1 101"
            assert upgrade_status(server.port) == 503
        server.signal(signal.SIGTERM)
        assert server.wait() == 0


@pytest.fixture
def tls_files(tmp_path: Path) -> dict[str, Path]:
    """A certificate authority of the test's own, and what it issued, as PEM files: the
    server's certificate for 127.0.0.1 and its key, a client's certificate with its key."""
    authority = trustme.CA()
    files = {"ca": tmp_path / "ca.pem", "cert": tmp_path / "cert.pem", "key": tmp_path / "key.pem"}
    authority.cert_pem.write_to_path(str(files["ca"]))
    server = authority.issue_cert("127.0.0.1")
    server.cert_chain_pems[0].write_to_path(str(files["cert"]))
    server.private_key_pem.write_to_path(str(files["key"]))
    files["client"] = tmp_path / "client.pem"
    authority.issue_cert("client@example").private_key_and_cert_chain_pem.write_to_path(
        str(files["client"])
    )
    return files


def _client_tls(files: dict[str, Path], *, with_certificate: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(files["ca"]))
    if with_certificate:
        context.load_cert_chain(str(files["client"]))
    return context


def _adds_over_tls(url: str, context: ssl.SSLContext) -> float:
    async def main() -> float:
        with trio.fail_after(HARD):
            async with connect(url, ssl_context=context) as client:
                added = await client.call_tool("add", {"a": 2, "b": 3})
                assert added.structured_content is not None
                result: float = added.structured_content["result"]
                return result

    return trio.run(main)


@pytest.mark.parametrize("loop", LOOPS)
def test_serve_over_tls_and_with_client_certificates_required(
    loop: str, tls_files: dict[str, Path]
) -> None:
    files = tls_files
    tls = ["--certfile", str(files["cert"]), "--keyfile", str(files["key"])]
    with Serving("--loop", loop, *tls) as server:
        assert server.url.startswith("wss://127.0.0.1:")
        assert _adds_over_tls(server.url, _client_tls(files, with_certificate=False)) == 5
        server.signal(signal.SIGTERM)
        assert server.wait() == 0
    with Serving("--loop", loop, *tls, "--ca-certs", str(files["ca"])) as server:
        with pytest.raises(ConnectError):
            _adds_over_tls(server.url, _client_tls(files, with_certificate=False))
        assert _adds_over_tls(server.url, _client_tls(files, with_certificate=True)) == 5
        server.signal(signal.SIGTERM)
        assert server.wait() == 0


def test_tls_files_that_cannot_be_used_are_one_line_and_status_2(
    tls_files: dict[str, Path],
) -> None:
    for args, message in [
        (
            ("--keyfile", str(tls_files["key"])),
            "mcpws: --keyfile and --ca-certs go with --certfile",
        ),
        (("--certfile", str(tls_files["ca"])), "mcpws: cannot use the TLS files given"),
        (
            ("--certfile", str(tls_files["cert"]), "--dial", "ws://127.0.0.1:9/mcp"),
            "is for listening",
        ),
    ]:
        done = run("serve", *args, "--port", "0")
        assert done.returncode == 2, done.stderr
        assert message in done.stderr
        assert done.stderr.count("\n") == 1


@pytest.mark.parametrize("loop", LOOPS)
def test_serve_takes_the_limits_and_timers_of_the_core(loop: str) -> None:
    """``--max-message-size`` closes a bigger message's connection with 1009,
    ``--max-connections`` answers an upgrade beyond it with 503, and the timers and the
    other limits are taken (the server serves with them)."""
    timers = ["--ping-interval", "0", "--ping-timeout", "5", "--open-timeout", "5"]
    limits = ["--max-concurrent-requests", "2", "--max-pending-requests", "10"]
    sizes = ["--max-message-size", "1000", "--max-connections", "1", "--close-timeout", "5"]
    with Serving("--loop", loop, *timers, *limits, *sizes) as server:

        async def main() -> tuple[int, int | None]:
            with trio.fail_after(HARD):
                raw = await RawClient.open(server.port)
                status = await trio.to_thread.run_sync(upgrade_status, server.port)
                assert "result" in await raw.ask(INITIALIZE)
                raw.core.send_text(json.dumps({"pad": "x" * 2000}))
                await raw.flush()
                await raw.until(lambda: raw.closed() is not None)
                await raw.stream.aclose()
                closed = raw.closed()
                assert closed is not None
                return status, closed.code

        assert trio.run(main) == (503, 1009)
        _sdk_client_adds(server.url)
        server.signal(signal.SIGTERM)
        assert server.wait() == 0


@pytest.mark.parametrize("shared", [False, True])
def test_expose_closes_an_idle_connection(shared: bool) -> None:
    child = ["--", sys.executable, "stdio_app.py"]
    options = ["--idle-timeout", "0.5", *(["--shared"] if shared else [])]
    with Serving(*options, *child, command="expose", cwd=INTEROP) as server:

        async def idle() -> ConnectionClosed:
            with trio.fail_after(60):
                raw = await RawClient.open(server.port)
                assert "result" in await raw.ask(INITIALIZE)
                await raw.until(lambda: raw.closed() is not None)
                await raw.stream.aclose()
                ended = raw.closed()
                assert ended is not None
                return ended

        ended = trio.run(idle)
        assert (ended.code, ended.reason) == (1001, "idle for 0.5 s")
        server.signal(signal.SIGTERM)
        assert server.wait() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "mcpws: name the stdio server's command after --, as in: expose -- COMMAND"),
        (("--idle-timeout", "0", "--", "cat"), "argument --idle-timeout: a positive number"),
        (("--max-pending-requests", "5", "--", "cat"), "--max-pending-requests is for an mcpws"),
        (("--max-message-size", "-1", "--", "cat"), "a size is a whole number of bytes"),
        (("--env", "NOEQUALS", "--", "cat"), "argument --env: a variable is NAME=VALUE"),
        (("--max-children", "0", "--", "cat"), "argument --max-children: a count is"),
    ],
)
def test_expose_without_a_command_is_one_line_and_status_2(
    args: tuple[str, ...], message: str
) -> None:
    done = run("expose", *args)
    assert done.returncode == 2
    assert message in done.stderr


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module:app", "mcpws: cannot import no_such_module: no module named"),
        ("drain_app:nope", "mcpws: drain_app has no attribute 'nope'"),
        ("drain_app:not_a_server", "mcpws: drain_app:not_a_server is a str, not an mcpws.Server"),
    ],
)
def test_an_app_that_is_not_there_is_one_line_and_status_2(spec: str, message: str) -> None:
    done = run("serve", spec, cwd=INTEROP)
    assert done.returncode == 2
    assert done.stderr.startswith(message)
    assert done.stderr.count("\n") == 1


def test_an_app_that_fails_to_import_shows_its_traceback_and_status_2() -> None:
    done = run("serve", "broken_app:app", cwd=INTEROP)
    assert done.returncode == 2
    assert done.stderr.startswith("Traceback (most recent call last):")
    assert "No module named 'no_such_dependency_of_broken_app'" in done.stderr
    assert done.stderr.endswith("\nmcpws: importing broken_app failed (the traceback is above)\n")


def test_an_app_is_named_as_module_colon_attribute() -> None:
    done = run("serve", "drain_app")
    assert done.returncode == 2
    assert "argument app: name the server as module:attribute, not 'drain_app'" in done.stderr


@pytest.mark.parametrize("loop", LOOPS)
def test_serve_stops_gracefully_on_ctrl_c(loop: str) -> None:
    with Serving("--loop", loop) as server:
        assert server.first.startswith("serving mcpws-demo on ")
        server.signal(signal.SIGINT)
        assert server.wait() == 0
        assert server.rest()[-1] == "stopped"
        assert server.stderr() == ""


@pytest.mark.parametrize("loop", LOOPS)
def test_serve_out_of_descriptors_answers_503_and_says_so_on_stderr(loop: str) -> None:
    """At the limit on open files, a new connection is answered 503 with Retry-After and a
    warning goes to standard error, with nothing configured; once some close, the server
    serves again, and it still stops gracefully."""
    with Serving("--loop", loop, "--log-level", "warning", files=LIMIT) as server:
        held, answer = fill(server.port)
        full = len(held)
        try:
            assert full >= LIMIT - SPARE
            assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
            assert b"\r\nretry-after: 1\r\n" in answer
            warning = server.error_line()
            assert refused(server.port) == answer
            for connection in held:
                close(connection)
            held.clear()
        finally:
            let_go(held)
        assert trio.run(_list_tools, server.url)
        server.signal(signal.SIGINT)
        assert server.wait() == 0
        assert server.rest()[-1] == "stopped"
        assert server.stderr() == ""  # the one warning only: the second refusal said nothing
    assert warning.startswith(
        f"mcpws: WARNING: out of file descriptors (EMFILE: Too many open files) with {full} "
        "connections open: new ones are answered 503 until some close (1 so far); raise the "
        f"limit on open files (ulimit -n, now {LIMIT})"
    )


async def _list_tools(url: str) -> list[str]:
    with trio.fail_after(HARD):
        async with connect(url) as client:
            return [tool.name for tool in await client.list_tools()]


def _hold_then(server: Serving, release: Path, then: Callable[[], Awaitable[object]]) -> Any:
    """Call ``hold`` on *server*, which waits for the file *release*; once the call is in
    flight (its progress came), await *then*; return the call's result or error."""

    async def scenario() -> Any:
        in_flight = trio.Event()
        outcome: list[Any] = []
        with trio.fail_after(HARD):
            async with connect(server.url) as client, trio.open_nursery() as nursery:

                async def call() -> None:
                    arguments = {"release": str(release)}
                    try:
                        result = await client.call_tool(
                            "hold", arguments, on_progress=lambda *_: in_flight.set()
                        )
                    except (ConnectionLost, McpError) as exc:
                        outcome.append(exc)
                    else:
                        outcome.append(result)

                nursery.start_soon(call)
                await in_flight.wait()
                await then()
        return outcome[0]

    return trio.run(scenario)


def _drain_app(*args: str) -> Serving:
    return Serving("drain_app:app", *args, cwd=INTEROP)


def _draining(name: str, seconds: int) -> str:
    return (
        f"{name}: draining; the requests in flight get up to {seconds} s to finish"
        " (Ctrl-C or SIGTERM again stops at once)"
    )


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_drains_on_a_signal(loop: str, signum: int, tmp_path: Path) -> None:
    """The call in flight is answered, then the server exits 0."""
    release = tmp_path / "release"
    with _drain_app("--shutdown-timeout", "30", "--loop", loop) as server:
        printed: list[str] = []

        async def stop() -> None:
            server.signal(signum)
            printed.append(await trio.to_thread.run_sync(server.line))
            release.touch()  # only now: the call was still in flight at the signal

        result = _hold_then(server, release, stop)
        assert isinstance(result, CallToolResult), result
        assert isinstance(result.content[0], TextContent)
        assert result.content[0].text == "released"
        assert server.wait() == 0
        assert printed == [_draining(signal.Signals(signum).name, 30)]
        assert server.rest() == ["stopped"]
        opened, closed = server.stderr().splitlines()
        assert opened.startswith("mcpws: INFO: connection opened: 127.0.0.1:")
        # The close handshake finished: the server's 1001, answered, or the client's own
        # 1000 when it left first, once it had its answer; never a connection cut (1006).
        assert closed.startswith("mcpws: INFO: connection closed: 127.0.0.1:")
        assert re.search(r", code (1001 \(the server is shutting down\)|1000), ", closed), closed


@pytest.mark.parametrize("loop", LOOPS)
def test_the_shutdown_timeout_bounds_the_drain(loop: str, tmp_path: Path) -> None:
    """A call still running when the shutdown timeout passes is answered with an error."""
    with _drain_app("--shutdown-timeout", "1", "--loop", loop) as server:

        async def stop() -> None:
            server.signal(signal.SIGTERM)

        outcome = _hold_then(server, tmp_path / "never", stop)
        assert isinstance(outcome, McpError)
        assert outcome.message == "the server shut down before answering"
        assert server.wait() == 0
        assert server.rest() == [_draining("SIGTERM", 1), "stopped"]


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize(
    ("first", "second"),
    [(signal.SIGINT, signal.SIGINT), (signal.SIGTERM, signal.SIGTERM)],
    ids=["SIGINT-SIGINT", "SIGTERM-SIGTERM"],
)
def test_a_second_signal_stops_at_once(loop: str, first: int, second: int, tmp_path: Path) -> None:
    """During the drain, the call in flight is dropped and the server exits 128 + N."""
    with _drain_app("--shutdown-timeout", "30", "--loop", loop) as server:

        async def stop() -> None:
            server.signal(first)
            assert "draining" in await trio.to_thread.run_sync(server.line)
            server.signal(second)

        started = time.monotonic()
        assert isinstance(_hold_then(server, tmp_path / "never", stop), ConnectionLost)
        assert server.wait() == 128 + second
        assert time.monotonic() - started < 30  # not after the shutdown timeout
        assert server.rest() == [f"{signal.Signals(second).name} again: stopped at once"]


def _workers(server: Serving, count: int, *, others: list[str] | None = None) -> list[int]:
    """The process ids of *server*'s next *count* workers, once each of them serves; the
    other lines printed meanwhile go to *others*."""
    started: list[int] = []
    serving: set[int] = set()
    while len(serving) < count:
        line = server.line()
        if found := re.fullmatch(r"worker (\d+) started", line):
            started.append(int(found[1]))
        elif found := re.match(r"worker (\d+): serving ", line):
            serving.add(int(found[1]))
        elif others is not None:
            others.append(line)
    assert serving == set(started), (serving, started)
    return started


async def _whoami(client: Any) -> int:
    result = await client.call_tool("whoami", {})
    return int(result.content[0].text)


@pytest.mark.parametrize("loop", LOOPS)
def test_workers_drain_a_call_in_flight_on_each_of_them(loop: str, tmp_path: Path) -> None:
    """``--workers 4``: with a call held on every worker, SIGTERM answers each call, closes
    each connection with 1001, and the supervisor exits 0."""
    release = tmp_path / "release"
    with _drain_app("--workers", "4", "--shutdown-timeout", "30", "--loop", loop) as server:
        assert server.first.endswith(f"with 4 workers ({loop}; Ctrl-C or SIGTERM stops)")
        pids = _workers(server, 4)
        answers: dict[int, str] = {}
        draining: list[str] = []

        async def scenario() -> None:
            stopped = trio.Event()

            async def hold_on_a_new_worker(task_status: trio.TaskStatus[None]) -> None:
                async with connect(server.url) as client:
                    pid = await _whoami(client)
                    if pid in answers:
                        task_status.started()
                        return  # a worker held already: this connection closes (1000)
                    answers[pid] = "in flight"
                    result = await client.call_tool(
                        "hold", {"release": str(release)}, on_progress=lambda *_: in_flight()
                    )
                    assert isinstance(result.content[0], TextContent)
                    answers[pid] = result.content[0].text
                    await stopped.wait()  # until the server has closed the connection

            def in_flight() -> None:
                with contextlib.suppress(RuntimeError):  # once only
                    status.started()

            with trio.fail_after(HARD):
                async with trio.open_nursery() as nursery:
                    for _ in range(400):
                        status: Any = None

                        async def one(task_status: trio.TaskStatus[None]) -> None:
                            nonlocal status
                            status = task_status
                            await hold_on_a_new_worker(task_status)

                        await nursery.start(one)
                        if len(answers) == 4:
                            break
                    assert sorted(answers) == sorted(pids), "not every worker took a connection"
                    server.signal(signal.SIGTERM)
                    while len(draining) < 5:  # the supervisor's line, then each worker's
                        line = await trio.to_thread.run_sync(server.line)
                        if "draining" in line:
                            draining.append(line)
                    release.touch()  # only now: every call was still in flight
                    assert await trio.to_thread.run_sync(server.wait) == 0
                    stopped.set()

        trio.run(scenario)
        assert answers == dict.fromkeys(pids, "released")
        assert draining[0].startswith("SIGTERM: draining 4 workers; ")
        assert sorted(line.split(":")[0] for line in draining[1:]) == sorted(
            f"worker {pid}" for pid in pids
        )
        assert server.rest()[-1] == "stopped"
        closed = [line for line in server.stderr().splitlines() if "connection closed" in line]
        codes = [re.search(r", code (\d+)", line)[1] for line in closed]  # type: ignore[index]
        assert codes.count("1001") == 4, closed
        assert set(codes) == {"1000", "1001"} or set(codes) == {"1001"}, closed
        assert all(re.match(r"mcpws\[\d+\]: INFO: ", line) for line in closed), closed


@pytest.mark.parametrize("loop", LOOPS)
def test_a_killed_worker_is_replaced_and_the_new_one_serves(loop: str) -> None:
    with _drain_app("--workers", "2", "--loop", loop) as server:
        first = _workers(server, 2)
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        # Each death is told before its replacement starts, which may come before the next.
        told: list[str] = []
        second = _workers(server, 2, others=told)
        assert not set(first) & set(second)
        assert sorted(line.split(" another")[0] for line in told) == sorted(
            f"worker {pid} was killed by SIGKILL;" for pid in first
        )

        async def served_by() -> set[int]:
            seen = set()
            with trio.fail_after(HARD):
                for _ in range(4):
                    async with connect(server.url) as client:
                        seen.add(await _whoami(client))
            return seen

        assert trio.run(served_by) <= set(second)
        server.signal(signal.SIGTERM)
        assert server.wait() == 0
        assert server.rest()[-1] == "stopped"


def test_workers_that_cannot_start_stop_the_supervisor_with_status_2() -> None:
    done = run("serve", "drain_app:not_a_server", "--workers", "2", "--port", "0", cwd=INTEROP)
    assert done.returncode == 2
    assert "could not start as configured: stopping" in done.stdout
    assert "mcpws: drain_app:not_a_server is a str, not an mcpws.Server" in done.stderr


def test_workers_do_not_go_with_stdio_or_dial() -> None:
    for args in (["--stdio"], ["--dial", "ws://127.0.0.1:9/"]):
        done = run("serve", "--workers", "2", *args)
        assert done.returncode == 2
        assert done.stderr == "mcpws: --workers is for listening: not with --stdio or --dial\n"


@pytest.mark.parametrize("loop", LOOPS)
def test_serve_logs_each_connection_and_request_as_json_lines(loop: str) -> None:
    with Serving("--loop", loop, "--log-level", "debug", "--log-format", "json") as server:
        assert trio.run(_list_tools, server.url)
        server.signal(signal.SIGINT)
        assert server.wait() == 0
        records = [json.loads(line) for line in server.stderr().splitlines()]
    events = [record.get("event") for record in records]
    assert events == ["opened", "request", "closed"]
    opened, listed, closed = records
    assert (opened["logger"], opened["level"], opened["path"]) == (
        "mcpws.connection",
        "INFO",
        "/mcp",
    )
    assert opened["peer"].startswith("127.0.0.1:")
    assert opened["time"].endswith("Z")
    assert (listed["method"], listed["outcome"], listed["level"]) == (
        "tools/list",
        "result",
        "DEBUG",
    )
    assert closed["code"] == 1000
    assert closed["messages_received"] >= 2
    assert closed["bytes_sent"] > 0
    assert closed["message"].startswith("connection closed: 127.0.0.1:")


def test_serve_with_proxy_headers_logs_the_client_a_trusted_proxy_reports() -> None:
    async def forged(url: str) -> None:
        headers = [("X-Forwarded-For", "198.51.100.1, 203.0.113.7")]
        with trio.fail_after(HARD):
            async with connect(url, headers=headers) as client:
                await client.list_tools()

    for trusted, seen in (("127.0.0.1", "203.0.113.7"), ("10.0.0.0/8", "127.0.0.1:")):
        with Serving("--proxy-headers", "--forwarded-allow-ips", trusted) as server:
            trio.run(forged, server.url)
            server.signal(signal.SIGINT)
            assert server.wait() == 0
            opened = server.stderr().splitlines()[0]
        assert opened.startswith(f"mcpws: INFO: connection opened: {seen}")


def test_a_bad_trusted_proxy_is_a_bad_command_line() -> None:
    done = run("serve", "--proxy-headers", "--forwarded-allow-ips", "proxy.example")
    assert done.returncode == 2
    assert done.stderr.startswith("mcpws: --forwarded-allow-ips: a trusted proxy is an address")


# The notification bus -----------------------------------------------------------------------

#: What a client of news_app is told when ``publish`` is called with news://today.
TODAY: list[tuple[str, Any]] = [("notifications/resources/updated", {"uri": "news://today"})]
TOOLS: list[tuple[str, Any]] = [("notifications/tools/list_changed", {})]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _logged(server: Serving, text: str) -> str:
    """The next line *server* writes to standard error that says *text* (past the others)."""
    while text not in (line := server.error_line()):
        pass
    return line


@pytest.mark.parametrize("loop", LOOPS)
def test_replicas_on_redis_tell_each_others_clients_and_outlive_a_redis_restart(
    loop: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Two ``mcpws serve --bus`` processes: the clients listening on A, of each era, are told
    of the changes a call on B makes; with Redis stopped, B answers its calls and A hears
    nothing; once Redis is back, so is the bus; and it carries the changes of a call that
    B, stopping, lets finish."""
    url = redis_server.url
    bus = ("news_app:app", "--bus", url, "--loop", loop)
    release = tmp_path / "release"
    with Serving(*bus, cwd=INTEROP) as a, Serving(*bus, cwd=INTEROP) as b:
        for replica in (a, b):
            assert _logged(replica, "on the bus").endswith(f"on the bus at {url} as mcpws:news")
        heard: dict[str, list[tuple[str, Any]]] = {"handshake": [], "stream": []}

        async def scenario() -> None:
            told = {name: trio.Event() for name in heard}

            def note(name: str) -> Callable[[str, Any], None]:
                def noted(method: str, params: Any) -> None:
                    if method != "notifications/subscriptions/acknowledged":
                        json = params.to_json()
                        json.pop("_meta", None)
                        heard[name].append((method, json))
                    told[name].set()

                return noted

            async def told_of(call: Callable[[], Awaitable[object]]) -> list[tuple[str, Any]]:
                """What each listener on A heard, once both heard of two changes *call*
                makes on B."""
                for name in heard:
                    heard[name].clear()
                    told[name] = trio.Event()
                await call()
                for name in heard:
                    while len(heard[name]) < 2:
                        await told[name].wait()
                        told[name] = trio.Event()
                assert heard["handshake"] == heard["stream"]
                return heard["handshake"]

            async def publish(uri: str = "news://today") -> None:
                result = await caller.call_tool("publish", {"uri": uri})
                assert result.content == [TextContent(text="published")]

            async def logged(text: str) -> None:
                for replica in (a, b):
                    await trio.to_thread.run_sync(_logged, replica, text)

            with trio.fail_after(HARD):
                async with (
                    connect(a.url, revisions=("2025-11-25",)) as handshake,
                    connect(a.url, revisions=("2026-07-28",)) as stream,
                    connect(b.url) as caller,
                    trio.open_nursery() as nursery,
                ):
                    handshake.on_notification = note("handshake")
                    for uri in ("news://today", "news://late"):
                        await handshake.subscribe_resource(uri)
                    uris = ["news://today", "news://late"]
                    nursery.start_soon(lambda: stream.listen(note("stream"), tools=True, uris=uris))
                    await told["stream"].wait()  # acknowledged
                    assert await told_of(publish) == TODAY + TOOLS

                    await trio.to_thread.run_sync(redis_server.stop)
                    await logged("is down (ConnectionError: ")
                    await publish("news://late")  # no bus: no matter

                    await trio.to_thread.run_sync(redis_server.start)
                    await logged(f"the bus at {url} is back: mcpws:news is carried again")
                    # What was published while Redis was down is not told late.
                    assert await told_of(publish) == TODAY + TOOLS

                    # A call B lets finish as it stops: its changes still cross the bus.
                    in_flight, answered = trio.Event(), trio.Event()

                    async def held() -> None:
                        result = await caller.call_tool(
                            "publish_later",
                            {"release": str(release), "uri": "news://today"},
                            on_progress=lambda *_: in_flight.set(),
                        )
                        assert result.content == [TextContent(text="published")]
                        answered.set()

                    async def stopping_b() -> None:
                        nursery.start_soon(held)
                        await in_flight.wait()
                        b.signal(signal.SIGTERM)
                        while "draining" not in await trio.to_thread.run_sync(b.line):
                            pass
                        release.touch()

                    assert await told_of(stopping_b) == TODAY + TOOLS
                    await answered.wait()
                    assert await trio.to_thread.run_sync(b.wait) == 0
                    nursery.cancel_scope.cancel()

        trio.run(scenario)
        a.signal(signal.SIGTERM)
        for replica in (a, b):
            assert replica.wait() == 0, replica.stderr()
            assert "Traceback" not in replica.stderr()


def test_the_typescript_sdk_client_on_one_replica_hears_of_a_change_on_another(
    redis_server: RedisServer,
) -> None:
    """The official TypeScript SDK's client, subscribed on A, is told of the changes a call
    on B makes, through the bus."""
    packages = node_packages_folder()
    bus = ("news_app:app", "--bus", redis_server.url)
    with Serving(*bus, cwd=INTEROP) as a, Serving(*bus, cwd=INTEROP) as b:
        for replica in (a, b):
            _logged(replica, "on the bus at ")
        script: list[str | Path] = [packages / NODE, INTEROP / "ts_listen.mjs", packages]
        script += [a.url, "news://today", "2"]
        listener = subprocess.Popen(script, stdout=subprocess.PIPE, text=True)
        assert listener.stdout is not None
        printed: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_lines, args=(listener.stdout, printed), daemon=True)
        reader.start()
        try:
            assert printed.get(timeout=HARD) == "subscribed"

            async def publish() -> None:
                with trio.fail_after(HARD):
                    async with connect(b.url) as caller:
                        await caller.call_tool("publish", {"uri": "news://today"})

            trio.run(publish)
            heard = [json.loads(line) for line in iter(lambda: printed.get(timeout=HARD), None)]
            assert listener.wait(timeout=HARD) == 0
        finally:
            if listener.poll() is None:
                listener.kill()
                listener.wait(timeout=HARD)
            reader.join(timeout=HARD)
            listener.stdout.close()
    for one in heard:
        one["params"].pop("_meta", None)
    assert heard == [
        {"method": "notifications/resources/updated", "params": {"uri": "news://today"}},
        {"method": "notifications/tools/list_changed", "params": {}},
    ]


def test_a_bus_is_a_redis_url_and_it_and_metrics_are_for_listening_servers() -> None:
    done = run("serve", "--bus", "http://127.0.0.1:6379")
    assert done.returncode == 2
    assert done.stderr == (
        "mcpws: --bus: a Redis URL begins with redis://, rediss://, unix://, not "
        "'http://127.0.0.1:6379'\n"
    )
    done = run("serve", "--workers", "2", "--port", "0", "--bus", "http://nowhere")
    assert done.returncode == 2  # said once, by the supervisor, and no worker started
    assert done.stderr == (
        "mcpws: --bus: a Redis URL begins with redis://, rediss://, unix://, not 'http://nowhere'\n"
    )
    assert "worker" not in done.stdout
    for flag, value in (("--bus", "redis://127.0.0.1:6379/0"), ("--metrics", "9")):
        for how, *more in (["--stdio"], ["--dial", "ws://127.0.0.1:9/"]):
            done = run("serve", flag, value, how, *more)
            assert done.returncode == 2
            assert done.stderr == f"mcpws: {flag} is for listening servers: not with {how}\n"


@pytest.mark.parametrize(
    ("missing", "args", "said"),
    [
        ("coredis", ["--bus", "redis://127.0.0.1:6379/0"], "--bus: mcpws.redis needs coredis"),
        (
            "prometheus_client",
            ["--metrics", "9"],
            "--metrics: mcpws.metrics needs prometheus-client",
        ),
    ],
)
def test_an_option_without_its_extra_says_which_to_install(
    missing: str, args: list[str], said: str
) -> None:
    extra = said.split("mcpws.")[1].split(" ")[0]
    script = (
        f"import sys; sys.modules[{missing!r}] = None; from mcpws.__main__ import main; "
        f"sys.exit(main(['serve', '--port', '0', *{args!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=HARD, check=False
    )
    assert done.returncode == 2
    assert done.stderr == f"mcpws: {said}: pip install 'mcpws[{extra}]'\n"


# Metrics ------------------------------------------------------------------------------------


def _scraped(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples ``/metrics`` at 127.0.0.1:*port* shows of mcpws, by name and labels."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=HARD) as answer:
        text = answer.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("mcpws_")
    }


CALLS = (("method", "tools/call"), ("outcome", "result"))
CLOSED = re.compile(
    r"connection closed: .*; in (\d+) messages, (\d+) bytes; out (\d+) messages, (\d+) bytes"
)


@pytest.mark.parametrize(
    ("loop", "workers"), [("trio", ()), *((loop, ("--workers", "2")) for loop in LOOPS)]
)
def test_metrics_scraped_during_a_load_run_match_what_the_clients_did(
    loop: str, workers: tuple[str, ...]
) -> None:
    """Clients on every worker make calls: a scrape while they are connected counts them
    open and counts their calls; once they have left, it counts each connection closed
    with 1000 and, message for message and byte for byte, what the logs say they
    carried. With ``--workers``, one scrape sums every worker's figures."""
    port = free_port()
    args = ("--metrics", str(port), "--loop", loop, *workers)
    with _drain_app(*args) as server:
        assert server.line() == f"metrics on http://127.0.0.1:{port}/metrics"
        pids = _workers(server, 2) if workers else [server.process.pid]
        calls = 3
        opened: dict[int, int] = {}  # connections open, by the process serving them

        async def scenario() -> Any:
            leave = trio.Event()

            async def client(task_status: trio.TaskStatus[int]) -> None:
                async with connect(server.url) as client:
                    for _ in range(calls):
                        pid = await _whoami(client)
                    task_status.started(pid)
                    await leave.wait()

            with trio.fail_after(HARD):
                async with trio.open_nursery() as nursery:
                    while len(opened) < len(pids) or sum(opened.values()) < 8:
                        assert sum(opened.values()) < 200, "a worker took no connection"
                        pid = await nursery.start(client)
                        opened[pid] = opened.get(pid, 0) + 1
                    during = await trio.to_thread.run_sync(_scraped, port)
                    leave.set()
            return during

        during = trio.run(scenario)
        connections = sum(opened.values())
        assert sorted(opened) == sorted(pids)
        assert during[("mcpws_connections_open", ())] == connections
        assert during[("mcpws_requests_total", CALLS)] == connections * calls
        assert during[("mcpws_request_duration_seconds_count", (CALLS[0],))] == connections * calls
        carried = [0, 0, 0, 0]
        for _ in range(connections):
            found = CLOSED.search(_logged(server, "connection closed: "))
            assert found is not None
            carried = [total + int(one) for total, one in zip(carried, found.groups(), strict=True)]
        after = _scraped(port)
        assert after[("mcpws_connections_open", ())] == 0
        assert after[("mcpws_connections_total", (("code", "1000"),))] == connections
        assert after[("mcpws_requests_total", CALLS)] == connections * calls
        assert [
            after[(f"mcpws_{name}_total", ())]
            for name in ("received_messages", "received_bytes", "sent_messages", "sent_bytes")
        ] == carried
        server.signal(signal.SIGTERM)
        assert server.wait() == 0


def test_metrics_need_a_port_that_is_free() -> None:
    done = run("serve", "--metrics", "localhost:http")
    assert done.returncode == 2
    assert "the metrics are served on [HOST:]PORT, not 'localhost:http'" in done.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("serve", "--port", "0", "--metrics", str(port))
    assert done.returncode == 3
    assert (
        done.stderr
        == f"mcpws: cannot serve the metrics on 127.0.0.1:{port}: Address already in use\n"
    )
