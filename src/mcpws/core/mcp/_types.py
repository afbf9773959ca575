"""The typed MCP structures of every revision from 2024-11-05 to 2026-07-28.

One class stands for a structure in every revision: it declares the union of the members the
revisions define, each as loosely as the loosest revision requires. A member that not every
revision has carries its revisions in the field metadata (``since``, ``until``), and a member
that only some revisions require names those in ``required_in``; the schema tests generate
messages per revision from that, and the sessions use it to build what a revision requires.

Class names are those of the official schemas. Free-form JSON (tool arguments, JSON Schemas,
``_meta``, capability details) stays plain ``dict``.
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypeAlias

import attrs

from mcpws.core.mcp._model import Model

__all__ = [
    "META_CLIENT_CAPABILITIES",
    "META_CLIENT_INFO",
    "META_LOG_LEVEL",
    "META_PROTOCOL_VERSION",
    "META_SERVER_INFO",
    "META_SUBSCRIPTION_ID",
    "Annotations",
    "AudioContent",
    "BlobResourceContents",
    "BooleanSchema",
    "CacheableResult",
    "CallToolRequestParams",
    "CallToolResult",
    "CancelTaskResult",
    "CancelledNotificationParams",
    "ClientCapabilities",
    "CompleteRequestParams",
    "CompleteResult",
    "Completion",
    "CompletionArgument",
    "CompletionContext",
    "ContentBlock",
    "CreateMessageRequest",
    "CreateMessageRequestParams",
    "CreateMessageResult",
    "CreateTaskResult",
    "DiscoverResult",
    "ElicitRequest",
    "ElicitRequestFormParams",
    "ElicitRequestParams",
    "ElicitRequestURLParams",
    "ElicitResult",
    "ElicitationCompleteNotificationParams",
    "EmbeddedResource",
    "GetPromptRequestParams",
    "GetPromptResult",
    "GetTaskPayloadResult",
    "GetTaskResult",
    "Icon",
    "ImageContent",
    "Implementation",
    "InitializeRequestParams",
    "InitializeResult",
    "InputRequest",
    "InputRequiredResult",
    "InputResponse",
    "InputResponseRequestParams",
    "LegacyTitledEnumSchema",
    "ListPromptsResult",
    "ListResourceTemplatesResult",
    "ListResourcesResult",
    "ListRootsRequest",
    "ListRootsResult",
    "ListTasksResult",
    "ListToolsResult",
    "LoggingLevel",
    "LoggingMessageNotificationParams",
    "ModelHint",
    "ModelPreferences",
    "NotificationParams",
    "NumberSchema",
    "PaginatedRequestParams",
    "ProgressNotificationParams",
    "ProgressToken",
    "Prompt",
    "PromptArgument",
    "PromptMessage",
    "PromptReference",
    "ReadResourceRequestParams",
    "ReadResourceResult",
    "RequestParams",
    "Resource",
    "ResourceContents",
    "ResourceLink",
    "ResourceTemplate",
    "ResourceTemplateReference",
    "ResourceUpdatedNotificationParams",
    "Result",
    "Role",
    "Root",
    "SamplingContent",
    "SamplingMessage",
    "ServerCapabilities",
    "SetLevelRequestParams",
    "StringSchema",
    "SubscribeRequestParams",
    "SubscriptionFilter",
    "SubscriptionsAcknowledgedNotificationParams",
    "SubscriptionsListenRequestParams",
    "SubscriptionsListenResult",
    "Task",
    "TaskIdParams",
    "TaskMetadata",
    "TaskStatusNotificationParams",
    "TextContent",
    "TextResourceContents",
    "TitledMultiSelectEnumSchema",
    "TitledSingleSelectEnumSchema",
    "Tool",
    "ToolAnnotations",
    "ToolChoice",
    "ToolExecution",
    "ToolResultContent",
    "ToolUseContent",
    "UnsubscribeRequestParams",
    "UntitledMultiSelectEnumSchema",
    "UntitledSingleSelectEnumSchema",
]

# Reserved ``_meta`` keys of revision 2026-07-28 ------------------------------------------------

#: In a request's ``_meta``: the revision the request speaks (required).
META_PROTOCOL_VERSION: Final = "io.modelcontextprotocol/protocolVersion"
#: In a request's ``_meta``: the client's capabilities (required).
META_CLIENT_CAPABILITIES: Final = "io.modelcontextprotocol/clientCapabilities"
#: In a request's ``_meta``: the client's implementation info.
META_CLIENT_INFO: Final = "io.modelcontextprotocol/clientInfo"
#: In a request's ``_meta``: the lowest logging level the client wants to hear about.
META_LOG_LEVEL: Final = "io.modelcontextprotocol/logLevel"
#: In a result's ``_meta``: the server's implementation info.
META_SERVER_INFO: Final = "io.modelcontextprotocol/serverInfo"
#: In a ``subscriptions/listen`` result's and in a notification's ``_meta``.
META_SUBSCRIPTION_ID: Final = "io.modelcontextprotocol/subscriptionId"

ProgressToken: TypeAlias = str | int
Role: TypeAlias = Literal["user", "assistant"]
LoggingLevel: TypeAlias = Literal[
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"
]
Meta: TypeAlias = dict[str, Any] | None

_V2025_03: Final = "2025-03-26"
_V2025_06: Final = "2025-06-18"
_V2025_11: Final = "2025-11-25"
_V2026_07: Final = "2026-07-28"


def _rev(
    since: str | None = None, until: str | None = None, required_in: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Field metadata: the first and last revisions with the member, and where it is required."""
    metadata: dict[str, Any] = {}
    if since:
        metadata["since"] = since
    if until:
        metadata["until"] = until
    if required_in:
        metadata["required_in"] = required_in
    return metadata


