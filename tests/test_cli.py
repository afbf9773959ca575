"""The ``mcpws`` command line: the demo, and one request at a time against a real server."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from mcpws.__main__ import main


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpws", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


LOOPS = ["trio", "asyncio"]


@pytest.mark.parametrize("loop", LOOPS)
def test_the_demo_uses_every_part_of_the_demo_server(loop: str) -> None:
    lines: list[str] = []
    assert main(["demo", "--loop", loop], write=lines.append) == 0
    transcript = "\n".join(lines)
    assert "session open: MCP 2026-07-28, server mcpws-demo" in transcript
    assert "tools: add, divide, countdown, echo" in transcript
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


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc_info:
        main([])
    assert exc_info.value.code == 2


def test_python_dash_m_runs_the_demo() -> None:
    done = run("demo")
    assert done.returncode == 0, done.stderr
    assert "call countdown" in done.stdout
    assert done.stderr == ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module", params=LOOPS)
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    """``mcpws serve`` in a subprocess, on each loop; its URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mcpws", "serve", "--port", str(port), "--loop", request.param],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "serving mcpws-demo on" in process.stdout.readline()
        yield f"ws://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize("loop", LOOPS)
def test_tools_lists_the_tools(served: str, loop: str) -> None:
    done = run("tools", served, "--loop", loop)
    assert done.returncode == 0, done.stderr
    assert [tool["name"] for tool in json.loads(done.stdout)] == [
        "add",
        "divide",
        "countdown",
        "echo",
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
def test_an_error_reply_is_one_line_and_a_failure(served: str, loop: str) -> None:
    done = run("call", served, "resources/read", '{"uri": "demo://nope"}', "--loop", loop)
    assert done.returncode == 1
    assert done.stderr == "mcpws: the server answered -32002: resource not found: demo://nope\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tool", "URL", "echo", "text"), "a tool argument is key=value"),
        (("call", "URL", "ping", "[1]"), "PARAMS_JSON must be a JSON object"),
        (("call", "URL", "ping", "--header", "nocolon"), "a header is NAME: VALUE"),
    ],
)
def test_bad_arguments_are_one_line_and_a_failure(
    served: str, args: tuple[str, ...], message: str
) -> None:
    done = run(*(served if arg == "URL" else arg for arg in args))
    assert done.returncode == 1
    assert done.stderr.startswith(f"mcpws: {message}")
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize("loop", LOOPS)
def test_a_server_that_is_not_there_is_one_line_and_a_failure(loop: str) -> None:
    done = run("tools", f"ws://127.0.0.1:{_free_port()}/mcp", "--loop", loop)
    assert done.returncode == 1
    assert done.stderr.startswith("mcpws: ")
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize("loop", LOOPS)
def test_serve_stops_gracefully_on_ctrl_c(loop: str) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mcpws", "serve", "--port", str(port), "--loop", loop],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert "serving mcpws-demo on" in process.stdout.readline()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert (process.returncode, out, err) == (0, "stopped\n", "")
