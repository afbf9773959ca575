"""What every driver does the same way, whatever its loop, with no I/O: answer a peer's
request with the application's handler (:func:`answer`), settle the caller's request with
the answer's event (:func:`settles`), decide a server connection's upgrade
(:func:`admit`), follow a client connection until its session opens (:class:`Opening`), and
the reconnection policy (:class:`Reconnect`) and errors a client shares."""

from __future__ import annotations

import inspect
import ipaddress
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping
from typing import Any, Final

import attrs

from mcpws.app._context import Link
from mcpws.app._errors import McpError
from mcpws.core.connection import (
    Authenticate,
    AuthenticationFailed,
    ConnectionAccepted,
    ConnectionClosed,
    ConnectionRejected,
    ConnectionRequested,
    ServerConnection,
)
from mcpws.core.errors import LocalProtocolError, McpwsError
from mcpws.core.jsonrpc import INTERNAL_ERROR, RequestId
from mcpws.core.mcp import Model, Result
from mcpws.core.session import (
    ClientSession,
    ErrorReceived,
    InvalidResultReceived,
    RequestReceived,
    RequestTimedOut,
    ResponseReceived,
    ServerSession,
    SessionFailed,
    SessionInitialized,
)
from mcpws.core.stdio import StreamEnded

__all__ = ["Answer", "ConnectError", "Reconnect", "ReconnectCallback"]

_log = logging.getLogger("mcpws")

#: The header of a 503 that a server answers when it has no room for a connection: a
#: client may try again in a second.
RETRY_AFTER: Final = ("retry-after", "1")

#: What a handler gives: the result at once, or an awaitable of it.
Answer = Model | Awaitable[Model]

#: What answers a peer's request: a function that gives the result (or an awaitable of it)
#: or raises McpError.
Handler = Callable[[RequestReceived, Link], Answer]


def then(value: Any, finish: Callable[[Any], Model]) -> Answer:
    """``finish(value)``: at once, or once *value* is awaited when it is awaitable. A
    handler that returns a plain value is answered without waiting."""
    if inspect.isawaitable(value):
        return _finish_later(value, finish)
    return finish(value)


async def _finish_later(value: Awaitable[Any], finish: Callable[[Any], Model]) -> Model:
    return finish(await value)


def extension_result(value: Any) -> Model:
    """An extension handler's return value as a result: a model as it is, a mapping as the
    result's members, ``None`` as an empty result."""
    if isinstance(value, Model):
        return value
    if value is None:
        return Result()
    if not isinstance(value, Mapping):
        raise TypeError(f"an extension's result is a mapping or a Model, not {value!r}")
    return Result(extra=dict(value))


def answer(
    session: ClientSession | ServerSession, request: RequestReceived, handler: Handler, link: Link
) -> Coroutine[Any, Any, None] | None:
    """Run *handler* for *request* and queue its answer on *session*.

    When the handler answers at once, so does this, and it returns ``None``. When it gives an
    awaitable, this returns a coroutine that awaits it and then queues the answer: the
    driver runs it in the request's own task, and decides what a cancelled one answers.

    An :class:`McpError` becomes that JSON-RPC error; any other exception, or a result that
    does not fit the method, an internal error (-32603), logged on the ``mcpws`` logger and
    never sent.
    """
    try:
        result = handler(request, link)
    except Exception as exc:
        _fail(session, request, exc)
        return None
    if isinstance(result, Model):
        _respond(session, request, result)
        return None
    return _answer_later(session, request, result)


async def _answer_later(
    session: ClientSession | ServerSession, request: RequestReceived, result: Awaitable[Model]
) -> None:
    try:
        model = await result
    except Exception as exc:
        _fail(session, request, exc)
    else:
        _respond(session, request, model)


def _respond(
    session: ClientSession | ServerSession, request: RequestReceived, result: Model
) -> None:
    try:
        session.respond(request.request_id, result)
    except LocalProtocolError as exc:
        _log.error("the answer to %s is invalid: %s", request.method, exc)
        session.respond_error(request.request_id, INTERNAL_ERROR, "invalid result")


