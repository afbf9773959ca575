"""An echo server on mcpws.core.websocket over plain blocking sockets, one thread a connection.

It is a tool for Autobahn|Testsuite's ``fuzzingclient`` mode (see README.md here), not a
test: every text and binary message comes back as it came, permessage-deflate is offered,
messages may be as large as 64 MiB in as many fragments as they like, there are no keepalive
pings (the suite counts every frame), and any path, host and origin may upgrade. Run it with::

    python tests/compliance/echo_server.py --port 9001

It prints ``listening on ws://HOST:PORT`` once it is ready (``--port 0`` picks a free port).
:func:`drive` is the whole driver: a pump between one core and one socket, which
``echo_client.py`` uses too.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from collections.abc import Callable

from mcpws.core.websocket import (
    BytesReceived,
    ServerPolicy,
    TextReceived,
    UpgradeRequested,
    WebSocketClient,
    WebSocketConfig,
    WebSocketEvent,
    WebSocketServer,
)

#: What Autobahn's biggest cases (9.*: 16 MiB messages) need, with room to spare.
MAX_MESSAGE_SIZE = 64 << 20
#: Bytes read from the socket at a time.
READ_SIZE = 256 << 10


def config(compression: bool = True) -> WebSocketConfig:
    """The configuration of both echo tools."""
    return WebSocketConfig(
        max_message_size=MAX_MESSAGE_SIZE,
        max_fragments=None,  # 9.3 and 9.4 send 4 MiB in fragments of 64 bytes
        compression=compression,
        ping_interval=None,
    )


def drive(
    core: WebSocketServer | WebSocketClient,
    sock: socket.socket,
    handle: Callable[[WebSocketEvent], None],
) -> None:
    """Pump bytes between *core* and *sock* until the core closes the transport.

    Each event goes to *handle*, which may call the core's sending methods; time is
    ``time.monotonic()``, and the socket's timeout is the core's next deadline. The core
    holds the messages it reads, and each is handled before the next frame is acted on (a
    bad frame behind a message fails the connection only once the message is echoed).
    """
    core.hold = True
    with sock:
        while True:
            for data in core.data_to_send():
                if not data:
                    break  # the core closed the transport
                try:
                    sock.sendall(data)
                except OSError:
                    core.receive_eof(time.monotonic())
                    break
            if core.closed:
                for event in core.events_received():
                    handle(event)
                return
            deadline = core.next_deadline()
            sock.settimeout(None if deadline is None else max(0.0, deadline - time.monotonic()))
            try:
                received = sock.recv(READ_SIZE)
            except TimeoutError:
                core.handle_timeout(time.monotonic())
            except OSError:
                core.receive_eof(time.monotonic())
            else:
                if received:
                    core.receive_data(received, time.monotonic())
                else:
                    core.receive_eof(time.monotonic())
            for event in core.events_received():
                handle(event)
            while core.resume(time.monotonic()):  # one held message (or what followed) at a time
                for event in core.events_received():
                    handle(event)


def echo(core: WebSocketServer | WebSocketClient) -> Callable[[WebSocketEvent], None]:
    """An event handler that accepts any upgrade and sends every message back."""

    def handle(event: WebSocketEvent) -> None:
        if isinstance(event, UpgradeRequested):
            assert isinstance(core, WebSocketServer)
            core.accept(now=time.monotonic())
        elif isinstance(event, TextReceived) and core.is_open:
            core.send_text(event.text)
        elif isinstance(event, BytesReceived) and core.is_open:
            core.send_bytes(event.data)

    return handle


def serve_connection(sock: socket.socket, compression: bool) -> None:
    """Echo on one accepted connection until it closes."""
    policy = ServerPolicy(path=None, health_path=None, allowed_origins=("*",))
    server = WebSocketServer(time.monotonic(), config=config(compression), policy=policy)
    drive(server, sock, echo(server))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001, help="0 picks a free port")
    parser.add_argument("--no-compression", action="store_true", help="refuse permessage-deflate")
    args = parser.parse_args(argv)
    with socket.create_server((args.host, args.port)) as listener:
        host, port = listener.getsockname()[:2]
        print(f"listening on ws://{host}:{port}", flush=True)
        try:
            while True:
                sock, _ = listener.accept()
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                threading.Thread(
                    target=serve_connection, args=(sock, not args.no_compression), daemon=True
                ).start()
        except KeyboardInterrupt:
            sys.exit(0)


if __name__ == "__main__":
    main()
