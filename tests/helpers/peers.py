"""What the interoperability tests share: the cache folder their peers are installed in, the
rule for a peer that cannot be installed, and ``mcpws serve`` in a process of its own
(:class:`ServerProcess` one that can be killed and started again).

Peers nobody here wrote (the official SDKs, Node, a browser, other WebSocket libraries) are
installed once into ``$MCPWS_TEST_CACHE``, else ``~/.cache/mcpws``, and kept across runs. A
test whose peer cannot be had calls :func:`peer_missing`: it is skipped, saying why, unless
``MCPWS_REQUIRE_PEERS=1``, where it fails instead, so that CI cannot pass on a missing peer.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
import trio

from .pairs import SHIPPED

#: Where the peers are installed, once, and kept across runs.
CACHE = Path(os.environ.get("MCPWS_TEST_CACHE") or Path.home() / ".cache" / "mcpws")

#: The drivers mcpws ships, which every peer test runs against (``mcpws serve --loop``).
LOOPS = SHIPPED

#: The scripts and pages the peers run.
INTEROP = Path(__file__).resolve().parents[1] / "interop"


def peer_missing(reason: str) -> NoReturn:
    """Skip the test for want of its peer, giving *reason*; fail it instead when
    ``MCPWS_REQUIRE_PEERS=1``."""
    if os.environ.get("MCPWS_REQUIRE_PEERS") == "1":
        pytest.fail(f"{reason} (and MCPWS_REQUIRE_PEERS=1 requires every peer)")
    pytest.skip(reason)


def last_line(text: str | bytes | None) -> str:
    """The last line of a failed command's output, to give as the reason."""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else "no output"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on, just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PeerExited(AssertionError):
    """The process that was to listen on a port exited instead."""


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Return once something accepts connections on 127.0.0.1:*port*; fail if *process*
    exits first or *timeout* seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            pass
        try:  # waiting on the process spaces out the attempts, and notices its exit at once
            status = process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        raise PeerExited(f"the process that should listen on port {port} exited ({status})")
    raise AssertionError(f"nothing listens on port {port} after {timeout} s")


class ServerProcess:
    """``mcpws serve slow_app:app`` (``tests/interop/slow_app.py``: ``add`` and ``hang``) on
    one port, with the driver *loop*, which can be killed and started again."""

    def __init__(self, loop: str) -> None:
        self.port = free_port()
        self.loop = loop
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/mcp"

    def start(self) -> None:
        command = [sys.executable, "-m", "mcpws", "serve", "slow_app:app", "--loop", self.loop]
        command += ["--port", str(self.port)]
        self.process = subprocess.Popen(command, cwd=INTEROP, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        assert b"serving slow" in self.process.stdout.readline()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.stdout is not None
        self.process.stdout.close()


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate *process* and wait for it; kill it if it does not end in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@contextmanager
def mcpws_serving(loop: str, *options: str, child: Sequence[str] = ()) -> Iterator[int]:
    """``python -m mcpws serve`` (the demo server, unless *options* name another, such as a
    ``module:attribute`` of ``tests/interop``), or ``mcpws expose -- *child*`` when a *child*
    command is given, on *loop*, in a process of its own while in the block; yields its
    port. Should another process take the free port first, the server exits and is started
    again on another."""
    for attempt in range(3):
        port = free_port()
        verb = "expose" if child else "serve"
        command = [sys.executable, "-m", "mcpws", verb, *options, "--port", str(port)]
        command += ["--loop", loop, *(["--", *child] if child else [])]
        process = subprocess.Popen(command, cwd=INTEROP, stdout=subprocess.DEVNULL)
        try:
            try:
                wait_for_port(port, process)
            except PeerExited:
                if attempt == 2:
                    raise
                continue
            yield port
            return
        finally:
            stop(process)


#: The ASGI servers ``mcpws.asgi`` is tested under: each one's command line, serving an
#: application on the port ``{port}`` stands for.
ASGI_SERVERS = {
    "uvicorn-websockets": ("uvicorn", "--ws", "websockets-sansio", "--port", "{port}"),
    "uvicorn-wsproto": ("uvicorn", "--ws", "wsproto", "--port", "{port}"),
    "hypercorn-asyncio": ("hypercorn", "-k", "asyncio", "--bind", "127.0.0.1:{port}"),
    "hypercorn-trio": ("hypercorn", "-k", "trio", "--bind", "127.0.0.1:{port}"),
    "granian": ("granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", "{port}"),
}


@contextmanager
def asgi_serving(app: str, *command: str) -> Iterator[int]:
    """``python -m *command* app``, an ASGI server serving *app* (a ``module:attribute`` of
    ``tests/interop``), where ``{port}`` in *command* stands for a free port, in a process
    of its own while in the block; yields the port."""
    port = free_port()
    arguments = [sys.executable, "-m", *(part.format(port=port) for part in command), app]
    process = subprocess.Popen(arguments, cwd=INTEROP, stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield port
    finally:
        stop(process)


def upgrade_status(
    port: int,
    *,
    host: str | None = None,
    origin: str | None = None,
    subprotocol: str = "mcp",
    path: str = "/mcp",
) -> int:
    """The status a server on 127.0.0.1:*port* answers a WebSocket upgrade to *path*
    with, offering *subprotocol* and naming *host* (``127.0.0.1:port`` by default) and
    *origin*."""
    head = [
        f"GET {path} HTTP/1.1",
        f"Host: {host or f'127.0.0.1:{port}'}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        f"Sec-WebSocket-Protocol: {subprotocol}",
        *([f"Origin: {origin}"] if origin is not None else []),
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        with sock.makefile("rb") as answer:
            return int(answer.readline().split()[1])


def run_on(loop: str, main: Callable[[], Awaitable[None]], timeout: float = 30) -> None:
    """Run *main* on *loop* with a hard timeout."""

    async def on_trio() -> None:
        with trio.fail_after(timeout):
            await main()

    async def on_asyncio() -> None:
        async with asyncio.timeout(timeout):
            await main()

    if loop == "trio":
        trio.run(on_trio)
    else:
        asyncio.run(on_asyncio())


class RedisServer:
    """Debian's ``redis-server`` on a free port of 127.0.0.1, keeping nothing on disk, which
    can be stopped and started again on the same port."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            peer_missing("redis-server is not installed (Debian: apt-get install redis-server)")
        self.binary, self.folder, self.port = binary, folder, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it, and return once it answers a PING."""
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as probe:
            probe.sendall(b"PING\r\n")
            assert probe.recv(64) == b"+PONG\r\n"

    def wait_for_subscribers(self, channel: str, count: int, timeout: float = 60) -> None:
        """Return once *count* connections subscribe to *channel*; fail after *timeout*
        seconds."""
        name = channel.encode()
        ask = b"*3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n$%d\r\n%s\r\n" % (len(name), name)
        deadline = time.monotonic() + timeout
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as probe:
            while time.monotonic() < deadline:
                probe.sendall(ask)
                answer = b""
                while not answer.endswith(b"\r\n") or answer.count(b"\r\n") < 4:
                    answer += probe.recv(256)
                if int(answer.split(b"\r\n")[3].lstrip(b":")) >= count:
                    return
                time.sleep(0.05)  # spaces the questions out; the answer is what is waited on
        raise AssertionError(f"fewer than {count} subscribers to {channel} after {timeout} s")

    def stop(self) -> None:
        """Stop it (SIGTERM: it closes every connection) and wait for it."""
        if self.process is not None:
            stop(self.process)
            self.process = None