def _fail(session: ClientSession | ServerSession, request: RequestReceived, exc: Exception) -> None:
    if isinstance(exc, McpError):
        session.respond_error(request.request_id, exc.code, exc.message, exc.data)
    else:
        _log.error("the handler of %s failed", request.method, exc_info=exc)
        session.respond_error(request.request_id, INTERNAL_ERROR, "internal error")


def settles(event: object) -> tuple[RequestId, Model | BaseException] | None:
    """The request an event settles, with its outcome (the result, or the exception its
    caller gets), or ``None`` when the event settles none."""
    if isinstance(event, ResponseReceived):
        return event.request_id, event.result
    if isinstance(event, ErrorReceived):
        error = event.error
        return event.request_id, McpError(error.code, error.message, error.data)
    if isinstance(event, InvalidResultReceived):
        return event.request_id, McpError(INTERNAL_ERROR, str(event.error))
    if isinstance(event, RequestTimedOut):
        return event.request_id, TimeoutError(f"{event.method} got no answer in time")
    return None


def admit(
    connection: ServerConnection,
    request: ConnectionRequested,
    *,
    full: bool,
    authenticate: Authenticate | None,
    now: float,
) -> object:
    """Answer an upgrade *request*: 503 (with ``Retry-After``) when the server is *full*,
    401 or 403 when *authenticate* raises :class:`AuthenticationFailed`, else accept.
    Returns the principal the hook gave (``None`` when refused or without a hook)."""
    if full:
        connection.reject(503, "the server is at its connection limit", headers=[RETRY_AFTER])
        return None
    try:
        principal = authenticate(request) if authenticate is not None else None
    except AuthenticationFailed as exc:
        connection.reject(exc.status_code, exc.message)
        return None
    connection.accept(now=now, principal=principal)
    return principal


class ConnectError(McpwsError):
    """The connection or the session could not be opened."""


@attrs.frozen(kw_only=True)
class Reconnect:
    """How a client comes back after its connection drops: after *initial_delay* seconds,
    then each delay *multiplier* times the last, at most *max_delay*, each spread by up to
    *jitter* of itself either way; *max_attempts* in a row at most (``None``: no limit)."""

    initial_delay: float = attrs.field(default=0.5, validator=attrs.validators.gt(0))
    multiplier: float = attrs.field(default=2.0, validator=attrs.validators.ge(1))
    max_delay: float = attrs.field(default=30.0, validator=attrs.validators.gt(0))
    jitter: float = attrs.field(
        default=0.1, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )
    max_attempts: int | None = None

    def delays(self) -> Iterator[float]:
        """The delays before each attempt."""
        delay = self.initial_delay
        attempt = 0
        while self.max_attempts is None or attempt < self.max_attempts:
            attempt += 1
            yield delay * (1 + random.uniform(-self.jitter, self.jitter))
            delay = min(delay * self.multiplier, self.max_delay)


#: What ``connect(..., on_reconnect=...)`` calls after each successful reconnection, with
#: the number of attempts it took.
ReconnectCallback = Callable[[int], Any]


def is_loopback(host: str) -> bool:
    """Whether *host*, a name or an address a server binds to, is a loopback one."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Opening:
    """A client connection's opening, followed event by event: ``done`` once the session
    opened or the connection ended; ``failure`` says why it did not open."""

    def __init__(self, *, carried: bool = False) -> None:
        #: Whether the connection has no client session (its messages are carried
        #: elsewhere, or a server's session answers them): it is open once the server
        #: accepts.
        self.carried = carried
        self.done = False
        self.failure: str | None = None

    def note(self, event: object) -> None:
        """Take one event of the connection."""
        if isinstance(event, SessionInitialized) or (
            self.carried and isinstance(event, ConnectionAccepted)
        ):
            self.done = True
        elif isinstance(event, SessionFailed):
            self._fail(str(event.error))
        elif isinstance(event, ConnectionRejected):
            self._fail(f"the server refused the upgrade with HTTP {event.status_code}")
        elif isinstance(event, ConnectionClosed):
            self._fail(event.reason or "the connection closed")
            self.done = True
        elif isinstance(event, StreamEnded):
            self._fail(str(event.cause or "the server ended its output"))
            self.done = True

    def _fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
