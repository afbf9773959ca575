"""The MCP session, for both roles and both eras: :class:`ClientSession` and
:class:`ServerSession`.

A session is sans-IO and transport-agnostic: it takes decoded JSON-RPC messages
(``receive_message(message, now)``) and gives JSON texts (``messages_to_send()``); the
connections of :mod:`mcpws.core.connection` and :mod:`mcpws.core.stdio` own one and move
its messages. Commands are methods (``start``, ``send_request``, ``send_notification``,
``respond``, ``respond_error``, ``cancel``, ``send_progress``, ``close``); what happens is
reported as events (:data:`SessionEvent`); timeouts are deadlines
(``next_deadline()``, ``handle_timeout(now)``).

The session answers by itself: ``ping``, ``initialize``, ``server/discover``, unknown
methods (-32601), invalid params (-32602), requests before initialization or with a
duplicate id (-32600), unsupported revisions (-32022), missing client capabilities
(-32021), too many requests in flight (:data:`TOO_MANY_REQUESTS`) and, once told to
``drain``, every new request but ``ping`` (:data:`SHUTTING_DOWN`). Its lifecycle is the
table :data:`TRANSITIONS`.
"""

from mcpws.core.session._base import (
    UNSET as UNSET,
    Params as Params,
    TimeoutArg as TimeoutArg,
    Unset as Unset,
)
from mcpws.core.session._client import ClientSession as ClientSession
from mcpws.core.session._config import (
    DEFAULT_REQUEST_TIMEOUT as DEFAULT_REQUEST_TIMEOUT,
    SHUTTING_DOWN as SHUTTING_DOWN,
    TOO_MANY_REQUESTS as TOO_MANY_REQUESTS,
    ClientSessionConfig as ClientSessionConfig,
    ServerSessionConfig as ServerSessionConfig,
)
from mcpws.core.session._events import (
    ErrorReceived as ErrorReceived,
    InvalidResultReceived as InvalidResultReceived,
    NotificationIgnored as NotificationIgnored,
    NotificationReceived as NotificationReceived,
    ProgressIgnored as ProgressIgnored,
    ProgressReceived as ProgressReceived,
    RequestCancelled as RequestCancelled,
    RequestReceived as RequestReceived,
    RequestRejected as RequestRejected,
    RequestTimedOut as RequestTimedOut,
    ResponseReceived as ResponseReceived,
    SessionEvent as SessionEvent,
    SessionFailed as SessionFailed,
    SessionInitialized as SessionInitialized,
    UnknownResponseReceived as UnknownResponseReceived,
)
from mcpws.core.session._server import ServerSession as ServerSession
from mcpws.core.session._state import (
    TRANSITIONS as TRANSITIONS,
    Input as Input,
    Lifecycle as Lifecycle,
    State as State,
)

__all__ = [
    "DEFAULT_REQUEST_TIMEOUT",
    "SHUTTING_DOWN",
    "TOO_MANY_REQUESTS",
    "TRANSITIONS",
    "UNSET",
    "ClientSession",
    "ClientSessionConfig",
    "ErrorReceived",
    "Input",
    "InvalidResultReceived",
    "Lifecycle",
    "NotificationIgnored",
    "NotificationReceived",
    "Params",
    "ProgressIgnored",
    "ProgressReceived",
    "RequestCancelled",
    "RequestReceived",
    "RequestRejected",
    "RequestTimedOut",
    "ResponseReceived",
    "ServerSession",
    "ServerSessionConfig",
    "SessionEvent",
    "SessionFailed",
    "SessionInitialized",
    "State",
    "TimeoutArg",
    "UnknownResponseReceived",
    "Unset",
]
