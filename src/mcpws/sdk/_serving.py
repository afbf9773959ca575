"""Serving an SDK server with a driver's ``serve()``: the :class:`SdkHost` a ``serve()``
makes of an ``mcp`` low-level ``Server``, an ``MCPServer`` or a ``fastmcp.FastMCP``, and the
:class:`ServerCarrier` of each connection, which runs the SDK's own loop for it (both eras:
the client's first request decides) and carries the messages both ways.

mcpws keeps what is the transport's: the WebSocket and its limits, the upgrade policy, bad
JSON answered, backpressure (what the SDK sends waits while the client does not read), at
most ``max_concurrent_requests`` requests handed to the SDK at a time (the next ones wait
in turn, and beyond the session's pending limit they are refused), and the graceful
shutdown (new requests refused, those in flight given the grace period, then an error).
"""

from __future__ import annotations

import collections
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pydantic
from mcp.server.lowlevel import Server
from mcp.server.runner import serve_dual_era_loop
from mcp.shared.message import SessionMessage

from mcpws.core import jsonrpc
from mcpws.core.channel import InvalidMessageAnswered, MessageReceived
from mcpws.core.connection import ConnectionRequested
from mcpws.core.session import SHUTTING_DOWN, TOO_MANY_REQUESTS, ServerSessionConfig
from mcpws.core.websocket import INTERNAL_ERROR as WS_INTERNAL_ERROR
from mcpws.lowlevel import NOT_ANSWERED, Cancellable, Host, Kernel
from mcpws.sdk._messages import WebSocketRequest, answered_id, text_of, to_sdk
from mcpws.sdk._seams import lowlevel_server

__all__ = ["SdkHost", "ServerCarrier", "host"]

_log = logging.getLogger("mcpws")

#: Requests of one connection in flight (handed to the SDK or waiting for their turn) over
#: which more are refused: the limit of mcpws's own sessions.
MAX_PENDING = ServerSessionConfig().max_pending_requests

#: What a request is refused with while the server shuts down.
_DRAINING = "the server is shutting down"


def host(server: object) -> SdkHost:
    """The host that serves *server* (an SDK ``Server`` or ``MCPServer``, or a
    ``fastmcp.FastMCP``)."""
    return SdkHost(lowlevel_server(server))


class SdkHost(Host):
    """Serves an SDK low-level *server*: its lifespan once for the whole ``serve()``, and
    its own loop on each connection."""

    def __init__(self, server: Server[Any]) -> None:
        self.server = server
        self.name = server.name
        self._state: object = None
        self._running = False

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[object]:
        if self._running:
            raise RuntimeError(f"{self.name} is served already: its lifespan runs once")
        self._running = True
        try:
            async with self.server.lifespan(self.server) as state:
                self._state = state
                yield state
        finally:
            self._running = False
            self._state = None

    def carrier(self, pump: Kernel, *, max_concurrent: int) -> ServerCarrier:
        return ServerCarrier(pump, self, max_concurrent=max_concurrent)

    async def serve_connection(
        self,
        read_stream: anyio.abc.ObjectReceiveStream[SessionMessage | Exception],
        write_stream: anyio.abc.ObjectSendStream[SessionMessage],
    ) -> None:
        """Run the SDK's loop for one connection, in the era its client opens with."""
        server = self.server
        await serve_dual_era_loop(
            server,
            read_stream,
            write_stream,
            lifespan_state=self._state,
            init_options=server.create_initialization_options(),
        )


