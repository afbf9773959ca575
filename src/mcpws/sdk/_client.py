"""The SDK's clients over mcpws: :func:`websocket_client`, the transport an ``mcp.Client``
or a ``ClientSession`` runs over, with the driver of the running loop (trio or asyncio)."""

from __future__ import annotations

import importlib
import logging
import math
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import attrs
import pydantic
import sniffio
from mcp.shared.message import SessionMessage
from mcp_types import ErrorData, JSONRPCError, JSONRPCNotification, JSONRPCRequest

from mcpws.app import ConnectError, Reconnect, ReconnectCallback
from mcpws.core import jsonrpc
from mcpws.core.channel import InvalidMessageAnswered, MessageReceived
from mcpws.core.websocket import WebSocketConfig
from mcpws.lowlevel import LOST, Dialing, Kernel, connect_options
from mcpws.sdk._messages import text_of, to_sdk

__all__ = ["NOT_CONNECTED", "websocket_client"]

_log = logging.getLogger("mcpws")

#: The error of a request sent while a reconnecting client is away.
NOT_CONNECTED = "not connected: the connection dropped and is being opened again"

#: What the SDK's streams carry.
ReadStream = anyio.abc.ObjectReceiveStream[SessionMessage | Exception]
WriteStream = anyio.abc.ObjectSendStream[SessionMessage]

_Carry = Callable[[Dialing, Any], AbstractAsyncContextManager[Kernel]]


@asynccontextmanager
async def websocket_client(
    url: str,
    *,
    headers: Sequence[tuple[str, str]] = (),
    ssl_context: ssl.SSLContext | None = None,
    origin: str | None = None,
    config: WebSocketConfig | None = None,
    open_timeout: float = 30.0,
    reconnect: Reconnect | None = None,
    on_reconnect: ReconnectCallback | None = None,
) -> AsyncIterator[tuple[ReadStream, WriteStream]]:
    """Connect to the MCP server at *url* and yield the ``(read_stream, write_stream)``
    pair an SDK client runs over: ``mcp.Client(websocket_client(url))``, or
    ``ClientSession(read_stream, write_stream)`` as with the 1.x function of that name.

    The SDK speaks MCP, in either era; mcpws carries its messages over the WebSocket with
    its limits and keepalive (*config*), sending *headers* and *origin* with the upgrade,
    over TLS with *ssl_context* for ``wss://``. A message from the server that is not
    JSON-RPC arrives on the read stream as an exception, the SDK's way.

    Raises :class:`~mcpws.app.ConnectError` when the connection cannot open within
    *open_timeout* seconds. A dropped connection ends the read stream, unless *reconnect*
    is given: then it is opened again after the policy's delays (*on_reconnect* hears each
    return), the requests in flight at the drop, and those sent while away, get a JSON-RPC
    error and are never retried, and a session opened with ``initialize`` is opened again
    on the new connection with the same ``initialize`` before anything else is sent.
    """
    dialing = attrs.evolve(
        connect_options(
            url,
            headers=headers,
            ssl_context=ssl_context,
            origin=origin,
            config=config,
            open_timeout=open_timeout,
            reconnect=reconnect,
            on_reconnect=on_reconnect,
        ),
        session=None,
    )
    link = _Link(dialing, _carry_of_this_loop())
    raised: BaseException | None = None
    try:
        async with anyio.create_task_group() as tasks:
            try:
                await tasks.start(link.keep)
            except BaseException as exc:  # raised again below, outside the task group
                raised = exc
            else:
                tasks.start_soon(link.write_out)
                try:
                    yield link.read_stream, link.write_stream
                except BaseException as exc:  # raised again below, outside the task group
                    raised = exc
                finally:
                    link.leave()
    except BaseExceptionGroup:
        if raised is None:
            raise
    finally:
        link.close()
    if raised is not None:
        raise raised


def _carry_of_this_loop() -> _Carry:
    """The ``carry`` of the driver of the running loop."""
    library = sniffio.current_async_library()
    if library not in ("trio", "asyncio"):
        raise RuntimeError(f"mcpws has no driver for {library}")
    module = importlib.import_module(f"mcpws.{library}._connect")
    carry: _Carry = module.carry
    return carry


