"""A server with few file descriptors, and clients that use them all up: for the tests of
what a server does once the system has no descriptor left for another connection.

Run as a module (``python -m helpers.descriptors LOOP LIMIT``), this one serves the demo
server with a driver of the registry, its limit on open files lowered to *LIMIT* and logging
configured as an application configures it, and prints its port. The tests hold the other
ends in a process of their own (with the usual limit), over plain blocking sockets, each
operation bounded by :data:`HARD` seconds.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

import mcpws

from .network import upgrade_request

#: The limit on open files the servers run with.
LIMIT = 256

#: The descriptors a server may take beyond one per connection (standard streams, the loop's
#: own, the listening socket, the one in reserve, a margin): it holds LIMIT - SPARE at least.
SPARE = 16

#: Seconds any one operation on a socket may take before the test fails.
HARD = 60.0


def ask(port: int) -> tuple[socket.socket, bytes]:
    """A connection that asked 127.0.0.1:*port* for an upgrade, and the head of the answer
    (what came before the connection closed, if it did first)."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=HARD)
    connection.sendall(upgrade_request(port))
    head = b""
    while b"\r\n\r\n" not in head and (data := connection.recv(4096)):
        head += data
    return connection, head


def read_to_the_end(connection: socket.socket, start: bytes = b"") -> bytes:
    """What *connection* reads until the server closes it (after *start*), then closed."""
    with connection:
        answer = start
        while data := connection.recv(4096):
            answer += data
    return answer


def refused(port: int) -> bytes:
    """The whole answer a new connection to 127.0.0.1:*port* gets, once it is not upgraded."""
    connection, head = ask(port)
    assert not head.startswith(b"HTTP/1.1 101 "), "upgraded"
    return read_to_the_end(connection, head)


def fill(port: int, most: int = 2 * LIMIT) -> tuple[list[socket.socket], bytes]:
    """Upgrade connections to 127.0.0.1:*port* until one is not upgraded (at most *most*):
    those upgraded, still open, and the whole answer to the first that was not."""
    held: list[socket.socket] = []
    try:
        for _ in range(most):
            connection, head = ask(port)
            if not head.startswith(b"HTTP/1.1 101 "):
                return held, read_to_the_end(connection, head)
            held.append(connection)
    except BaseException:
        let_go(held)
        raise
    let_go(held)
    raise AssertionError(f"{most} connections upgraded and none refused")


def close(connection: socket.socket) -> None:
    """Close an upgraded *connection* with the WebSocket closing handshake, and return once
    the server has closed its end (and so freed its descriptor)."""
    payload = (1000).to_bytes(2, "big")
    key = b"\x01\x02\x03\x04"
    masked = bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))
    connection.sendall(bytes([0x88, 0x80 | len(payload)]) + key + masked)
    read_to_the_end(connection)


def let_go(connections: list[socket.socket]) -> None:
    for connection in connections:
        connection.close()


#: Where the server's process finds mcpws (the one these tests import) and these helpers.
_PATH = (
    str(Path(mcpws.__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1]),
    *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep)),
)


@attrs.define
class FewDescriptors:
    """A server in a process of its own with few file descriptors."""

    process: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/mcp"

    def stop(self) -> str:
        """Stop the server at once; what it wrote to standard error."""
        self.process.kill()
        _, err = self.process.communicate(timeout=HARD)
        return err


@contextmanager
def few_descriptors(loop: str, limit: int = LIMIT) -> Iterator[FewDescriptors]:
    """The demo server on *loop* (a driver of the registry), able to open *limit* files at
    most, while in the block."""
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.descriptors", loop, str(limit)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(_PATH)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, f"the server did not start: {process.communicate(timeout=HARD)[1]}"
        yield FewDescriptors(process, int(line))
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=HARD)


def _serve(loop: str, limit: int) -> None:
    import resource

    import trio

    from mcpws._demo import demo_server
    from mcpws.lowlevel import DRIVERS

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    logging.basicConfig(format="%(name)s %(levelname)s %(message)s")
    driver = DRIVERS[loop]
    serving = driver.load().serving

    async def main() -> None:
        async with serving(demo_server()) as listening:
            print(listening.port, flush=True)
            if driver.loop == "trio":
                await trio.sleep_forever()
            else:
                import asyncio

                await asyncio.Event().wait()

    driver.run(main)


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]))
