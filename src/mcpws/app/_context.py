"""What a handler sees of its request and its connection: :class:`Context`; what a driver
offers for a connection: :class:`Link`; and the errors of the high-level API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Protocol

from mcpws.core.errors import McpwsError
from mcpws.core.mcp import (
    META_LOG_LEVEL,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestFormParams,
    ElicitResult,
    ListRootsResult,
    LoggingLevel,
    Model,
)
from mcpws.core.session import UNSET, Params, RequestReceived, TimeoutArg
from mcpws.core.versions import STATELESS_REVISIONS

__all__ = ["LEVELS", "ConnectionLost", "Context", "Link", "McpError", "ProgressCallback"]

#: The logging levels, least severe first.
LEVELS: Final = (
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"
)  # fmt: skip

#: What ``call_tool(..., on_progress=...)`` calls: progress, total, message.
ProgressCallback = Callable[[float, float | None, str | None], Any]


class McpError(McpwsError):
    """The peer answered a request with a JSON-RPC error; or, raised by a handler, the error
    to answer with."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def __repr__(self) -> str:
        return f"McpError({self.code}, {self.message!r})"


class ConnectionLost(McpwsError):
    """The connection ended while a request waited for its answer."""


class Link(Protocol):
    """What a driver offers the application for one connection."""

    #: What the authentication hook returned for this connection.
    principal: object
    #: The level set with ``logging/setLevel`` (handshake era), if any.
    log_level: LoggingLevel | None

    @property
    def stateless(self) -> bool:
        """Whether the connection's session is in the stateless era (no unsolicited
        notifications then: they travel on ``subscriptions/listen`` streams)."""
        ...

    async def request(
        self,
        method: str,
        params: Params = None,
        *,
        timeout: TimeoutArg = UNSET,
        on_progress: ProgressCallback | None = None,
        extension: bool = False,
    ) -> Model: ...

    async def notify(self, method: str, params: Params = None) -> None: ...

    async def send_progress(
        self, request_id: str | int, progress: float, total: float | None, message: str | None
    ) -> None: ...


class Context:
    """A request being handled: its revision, the peer's capabilities, the authenticated
    principal, and what a handler may do meanwhile: report progress, log, and in the
    handshake era ask the client for sampling, elicitation or its roots (which raises
    :class:`~mcpws.core.errors.LocalProtocolError` in the stateless era, or when the client
    did not declare the capability)."""

    def __init__(self, link: Link, request: RequestReceived) -> None:
        #: The connection the request came on.
        self.link = link
        self.request_id = request.request_id
        self.method = request.method
        self.params = request.params
        self.revision = request.revision
        self.peer_capabilities = request.peer_capabilities
        self.principal = link.principal

    @property
    def stateless(self) -> bool:
        """Whether the request is of the stateless era."""
        return self.revision in STATELESS_REVISIONS

    @property
    def log_level(self) -> LoggingLevel | None:
        """The least severe level the client wants to hear (``None``: no logging)."""
        if self.stateless:
            meta = getattr(self.params, "meta", None) or {}
            level = meta.get(META_LOG_LEVEL)
            return level if level in LEVELS else None
        return self.link.log_level

    def set_log_level(self, level: LoggingLevel) -> None:
        """Set the connection's logging level, as ``logging/setLevel`` does."""
        self.link.log_level = level

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Tell the client how far the request has come (if it asked to know)."""
        await self.link.send_progress(self.request_id, progress, total, message)

    async def log(self, level: LoggingLevel, data: Any, logger: str | None = None) -> None:
        """Send a log message, if the client asked for this level or a less severe one."""
        wanted = self.log_level
        if wanted is None or LEVELS.index(level) < LEVELS.index(wanted):
            return
        params: dict[str, Any] = {"level": level, "data": data}
        if logger is not None:
            params["logger"] = logger
        await self.link.notify("notifications/message", params)

    async def sample(self, params: CreateMessageRequestParams) -> CreateMessageResult:
        """Ask the client's model for a message (``sampling/createMessage``)."""
        result = await self.link.request("sampling/createMessage", params)
        assert isinstance(result, CreateMessageResult)
        return result

    async def elicit(self, params: ElicitRequestFormParams) -> ElicitResult:
        """Ask the client's user for input (``elicitation/create``)."""
        result = await self.link.request("elicitation/create", params)
        assert isinstance(result, ElicitResult)
        return result

    async def list_roots(self) -> ListRootsResult:
        """Ask the client for its roots (``roots/list``)."""
        result = await self.link.request("roots/list")
        assert isinstance(result, ListRootsResult)
        return result
