"""The Autobahn echo server in tests/compliance works: a real socket, a real subprocess.

The server runs as ``python tests/compliance/echo_server.py --port 0``; a client core talks to
it over a loopback socket, has a text and a binary message echoed, and closes cleanly. The
whole exchange must take less than 30 seconds.
"""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpws.core.websocket import (
    BytesReceived,
    Closing,
    ConnectionAccepted,
    ConnectionClosed,
    TextReceived,
    WebSocketClient,
    WebSocketEvent,
)

ECHO_SERVER = Path(__file__).parent / "compliance" / "echo_server.py"
TIMEOUT = 30.0


@pytest.fixture
def echo_server() -> Iterator[tuple[str, float]]:
    """The ``ws://`` URL of a running echo server, and the deadline of the test."""
    deadline = time.monotonic() + TIMEOUT
    with subprocess.Popen(
        [sys.executable, str(ECHO_SERVER), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        try:
            ready, _, _ = select.select([process.stdout], [], [], TIMEOUT)
            line = process.stdout.readline() if ready else ""
            assert line.startswith("listening on ws://"), f"the echo server said {line!r}"
            yield line.split()[-1], deadline
        finally:
            process.terminate()
            _, errors = process.communicate(timeout=10)
    assert "Traceback" not in errors, errors


def exchange(client: WebSocketClient, sock: socket.socket, deadline: float) -> list[WebSocketEvent]:
    """Write what the client has to send, then read until it has events (or closed).

    ``b""`` from the client shuts our side of the socket down for writing."""
    while True:
        for data in client.data_to_send():
            if data:
                sock.sendall(data)
            else:
                sock.shutdown(socket.SHUT_WR)
        events = client.events_received()
        if events or client.closed:
            return events
        sock.settimeout(max(0.0, deadline - time.monotonic()))
        received = sock.recv(65536)
        if received:
            client.receive_data(received, time.monotonic())
        else:
            client.receive_eof(time.monotonic())


def test_echo_server_echoes_text_and_binary(echo_server: tuple[str, float]) -> None:
    url, deadline = echo_server
    client = WebSocketClient(f"{url}/any/path", time.monotonic())
    with socket.create_connection((client.host, client.port), timeout=TIMEOUT) as sock:
        (accepted,) = exchange(client, sock, deadline)
        assert isinstance(accepted, ConnectionAccepted)
        assert accepted.extensions == ("permessage-deflate",)

        client.send_text("héllo, autobahn " * 100)
        assert exchange(client, sock, deadline) == [TextReceived("héllo, autobahn " * 100)]
        client.send_bytes(bytes(range(256)) * 10)
        assert exchange(client, sock, deadline) == [BytesReceived(bytes(range(256)) * 10)]

        client.close(now=time.monotonic())
        assert exchange(client, sock, deadline) == [Closing(1000, "", by_peer=False)]
        (closed,) = exchange(client, sock, deadline)
        assert closed == ConnectionClosed(1000, "", clean=True)
        assert client.closed
        assert sock.recv(1) == b""  # the server closed its end too