_META_SINCE_2025_06: Final = _rev(_V2025_06)
_META_SINCE_2025_11: Final = _rev(_V2025_11)
_ONLY_2025_11: Final = _rev(_V2025_11, _V2025_11)
_ONLY_2026_07: Final = _rev(_V2026_07)
_REQUIRED_2026_07: Final = _rev(_V2026_07, required_in=(_V2026_07,))
_REQUEST_META: Final = _rev(required_in=(_V2026_07,))


# Common structures ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class Icon(Model):
    """An icon for an implementation, tool, resource or prompt (2025-11-25 on)."""

    src: str
    mime_type: str | None = None
    sizes: list[str] | None = None
    theme: Literal["light", "dark"] | None = None


@attrs.frozen(kw_only=True, repr=False)
class Implementation(Model):
    """The name and version of an MCP client or server."""

    name: str
    version: str
    title: str | None = attrs.field(default=None, metadata=_rev(_V2025_06))
    description: str | None = attrs.field(default=None, metadata=_rev(_V2025_11))
    icons: list[Icon] | None = attrs.field(default=None, metadata=_rev(_V2025_11))
    website_url: str | None = attrs.field(default=None, metadata=_rev(_V2025_11))


@attrs.frozen(kw_only=True, repr=False)
class Annotations(Model):
    """Hints on how a client uses or shows an object (an untyped object in 2024-11-05)."""

    audience: list[Role] | None = None
    priority: float | None = None
    last_modified: str | None = attrs.field(default=None, metadata=_rev(_V2025_06))


@attrs.frozen(kw_only=True, repr=False)
class ClientCapabilities(Model):
    """What a client supports. Each capability's details are a plain object."""

    experimental: dict[str, dict[str, Any]] | None = None
    roots: dict[str, Any] | None = None
    sampling: dict[str, Any] | None = None
    elicitation: dict[str, Any] | None = attrs.field(default=None, metadata=_rev(_V2025_06))
    tasks: dict[str, Any] | None = attrs.field(default=None, metadata=_ONLY_2025_11)
    extensions: dict[str, dict[str, Any]] | None = attrs.field(default=None, metadata=_ONLY_2026_07)


@attrs.frozen(kw_only=True, repr=False)
class ServerCapabilities(Model):
    """What a server offers. Each capability's details are a plain object."""

    experimental: dict[str, dict[str, Any]] | None = None
    logging: dict[str, Any] | None = None
    completions: dict[str, Any] | None = attrs.field(default=None, metadata=_rev(_V2025_03))
    prompts: dict[str, Any] | None = None
    resources: dict[str, Any] | None = None
    tools: dict[str, Any] | None = None
    tasks: dict[str, Any] | None = attrs.field(default=None, metadata=_ONLY_2025_11)
    extensions: dict[str, dict[str, Any]] | None = attrs.field(default=None, metadata=_ONLY_2026_07)


@attrs.frozen(kw_only=True, repr=False)
class RequestParams(Model):
    """Params with nothing but ``_meta``: ``ping``, ``roots/list``, ``server/discover``."""

    meta: Meta = attrs.field(default=None, metadata=_REQUEST_META)


