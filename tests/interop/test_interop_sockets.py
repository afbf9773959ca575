"""``mcpws serve --uds`` and ``mcpws serve --fd`` on each driver, used by the official
TypeScript SDK client over ``ws``: through a small TCP-to-unix relay, and on a listening
socket the test makes and passes to the server's process, as systemd's socket activation
does; by one process and by a supervisor's workers."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.peers import INTEROP, LOOPS, stop
from helpers.typescript import NODE, node_packages_folder

TIMEOUT = 60


@pytest.fixture(scope="module")
def node_packages() -> Path:
    return node_packages_folder()


def ts_add(node_packages: Path, port: int) -> dict[str, object]:
    """What the TypeScript SDK client saw calling ``add`` at 127.0.0.1:*port*."""
    script = [node_packages / NODE, INTEROP / "ts_tools.mjs", node_packages]
    done = subprocess.run(
        [*script, f"ws://127.0.0.1:{port}/mcp", "add", json.dumps({"a": 2, "b": 3})],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen: dict[str, object] = json.loads(done.stdout)
    return seen


def assert_added(seen: dict[str, object]) -> None:
    assert seen["server"] == "mcpws-demo"
    assert seen["result"] == {"isError": False, "text": "5", "structured": {"result": 5}}


def stopped(process: subprocess.Popen[bytes]) -> str:
    """Stop the server *process*, which must exit 0; the first line it printed."""
    stop(process)
    assert process.returncode == 0
    assert process.stdout is not None
    return process.stdout.readline().decode()


def wait_for_unix(path: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as probe:
            probe.connect(path)
            return
        assert process.poll() is None, "the server exited"
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.05)
    pytest.fail(f"nothing listens at {path}")


@contextlib.contextmanager
def tcp_to_unix(path: str) -> Iterator[int]:
    """A relay from a free loopback port to the unix socket at *path*, for the block."""
    listening = socket.create_server(("127.0.0.1", 0))
    listening.settimeout(0.2)
    done = threading.Event()

    def copy(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def serve() -> None:
        while not done.is_set():
            try:
                downstream, _ = listening.accept()
            except TimeoutError:
                continue
            downstream.settimeout(TIMEOUT)
            upstream = socket.socket(socket.AF_UNIX)
            upstream.settimeout(TIMEOUT)
            upstream.connect(path)
            threading.Thread(target=both_ways, args=(downstream, upstream), daemon=True).start()

    def both_ways(downstream: socket.socket, upstream: socket.socket) -> None:
        with downstream, upstream:
            back = threading.Thread(target=copy, args=(upstream, downstream), daemon=True)
            back.start()
            copy(downstream, upstream)
            back.join(timeout=TIMEOUT)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listening.getsockname()[1]
    finally:
        done.set()
        thread.join(timeout=5)
        listening.close()


#: One process, or a supervisor and its workers.
PROCESSES = pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["one", "workers"])


@PROCESSES
@pytest.mark.parametrize("loop", LOOPS)
def test_the_typescript_client_through_a_relay_to_a_unix_socket(
    node_packages: Path, loop: str, workers: list[str]
) -> None:
    path = f"/tmp/mcpws-test-{os.getpid()}-{loop}.sock"
    command = [sys.executable, "-m", "mcpws", "serve", "--uds", path, "--loop", loop, *workers]
    with subprocess.Popen(command, cwd=INTEROP, stdout=subprocess.PIPE) as process:
        try:
            wait_for_unix(path, process)
            with tcp_to_unix(path) as port:
                for _ in range(3 if workers else 1):
                    assert_added(ts_add(node_packages, port))
        finally:
            first = stopped(process)
    named = "" if workers else "mcpws-demo "
    assert first.startswith(f"serving {named}on ws+unix://%2Ftmp%2F")
    assert not os.path.exists(path)


@PROCESSES
@pytest.mark.parametrize("loop", LOOPS)
def test_the_typescript_client_on_inherited_sockets(
    node_packages: Path, loop: str, workers: list[str]
) -> None:
    """One socket passed; with workers, two (``--fd`` twice), each of them served."""
    listening = [socket.create_server(("127.0.0.1", 0)) for _ in range(2 if workers else 1)]
    ports = [one.getsockname()[1] for one in listening]
    fds = [one.fileno() for one in listening]
    given = [word for fd in fds for word in ("--fd", str(fd))]
    command = [sys.executable, "-m", "mcpws", "serve", *given, "--loop", loop, *workers]
    with subprocess.Popen(command, cwd=INTEROP, stdout=subprocess.PIPE, pass_fds=fds) as process:
        for one in listening:
            one.close()  # the server's now: the connections queue until it accepts them
        try:
            for port in ports:
                assert_added(ts_add(node_packages, port))
        finally:
            first = stopped(process)
    named = "" if workers else "mcpws-demo "
    assert first.startswith(f"serving {named}on ws://127.0.0.1:{ports[0]}/mcp")


def test_a_descriptor_that_is_not_a_listening_socket_is_a_bad_command_line() -> None:
    with socket.socket() as unbound:
        fd = unbound.fileno()
        done = subprocess.run(
            [sys.executable, "-m", "mcpws", "serve", "--fd", str(fd)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            pass_fds=[fd],
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr.startswith(f"mcpws: --fd {fd}: not a listening stream socket")
