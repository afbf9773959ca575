"""The one table of MCP methods: for each (method, revision), its types, kind and direction.

:data:`METHODS` is built from a short list of declarations, each naming the revisions it holds
for, and is the single source the sessions consult: whether a method exists in a revision,
who may send it, whether it is a request or a notification, how its params and result
decode, which capability its receiver must have declared, whether it may run as a task or be
answered with a request for input, whether it may flow during the handshake and whether only
the session sends it. A request's declaration cannot leave its capability out: it names one
or says :data:`NO_CAPABILITY`. :data:`UTILITY_METHODS` and :data:`RESERVED_METHODS` give the
two facts that hold whatever the revision, for lookups by name alone.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from mcpws.core.errors import InvalidParams
from mcpws.core.mcp import _types as t
from mcpws.core.mcp._model import Model, null_member
from mcpws.core.versions import HANDSHAKE_REVISIONS, REVISIONS

__all__ = [
    "HEADER_MISMATCH",
    "METHODS",
    "MISSING_REQUIRED_CLIENT_CAPABILITY",
    "NO_CAPABILITY",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "URL_ELICITATION_REQUIRED",
    "Direction",
    "Kind",
    "MethodSpec",
    "MissingRequiredClientCapabilityData",
    "NoCapability",
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


class NoCapability(enum.Enum):
    """The type of :data:`NO_CAPABILITY`."""

    NONE = "none"

    __hash__ = object.__hash__


#: What a request says of its capability when none gates it: the receiver serves it whatever
#: it declared (``ping``, ``initialize``). A notification's capability is this too.
NO_CAPABILITY: Final = NoCapability.NONE


@attrs.frozen
class MethodSpec:
    """What one method is in one revision.

    ``result`` is ``None`` for a notification. ``task_result`` is the result a request that
    asked to run as a task gets instead (2025-11-25), and ``input_required`` says whether the
    server may answer with an :class:`~mcpws.core.mcp.InputRequiredResult` (2026-07-28).

    ``capability`` is what the receiver of a request must have declared to serve it: the path
    to a member of its capabilities, ``("tools",)``, or to a flag inside one,
    ``("resources", "subscribe")``; or :data:`NO_CAPABILITY`. ``utility`` says whether the
    method may flow while a handshake is under way, and ``reserved`` whether only the session
    sends it, through its own commands; neither depends on the revision.
    """

    method: str
    revision: str
    kind: Kind
    direction: Direction
    params: type[Model]
    result: type[Model] | None
    task_result: type[Model] | None = None
    input_required: bool = False
    capability: tuple[str, ...] | NoCapability = attrs.field(kw_only=True)
    utility: bool = attrs.field(default=False, kw_only=True)
    reserved: bool = attrs.field(default=False, kw_only=True)


def _capability(
    declaration: _Request, attribute: attrs.Attribute[Any], value: str | NoCapability
) -> None:
    """Refuse a capability that is neither :data:`NO_CAPABILITY` nor ``name`` or
    ``name.flag``."""
    if value is NO_CAPABILITY:
        return
    if not (isinstance(value, str) and 1 <= len(value.split(".")) <= 2 and all(value.split("."))):
        raise ValueError(f"{declaration.method}: a capability is name or name.flag, not {value!r}")


@attrs.frozen
class _Request:
    """A request's declaration. Its capability comes before its revisions and has no
    default: a declaration that leaves it out fails at import. ``task_augmented`` and
    ``input_required`` name the revisions where those answers may come."""

    method: str
    direction: Direction
    params: type[Model]
    result: type[Model]
    capability: str | NoCapability = attrs.field(validator=_capability)
    revisions: tuple[str, ...]
    task_augmented: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    input_required: tuple[str, ...] = attrs.field(default=(), kw_only=True)
    utility: bool = attrs.field(default=False, kw_only=True)
    reserved: bool = attrs.field(default=False, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not set(self.task_augmented + self.input_required) <= set(self.revisions):
            raise ValueError(f"{self.method}: task or input answers outside its revisions")

    def spec(self, revision: str) -> MethodSpec:
        """What the request is in *revision*."""
        capability = self.capability
        return MethodSpec(
            self.method,
            revision,
            Kind.REQUEST,
            self.direction,
            self.params,
            self.result,
            t.CreateTaskResult if revision in self.task_augmented else None,
            revision in self.input_required,
            capability=capability if capability is NO_CAPABILITY else tuple(capability.split(".")),
            utility=self.utility,
            reserved=self.reserved,
        )


@attrs.frozen
class _Notification:
    """A notification's declaration."""

    method: str
    direction: Direction
    params: type[Model]
    revisions: tuple[str, ...]
    utility: bool = attrs.field(default=False, kw_only=True)
    reserved: bool = attrs.field(default=False, kw_only=True)

    def spec(self, revision: str) -> MethodSpec:
        """What the notification is in *revision*."""
        return MethodSpec(
            self.method,
            revision,
            Kind.NOTIFICATION,
            self.direction,
            self.params,
            None,
            capability=NO_CAPABILITY,
            utility=self.utility,
            reserved=self.reserved,
        )