@attrs.frozen(kw_only=True, repr=False)
class NotificationParams(Model):
    """Params with nothing but ``_meta``, as the ``list_changed`` notifications have."""

    meta: Meta = None


@attrs.frozen(kw_only=True, repr=False)
class PaginatedRequestParams(Model):
    """Params of the ``*/list`` requests: where the previous page ended."""

    cursor: str | None = None
    meta: Meta = attrs.field(default=None, metadata=_REQUEST_META)


@attrs.frozen(kw_only=True, repr=False)
class Result(Model):
    """A result with no members of its own; the base of every result.

    ``result_type`` is ``"complete"`` or ``"input_required"`` from 2026-07-28 on, where it is
    required; an absent one means ``"complete"``.
    """

    meta: Meta = None
    result_type: str | None = attrs.field(default=None, metadata=_REQUIRED_2026_07)


@attrs.frozen(kw_only=True, repr=False)
class CacheableResult(Result):
    """A result a client may cache: for ``ttl_ms`` milliseconds, shared or not as
    ``cache_scope`` says (both required from 2026-07-28 on)."""

    ttl_ms: int | None = attrs.field(default=None, metadata=_REQUIRED_2026_07)
    cache_scope: Literal["private", "public"] | None = attrs.field(
        default=None, metadata=_REQUIRED_2026_07
    )


@attrs.frozen(kw_only=True, repr=False)
class _CacheablePage(CacheableResult):
    """A page of a list that may be cached; ``next_cursor`` asks for the next page."""

    next_cursor: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class InputResponseRequestParams(Model):
    """Params of a request that may answer an :class:`InputRequiredResult` (2026-07-28):
    the answers keyed as its ``input_requests`` were, and its ``request_state``."""

    input_responses: dict[str, InputResponse] | None = attrs.field(
        default=None, metadata=_ONLY_2026_07
    )
    request_state: str | None = attrs.field(default=None, metadata=_ONLY_2026_07)
    meta: Meta = attrs.field(default=None, metadata=_REQUEST_META)


# Lifecycle --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class InitializeRequestParams(Model):
    """Params of ``initialize`` (handshake era)."""

    protocol_version: str
    capabilities: ClientCapabilities
    client_info: Implementation
    meta: Meta = None


@attrs.frozen(kw_only=True, repr=False)
class InitializeResult(Result):
    """The answer to ``initialize`` (handshake era)."""

    protocol_version: str
    capabilities: ServerCapabilities
    server_info: Implementation
    instructions: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class DiscoverResult(CacheableResult):
    """The answer to ``server/discover`` (2026-07-28): what the server supports."""

    supported_versions: list[str]
    capabilities: ServerCapabilities
    instructions: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class CancelledNotificationParams(Model):
    """Params of ``notifications/cancelled``; ``request_id`` is required until 2025-06-18
    and from 2026-07-28 (2025-11-25 cancels tasks by other means)."""

    request_id: str | int | None = attrs.field(
        default=None,
        metadata=_rev(required_in=("2024-11-05", _V2025_03, _V2025_06, _V2026_07)),
    )
    reason: str | None = None
    meta: Meta = None


@attrs.frozen(kw_only=True, repr=False)
class ProgressNotificationParams(Model):
    """Params of ``notifications/progress``."""

    progress_token: ProgressToken
    progress: float
    total: float | None = None
    message: str | None = attrs.field(default=None, metadata=_rev(_V2025_03))
    meta: Meta = None


# Content ----------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class TextContent(Model):
    """Text."""

    type: Literal["text"] = "text"
    text: str
    annotations: Annotations | None = None
    meta: Meta = attrs.field(default=None, metadata=_META_SINCE_2025_06)


@attrs.frozen(kw_only=True, repr=False)
class ImageContent(Model):
    """An image, base64-encoded."""

    type: Literal["image"] = "image"
    data: str
    mime_type: str
    annotations: Annotations | None = None
    meta: Meta = attrs.field(default=None, metadata=_META_SINCE_2025_06)


@attrs.frozen(kw_only=True, repr=False)
class AudioContent(Model):
    """Audio, base64-encoded (2025-03-26 on)."""

    type: Literal["audio"] = "audio"
    data: str
    mime_type: str
    annotations: Annotations | None = None
    meta: Meta = attrs.field(default=None, metadata=_META_SINCE_2025_06)


