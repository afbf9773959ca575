"""What both roles of a session share: requests in flight, their ids, timeouts, cancellation
and progress, batches, and the answers the core gives by itself.

A session is transport-agnostic. It takes decoded JSON-RPC messages with
:meth:`Session.receive_message` and gives encoded JSON texts with
:meth:`Session.messages_to_send`; a transport (a WebSocket connection, stdio framing) moves
them. Encoding happens in the command, so a value JSON cannot carry raises there.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from typing import Any, Final, Literal, TypeAlias

import attrs

from mcpws.core import jsonrpc
from mcpws.core._checks import is_duration
from mcpws.core._timers import Timers
from mcpws.core.errors import InvalidMessage, InvalidParams, LocalProtocolError, ProtocolError
from mcpws.core.jsonrpc import (
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    ErrorObject,
    ErrorResponse,
    Message,
    Notification,
    Request,
    RequestId,
    Response,
)
from mcpws.core.mcp import (
    CacheableResult,
    CancelledNotificationParams,
    InputRequiredResult,
    Kind,
    Model,
    NotificationParams,
    ProgressNotificationParams,
    RequestParams,
    Result,
    decode_params,
    decode_result,
    is_extension,
    method_spec,
)
from mcpws.core.mcp._methods import (
    NO_CAPABILITY,
    RESERVED_METHODS,
    UTILITY_METHODS,
    MethodSpec,
)
from mcpws.core.mcp._model import json_name
from mcpws.core.session._config import SHUTTING_DOWN, TOO_MANY_REQUESTS, _Common
from mcpws.core.session._events import (
    Capabilities,
    ErrorReceived,
    InvalidResultReceived,
    NotificationIgnored,
    NotificationReceived,
    ProgressIgnored,
    ProgressReceived,
    RequestCancelled,
    RequestReceived,
    RequestRejected,
    RequestTimedOut,
    ResponseReceived,
    SessionEvent,
    SessionFailed,
    UnknownResponseReceived,
)
from mcpws.core.session._state import TRANSITIONS, Input, Lifecycle, State
from mcpws.core.versions import REVISIONS, STATELESS_REVISIONS, allows_batches

__all__ = ["UNSET", "Refusal", "Session", "Unset"]


class Unset(enum.Enum):
    """The type of :data:`UNSET`."""

    UNSET = "unset"


#: "Use the configured value": the default of per-call options that ``None`` switches off.
UNSET: Final = Unset.UNSET

_STATELESS: Final = frozenset(STATELESS_REVISIONS)
_ENDED: Final = frozenset({State.FAILED, State.CLOSED})
#: The one revision with batches.
_BATCHES: Final = next(revision for revision in REVISIONS if allows_batches(revision))

Params: TypeAlias = Model | Mapping[str, Any] | None
TimeoutArg: TypeAlias = float | Literal[Unset.UNSET] | None


def missing_capability(spec: MethodSpec | None, capabilities: Capabilities | None) -> str | None:
    """Name the capability the receiver of the request *spec* lacks (an extension's, *spec*
    ``None``, needs none), or return ``None``."""
    if capabilities is None or spec is None:
        return None
    path = spec.capability
    if path is NO_CAPABILITY:
        return None
    value = getattr(capabilities, path[0], None)
    if value is None:
        return path[0]
    if len(path) > 1 and not value.get(path[1]):
        return ".".join(path)
    return None


def for_revision(model: Model, revision: str) -> dict[str, Any]:
    """Encode *model* for *revision*: top-level members the revision does not have are
    left out, and in the stateless era the members every result needs are filled in
    (``resultType`` ``"complete"``; ``ttlMs`` 0 and ``cacheScope`` ``"private"``)."""
    return _adapt(type(model), model.to_json(), revision)


def _adapt(cls: type[Model], obj: dict[str, Any], revision: str) -> dict[str, Any]:
    """Fit the JSON object of a *cls* to *revision*, as :func:`for_revision` says."""
    plan = _PLANS.get((cls, revision))
    if plan is None:
        plan = _PLANS[cls, revision] = _plan(cls, revision)
    drop, defaults = plan
    for key in drop:
        obj.pop(key, None)
    for key, value in defaults:
        obj.setdefault(key, value)
    return obj


_PLANS: dict[tuple[type[Model], str], tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]] = {}


def _plan(cls: type[Model], revision: str) -> tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]:
    """The members to leave out of a *cls* in *revision*, and those to fill in."""
    fields = attrs.fields_dict(cls)
    drop = [
        json_name(name)
        for name, field in fields.items()
        if (field.metadata.get("since") or revision) > revision
        or (field.metadata.get("until") or revision) < revision
    ]
    defaults: list[tuple[str, Any]] = []
    if revision not in _STATELESS:
        drop.extend(("resultType", "ttlMs", "cacheScope"))
    elif "result_type" in fields:
        defaults.append(("resultType", "complete"))
        if issubclass(cls, CacheableResult):
            defaults.extend((("ttlMs", 0), ("cacheScope", "private")))
    return tuple(dict.fromkeys(drop)), tuple(defaults)


class Refusal(Exception):
    """Internal: a peer's request the session answers with an error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.error = ErrorObject(code, message, data)