_C2S, _S2C, _BOTH = Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT, Direction.BOTH
_NONE: Final = NO_CAPABILITY
_ALL: Final = REVISIONS
_HANDSHAKE: Final = HANDSHAKE_REVISIONS
_STATELESS: Final = ("2026-07-28",)
_TASKS: Final = ("2025-11-25",)
_ELICITATION: Final = ("2025-06-18", "2025-11-25")
_COMPLETIONS: Final = tuple(revision for revision in REVISIONS if revision != "2024-11-05")

_R, _N = _Request, _Notification
_DECLARATIONS: Final[tuple[_Request | _Notification, ...]] = (
    # Lifecycle and utilities
    _R("initialize", _C2S, t.InitializeRequestParams, t.InitializeResult, _NONE, _HANDSHAKE,
       reserved=True),
    _N("notifications/initialized", _C2S, t.NotificationParams, _HANDSHAKE, reserved=True),
    _R("ping", _BOTH, t.RequestParams, t.Result, _NONE, _HANDSHAKE, utility=True),
    _R("server/discover", _C2S, t.RequestParams, t.DiscoverResult, _NONE, _STATELESS,
       reserved=True),
    _N("notifications/cancelled", _BOTH, t.CancelledNotificationParams, _ALL, utility=True,
       reserved=True),
    _N("notifications/progress", _BOTH, t.ProgressNotificationParams, _HANDSHAKE, utility=True,
       reserved=True),
    _N("notifications/progress", _S2C, t.ProgressNotificationParams, _STATELESS, utility=True,
       reserved=True),
    # Tools
    _R("tools/list", _C2S, t.PaginatedRequestParams, t.ListToolsResult, "tools", _ALL),
    _R("tools/call", _C2S, t.CallToolRequestParams, t.CallToolResult, "tools", _ALL,
       task_augmented=_TASKS, input_required=_STATELESS),
    _N("notifications/tools/list_changed", _S2C, t.NotificationParams, _ALL),
    # Resources
    _R("resources/list", _C2S, t.PaginatedRequestParams, t.ListResourcesResult, "resources",
       _ALL),
    _R("resources/templates/list", _C2S, t.PaginatedRequestParams,
       t.ListResourceTemplatesResult, "resources", _ALL),
    _R("resources/read", _C2S, t.ReadResourceRequestParams, t.ReadResourceResult, "resources",
       _ALL, input_required=_STATELESS),
    _R("resources/subscribe", _C2S, t.SubscribeRequestParams, t.Result, "resources.subscribe",
       _HANDSHAKE),
    _R("resources/unsubscribe", _C2S, t.UnsubscribeRequestParams, t.Result,
       "resources.subscribe", _HANDSHAKE),
    _N("notifications/resources/list_changed", _S2C, t.NotificationParams, _ALL),
    _N("notifications/resources/updated", _S2C, t.ResourceUpdatedNotificationParams, _ALL),
    # Prompts
    _R("prompts/list", _C2S, t.PaginatedRequestParams, t.ListPromptsResult, "prompts", _ALL),
    _R("prompts/get", _C2S, t.GetPromptRequestParams, t.GetPromptResult, "prompts", _ALL,
       input_required=_STATELESS),
    _N("notifications/prompts/list_changed", _S2C, t.NotificationParams, _ALL),
    # Logging and completion (2024-11-05 had no capability for completion)
    _R("logging/setLevel", _C2S, t.SetLevelRequestParams, t.Result, "logging", _HANDSHAKE),
    _N("notifications/message", _S2C, t.LoggingMessageNotificationParams, _ALL, utility=True),
    _R("completion/complete", _C2S, t.CompleteRequestParams, t.CompleteResult, _NONE,
       ("2024-11-05",)),
    _R("completion/complete", _C2S, t.CompleteRequestParams, t.CompleteResult, "completions",
       _COMPLETIONS),
    # Requests to the client (handshake era)
    _R("sampling/createMessage", _S2C, t.CreateMessageRequestParams, t.CreateMessageResult,
       "sampling", _HANDSHAKE, task_augmented=_TASKS),
    _R("roots/list", _S2C, t.RequestParams, t.ListRootsResult, "roots", _HANDSHAKE),
    _N("notifications/roots/list_changed", _C2S, t.NotificationParams, _HANDSHAKE),
    _R("elicitation/create", _S2C, t.ElicitRequestFormParams, t.ElicitResult, "elicitation",
       _ELICITATION, task_augmented=_TASKS),
    _N("notifications/elicitation/complete", _S2C, t.ElicitationCompleteNotificationParams,
       _TASKS),
    # Tasks (2025-11-25)
    _R("tasks/get", _BOTH, t.TaskIdParams, t.GetTaskResult, "tasks", _TASKS),
    _R("tasks/result", _BOTH, t.TaskIdParams, t.GetTaskPayloadResult, "tasks", _TASKS),
    _R("tasks/cancel", _BOTH, t.TaskIdParams, t.CancelTaskResult, "tasks", _TASKS),
    _R("tasks/list", _BOTH, t.PaginatedRequestParams, t.ListTasksResult, "tasks", _TASKS),
    _N("notifications/tasks/status", _BOTH, t.TaskStatusNotificationParams, _TASKS),
    # Subscriptions (2026-07-28)
    _R("subscriptions/listen", _C2S, t.SubscriptionsListenRequestParams,
       t.SubscriptionsListenResult, _NONE, _STATELESS),
    _N("notifications/subscriptions/acknowledged", _S2C,
       t.SubscriptionsAcknowledgedNotificationParams, _STATELESS),
)  # fmt: skip