@attrs.frozen(kw_only=True, repr=False)
class TextResourceContents(Model):
    """The contents of a text resource."""

    uri: str
    text: str
    mime_type: str | None = None
    meta: Meta = attrs.field(default=None, metadata=_META_SINCE_2025_06)


@attrs.frozen(kw_only=True, repr=False)
class BlobResourceContents(Model):
    """The contents of a binary resource, base64-encoded."""

    uri: str
    blob: str
    mime_type: str | None = None
    meta: Meta = attrs.field(default=None, metadata=_META_SINCE_2025_06)


ResourceContents: TypeAlias = TextResourceContents | BlobResourceContents


@attrs.frozen(kw_only=True, repr=False)
class EmbeddedResource(Model):
    """A resource's contents, embedded in a message."""

    type: Literal["resource"] = "resource"
    resource: TextResourceContents | BlobResourceContents
    annotations: Annotations | None = None
    meta: Meta = attrs.field(default=None, metadata=_META_SINCE_2025_06)


@attrs.frozen(kw_only=True, repr=False)
class ResourceLink(Model):
    """A link to a resource the client may read (2025-06-18 on)."""

    type: Literal["resource_link"] = "resource_link"
    uri: str
    name: str
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    size: int | None = None
    annotations: Annotations | None = None
    icons: list[Icon] | None = attrs.field(default=None, metadata=_META_SINCE_2025_11)
    meta: Meta = None


ContentBlock: TypeAlias = (
    TextContent | ImageContent | AudioContent | ResourceLink | EmbeddedResource
)

# Tools ------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class ToolAnnotations(Model):
    """Hints about a tool's behaviour (2025-03-26 on). Hints, not guarantees."""

    title: str | None = None
    read_only_hint: bool | None = None
    destructive_hint: bool | None = None
    idempotent_hint: bool | None = None
    open_world_hint: bool | None = None


@attrs.frozen(kw_only=True, repr=False)
class ToolExecution(Model):
    """How a tool may run as a task (2025-11-25)."""

    task_support: Literal["forbidden", "optional", "required"] | None = None


@attrs.frozen(kw_only=True, repr=False)
class Tool(Model):
    """A tool a server offers."""

    name: str
    input_schema: dict[str, Any]
    title: str | None = attrs.field(default=None, metadata=_rev(_V2025_06))
    description: str | None = None
    output_schema: dict[str, Any] | None = attrs.field(default=None, metadata=_rev(_V2025_06))
    annotations: ToolAnnotations | None = attrs.field(default=None, metadata=_rev(_V2025_03))
    execution: ToolExecution | None = attrs.field(default=None, metadata=_ONLY_2025_11)
    icons: list[Icon] | None = attrs.field(default=None, metadata=_META_SINCE_2025_11)
    meta: Meta = attrs.field(default=None, metadata=_META_SINCE_2025_06)


@attrs.frozen(kw_only=True, repr=False)
class ListToolsResult(_CacheablePage):
    """A page of the server's tools."""

    tools: list[Tool]


@attrs.frozen(kw_only=True, repr=False)
class TaskMetadata(Model):
    """Asks for a request to run as a task (2025-11-25)."""

    ttl: int | None = None


@attrs.frozen(kw_only=True, repr=False)
class CallToolRequestParams(InputResponseRequestParams):
    """Params of ``tools/call``.

    ``input_responses`` and ``request_state`` (2026-07-28) answer an earlier
    :class:`InputRequiredResult`.
    """

    name: str
    arguments: dict[str, Any] | None = None
    task: TaskMetadata | None = attrs.field(default=None, metadata=_ONLY_2025_11)


@attrs.frozen(kw_only=True, repr=False)
class CallToolResult(Result):
    """The result of a tool call. A tool's own failure is ``is_error``, not a JSON-RPC error."""

    content: list[ContentBlock]
    structured_content: Any = attrs.field(default=None, metadata=_rev(_V2025_06))
    is_error: bool | None = None

    @property
    def text(self) -> str:
        """The text of the result's text blocks, one after another, each on its own line."""
        return "\n".join(block.text for block in self.content if isinstance(block, TextContent))


# Resources --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class Resource(Model):
    """A resource a server offers."""

    uri: str
    name: str
    title: str | None = attrs.field(default=None, metadata=_rev(_V2025_06))
    description: str | None = None
    mime_type: str | None = None
    size: int | None = None
    annotations: Annotations | None = None
    icons: list[Icon] | None = attrs.field(default=None, metadata=_META_SINCE_2025_11)
    meta: Meta = attrs.field(default=None, metadata=_META_SINCE_2025_06)