class _Outgoing:
    """A request this side sent and still waits for."""

    __slots__ = ("lifecycle", "limit", "method", "progress", "revision", "timeout", "token")

    def __init__(
        self,
        method: str,
        revision: str,
        timeout: float | None,
        limit: float | None,
        token: RequestId | None,
        lifecycle: bool,
    ) -> None:
        self.method = method
        self.revision = revision
        self.timeout = timeout
        self.limit = limit
        self.token = token
        self.progress: float | None = None
        self.lifecycle = lifecycle


class _Batch:
    """A peer's batch: its answers go out together once every request in it is answered."""

    __slots__ = ("replies", "sealed", "waiting")

    def __init__(self) -> None:
        self.waiting: set[RequestId] = set()
        self.replies: list[str] = []
        self.sealed = False


class _Incoming:
    """A peer's request the application is handling."""

    __slots__ = ("batch", "cancelled", "method", "progress", "revision", "token")

    def __init__(self, method: str, revision: str, token: Any, batch: _Batch | None) -> None:
        self.method = method
        self.revision = revision
        self.token = token
        self.progress: float | None = None
        self.cancelled = False
        self.batch = batch


class Session:
    """The machinery both roles share; see :class:`~mcpws.core.session.ClientSession` and
    :class:`~mcpws.core.session.ServerSession`."""

    #: Whether this side is the client.
    is_client: bool

    def __init__(self, config: _Common) -> None:
        self._common = config
        self._lifecycle = Lifecycle()
        self._timers = Timers[RequestId]()
        self._events: list[SessionEvent] = []
        self._outbox: list[str] = []
        self._next_id = 1
        self._outgoing: dict[RequestId, _Outgoing] = {}
        self._incoming: dict[RequestId, _Incoming] = {}
        self._tokens: dict[Any, RequestId] = {}
        self._served: dict[tuple[str, str], str | None] = {}
        #: Requests in ``_incoming`` the peer cancelled, whose handlers have not ended yet.
        self._cancelled = 0
        #: The message every new request is refused with, once draining.
        self._draining: str | None = None
        #: The revision in use: negotiated (handshake era) or that of the stateless era.
        self.revision: str | None = None
        #: What the peer said about itself, once known.
        self.peer_info: Any = None
        self.peer_capabilities: Capabilities | None = None

    # The vocabulary of every core object --------------------------------------------------

    @property
    def state(self) -> State:
        """Where the session is in its life."""
        return self._lifecycle.state

    @property
    def allow_batches(self) -> bool:
        """Whether the peer may send batches: only when 2025-03-26 is negotiated."""
        return self.revision == _BATCHES

    def receive_message(
        self, message: Message | list[Message | InvalidMessage], now: float
    ) -> None:
        """Take a decoded message, or a batch, from the peer.

        A batch where :attr:`allow_batches` is false is answered with one -32600 error, as
        the transports answer a batch they may not decode."""
        if self.state is State.CLOSED:
            return
        if isinstance(message, Request):
            self._on_request(message, now, None)
        elif isinstance(message, list):
            if self.allow_batches:
                self._receive_batch(message, now)
            else:
                error = ErrorObject(INVALID_REQUEST, "batches are only allowed in 2025-03-26")
                self._outbox.append(jsonrpc.encode(ErrorResponse(None, error)))
                self._events.append(RequestRejected(None, None, error))
        else:
            self._receive(message, now, None)

    def messages_to_send(self) -> list[str]:
        """Return and forget the JSON texts to send, one message or batch each."""
        messages, self._outbox = self._outbox, []
        return messages

    def events_received(self) -> list[SessionEvent]:
        """Return and forget the events so far."""
        events, self._events = self._events, []
        return events

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` must next be called, or ``None``."""
        return self._timers.next()

    def handle_timeout(self, now: float) -> None:
        """Time out every request whose deadline is at or before *now*."""
        while (request_id := self._timers.pop_due(now)) is not None:
            entry = self._outgoing.pop(request_id)
            self._forget(entry)
            if entry.lifecycle:
                self._lifecycle_timed_out(request_id, entry, now)
                continue
            self._events.append(RequestTimedOut(request_id, entry.method))
            if entry.limit is not None and entry.limit <= now:
                reason = f"timed out after {self._common.max_request_time} s in all"
            else:
                reason = f"timed out after {entry.timeout} s"
            self._send_cancelled(request_id, reason)

    def drain(self, message: str = "the server is shutting down") -> None:
        """Refuse every new request from the peer, but ``ping``, from now on, as a server
        that shuts down does: each is answered at once with
        :data:`~mcpws.core.session.SHUTTING_DOWN` and *message* (and reported as
        :class:`~mcpws.core.session.RequestRejected`). The requests in flight are
        answered as usual, and this side may still send its own. A connection that owns
        the session refuses an upgrade not yet answered with 503."""
        self._draining = message

    @property
    def draining(self) -> bool:
        """Whether :meth:`drain` was called."""
        return self._draining is not None

    def close(self) -> None:
        """End the session (the transport is gone): requests in flight are forgotten and
        nothing more is sent or received."""
        self._lifecycle.process(Input.CLOSE)
        self._timers.clear()
        self._outgoing.clear()
        self._incoming.clear()
        self._cancelled = 0
        self._tokens.clear()

    # Commands ----------------------------------------------------------------------------

    def send_request(
        self,
        method: str,
        params: Params = None,
        *,
        now: float,
        timeout: TimeoutArg = UNSET,
        progress: bool = False,
        extension: bool = False,
    ) -> RequestId:
        """Send a request and return its id; its answer comes as an event.

        *timeout* overrides the configured ``request_timeout`` (``None``: wait forever).
        With *progress*, the request asks for progress notifications, which arrive as
        :class:`~mcpws.core.session.ProgressReceived`. Raises :class:`LocalProtocolError`
        when the session is not open for it, the method does not exist in the revision or
        is not this side's to send, the peer lacks the capability, too many requests are in
        flight, or the params are invalid; nothing is sent then.

        With *extension*, *method* is one no revision of MCP defines
        (:func:`~mcpws.core.mcp.is_extension`), a vendor's: its params, a mapping, go as
        they are, and its result is read as a plain :class:`~mcpws.core.mcp.Result`, every
        member in ``extra``. Without it, such a method raises, as a misspelt one should.
        """
        if method in RESERVED_METHODS:
            raise LocalProtocolError(f"the session sends {method} itself")
        if not (timeout is UNSET or timeout is None or is_duration(timeout)):
            raise LocalProtocolError(f"timeout must be a positive number or None, not {timeout!r}")
        revision = self._sending_revision(method)
        if extension and not is_extension(method):
            raise LocalProtocolError(f"{method} is a method of MCP, not an extension")
        spec = None if extension else self._spec(method, revision, Kind.REQUEST)
        step = Input.SEND_UTILITY if method in UTILITY_METHODS else Input.SEND_OPERATION
        new_state = self._lifecycle.check(step)
        lacking = missing_capability(spec, self.peer_capabilities)
        if lacking is not None:
            raise LocalProtocolError(f"the peer did not declare the {lacking} capability")
        request_id = self._next_id
        obj = self._encode_params(spec, params)
        given = obj.get("_meta")  # the session may add to it: the token, the stateless members
        if given is not None and not isinstance(given, dict):
            raise LocalProtocolError(f"_meta must be an object, not {given!r}")
        if progress:
            obj["_meta"] = {**(given or {}), "progressToken": request_id}
        token = request_id if progress else None
        self._request(request_id, method, obj, revision, now=now, timeout=timeout, token=token)
        self._lifecycle.state = new_state
        return request_id

    def send_notification(
        self, method: str, params: Params = None, *, extension: bool = False
    ) -> None:
        """Send a notification. Cancellation and progress have their own commands. With
        *extension*, *method* is a vendor's, as for :meth:`send_request`."""
        if method in RESERVED_METHODS:
            raise LocalProtocolError(f"the session sends {method} itself, use its command")
        revision = self._sending_revision(method)
        if extension and not is_extension(method):
            raise LocalProtocolError(f"{method} is a method of MCP, not an extension")
        spec = None if extension else self._spec(method, revision, Kind.NOTIFICATION)
        step = Input.SEND_UTILITY if method in UTILITY_METHODS else Input.SEND_OPERATION
        new_state = self._lifecycle.check(step)
        obj = self._encode_params(spec, params)
        self._outbox.append(jsonrpc.encode(Notification(method, obj or None)))
        self._lifecycle.state = new_state

    def respond(self, request_id: RequestId, result: Model | Mapping[str, Any]) -> None:
        """Answer the peer's request *request_id*; dropped if the peer cancelled it.

        A typed result is encoded for the request's revision (members the revision lacks
        are left out; a stateless-era result gets ``resultType`` and the caching members
        when missing). Raises :class:`LocalProtocolError` for an unknown id or a result
        that does not fit the method; the request then stays in flight. Once the session
        has ended, answers are dropped.
        """
        if self.state in _ENDED:
            return
        entry = self._waiting(request_id)
        text = None
        if not entry.cancelled:
            obj = self._encode_result(entry, result)
            text = jsonrpc.encode_value({"jsonrpc": "2.0", "id": request_id, "result": obj})
        self._answered(request_id, entry, text)

    def respond_error(
        self, request_id: RequestId, code: int, message: str, data: Any = None
    ) -> None:
        """Answer the peer's request *request_id* with a JSON-RPC error; dropped if the
        peer cancelled it, or when the session has ended."""
        if self.state in _ENDED:
            return
        entry = self._waiting(request_id)
        text = None
        if not entry.cancelled:
            text = jsonrpc.encode(ErrorResponse(request_id, ErrorObject(code, message, data)))
        self._answered(request_id, entry, text)

    def cancel(self, request_id: RequestId, reason: str | None = None) -> None:
        """Give up on a request this side sent: ``notifications/cancelled`` tells the peer,
        and a late answer is ignored. An id not in flight is ignored; ``initialize`` cannot
        be cancelled."""
        entry = self._outgoing.get(request_id)
        if entry is None:
            return
        if entry.lifecycle:
            raise LocalProtocolError(f"{entry.method} cannot be cancelled")
        del self._outgoing[request_id]
        self._forget(entry)
        self._timers.set(request_id, None)
        self._send_cancelled(request_id, reason)

    def send_progress(
        self,
        request_id: RequestId,
        progress: float,
        total: float | None = None,
        message: str | None = None,
    ) -> bool:
        """Report progress on the peer's request *request_id*, if it asked for progress.

        Returns whether a notification was sent (never once the session has ended). Raises
        :class:`LocalProtocolError` for an unknown id or a progress value that does not
        increase.
        """
        if self.state in _ENDED:
            return False
        entry = self._waiting(request_id)
        if entry.token is None or entry.cancelled:
            return False
        if entry.progress is not None and not progress > entry.progress:
            raise LocalProtocolError(
                f"progress must increase: {progress!r} after {entry.progress!r}"
            )
        params = ProgressNotificationParams(
            progress_token=entry.token, progress=progress, total=total, message=message
        )
        obj = for_revision(params, entry.revision)
        self._outbox.append(jsonrpc.encode(Notification("notifications/progress", obj)))
        entry.progress = progress
        return True

    # Receiving ----------------------------------------------------------------------------

    def _receive(self, message: Message, now: float, batch: _Batch | None) -> None:
        if isinstance(message, Request):
            self._on_request(message, now, batch)
        elif isinstance(message, Notification):
            self._on_notification(message, now)
        else:
            self._on_response(message, now)

    def _receive_batch(self, items: list[Message | InvalidMessage], now: float) -> None:
        batch = _Batch()
        for item in items:
            if isinstance(item, InvalidMessage):
                error = ErrorObject(item.jsonrpc_code, item.message)
                batch.replies.append(jsonrpc.encode(ErrorResponse(item.id, error)))
                self._events.append(RequestRejected(item.id, None, error))
            else:
                self._receive(item, now, batch)
        batch.sealed = True
        self._flush(batch)

    def _on_request(self, request: Request, now: float, batch: _Batch | None) -> None:
        try:
            if request.id in self._incoming:
                raise Refusal(INVALID_REQUEST, f"request id {request.id!r} is already in flight")
            if self._draining is not None and request.method != "ping":
                raise Refusal(SHUTTING_DOWN, self._draining)
            admitted = self._admit(request, now)
            if isinstance(admitted, str):
                self._reply(admitted, batch)
                return
            revision, capabilities = admitted
            params = self._check_request(request, revision, capabilities)
        except Refusal as refusal:
            self._events.append(RequestRejected(request.id, request.method, refusal.error))
            self._reply(jsonrpc.encode(ErrorResponse(request.id, refusal.error)), batch)
            return
        if request.method == "ping":
            self._reply(jsonrpc.encode(Response(request.id, {})), batch)
            return
        meta = getattr(params, "meta", None)
        token = meta.get("progressToken") if meta else None
        self._incoming[request.id] = _Incoming(request.method, revision, token, batch)
        if batch is not None:
            batch.waiting.add(request.id)
        event = RequestReceived(request.id, request.method, params, revision, capabilities)
        self._events.append(event)

    def _check_request(
        self, request: Request, revision: str, capabilities: Capabilities | None
    ) -> Model:
        """Check a peer's request against the table, the lifecycle, the capabilities and
        the limits, and decode its params."""
        method = request.method
        step = Input.RECEIVE_UTILITY if method in UTILITY_METHODS else Input.RECEIVE_OPERATION
        new_state = TRANSITIONS.get((self._lifecycle.state, step))
        if new_state is None:
            state = self.state.value
            raise Refusal(INVALID_REQUEST, f"{method} is not allowed while the session is {state}")
        extension = method in self._common.extension_methods
        refused = None if extension else self._served.get((method, revision), "")
        if refused == "":
            refused = self._served[method, revision] = self._serves(method, revision)
        if refused is not None:
            raise Refusal(METHOD_NOT_FOUND, refused)
        if len(self._incoming) - self._cancelled >= self._common.max_pending_requests:
            raise Refusal(TOO_MANY_REQUESTS, "too many requests in flight")
        try:
            params = (
                RequestParams.from_json(request.params or {})
                if extension
                else decode_params(method, revision, request.params)
            )
        except InvalidParams as exc:
            raise Refusal(jsonrpc.INVALID_PARAMS, f"invalid params: {exc}") from None
        if not extension:
            self._check_required(method, revision, capabilities)
        self._lifecycle.state = new_state
        return params

    def _serves(self, method: str, revision: str) -> str | None:
        """Why this side does not serve a peer's request for *method* (the -32601 message),
        or ``None`` when it does."""
        spec = method_spec(method, revision)
        if (
            spec is None
            or spec.kind is not Kind.REQUEST
            or not spec.direction.allows(not self.is_client)
        ):
            return f"method not found: {method} (MCP {revision})"
        lacking = missing_capability(spec, self._own_capabilities())
        if lacking is not None:
            return f"method not found: {method} (no {lacking} capability)"
        return None

    def _reply(self, text: str, batch: _Batch | None) -> None:
        """Queue an answer the session gave by itself."""
        if batch is None:
            self._outbox.append(text)
        else:
            batch.replies.append(text)

    def _answered(self, request_id: RequestId, entry: _Incoming, text: str | None) -> None:
        """Forget the request and queue the application's answer (``None`` when the peer
        cancelled it), in its batch if it came in one."""
        del self._incoming[request_id]
        if entry.cancelled:
            self._cancelled -= 1
        batch = entry.batch
        if batch is None:
            if text is not None:
                self._outbox.append(text)
            return
        batch.waiting.discard(request_id)
        if text is not None:
            batch.replies.append(text)
        self._flush(batch)

    def _flush(self, batch: _Batch) -> None:
        if batch.sealed and not batch.waiting and batch.replies:
            self._outbox.append(f"[{','.join(batch.replies)}]")
            batch.replies = []

    def _on_notification(self, notification: Notification, now: float) -> None:
        method = notification.method
        revision = self._receiving_revision()
        spec = method_spec(method, revision)
        reason = None
        if method in self._common.extension_methods:
            if self._lifecycle.allows(Input.RECEIVE_OPERATION):
                vendors = NotificationParams.from_json(notification.params or {})
                self._events.append(NotificationReceived(method, vendors, revision))
            else:
                reason = f"not allowed while the session is {self.state.value}"
                self._events.append(NotificationIgnored(method, reason))
            return
        if (
            spec is None
            or spec.kind is not Kind.NOTIFICATION
            or not spec.direction.allows(not self.is_client)
        ):
            reason = f"not a notification the peer may send in MCP {revision}"
        else:
            step = Input.RECEIVE_UTILITY if method in UTILITY_METHODS else Input.RECEIVE_OPERATION
            if method == "notifications/initialized":
                step = Input.RECEIVE_INITIALIZED
            if not self._lifecycle.allows(step):
                reason = f"not allowed while the session is {self.state.value}"
        if reason is None:
            try:
                params = decode_params(method, revision, notification.params)
            except InvalidParams as exc:
                reason = f"invalid params: {exc}"
        if reason is not None:
            self._events.append(NotificationIgnored(method, reason))
        elif isinstance(params, CancelledNotificationParams):
            self._on_cancelled(params)
        elif isinstance(params, ProgressNotificationParams):
            self._on_progress(params, now)
        elif method == "notifications/initialized":
            self._on_initialized()
        else:
            self._events.append(NotificationReceived(method, params, revision))

    def _on_cancelled(self, params: CancelledNotificationParams) -> None:
        request_id = params.request_id
        if request_id is None:
            return
        entry = self._incoming.get(request_id)
        if entry is None or entry.cancelled:
            return
        entry.cancelled = True
        self._cancelled += 1
        if entry.batch is not None:
            entry.batch.waiting.discard(request_id)
            self._flush(entry.batch)
        self._events.append(RequestCancelled(request_id, params.reason))

    def _on_progress(self, params: ProgressNotificationParams, now: float) -> None:
        token, progress = params.progress_token, params.progress
        request_id = self._tokens.get(token)
        if request_id is None:
            self._events.append(ProgressIgnored(token, progress, "no request has this token"))
            return
        entry = self._outgoing[request_id]
        if entry.progress is not None and not progress > entry.progress:
            reason = f"progress did not increase: {progress!r} after {entry.progress!r}"
            self._events.append(ProgressIgnored(token, progress, reason))
            return
        entry.progress = progress
        if self._common.reset_timeout_on_progress and entry.timeout is not None:
            self._timers.set(request_id, _deadline(now, entry.timeout, entry.limit))
        event = ProgressReceived(request_id, progress, params.total, params.message)
        self._events.append(event)

    def _on_response(self, response: Response | ErrorResponse, now: float) -> None:
        entry = self._outgoing.pop(response.id, None) if response.id is not None else None
        if entry is None:
            self._events.append(UnknownResponseReceived(response))
            return
        request_id: RequestId = response.id  # type: ignore[assignment]
        self._forget(entry)
        self._timers.set(request_id, None)
        if entry.lifecycle:
            self._lifecycle_answered(request_id, entry, response, now)
        elif isinstance(response, ErrorResponse):
            self._events.append(ErrorReceived(request_id, entry.method, response.error))
        else:
            try:
                result = _decode_result(entry.method, entry.revision, response.result)
            except InvalidParams as exc:
                event = InvalidResultReceived(request_id, entry.method, exc, response.result)
                self._events.append(event)
            else:
                self._events.append(ResponseReceived(request_id, entry.method, result))

    # Helpers ------------------------------------------------------------------------------

    def _spec(self, method: str, revision: str, kind: Kind) -> MethodSpec:
        found = _sendable(method, revision, kind, self.is_client)
        if isinstance(found, str):
            raise LocalProtocolError(found)
        return found

    def _encode_params(self, spec: MethodSpec | None, params: Params) -> dict[str, Any]:
        """The JSON params to send: a mapping is checked against the method's type and sent
        as it is; a typed object is encoded for the revision. An extension's (*spec*
        ``None``) must be a mapping, sent as it is."""
        if spec is None:
            if not (params is None or isinstance(params, Mapping)):
                raise LocalProtocolError(f"the params of an extension are a mapping: {params!r}")
            return dict(params or {})
        if params is None or isinstance(params, Mapping):
            obj = dict(params or {})
            try:
                decode_params(spec.method, spec.revision, obj)
            except InvalidParams as exc:
                raise LocalProtocolError(f"invalid params for {spec.method}: {exc}") from None
            return obj
        if not isinstance(params, Model):
            raise LocalProtocolError(f"params must be a Model or a mapping, not {params!r}")
        return for_revision(params, spec.revision)

    def _encode_result(self, entry: _Incoming, result: Model | Mapping[str, Any]) -> Any:
        """The JSON result to send for *entry*, fitted to its revision; raises
        :class:`LocalProtocolError` when *result* does not answer the method."""
        method, revision = entry.method, entry.revision
        if method in self._common.extension_methods:  # an extension's answer, as it is
            obj = dict(result) if isinstance(result, Mapping) else result.to_json()
            if revision in STATELESS_REVISIONS:
                obj.setdefault("resultType", "complete")
        elif isinstance(result, Mapping):
            obj = dict(result)
            try:
                typed = decode_result(method, revision, obj)
            except InvalidParams as exc:
                raise LocalProtocolError(f"invalid result for {method}: {exc}") from None
            obj = _adapt(type(typed), obj, revision)
        else:
            allowed = _answers(method, revision)
            if not isinstance(result, allowed):
                names = " or ".join(kind.__name__ for kind in allowed)
                raise LocalProtocolError(f"{method} is answered with {names}, not {result!r}")
            obj = for_revision(result, revision)
        return self._decorate_result(obj, revision)

    def _decorate_result(self, obj: dict[str, Any], revision: str) -> dict[str, Any]:
        """A hook for the server to add its info to stateless-era results."""
        return obj

    def _request(
        self,
        request_id: RequestId,
        method: str,
        params: dict[str, Any] | None,
        revision: str,
        *,
        now: float,
        timeout: TimeoutArg,
        token: RequestId | None = None,
        lifecycle: bool = False,
    ) -> None:
        """Encode, queue and track a request (all checks done)."""
        if len(self._outgoing) >= self._common.max_pending_requests:
            raise LocalProtocolError("too many requests in flight")
        if revision in _STATELESS:
            params = self._stateless_meta(params or {}, revision)
        envelope: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params:
            envelope["params"] = params
        text = jsonrpc.encode_value(envelope)
        if timeout is UNSET:
            timeout = self._common.request_timeout
        limit = self._common.max_request_time
        limit = None if limit is None else now + limit
        self._outbox.append(text)
        self._next_id += 1
        self._outgoing[request_id] = _Outgoing(method, revision, timeout, limit, token, lifecycle)
        if token is not None:
            self._tokens[token] = request_id
        if timeout is not None or limit is not None:
            self._timers.set(request_id, _deadline(now, timeout, limit))

    def _send_cancelled(self, request_id: RequestId, reason: str | None) -> None:
        params = {"requestId": request_id, **({"reason": reason} if reason else {})}
        notification = Notification("notifications/cancelled", params)
        self._outbox.append(jsonrpc.encode(notification))

    def _forget(self, entry: _Outgoing) -> None:
        if entry.token is not None:
            del self._tokens[entry.token]

    def _waiting(self, request_id: RequestId) -> _Incoming:
        entry = self._incoming.get(request_id)
        if entry is None:
            raise LocalProtocolError(f"no request {request_id!r} from the peer is in flight")
        return entry

    def _fail(self, error: ProtocolError) -> None:
        self._lifecycle.process(Input.FAIL)
        self._timers.clear()
        self._outgoing.clear()
        self._incoming.clear()
        self._cancelled = 0
        self._tokens.clear()
        self._events.append(SessionFailed(error))

    # Role hooks ---------------------------------------------------------------------------

    def _admit(self, request: Request, now: float) -> tuple[str, Capabilities | None] | str:
        """Decide the revision of a peer's request and the capabilities it came with, or
        answer it (lifecycle requests) and return the answer. Raises :class:`Refusal`."""
        raise NotImplementedError

    def _check_required(
        self, method: str, revision: str, capabilities: Capabilities | None
    ) -> None:
        """Refuse a request whose sender lacks a capability this side requires."""

    def _own_capabilities(self) -> Capabilities | None:
        raise NotImplementedError

    def _sending_revision(self, method: str) -> str:
        """The revision of a message this side sends now; raises when none can be sent."""
        raise NotImplementedError

    def _receiving_revision(self) -> str:
        """The revision a notification from the peer is read in."""
        raise NotImplementedError

    def _stateless_meta(self, params: dict[str, Any], revision: str) -> dict[str, Any]:
        raise NotImplementedError

    def _on_initialized(self) -> None:
        raise NotImplementedError

    def _lifecycle_answered(
        self,
        request_id: RequestId,
        entry: _Outgoing,
        response: Response | ErrorResponse,
        now: float,
    ) -> None:
        raise NotImplementedError

    def _lifecycle_timed_out(self, request_id: RequestId, entry: _Outgoing, now: float) -> None:
        raise NotImplementedError


def _decode_result(method: str, revision: str, result: Any) -> Model:
    """The typed result of a request, a plain :class:`Result` for an extension's."""
    if not is_extension(method):
        return decode_result(method, revision, result)
    if type(result) is not dict:
        raise InvalidParams("a result must be an object")
    return Result.from_json(result)


@functools.cache
def _answers(method: str, revision: str) -> tuple[type[Model], ...]:
    """The result classes that may answer *method* in *revision*."""
    spec = method_spec(method, revision)
    assert spec is not None
    assert spec.result is not None
    kinds = (
        spec.result,
        spec.task_result,
        InputRequiredResult if spec.input_required else None,
    )
    return tuple(kind for kind in kinds if kind is not None)


@functools.cache
def _sendable(method: str, revision: str, kind: Kind, by_client: bool) -> MethodSpec | str:
    """The spec of a *kind* of *method* this side may send in *revision*, or why not."""
    spec = method_spec(method, revision)
    if spec is None or spec.kind is not kind:
        return f"{method} is not a {kind.value} in MCP {revision}"
    if not spec.direction.allows(by_client):
        return f"{method} is sent by {'a server' if by_client else 'a client'} only"
    return spec


def _deadline(now: float, timeout: float | None, limit: float | None) -> float:
    if timeout is None:
        assert limit is not None
        return limit
    return now + timeout if limit is None else min(now + timeout, limit)