def _build(declarations: Iterable[_Request | _Notification]) -> dict[tuple[str, str], MethodSpec]:
    """Expand *declarations* into the table, one entry per (method, revision); raises
    :class:`ValueError` for a method declared twice in a revision, or for rows of one method
    that disagree on what does not depend on the revision."""
    table: dict[tuple[str, str], MethodSpec] = {}
    traits: dict[str, tuple[bool, bool]] = {}
    for declaration in declarations:
        method = declaration.method
        own = (declaration.utility, declaration.reserved)
        if traits.setdefault(method, own) != own:
            raise ValueError(f"{method}: its declarations disagree on utility or reserved")
        for revision in declaration.revisions:
            if (method, revision) in table:
                raise ValueError(f"{method} is declared twice in MCP {revision}")
            table[method, revision] = declaration.spec(revision)
    return table


#: Every (method, revision) pair mcpws knows, and what it is.
METHODS: Final[Mapping[tuple[str, str], MethodSpec]] = _build(_DECLARATIONS)


def method_spec(method: str, revision: str) -> MethodSpec | None:
    """Return what *method* is in *revision*, or ``None`` when the revision lacks it."""
    return METHODS.get((method, revision))


_NAMES: Final = frozenset(method for method, _ in METHODS)

#: The methods that may flow while a handshake is under way, whatever the revision.
UTILITY_METHODS: Final = frozenset(spec.method for spec in METHODS.values() if spec.utility)
#: The methods only the session sends, through its own commands, whatever the revision.
RESERVED_METHODS: Final = frozenset(spec.method for spec in METHODS.values() if spec.reserved)


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
    if revision in _STATELESS:  # where no member of the schema may be null
        path = null_member(spec.params, value)
        if path is not None:
            raise InvalidParams("must not be null", path=path)
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