@attrs.frozen(kw_only=True, repr=False)
class ResourceTemplate(Model):
    """A family of resources named by an RFC 6570 URI template."""

    uri_template: str
    name: str
    title: str | None = attrs.field(default=None, metadata=_rev(_V2025_06))
    description: str | None = None
    mime_type: str | None = None
    annotations: Annotations | None = None
    icons: list[Icon] | None = attrs.field(default=None, metadata=_META_SINCE_2025_11)
    meta: Meta = attrs.field(default=None, metadata=_META_SINCE_2025_06)


@attrs.frozen(kw_only=True, repr=False)
class ListResourcesResult(_CacheablePage):
    """A page of the server's resources."""

    resources: list[Resource]


@attrs.frozen(kw_only=True, repr=False)
class ListResourceTemplatesResult(_CacheablePage):
    """A page of the server's resource templates."""

    resource_templates: list[ResourceTemplate]


@attrs.frozen(kw_only=True, repr=False)
class ReadResourceRequestParams(InputResponseRequestParams):
    """Params of ``resources/read``."""

    uri: str


@attrs.frozen(kw_only=True, repr=False)
class ReadResourceResult(CacheableResult):
    """The contents of a resource."""

    contents: list[TextResourceContents | BlobResourceContents]

    @property
    def text(self) -> str:
        """The text of the resource's text contents, one after another, each on its own
        line."""
        return "\n".join(
            item.text for item in self.contents if isinstance(item, TextResourceContents)
        )


@attrs.frozen(kw_only=True, repr=False)
class SubscribeRequestParams(Model):
    """Params of ``resources/subscribe`` (handshake era)."""

    uri: str
    meta: Meta = None


@attrs.frozen(kw_only=True, repr=False)
class UnsubscribeRequestParams(Model):
    """Params of ``resources/unsubscribe`` (handshake era)."""

    uri: str
    meta: Meta = None


@attrs.frozen(kw_only=True, repr=False)
class ResourceUpdatedNotificationParams(Model):
    """Params of ``notifications/resources/updated``."""

    uri: str
    meta: Meta = None


# Prompts ----------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class PromptArgument(Model):
    """An argument a prompt takes."""

    name: str
    title: str | None = attrs.field(default=None, metadata=_rev(_V2025_06))
    description: str | None = None
    required: bool | None = None


@attrs.frozen(kw_only=True, repr=False)
class Prompt(Model):
    """A prompt or prompt template a server offers."""

    name: str
    title: str | None = attrs.field(default=None, metadata=_rev(_V2025_06))
    description: str | None = None
    arguments: list[PromptArgument] | None = None
    icons: list[Icon] | None = attrs.field(default=None, metadata=_META_SINCE_2025_11)
    meta: Meta = attrs.field(default=None, metadata=_META_SINCE_2025_06)


@attrs.frozen(kw_only=True, repr=False)
class ListPromptsResult(_CacheablePage):
    """A page of the server's prompts."""

    prompts: list[Prompt]


@attrs.frozen(kw_only=True, repr=False)
class GetPromptRequestParams(InputResponseRequestParams):
    """Params of ``prompts/get``."""

    name: str
    arguments: dict[str, str] | None = None


@attrs.frozen(kw_only=True, repr=False)
class PromptMessage(Model):
    """One message of a prompt."""

    role: Role
    content: ContentBlock


@attrs.frozen(kw_only=True, repr=False)
class GetPromptResult(Result):
    """A prompt, rendered with its arguments."""

    messages: list[PromptMessage]
    description: str | None = None


# Logging ----------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class SetLevelRequestParams(Model):
    """Params of ``logging/setLevel`` (handshake era)."""

    level: LoggingLevel
    meta: Meta = None


@attrs.frozen(kw_only=True, repr=False)
class LoggingMessageNotificationParams(Model):
    """Params of ``notifications/message``: one log entry."""

    level: LoggingLevel
    data: Any = attrs.field(metadata={"nullable": True})
    logger: str | None = None
    meta: Meta = None


# Completion -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class PromptReference(Model):
    """Names a prompt whose argument is being completed."""

    type: Literal["ref/prompt"] = "ref/prompt"
    name: str
    title: str | None = attrs.field(default=None, metadata=_rev(_V2025_06))


@attrs.frozen(kw_only=True, repr=False)
class ResourceTemplateReference(Model):
    """Names a resource template whose variable is being completed."""

    type: Literal["ref/resource"] = "ref/resource"
    uri: str


