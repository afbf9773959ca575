"""The one table of MCP methods: for each (method, revision), its types, kind and direction.

:data:`METHODS` is built from a short list of declarations, each naming the revisions it holds
for, and is the single source the sessions consult: whether a method exists in a revision,
who may send it, whether it is a request or a notification, and how its params and result
decode.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final

import attrs

from mcpws.core.errors import InvalidParams
from mcpws.core.mcp import _types as t
from mcpws.core.mcp._model import Model
from mcpws.core.versions import HANDSHAKE_REVISIONS, REVISIONS

__all__ = [
    "HEADER_MISMATCH",
    "METHODS",
    "MISSING_REQUIRED_CLIENT_CAPABILITY",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "URL_ELICITATION_REQUIRED",
    "Direction",
    "Kind",
    "MethodSpec",
    "MissingRequiredClientCapabilityData",
    "UnsupportedProtocolVersionData",
    "decode_params",
    "decode_result",
    "is_extension",
    "method_spec",
    "methods_of",
]

#: 2026-07-28: HTTP headers and the body disagree (HTTP transports only).
HEADER_MISMATCH: Final = -32020
#: 2026-07-28: the request needs a client capability the request's ``_meta`` did not declare.
MISSING_REQUIRED_CLIENT_CAPABILITY: Final = -32021
#: 2026-07-28: the request's revision is unknown to the server or not supported by it.
UNSUPPORTED_PROTOCOL_VERSION: Final = -32022
#: 2025-11-25: the server needs the user to complete a URL elicitation first.
URL_ELICITATION_REQUIRED: Final = -32042


@attrs.frozen(kw_only=True, repr=False)
class UnsupportedProtocolVersionData(Model):
    """``error.data`` of :data:`UNSUPPORTED_PROTOCOL_VERSION`."""

    requested: str
    supported: list[str]


@attrs.frozen(kw_only=True, repr=False)
class MissingRequiredClientCapabilityData(Model):
    """``error.data`` of :data:`MISSING_REQUIRED_CLIENT_CAPABILITY`."""

    required_capabilities: t.ClientCapabilities


class Kind(enum.Enum):
    """Whether a method is answered."""

    REQUEST = "request"
    NOTIFICATION = "notification"

    __hash__ = object.__hash__


class Direction(enum.Enum):
    """Who may send a method."""

    CLIENT_TO_SERVER = "client to server"
    SERVER_TO_CLIENT = "server to client"
    BOTH = "both"

    __hash__ = object.__hash__

    def allows(self, sender_is_client: bool) -> bool:
        """Tell whether the client (or, when false, the server) may send the method."""
        if self is Direction.BOTH:
            return True
        return (self is Direction.CLIENT_TO_SERVER) is sender_is_client


@attrs.frozen
class MethodSpec:
    """What one method is in one revision.

    ``result`` is ``None`` for a notification. ``task_result`` is the result a request that
    asked to run as a task gets instead (2025-11-25), and ``input_required`` says whether the
    server may answer with an :class:`~mcpws.core.mcp.InputRequiredResult` (2026-07-28).
    """

    method: str
    revision: str
    kind: Kind
    direction: Direction
    params: type[Model]
    result: type[Model] | None
    task_result: type[Model] | None = None
    input_required: bool = False


_REQ, _NOTE = Kind.REQUEST, Kind.NOTIFICATION
_C2S, _S2C, _BOTH = Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT, Direction.BOTH
_ALL: Final = REVISIONS
_HANDSHAKE: Final = HANDSHAKE_REVISIONS
_STATELESS: Final = ("2026-07-28",)
_TASKS: Final = ("2025-11-25",)
_ELICITATION: Final = ("2025-06-18", "2025-11-25")

# (method, kind, direction, params, result, revisions)
_DECLARATIONS: Final[tuple[tuple[str, Kind, Direction, type[Model], Any, tuple[str, ...]], ...]] = (
    # Lifecycle and utilities
    ("initialize", _REQ, _C2S, t.InitializeRequestParams, t.InitializeResult, _HANDSHAKE),
    ("notifications/initialized", _NOTE, _C2S, t.NotificationParams, None, _HANDSHAKE),
    ("ping", _REQ, _BOTH, t.RequestParams, t.Result, _HANDSHAKE),
    ("server/discover", _REQ, _C2S, t.RequestParams, t.DiscoverResult, _STATELESS),
    ("notifications/cancelled", _NOTE, _BOTH, t.CancelledNotificationParams, None, _ALL),
    ("notifications/progress", _NOTE, _BOTH, t.ProgressNotificationParams, None, _HANDSHAKE),
    ("notifications/progress", _NOTE, _S2C, t.ProgressNotificationParams, None, _STATELESS),
    # Tools
    ("tools/list", _REQ, _C2S, t.PaginatedRequestParams, t.ListToolsResult, _ALL),
    ("tools/call", _REQ, _C2S, t.CallToolRequestParams, t.CallToolResult, _ALL),
    ("notifications/tools/list_changed", _NOTE, _S2C, t.NotificationParams, None, _ALL),
    # Resources
    ("resources/list", _REQ, _C2S, t.PaginatedRequestParams, t.ListResourcesResult, _ALL),
    (
        "resources/templates/list",
        _REQ,
        _C2S,
        t.PaginatedRequestParams,
        t.ListResourceTemplatesResult,
        _ALL,
    ),
    ("resources/read", _REQ, _C2S, t.ReadResourceRequestParams, t.ReadResourceResult, _ALL),
    ("resources/subscribe", _REQ, _C2S, t.SubscribeRequestParams, t.Result, _HANDSHAKE),
    ("resources/unsubscribe", _REQ, _C2S, t.UnsubscribeRequestParams, t.Result, _HANDSHAKE),
    ("notifications/resources/list_changed", _NOTE, _S2C, t.NotificationParams, None, _ALL),
    (
        "notifications/resources/updated",
        _NOTE,
        _S2C,
        t.ResourceUpdatedNotificationParams,
        None,
        _ALL,
    ),
    # Prompts
    ("prompts/list", _REQ, _C2S, t.PaginatedRequestParams, t.ListPromptsResult, _ALL),
    ("prompts/get", _REQ, _C2S, t.GetPromptRequestParams, t.GetPromptResult, _ALL),
    ("notifications/prompts/list_changed", _NOTE, _S2C, t.NotificationParams, None, _ALL),
    # Logging and completion
    ("logging/setLevel", _REQ, _C2S, t.SetLevelRequestParams, t.Result, _HANDSHAKE),
    ("notifications/message", _NOTE, _S2C, t.LoggingMessageNotificationParams, None, _ALL),
    ("completion/complete", _REQ, _C2S, t.CompleteRequestParams, t.CompleteResult, _ALL),
    # Requests to the client (handshake era)
    (
        "sampling/createMessage",
        _REQ,
        _S2C,
        t.CreateMessageRequestParams,
        t.CreateMessageResult,
        _HANDSHAKE,
    ),
    ("roots/list", _REQ, _S2C, t.RequestParams, t.ListRootsResult, _HANDSHAKE),
    ("notifications/roots/list_changed", _NOTE, _C2S, t.NotificationParams, None, _HANDSHAKE),
    ("elicitation/create", _REQ, _S2C, t.ElicitRequestFormParams, t.ElicitResult, _ELICITATION),
    (
        "notifications/elicitation/complete",
        _NOTE,
        _S2C,
        t.ElicitationCompleteNotificationParams,
        None,
        _TASKS,
    ),
    # Tasks (2025-11-25)
    ("tasks/get", _REQ, _BOTH, t.TaskIdParams, t.GetTaskResult, _TASKS),
    ("tasks/result", _REQ, _BOTH, t.TaskIdParams, t.GetTaskPayloadResult, _TASKS),
    ("tasks/cancel", _REQ, _BOTH, t.TaskIdParams, t.CancelTaskResult, _TASKS),
    ("tasks/list", _REQ, _BOTH, t.PaginatedRequestParams, t.ListTasksResult, _TASKS),
    ("notifications/tasks/status", _NOTE, _BOTH, t.TaskStatusNotificationParams, None, _TASKS),
    # Subscriptions (2026-07-28)
    (
        "subscriptions/listen",
        _REQ,
        _C2S,
        t.SubscriptionsListenRequestParams,
        t.SubscriptionsListenResult,
        _STATELESS,
    ),
    (
        "notifications/subscriptions/acknowledged",
        _NOTE,
        _S2C,
        t.SubscriptionsAcknowledgedNotificationParams,
        None,
        _STATELESS,
    ),
)

#: The methods a request can ask to run as a task in 2025-11-25.
_TASK_AUGMENTED: Final = frozenset({"tools/call", "sampling/createMessage", "elicitation/create"})
#: The methods the server may answer with an InputRequiredResult in 2026-07-28.
_INPUT_REQUIRED: Final = frozenset({"tools/call", "prompts/get", "resources/read"})


def _build() -> dict[tuple[str, str], MethodSpec]:
    table: dict[tuple[str, str], MethodSpec] = {}
    for method, kind, direction, params, result, revisions in _DECLARATIONS:
        for revision in revisions:
            table[method, revision] = MethodSpec(
                method,
                revision,
                kind,
                direction,
                params,
                result,
                task_result=t.CreateTaskResult
                if revision in _TASKS and method in _TASK_AUGMENTED
                else None,
                input_required=revision in _STATELESS and method in _INPUT_REQUIRED,
            )
    return table


#: Every (method, revision) pair mcpws knows, and what it is.
METHODS: Final[Mapping[tuple[str, str], MethodSpec]] = _build()


def method_spec(method: str, revision: str) -> MethodSpec | None:
    """Return what *method* is in *revision*, or ``None`` when the revision lacks it."""
    return METHODS.get((method, revision))


_NAMES: Final = frozenset(method for method, _ in METHODS)


def is_extension(method: str) -> bool:
    """Whether no revision of MCP defines *method*: a vendor's extension (``x/vendor``),
    which a session sends as it is and whose result it reads as a plain
    :class:`~mcpws.core.mcp.Result`."""
    return method not in _NAMES


def methods_of(
    revision: str, *, kind: Kind | None = None, sender_is_client: bool | None = None
) -> list[MethodSpec]:
    """List the methods of *revision*, optionally of one kind or one sender."""
    return [
        spec
        for (_, rev), spec in METHODS.items()
        if rev == revision
        and (kind is None or spec.kind is kind)
        and (sender_is_client is None or spec.direction.allows(sender_is_client))
    ]


def _known(method: str, revision: str) -> MethodSpec:
    spec = METHODS.get((method, revision))
    if spec is None:
        raise KeyError(f"{method} does not exist in MCP {revision}")
    return spec


def decode_params(method: str, revision: str, params: dict[str, Any] | None) -> Model:
    """Decode the params of a request or notification into their typed class.

    Absent params decode as an empty object. Raises :class:`KeyError` when *method* does not
    exist in *revision*, and :class:`~mcpws.core.errors.InvalidParams` naming the member at
    fault when the params do not match.
    """
    spec = _known(method, revision)
    value = {} if params is None else params
    if method == "elicitation/create" and value.get("mode") == "url":
        return t.ElicitRequestURLParams.from_json(value)
    return spec.params.from_json(value)


def decode_result(method: str, revision: str, result: Any) -> Model:
    """Decode the result of a request into its typed class.

    A result may instead be the task a 2025-11-25 request asked to run as
    (:class:`~mcpws.core.mcp.CreateTaskResult`), or a 2026-07-28 server's request for input
    (:class:`~mcpws.core.mcp.InputRequiredResult`). Raises :class:`KeyError` for a method that
    is not a request of *revision*, and :class:`~mcpws.core.errors.InvalidParams` for a result
    that does not match.
    """
    spec = _known(method, revision)
    if spec.result is None:
        raise KeyError(f"{method} is a notification and has no result")
    if type(result) is not dict:
        raise InvalidParams("a result must be an object")
    if spec.input_required and result.get("resultType") == "input_required":
        return t.InputRequiredResult.from_json(result)
    if spec.task_result is not None and "task" in result:
        return spec.task_result.from_json(result)
    return spec.result.from_json(result)
