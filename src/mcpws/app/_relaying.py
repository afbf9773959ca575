"""Relaying one local MCP client's messages to a server over WebSocket, across
reconnections: :class:`Relay`, the :class:`~mcpws.lowlevel.Carrier` of each connection in
turn, which a bridge such as ``mcpws stdio`` drives. It never retries a request: those in
flight when a connection drops, and those sent while none is open, are answered with a
JSON-RPC error; a session opened with ``initialize`` is opened again on the next connection
with the same ``initialize``, whose answer the client never sees."""

from __future__ import annotations

import logging
from collections.abc import Callable

from mcpws.app._kernel import LOST, Kernel
from mcpws.core import jsonrpc
from mcpws.core.channel import InvalidMessageAnswered, MessageReceived
from mcpws.core.websocket import ConnectionClosed

__all__ = ["NOT_CONNECTED", "Relay"]

_log = logging.getLogger("mcpws")

#: The error of a request sent while no connection is open.
NOT_CONNECTED = "not connected: the connection to the server dropped"

#: The error of a request the server answered with something that is not JSON-RPC.
GARBLED = "the server sent something that is not JSON-RPC"


class Relay:
    """The messages between a client and a server whose connection may drop and be opened
    again: *to_client* takes each message for the client; :meth:`from_client` takes each of
    the client's. :meth:`attach` each new connection's pump (the relay is its carrier), and
    :meth:`detach` it once it is over."""

    def __init__(self, to_client: Callable[[jsonrpc.Message], None]) -> None:
        self._to_client = to_client
        self._pump: Kernel | None = None
        #: The client's requests sent on the current connection and not answered yet.
        self.in_flight: set[jsonrpc.RequestId] = set()
        #: The session's opening, to open it again on a new connection.
        self._initialize: jsonrpc.Request | None = None
        self._initialized: jsonrpc.Notification | None = None
        #: The id of a replayed ``initialize`` not answered yet, and the client's messages
        #: that wait for its answer.
        self._replayed: jsonrpc.RequestId | None = None
        self._held: list[jsonrpc.Message] = []
        #: How the last connection ended, once it has.
        self.closed: ConnectionClosed | None = None

    @property
    def attached(self) -> bool:
        """Whether a connection is open to carry the client's messages."""
        return self._pump is not None and self._pump.connection.is_open

    @property
    def busy(self) -> bool:
        """Whether a request of the client's waits for its answer."""
        return bool(self.in_flight) or any(isinstance(m, jsonrpc.Request) for m in self._held)

    def attach(self, pump: Kernel) -> None:
        """Carry the messages over *pump*'s connection from now on (its session opened
        again first, if the client had opened one)."""
        self._pump = pump
        self.closed = None
        if self._initialize is not None:
            self._replayed = self._initialize.id
            self._send(self._initialize)

    def detach(self) -> None:
        """The connection is over: the requests in flight on it, and those waiting for it,
        are answered with an error."""
        self._pump = None
        self._replayed = None
        held, self._held = self._held, []
        for request_id in self.in_flight:
            self._fail(request_id, LOST)
        self.in_flight.clear()
        for message in held:
            if isinstance(message, jsonrpc.Request):
                self._fail(message.id, NOT_CONNECTED)

    # From the client -------------------------------------------------------------------

    def from_client(self, message: jsonrpc.Message) -> None:
        """Send the server a message of the client's, or answer it here when that cannot
        be done (a notification or a response is then dropped)."""
        if isinstance(message, jsonrpc.Request) and message.method == "initialize":
            self._initialize = message
        elif isinstance(message, jsonrpc.Notification) and (
            message.method == "notifications/initialized"
        ):
            self._initialized = message
        if not self.attached:
            if isinstance(message, jsonrpc.Request):
                self._fail(message.id, NOT_CONNECTED)
        elif self._replayed is not None:
            self._held.append(message)
        else:
            self._forward(message)

    def _forward(self, message: jsonrpc.Message) -> None:
        if isinstance(message, jsonrpc.Request):
            self.in_flight.add(message.id)
        self._send(message)

    def _send(self, message: jsonrpc.Message) -> None:
        pump = self._pump
        assert pump is not None
        pump.connection.send(message)
        pump.flush()

    def _fail(self, request_id: jsonrpc.RequestId, reason: str) -> None:
        error = jsonrpc.ErrorObject(jsonrpc.INTERNAL_ERROR, reason)
        self._to_client(jsonrpc.ErrorResponse(request_id, error))

    # From the server (the Carrier) -----------------------------------------------------

    def take(self, event: object) -> None:
        if isinstance(event, MessageReceived):
            message = event.message
            assert not isinstance(message, list)  # no batches on a connection without session
            if isinstance(message, jsonrpc.Response | jsonrpc.ErrorResponse):
                if message.id == self._replayed:
                    self._reopened(message)
                    return
                self.in_flight.discard(message.id)
            self._to_client(message)
        elif isinstance(event, InvalidMessageAnswered):
            _log.warning("the server sent something that is not JSON-RPC: %s", event.error)
            request_id = event.error.id
            if request_id is not None and request_id in self.in_flight:
                self.in_flight.discard(request_id)
                self._fail(request_id, GARBLED)
        elif isinstance(event, ConnectionClosed):
            self.closed = event

    def _reopened(self, answer: jsonrpc.Response | jsonrpc.ErrorResponse) -> None:
        """The replayed ``initialize`` is answered: the session is open again, and what
        the client sent meanwhile goes now (unless the server refused it)."""
        self._replayed = None
        if isinstance(answer, jsonrpc.ErrorResponse):
            _log.warning("the server refused to open the session again: %s", answer.error)
        elif self._initialized is not None:
            self._send(self._initialized)
        held, self._held = self._held, []
        for message in held:
            self._forward(message)

    def cut_short(self) -> None:
        """A client's connection is never cut short by a server's grace."""

    def lost(self) -> None:
        """The connection is over; the bridge detaches it."""