@attrs.frozen(kw_only=True, repr=False)
class CompletionArgument(Model):
    """The argument being completed, and what has been typed so far."""

    name: str
    value: str


@attrs.frozen(kw_only=True, repr=False)
class CompletionContext(Model):
    """Arguments already resolved (2025-06-18 on)."""

    arguments: dict[str, str] | None = None


@attrs.frozen(kw_only=True, repr=False)
class CompleteRequestParams(Model):
    """Params of ``completion/complete``."""

    ref: PromptReference | ResourceTemplateReference
    argument: CompletionArgument
    context: CompletionContext | None = attrs.field(default=None, metadata=_rev(_V2025_06))
    meta: Meta = attrs.field(default=None, metadata=_REQUEST_META)


@attrs.frozen(kw_only=True, repr=False)
class Completion(Model):
    """Completion values; at most 100 of them."""

    values: list[str]
    total: int | None = None
    has_more: bool | None = None


@attrs.frozen(kw_only=True, repr=False)
class CompleteResult(Result):
    """The answer to ``completion/complete``."""

    completion: Completion


# Roots ------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class Root(Model):
    """A directory or file the server may work in."""

    uri: str
    name: str | None = None
    meta: Meta = attrs.field(default=None, metadata=_META_SINCE_2025_06)


@attrs.frozen(kw_only=True, repr=False)
class ListRootsResult(Model):
    """The client's roots. No ``resultType`` in 2026-07-28, where it is an input response."""

    roots: list[Root]
    meta: Meta = attrs.field(default=None, metadata=_rev(until=_V2025_11))


@attrs.frozen(kw_only=True, repr=False)
class ListRootsRequest(Model):
    """A ``roots/list`` request as an input request of 2026-07-28."""

    method: Literal["roots/list"] = "roots/list"
    params: RequestParams | None = None


# Sampling ---------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class ToolUseContent(Model):
    """A model's request to use a tool, in sampling (2025-11-25 on)."""

    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any]
    meta: Meta = None


@attrs.frozen(kw_only=True, repr=False)
class ToolResultContent(Model):
    """The result of a tool use, in sampling (2025-11-25 on)."""

    type: Literal["tool_result"] = "tool_result"
    tool_use_id: str
    content: list[ContentBlock]
    structured_content: Any = None
    is_error: bool | None = None
    meta: Meta = None


SamplingContent: TypeAlias = (
    TextContent | ImageContent | AudioContent | ToolUseContent | ToolResultContent
)


@attrs.frozen(kw_only=True, repr=False)
class SamplingMessage(Model):
    """A message in a sampling conversation; from 2025-11-25 its content may be a list."""

    role: Role
    content: SamplingContent | list[SamplingContent]
    meta: Meta = attrs.field(default=None, metadata=_META_SINCE_2025_11)


@attrs.frozen(kw_only=True, repr=False)
class ModelHint(Model):
    """A hint for choosing a model."""

    name: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class ModelPreferences(Model):
    """What matters in choosing a model; priorities run from 0 to 1."""

    hints: list[ModelHint] | None = None
    cost_priority: float | None = None
    speed_priority: float | None = None
    intelligence_priority: float | None = None


@attrs.frozen(kw_only=True, repr=False)
class ToolChoice(Model):
    """How the model may use tools in sampling (2025-11-25 on)."""

    mode: Literal["auto", "required", "none"] | None = None


@attrs.frozen(kw_only=True, repr=False)
class CreateMessageRequestParams(Model):
    """Params of ``sampling/createMessage``."""

    messages: list[SamplingMessage]
    max_tokens: int
    model_preferences: ModelPreferences | None = None
    system_prompt: str | None = None
    include_context: Literal["none", "thisServer", "allServers"] | None = None
    temperature: float | None = None
    stop_sequences: list[str] | None = None
    metadata: dict[str, Any] | None = None
    tools: list[Tool] | None = attrs.field(default=None, metadata=_META_SINCE_2025_11)
    tool_choice: ToolChoice | None = attrs.field(default=None, metadata=_META_SINCE_2025_11)
    task: TaskMetadata | None = attrs.field(default=None, metadata=_ONLY_2025_11)
    meta: Meta = attrs.field(default=None, metadata=_rev(until=_V2025_11))


@attrs.frozen(kw_only=True, repr=False)
class CreateMessageResult(Model):
    """The sampled message. No ``resultType`` in 2026-07-28, where it is an input response."""

    role: Role
    content: SamplingContent | list[SamplingContent]
    model: str
    stop_reason: str | None = None
    meta: Meta = None


