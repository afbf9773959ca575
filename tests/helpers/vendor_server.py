"""A hand-written MCP server for the command line's tests, which answers a method MCP does
not define (``x/vendor``): :class:`mcpws.Server` cannot, for its session answers a method
it does not know with -32601 by itself. It uses the sans-IO connection without a session,
over a blocking socket, one connection at a time, in a thread of its own."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

from mcpws.core import jsonrpc
from mcpws.core.connection import ConnectionRequested, MessageReceived, ServerConnection

#: What ``x/vendor`` answers, beside the params it was sent (under ``"echo"``).
ANSWER: dict[str, Any] = {"answer": 42, "x-vendor": {"colour": "blue"}}


def _answer(request: jsonrpc.Request) -> jsonrpc.Response | jsonrpc.ErrorResponse:
    if request.method == "initialize":
        params = request.params or {}
        return jsonrpc.Response(
            request.id,
            {
                "protocolVersion": params.get("protocolVersion", "2025-11-25"),
                "capabilities": {},
                "serverInfo": {"name": "vendor", "version": "1.0"},
            },
        )
    if request.method == "x/vendor":
        return jsonrpc.Response(request.id, {**ANSWER, "echo": request.params})
    error = jsonrpc.ErrorObject(jsonrpc.METHOD_NOT_FOUND, f"method not found: {request.method}")
    return jsonrpc.ErrorResponse(request.id, error)


def _serve_one(sock: socket.socket) -> None:
    connection = ServerConnection(time.monotonic())
    while not connection.closed:
        data = sock.recv(65536)
        now = time.monotonic()
        if data:
            connection.receive_data(data, now)
        else:
            connection.receive_eof(now)
        for event in connection.events_received():
            if isinstance(event, ConnectionRequested):
                connection.accept(now=now)
            elif isinstance(event, MessageReceived) and isinstance(event.message, jsonrpc.Request):
                connection.send(_answer(event.message))
        for chunk in connection.data_to_send():
            if not chunk:
                return
            sock.sendall(chunk)


class VendorServer:
    """Listens on a free loopback port while in a ``with`` block; :attr:`url` is its URL."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(60)
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/mcp"
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:  # closed, or nobody came
                return
            with sock:
                sock.settimeout(60)
                with contextlib.suppress(OSError):
                    _serve_one(sock)

    def __enter__(self) -> VendorServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() waiting
        self._listener.close()
        self._thread.join(timeout=60)