class ServerCarrier:
    """One connection's messages, carried between its pump and the SDK's loop."""

    def __init__(self, pump: Kernel, host: SdkHost, *, max_concurrent: int) -> None:
        self._pump = pump
        self._host = host
        self._max_concurrent = max_concurrent
        self._to_sdk, self._from_client = anyio.create_memory_object_stream[
            SessionMessage | Exception
        ](math.inf)
        self._to_client, self._from_sdk = anyio.create_memory_object_stream[SessionMessage](0)
        #: The client's requests in flight, handed to the SDK or waiting for their turn.
        self._in_flight: set[jsonrpc.RequestId] = set()
        self._handed = 0
        self._waiting: collections.deque[tuple[jsonrpc.RequestId, SessionMessage]] = (
            collections.deque()
        )
        self._tasks: list[Cancellable] = []
        self._started = self._over = False
        #: The upgrade, once asked for, and what the SDK's handlers see of it.
        self._upgrade: ConnectionRequested | None = None
        self._seen: WebSocketRequest | None = None

    # From the client ---------------------------------------------------------------------

    def take(self, event: object) -> None:
        if isinstance(event, MessageReceived):
            message = event.message
            assert not isinstance(message, list)  # no batches on a connection without session
            if not self._started:
                self._start()
            if isinstance(message, jsonrpc.Request):
                self._request(message)
            else:
                if isinstance(message, jsonrpc.Notification):
                    self._cancelled(message)
                self._hand(message)
        elif isinstance(event, ConnectionRequested):
            self._upgrade = event
        elif isinstance(event, InvalidMessageAnswered):
            pass  # the core has answered it with the JSON-RPC error it deserves

    def _request(self, request: jsonrpc.Request) -> None:
        request_id = request.id
        if self._pump.shutting_down and request.method != "ping":
            self._refuse(request_id, SHUTTING_DOWN, _DRAINING)
        elif request_id in self._in_flight:
            self._refuse(request_id, jsonrpc.INVALID_REQUEST, "that request id is in flight")
        elif len(self._in_flight) >= MAX_PENDING:
            self._refuse(request_id, TOO_MANY_REQUESTS, "too many requests in flight")
        else:
            try:
                message = to_sdk(request, self._seen_as())
            except pydantic.ValidationError as exc:
                self._refuse(request_id, jsonrpc.INVALID_REQUEST, _first_error(exc))
                return
            self._in_flight.add(request_id)
            self._pump.begin_answering()
            if self._handed < self._max_concurrent:
                self._handed += 1
                self._to_sdk.send_nowait(message)
            else:
                self._waiting.append((request_id, message))

    def _seen_as(self) -> WebSocketRequest | None:
        """The upgrade as the SDK's handlers see it (the authentication hook has run)."""
        if self._seen is None and self._upgrade is not None:
            upgrade = self._upgrade
            subprotocol = upgrade.subprotocol
            self._seen = WebSocketRequest.of(upgrade.request, subprotocol, self._pump.principal)
        return self._seen

    def _cancelled(self, notification: jsonrpc.Notification) -> None:
        """A request the client cancels while it waits for its turn is dropped here."""
        if notification.method != "notifications/cancelled" or not self._waiting:
            return
        params = notification.params
        request_id = params.get("requestId") if isinstance(params, dict) else None
        for waiting in self._waiting:
            if waiting[0] == request_id:
                self._waiting.remove(waiting)
                self._done(waiting[0])
                return

    def _hand(self, message: jsonrpc.Message) -> None:
        try:
            self._to_sdk.send_nowait(to_sdk(message))
        except pydantic.ValidationError as exc:
            self._to_sdk.send_nowait(exc)  # the SDK's way of hearing of a bad message

    def _refuse(self, request_id: jsonrpc.RequestId, code: int, reason: str) -> None:
        connection = self._pump.connection
        if connection.is_open:
            connection.send(jsonrpc.ErrorResponse(request_id, jsonrpc.ErrorObject(code, reason)))

    # To the client -----------------------------------------------------------------------

    def _start(self) -> None:
        self._started = True
        spawn = self._pump.spawn
        self._tasks.append(spawn(self._run(), self._ended))
        self._tasks.append(spawn(self._write_out(), _ignore))

    async def _run(self) -> None:
        try:
            await self._host.serve_connection(self._from_client, self._to_client)
        except Exception:  # the library's failure must not end the driver's connection task
            _log.exception("the loop of %s failed", self._host.name)

    def _ended(self, cancelled: bool) -> None:
        """The SDK's loop is over: on its own, with the connection still open, it failed."""
        self._from_client.close()
        self._to_client.close()
        if not cancelled and not self._over:
            connection = self._pump.connection
            if connection.is_open:
                connection.close(WS_INTERNAL_ERROR, "the server failed", now=self._pump.now())
                self._pump.flush()

    async def _write_out(self) -> None:
        pump = self._pump
        connection = pump.connection
        async with self._from_sdk:
            async for message in self._from_sdk:
                if connection.is_open:
                    connection.send_text(text_of(message))
                    pump.flush()
                answered = answered_id(message)
                if answered is not None and answered in self._in_flight:
                    self._handed -= 1
                    self._done(answered)
                    self._next()
                await pump.written()

    def _next(self) -> None:
        while self._waiting and self._handed < self._max_concurrent:
            _, message = self._waiting.popleft()
            self._handed += 1
            self._to_sdk.send_nowait(message)

    def _done(self, request_id: jsonrpc.RequestId) -> None:
        self._in_flight.discard(request_id)
        self._pump.end_answering()

    # The end -----------------------------------------------------------------------------

    def cut_short(self) -> None:
        """The shutdown's grace is over: the requests still in flight get an error, and the
        SDK's loop stops."""
        for request_id in list(self._in_flight):
            self._refuse(request_id, jsonrpc.INTERNAL_ERROR, NOT_ANSWERED)
        self.lost()

    def lost(self) -> None:
        if self._over:
            return
        self._over = True
        self._to_sdk.close()
        if not self._started:
            for stream in (self._from_client, self._to_client, self._from_sdk):
                stream.close()
        self._waiting.clear()
        for request_id in list(self._in_flight):
            self._done(request_id)
        for task in self._tasks:
            task.cancel()


def _first_error(exc: pydantic.ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def _ignore(cancelled: bool) -> None:
    """The end of a task whose outcome nobody waits for."""