@attrs.frozen(kw_only=True, repr=False)
class CreateMessageRequest(Model):
    """A ``sampling/createMessage`` request as an input request of 2026-07-28."""

    method: Literal["sampling/createMessage"] = "sampling/createMessage"
    params: CreateMessageRequestParams


# Elicitation ------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class ElicitRequestFormParams(Model):
    """Params of ``elicitation/create`` in form mode (the only mode before 2025-11-25)."""

    mode: Literal["form"] | None = attrs.field(default=None, metadata=_META_SINCE_2025_11)
    message: str
    requested_schema: dict[str, Any]
    task: TaskMetadata | None = attrs.field(default=None, metadata=_ONLY_2025_11)
    meta: Meta = attrs.field(default=None, metadata=_rev(until=_V2025_11))


@attrs.frozen(kw_only=True, repr=False)
class ElicitRequestURLParams(Model):
    """Params of ``elicitation/create`` in URL mode (2025-11-25 on)."""

    mode: Literal["url"] = "url"
    message: str
    url: str
    elicitation_id: str | None = attrs.field(
        default=None, metadata=_rev(_V2025_11, _V2025_11, required_in=(_V2025_11,))
    )
    task: TaskMetadata | None = attrs.field(default=None, metadata=_ONLY_2025_11)
    meta: Meta = attrs.field(default=None, metadata=_rev(_V2025_11, _V2025_11))


ElicitRequestParams: TypeAlias = ElicitRequestFormParams | ElicitRequestURLParams


@attrs.frozen(kw_only=True, repr=False)
class ElicitResult(Model):
    """The user's answer to an elicitation."""

    action: Literal["accept", "decline", "cancel"]
    content: dict[str, str | int | float | bool | list[str]] | None = None
    meta: Meta = attrs.field(default=None, metadata=_rev(until=_V2025_11))


@attrs.frozen(kw_only=True, repr=False)
class ElicitRequest(Model):
    """An ``elicitation/create`` request as an input request of 2026-07-28."""

    method: Literal["elicitation/create"] = "elicitation/create"
    params: ElicitRequestFormParams | ElicitRequestURLParams


@attrs.frozen(kw_only=True, repr=False)
class ElicitationCompleteNotificationParams(Model):
    """Params of ``notifications/elicitation/complete`` (2025-11-25)."""

    elicitation_id: str


@attrs.frozen(kw_only=True, repr=False)
class StringSchema(Model):
    """An elicitation field holding a string."""

    type: Literal["string"] = "string"
    title: str | None = None
    description: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    format: Literal["email", "uri", "date", "date-time"] | None = None
    default: str | None = attrs.field(default=None, metadata=_META_SINCE_2025_11)


@attrs.frozen(kw_only=True, repr=False)
class NumberSchema(Model):
    """An elicitation field holding a number or an integer."""

    type: Literal["number", "integer"]
    title: str | None = None
    description: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    default: float | None = attrs.field(default=None, metadata=_META_SINCE_2025_11)


@attrs.frozen(kw_only=True, repr=False)
class BooleanSchema(Model):
    """An elicitation field holding a boolean."""

    type: Literal["boolean"] = "boolean"
    title: str | None = None
    description: str | None = None
    default: bool | None = None


@attrs.frozen(kw_only=True, repr=False)
class UntitledSingleSelectEnumSchema(Model):
    """An elicitation field choosing one of some strings (2025-11-25 on)."""

    type: Literal["string"] = "string"
    enum: list[str]
    title: str | None = None
    description: str | None = None
    default: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class TitledSingleSelectEnumSchema(Model):
    """An elicitation field choosing one of some titled strings (2025-11-25 on)."""

    type: Literal["string"] = "string"
    one_of: list[dict[str, Any]]
    title: str | None = None
    description: str | None = None
    default: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class UntitledMultiSelectEnumSchema(Model):
    """An elicitation field choosing several of some strings (2025-11-25 on)."""

    type: Literal["array"] = "array"
    items: dict[str, Any]
    title: str | None = None
    description: str | None = None
    min_items: int | None = None
    max_items: int | None = None
    default: list[str] | None = None


@attrs.frozen(kw_only=True, repr=False)
class TitledMultiSelectEnumSchema(Model):
    """An elicitation field choosing several of some titled strings (2025-11-25 on)."""

    type: Literal["array"] = "array"
    items: dict[str, Any]
    title: str | None = None
    description: str | None = None
    min_items: int | None = None
    max_items: int | None = None
    default: list[str] | None = None


