"""What a session reports: frozen, past-tense events, and their union :data:`SessionEvent`."""

from __future__ import annotations

from typing import Any, TypeAlias

import attrs

from mcpws.core.errors import InvalidParams, ProtocolError
from mcpws.core.jsonrpc import ErrorObject, ErrorResponse, RequestId, Response
from mcpws.core.mcp import ClientCapabilities, Implementation, Model, ServerCapabilities

__all__ = [
    "ErrorReceived",
    "InvalidResultReceived",
    "NotificationIgnored",
    "NotificationReceived",
    "ProgressIgnored",
    "ProgressReceived",
    "RequestCancelled",
    "RequestReceived",
    "RequestRejected",
    "RequestTimedOut",
    "ResponseReceived",
    "SessionEvent",
    "SessionFailed",
    "SessionInitialized",
    "UnknownResponseReceived",
]

Capabilities: TypeAlias = ClientCapabilities | ServerCapabilities


@attrs.frozen
class SessionInitialized:
    """The session is open: the handshake finished (``initialize``, then
    ``notifications/initialized``), or a client's ``server/discover`` probe succeeded.

    ``peer_info`` and ``peer_capabilities`` describe the other side; ``instructions`` is the
    server's text for a client (``None`` on a server).
    """

    revision: str
    peer_info: Implementation | None
    peer_capabilities: Capabilities
    instructions: str | None = None


@attrs.frozen
class SessionFailed:
    """The session cannot go on; ``error`` says why. The transport should now be closed
    (the connections that own a session do it themselves)."""

    error: ProtocolError


@attrs.frozen
class RequestReceived:
    """The peer sent a request for the application to answer with ``respond`` or
    ``respond_error``.

    ``revision`` is the revision the request is in (per request in the stateless era) and
    ``peer_capabilities`` what the peer declared for it.
    """

    request_id: RequestId
    method: str
    params: Model
    revision: str
    peer_capabilities: Capabilities | None


@attrs.frozen
class NotificationReceived:
    """The peer sent a notification the session does not handle itself."""

    method: str
    params: Model
    revision: str


@attrs.frozen
class ResponseReceived:
    """The result of a request this side sent, decoded into its typed class (for example an
    :class:`~mcpws.core.mcp.InputRequiredResult` in the stateless era)."""

    request_id: RequestId
    method: str
    result: Model


@attrs.frozen
class ErrorReceived:
    """The peer answered a request this side sent with a JSON-RPC error."""

    request_id: RequestId
    method: str
    error: ErrorObject


@attrs.frozen
class InvalidResultReceived:
    """The peer answered a request this side sent with a result that does not match its
    MCP type; ``result`` is the raw value."""

    request_id: RequestId
    method: str
    error: InvalidParams
    result: Any


@attrs.frozen
class UnknownResponseReceived:
    """A response whose id matches no request in flight (a late answer to a cancelled or
    timed-out request, say); it was ignored."""

    response: Response | ErrorResponse


@attrs.frozen
class RequestTimedOut:
    """A request this side sent got no answer in time; ``notifications/cancelled`` has been
    sent (except for the lifecycle requests, which fail or fall back instead)."""

    request_id: RequestId
    method: str


@attrs.frozen
class RequestCancelled:
    """The peer cancelled a request it had sent: stop its handler. Anything the
    application answers for it now is dropped."""

    request_id: RequestId
    reason: str | None


@attrs.frozen
class ProgressReceived:
    """Progress on a request this side sent with ``progress=True``."""

    request_id: RequestId
    progress: float
    total: float | None
    message: str | None


@attrs.frozen
class ProgressIgnored:
    """A ``notifications/progress`` that was dropped: its token is unknown, or its progress
    did not increase."""

    progress_token: str | int
    progress: float
    reason: str


@attrs.frozen
class RequestRejected:
    """The session answered a peer's request with an error by itself (unknown method,
    invalid params, not initialized, too many requests, and so on).

    ``request_id`` is ``None`` when the request's id could not be read, and ``method`` when
    the request could not be read at all.
    """

    request_id: RequestId | None
    method: str | None
    error: ErrorObject


@attrs.frozen
class NotificationIgnored:
    """A notification that was dropped: unknown, not allowed in this state or direction, or
    with invalid params. Notifications are never answered."""

    method: str
    reason: str


SessionEvent: TypeAlias = (
    SessionInitialized
    | SessionFailed
    | RequestReceived
    | NotificationReceived
    | ResponseReceived
    | ErrorReceived
    | InvalidResultReceived
    | UnknownResponseReceived
    | RequestTimedOut
    | RequestCancelled
    | ProgressReceived
    | ProgressIgnored
    | RequestRejected
    | NotificationIgnored
)
