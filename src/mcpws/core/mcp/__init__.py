"""Typed MCP messages for every revision from 2024-11-05 to 2026-07-28.

* The structures (params, results and what they contain) are frozen attrs classes named as in
  the official schemas, built from JSON values with ``Cls.from_json(value)`` and turned back
  with ``obj.to_json()``; unknown members are kept in ``obj.extra``.
* :data:`METHODS` is the one table, keyed on ``(method, revision)``, of each method's kind,
  direction and types; :func:`decode_params` and :func:`decode_result` use it.
* :mod:`mcpws.core.versions` lists the revisions and negotiates between them.
"""

from mcpws.core.mcp._methods import (
    HEADER_MISMATCH as HEADER_MISMATCH,
)
from mcpws.core.mcp._methods import (
    METHODS as METHODS,
)
from mcpws.core.mcp._methods import (
    MISSING_REQUIRED_CLIENT_CAPABILITY as MISSING_REQUIRED_CLIENT_CAPABILITY,
)
from mcpws.core.mcp._methods import (
    UNSUPPORTED_PROTOCOL_VERSION as UNSUPPORTED_PROTOCOL_VERSION,
)
from mcpws.core.mcp._methods import (
    URL_ELICITATION_REQUIRED as URL_ELICITATION_REQUIRED,
)
from mcpws.core.mcp._methods import (
    Direction as Direction,
)
from mcpws.core.mcp._methods import (
    Kind as Kind,
)
from mcpws.core.mcp._methods import (
    MethodSpec as MethodSpec,
)
from mcpws.core.mcp._methods import (
    MissingRequiredClientCapabilityData as MissingRequiredClientCapabilityData,
)
from mcpws.core.mcp._methods import (
    UnsupportedProtocolVersionData as UnsupportedProtocolVersionData,
)
from mcpws.core.mcp._methods import (
    decode_params as decode_params,
)
from mcpws.core.mcp._methods import (
    decode_result as decode_result,
)
from mcpws.core.mcp._methods import (
    method_spec as method_spec,
)
from mcpws.core.mcp._methods import (
    methods_of as methods_of,
)
from mcpws.core.mcp._model import (
    EMPTY as EMPTY,
)
from mcpws.core.mcp._model import (
    Model as Model,
)
from mcpws.core.mcp._types import (
    META_CLIENT_CAPABILITIES as META_CLIENT_CAPABILITIES,
)
from mcpws.core.mcp._types import (
    META_CLIENT_INFO as META_CLIENT_INFO,
)
from mcpws.core.mcp._types import (
    META_LOG_LEVEL as META_LOG_LEVEL,
)
from mcpws.core.mcp._types import (
    META_PROTOCOL_VERSION as META_PROTOCOL_VERSION,
)
from mcpws.core.mcp._types import (
    META_SERVER_INFO as META_SERVER_INFO,
)
from mcpws.core.mcp._types import (
    META_SUBSCRIPTION_ID as META_SUBSCRIPTION_ID,
)
from mcpws.core.mcp._types import (
    Annotations as Annotations,
)
from mcpws.core.mcp._types import (
    AudioContent as AudioContent,
)
from mcpws.core.mcp._types import (
    BlobResourceContents as BlobResourceContents,
)
from mcpws.core.mcp._types import (
    BooleanSchema as BooleanSchema,
)
from mcpws.core.mcp._types import (
    CallToolRequestParams as CallToolRequestParams,
)
from mcpws.core.mcp._types import (
    CallToolResult as CallToolResult,
)
from mcpws.core.mcp._types import (
    CancelledNotificationParams as CancelledNotificationParams,
)
from mcpws.core.mcp._types import (
    CancelTaskResult as CancelTaskResult,
)
from mcpws.core.mcp._types import (
    ClientCapabilities as ClientCapabilities,
)
from mcpws.core.mcp._types import (
    CompleteRequestParams as CompleteRequestParams,
)
from mcpws.core.mcp._types import (
    CompleteResult as CompleteResult,
)
from mcpws.core.mcp._types import (
    Completion as Completion,
)
from mcpws.core.mcp._types import (
    CompletionArgument as CompletionArgument,
)
from mcpws.core.mcp._types import (
    CompletionContext as CompletionContext,
)
from mcpws.core.mcp._types import (
    ContentBlock as ContentBlock,
)
from mcpws.core.mcp._types import (
    CreateMessageRequest as CreateMessageRequest,
)
from mcpws.core.mcp._types import (
    CreateMessageRequestParams as CreateMessageRequestParams,
)
from mcpws.core.mcp._types import (
    CreateMessageResult as CreateMessageResult,
)
from mcpws.core.mcp._types import (
    CreateTaskResult as CreateTaskResult,
)
from mcpws.core.mcp._types import (
    DiscoverResult as DiscoverResult,
)
from mcpws.core.mcp._types import (
    ElicitationCompleteNotificationParams as ElicitationCompleteNotificationParams,
)
from mcpws.core.mcp._types import (
    ElicitRequest as ElicitRequest,
)
from mcpws.core.mcp._types import (
    ElicitRequestFormParams as ElicitRequestFormParams,
)
from mcpws.core.mcp._types import (
    ElicitRequestParams as ElicitRequestParams,
)
from mcpws.core.mcp._types import (
    ElicitRequestURLParams as ElicitRequestURLParams,
)
from mcpws.core.mcp._types import (
    ElicitResult as ElicitResult,
)
from mcpws.core.mcp._types import (
    EmbeddedResource as EmbeddedResource,
)
from mcpws.core.mcp._types import (
    GetPromptRequestParams as GetPromptRequestParams,
)
from mcpws.core.mcp._types import (
    GetPromptResult as GetPromptResult,
)
from mcpws.core.mcp._types import (
    GetTaskPayloadResult as GetTaskPayloadResult,
)
from mcpws.core.mcp._types import (
    GetTaskResult as GetTaskResult,
)
from mcpws.core.mcp._types import (
    Icon as Icon,
)
from mcpws.core.mcp._types import (
    ImageContent as ImageContent,
)
from mcpws.core.mcp._types import (
    Implementation as Implementation,
)
from mcpws.core.mcp._types import (
    InitializeRequestParams as InitializeRequestParams,
)
from mcpws.core.mcp._types import (
    InitializeResult as InitializeResult,
)
from mcpws.core.mcp._types import (
    InputRequest as InputRequest,
)
from mcpws.core.mcp._types import (
    InputRequiredResult as InputRequiredResult,
)
from mcpws.core.mcp._types import (
    InputResponse as InputResponse,
)
from mcpws.core.mcp._types import (
    LegacyTitledEnumSchema as LegacyTitledEnumSchema,
)
from mcpws.core.mcp._types import (
    ListPromptsResult as ListPromptsResult,
)
from mcpws.core.mcp._types import (
    ListResourcesResult as ListResourcesResult,
)
from mcpws.core.mcp._types import (
    ListResourceTemplatesResult as ListResourceTemplatesResult,
)
from mcpws.core.mcp._types import (
    ListRootsRequest as ListRootsRequest,
)
from mcpws.core.mcp._types import (
    ListRootsResult as ListRootsResult,
)
from mcpws.core.mcp._types import (
    ListTasksResult as ListTasksResult,
)
from mcpws.core.mcp._types import (
    ListToolsResult as ListToolsResult,
)
from mcpws.core.mcp._types import (
    LoggingLevel as LoggingLevel,
)
from mcpws.core.mcp._types import (
    LoggingMessageNotificationParams as LoggingMessageNotificationParams,
)
from mcpws.core.mcp._types import (
    ModelHint as ModelHint,
)
from mcpws.core.mcp._types import (
    ModelPreferences as ModelPreferences,
)
from mcpws.core.mcp._types import (
    NotificationParams as NotificationParams,
)
from mcpws.core.mcp._types import (
    NumberSchema as NumberSchema,
)
from mcpws.core.mcp._types import (
    PaginatedRequestParams as PaginatedRequestParams,
)
from mcpws.core.mcp._types import (
    ProgressNotificationParams as ProgressNotificationParams,
)
from mcpws.core.mcp._types import (
    ProgressToken as ProgressToken,
)
from mcpws.core.mcp._types import (
    Prompt as Prompt,
)
from mcpws.core.mcp._types import (
    PromptArgument as PromptArgument,
)
from mcpws.core.mcp._types import (
    PromptMessage as PromptMessage,
)
from mcpws.core.mcp._types import (
    PromptReference as PromptReference,
)
from mcpws.core.mcp._types import (
    ReadResourceRequestParams as ReadResourceRequestParams,
)
from mcpws.core.mcp._types import (
    ReadResourceResult as ReadResourceResult,
)
from mcpws.core.mcp._types import (
    RequestParams as RequestParams,
)
from mcpws.core.mcp._types import (
    Resource as Resource,
)
from mcpws.core.mcp._types import (
    ResourceContents as ResourceContents,
)
from mcpws.core.mcp._types import (
    ResourceLink as ResourceLink,
)
from mcpws.core.mcp._types import (
    ResourceTemplate as ResourceTemplate,
)
from mcpws.core.mcp._types import (
    ResourceTemplateReference as ResourceTemplateReference,
)
from mcpws.core.mcp._types import (
    ResourceUpdatedNotificationParams as ResourceUpdatedNotificationParams,
)
from mcpws.core.mcp._types import (
    Result as Result,
)
from mcpws.core.mcp._types import (
    Role as Role,
)
from mcpws.core.mcp._types import (
    Root as Root,
)
from mcpws.core.mcp._types import (
    SamplingContent as SamplingContent,
)
from mcpws.core.mcp._types import (
    SamplingMessage as SamplingMessage,
)
from mcpws.core.mcp._types import (
    ServerCapabilities as ServerCapabilities,
)
from mcpws.core.mcp._types import (
    SetLevelRequestParams as SetLevelRequestParams,
)
from mcpws.core.mcp._types import (
    StringSchema as StringSchema,
)
from mcpws.core.mcp._types import (
    SubscribeRequestParams as SubscribeRequestParams,
)
from mcpws.core.mcp._types import (
    SubscriptionFilter as SubscriptionFilter,
)
from mcpws.core.mcp._types import (
    SubscriptionsAcknowledgedNotificationParams as SubscriptionsAcknowledgedNotificationParams,
)
from mcpws.core.mcp._types import (
    SubscriptionsListenRequestParams as SubscriptionsListenRequestParams,
)
from mcpws.core.mcp._types import (
    SubscriptionsListenResult as SubscriptionsListenResult,
)
from mcpws.core.mcp._types import (
    Task as Task,
)
from mcpws.core.mcp._types import (
    TaskIdParams as TaskIdParams,
)
from mcpws.core.mcp._types import (
    TaskMetadata as TaskMetadata,
)
from mcpws.core.mcp._types import (
    TaskStatusNotificationParams as TaskStatusNotificationParams,
)
from mcpws.core.mcp._types import (
    TextContent as TextContent,
)
from mcpws.core.mcp._types import (
    TextResourceContents as TextResourceContents,
)
from mcpws.core.mcp._types import (
    TitledMultiSelectEnumSchema as TitledMultiSelectEnumSchema,
)
from mcpws.core.mcp._types import (
    TitledSingleSelectEnumSchema as TitledSingleSelectEnumSchema,
)
from mcpws.core.mcp._types import (
    Tool as Tool,
)
from mcpws.core.mcp._types import (
    ToolAnnotations as ToolAnnotations,
)
from mcpws.core.mcp._types import (
    ToolChoice as ToolChoice,
)
from mcpws.core.mcp._types import (
    ToolExecution as ToolExecution,
)
from mcpws.core.mcp._types import (
    ToolResultContent as ToolResultContent,
)
from mcpws.core.mcp._types import (
    ToolUseContent as ToolUseContent,
)
from mcpws.core.mcp._types import (
    UnsubscribeRequestParams as UnsubscribeRequestParams,
)
from mcpws.core.mcp._types import (
    UntitledMultiSelectEnumSchema as UntitledMultiSelectEnumSchema,
)
from mcpws.core.mcp._types import (
    UntitledSingleSelectEnumSchema as UntitledSingleSelectEnumSchema,
)

__all__ = [
    "EMPTY",
    "HEADER_MISMATCH",
    "META_CLIENT_CAPABILITIES",
    "META_CLIENT_INFO",
    "META_LOG_LEVEL",
    "META_PROTOCOL_VERSION",
    "META_SERVER_INFO",
    "META_SUBSCRIPTION_ID",
    "METHODS",
    "MISSING_REQUIRED_CLIENT_CAPABILITY",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "URL_ELICITATION_REQUIRED",
    "Annotations",
    "AudioContent",
    "BlobResourceContents",
    "BooleanSchema",
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
    "Direction",
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
    "Kind",
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
    "MethodSpec",
    "MissingRequiredClientCapabilityData",
    "Model",
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
    "UnsupportedProtocolVersionData",
    "UntitledMultiSelectEnumSchema",
    "UntitledSingleSelectEnumSchema",
    "decode_params",
    "decode_result",
    "method_spec",
    "methods_of",
]