@attrs.frozen(kw_only=True, repr=False)
class LegacyTitledEnumSchema(Model):
    """An enum field with ``enumNames`` (deprecated since 2025-11-25)."""

    type: Literal["string"] = "string"
    enum: list[str]
    enum_names: list[str] | None = None
    title: str | None = None
    description: str | None = None
    default: str | None = attrs.field(default=None, metadata=_META_SINCE_2025_11)


# Tasks (2025-11-25) -----------------------------------------------------------------------------

TaskStatus: TypeAlias = Literal["working", "input_required", "completed", "failed", "cancelled"]


@attrs.frozen(kw_only=True, repr=False)
class Task(Model):
    """A long-running request's state (2025-11-25). ``ttl`` may be null."""

    task_id: str
    status: TaskStatus
    created_at: str
    last_updated_at: str
    ttl: int | None = attrs.field(default=None, metadata={"nullable": True})
    status_message: str | None = None
    poll_interval: int | None = None


@attrs.frozen(kw_only=True, repr=False)
class TaskIdParams(Model):
    """Params of ``tasks/get``, ``tasks/result`` and ``tasks/cancel`` (2025-11-25)."""

    task_id: str
    meta: Meta = None


@attrs.frozen(kw_only=True, repr=False)
class CreateTaskResult(Result):
    """The answer to a request that runs as a task (2025-11-25)."""

    task: Task


@attrs.frozen(kw_only=True, repr=False)
class GetTaskResult(Task):
    """The answer to ``tasks/get`` (2025-11-25): the task's state."""

    meta: Meta = None


@attrs.frozen(kw_only=True, repr=False)
class CancelTaskResult(GetTaskResult):
    """The answer to ``tasks/cancel`` (2025-11-25): the task's state."""


@attrs.frozen(kw_only=True, repr=False)
class GetTaskPayloadResult(Result):
    """The answer to ``tasks/result`` (2025-11-25): the task's own result, in ``extra``."""


@attrs.frozen(kw_only=True, repr=False)
class ListTasksResult(Result):
    """A page of tasks (2025-11-25)."""

    tasks: list[Task]
    next_cursor: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class TaskStatusNotificationParams(Task):
    """Params of ``notifications/tasks/status`` (2025-11-25)."""

    meta: Meta = None


# Revision 2026-07-28 ----------------------------------------------------------------------------

InputRequest: TypeAlias = CreateMessageRequest | ListRootsRequest | ElicitRequest
InputResponse: TypeAlias = CreateMessageResult | ListRootsResult | ElicitResult


@attrs.frozen(kw_only=True, repr=False)
class InputRequiredResult(Result):
    """The server needs the client's input before it can finish (2026-07-28).

    The client answers by repeating its request with ``input_responses`` (keyed as
    ``input_requests`` is) and ``request_state``. At least one of the two members is present.
    """

    result_type: str | None = attrs.field(default="input_required", metadata=_REQUIRED_2026_07)
    input_requests: dict[str, InputRequest] | None = None
    request_state: str | None = None


@attrs.frozen(kw_only=True, repr=False)
class SubscriptionFilter(Model):
    """Which notifications a ``subscriptions/listen`` stream carries (2026-07-28)."""

    tools_list_changed: bool | None = None
    prompts_list_changed: bool | None = None
    resources_list_changed: bool | None = None
    resource_subscriptions: list[str] | None = None


@attrs.frozen(kw_only=True, repr=False)
class SubscriptionsListenRequestParams(Model):
    """Params of ``subscriptions/listen`` (2026-07-28)."""

    notifications: SubscriptionFilter
    meta: Meta = attrs.field(default=None, metadata=_REQUEST_META)


@attrs.frozen(kw_only=True, repr=False)
class SubscriptionsListenResult(Result):
    """The end of a ``subscriptions/listen`` stream (2026-07-28); its ``_meta`` names the
    subscription (:data:`META_SUBSCRIPTION_ID`)."""

    meta: Meta = attrs.field(default=None, metadata=_rev(required_in=(_V2026_07,)))


@attrs.frozen(kw_only=True, repr=False)
class SubscriptionsAcknowledgedNotificationParams(Model):
    """Params of ``notifications/subscriptions/acknowledged`` (2026-07-28)."""

    notifications: SubscriptionFilter
    meta: Meta = None