class _Link:
    """The SDK's streams, and the connection under them (one after another, reconnecting)."""

    def __init__(self, dialing: Dialing, carry: _Carry) -> None:
        self._dialing = dialing
        self._carry = carry
        self._to_sdk, self.read_stream = anyio.create_memory_object_stream[
            SessionMessage | Exception
        ](math.inf)
        self.write_stream, self._from_sdk = anyio.create_memory_object_stream[SessionMessage](0)
        self._pump: Kernel | None = None
        self._leaving = anyio.Event()
        #: This side's requests sent on the current connection and not answered yet.
        self._in_flight: set[jsonrpc.RequestId] = set()
        #: The session's ``initialize`` and ``notifications/initialized``, for a reconnection.
        self._initialize: JSONRPCRequest | None = None
        self._initialized: str | None = None
        #: The id of a replayed ``initialize``, whose answer the SDK must not see, and what
        #: the SDK's messages wait for meanwhile: the session open again, or the end.
        self._replayed: jsonrpc.RequestId | None = None
        self._reopening: anyio.Event | None = None

    # The connection ----------------------------------------------------------------------

    async def keep(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        """Open the connection (reporting it open, or raising ConnectError), hold it until
        the block is left or it drops, and open it again while the policy allows."""
        dialing = self._dialing
        async with self._carry(dialing, self) as pump:
            task_status.started()
            await self._hold(pump)
        policy = dialing.reconnect
        while policy is not None and not self._leaving.is_set():
            if await self._come_back(policy) is None:
                break
        self._to_sdk.close()

    async def _come_back(self, policy: Reconnect) -> Kernel | None:
        """One reconnection, after the policy's delays; ``None`` when they ran out or the
        block was left."""
        dialing = self._dialing
        attempts = 0
        for delay in policy.delays():
            attempts += 1
            with anyio.move_on_after(delay):
                await self._leaving.wait()
            if self._leaving.is_set():
                return None
            try:
                async with self._carry(dialing, self) as pump:
                    self._replay(pump)
                    if dialing.on_reconnect is not None:
                        dialing.on_reconnect(attempts)
                    await self._hold(pump)
                    return pump
            except ConnectError as exc:
                _log.info("reconnecting to %s failed: %s", dialing.url, exc)
        _log.warning("gave up reconnecting to %s after %d attempts", dialing.url, attempts)
        return None

    async def _hold(self, pump: Kernel) -> None:
        """Pump the connection until it drops or the block is left; then fail what was in
        flight on it."""
        self._pump = pump
        async with anyio.create_task_group() as watching:

            async def drops() -> None:
                await pump.closed.wait()
                watching.cancel_scope.cancel()

            watching.start_soon(drops)
            await self._leaving.wait()
            watching.cancel_scope.cancel()
        self._pump = None
        self._replayed = None
        if self._reopening is not None:
            self._reopening.set()
        for request_id in self._in_flight:
            self._fail(request_id, LOST)
        self._in_flight.clear()

    def _replay(self, pump: Kernel) -> None:
        """Open the session again on a new connection, with the SDK's ``initialize``."""
        if self._initialize is None:
            return
        self._replayed = self._initialize.id
        self._reopening = anyio.Event()
        pump.connection.send_text(text_of(SessionMessage(self._initialize)))
        pump.flush()

    def leave(self) -> None:
        """The block is left: the connection closes, and the read stream ends."""
        self._leaving.set()
        self.write_stream.close()

    def close(self) -> None:
        """Close every end of the streams, the SDK's included: the transport is over."""
        for stream in (self._to_sdk, self.read_stream, self.write_stream, self._from_sdk):
            stream.close()

    # From the server (the pump's Carrier) ------------------------------------------------

    def take(self, event: object) -> None:
        if isinstance(event, MessageReceived):
            message = event.message
            assert not isinstance(message, list)  # no batches on a connection without session
            answered = getattr(message, "id", None) if _is_answer(message) else None
            if answered is not None:
                if answered == self._replayed:
                    self._reopened(message)
                    return
                self._in_flight.discard(answered)
            try:
                self._to_sdk.send_nowait(to_sdk(message))
            except pydantic.ValidationError as exc:
                self._to_sdk.send_nowait(exc)
        elif isinstance(event, InvalidMessageAnswered):
            self._to_sdk.send_nowait(ValueError(f"the server sent {event.error}"))

    def _reopened(self, answer: jsonrpc.Message) -> None:
        """The replayed ``initialize`` is answered: the session is open again (what the SDK
        sent meanwhile goes now), unless the server refused it."""
        self._replayed = None
        if isinstance(answer, jsonrpc.ErrorResponse):
            _log.warning("%s refused the session again: %s", self._dialing.url, answer.error)
        pump = self._pump
        if self._initialized is not None and pump is not None and pump.connection.is_open:
            pump.connection.send_text(self._initialized)
            pump.flush()
        if self._reopening is not None:
            self._reopening.set()

    def cut_short(self) -> None:
        """A client connection is never shut down by a server's grace."""

    def lost(self) -> None:
        """The connection is over; :meth:`_hold` takes it from here."""

    # To the server -----------------------------------------------------------------------

    async def write_out(self) -> None:
        """Send what the SDK writes, while the server keeps up."""
        async with self._from_sdk:
            async for message in self._from_sdk:
                inner = message.message
                if isinstance(inner, JSONRPCRequest) and inner.method == "initialize":
                    self._initialize = inner
                text = text_of(message)
                if isinstance(inner, JSONRPCNotification) and inner.method == (
                    "notifications/initialized"
                ):
                    self._initialized = text
                if self._replayed is not None and self._reopening is not None:
                    await self._reopening.wait()
                pump = self._pump
                if pump is None or not pump.connection.is_open:
                    if isinstance(inner, JSONRPCRequest):
                        self._fail(inner.id, NOT_CONNECTED)
                    continue
                if isinstance(inner, JSONRPCRequest):
                    self._in_flight.add(inner.id)
                pump.connection.send_text(text)
                pump.flush()
                await pump.written()
        self._leaving.set()

    def _fail(self, request_id: jsonrpc.RequestId, reason: str) -> None:
        error = ErrorData(code=jsonrpc.INTERNAL_ERROR, message=reason)
        self._to_sdk.send_nowait(
            SessionMessage(JSONRPCError(jsonrpc="2.0", id=request_id, error=error))
        )


def _is_answer(message: jsonrpc.Message) -> bool:
    return isinstance(message, jsonrpc.Response | jsonrpc.ErrorResponse)
