"""The high-level MCP client: :class:`Client`, the operations of an open session.

A driver's ``connect()`` builds one over the :class:`~mcpws.app.Link` of its connection.
Each operation sends a request and returns the typed result, raising
:class:`~mcpws.app.McpError` for a JSON-RPC error reply. The server's requests (sampling,
elicitation, roots) go to the handlers set on the client; without one, they are answered
method-not-found.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mcpws.app._context import Link, McpError, ProgressCallback
from mcpws.core.jsonrpc import METHOD_NOT_FOUND
from mcpws.core.mcp import (
    CallToolResult,
    CompleteResult,
    GetPromptResult,
    Implementation,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    LoggingLevel,
    Model,
    Prompt,
    PromptReference,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    ResourceTemplateReference,
    ServerCapabilities,
    Tool,
)
from mcpws.core.session import UNSET, ClientSession, Params, RequestReceived, TimeoutArg

__all__ = ["Client", "RequestHandler"]

#: A handler of a server's request: it takes the typed params and returns the result.
RequestHandler = Callable[[Any], Awaitable[Model] | Model]


class Client:
    """An open MCP session, seen from the client: the server's description and every
    operation, each a coroutine."""

    def __init__(self, link: Link, session: ClientSession) -> None:
        self._link = link
        self._session = session
        #: Handlers of the server's requests, by method: ``sampling/createMessage``,
        #: ``elicitation/create``, ``roots/list``.
        self.handlers: dict[str, RequestHandler] = {}
        #: Called with (method, typed params) for each notification from the server.
        self.on_notification: Callable[[str, Model], Any] | None = None

    @property
    def link(self) -> Link:
        """The driver's connection this client works over."""
        return self._link

    def rebind(self, link: Link, session: ClientSession) -> None:
        """Carry on over a new connection and session (for a driver that reconnected)."""
        self._link = link
        self._session = session

    @property
    def revision(self) -> str | None:
        """The protocol revision in use."""
        return self._session.revision

    @property
    def server_info(self) -> Implementation | None:
        """The server's name and version."""
        info = self._session.peer_info
        return info if isinstance(info, Implementation) else None

    @property
    def server_capabilities(self) -> ServerCapabilities | None:
        """What the server offers."""
        capabilities = self._session.peer_capabilities
        return capabilities if isinstance(capabilities, ServerCapabilities) else None

    @property
    def instructions(self) -> str | None:
        """The server's instructions for the model, if any."""
        return self._session.instructions

    # Raw access --------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        params: Params = None,
        *,
        timeout: TimeoutArg = UNSET,
        on_progress: ProgressCallback | None = None,
        extension: bool = False,
    ) -> Model:
        """Send a request and return its typed result; raises :class:`McpError` for an
        error reply, and ``TimeoutError`` when it times out. With *extension*, *method* is
        a vendor's, one MCP does not define: its params go as they are, and its result is a
        plain :class:`~mcpws.core.mcp.Result` holding what the server sent."""
        return await self._link.request(
            method, params, timeout=timeout, on_progress=on_progress, extension=extension
        )

    async def notify(self, method: str, params: Params = None) -> None:
        """Send a notification."""
        await self._link.notify(method, params)

    # Operations --------------------------------------------------------------------------

    async def list_tools(self) -> list[Tool]:
        """Every tool of the server, following pagination."""
        return [tool for page in await self._pages("tools/list") for tool in page.tools]

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: TimeoutArg = UNSET,
        on_progress: ProgressCallback | None = None,
    ) -> CallToolResult:
        """Call a tool. A failure of the tool itself is a result with ``is_error`` set."""
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        result = await self.request("tools/call", params, timeout=timeout, on_progress=on_progress)
        assert isinstance(result, CallToolResult)
        return result

    async def list_resources(self) -> list[Resource]:
        """Every resource of the server, following pagination."""
        pages = await self._pages("resources/list")
        return [resource for page in pages for resource in page.resources]

    async def list_resource_templates(self) -> list[ResourceTemplate]:
        """Every resource template of the server, following pagination."""
        pages = await self._pages("resources/templates/list")
        return [template for page in pages for template in page.resource_templates]

    async def read_resource(self, uri: str) -> ReadResourceResult:
        """Read the resource at *uri*."""
        result = await self.request("resources/read", {"uri": uri})
        assert isinstance(result, ReadResourceResult)
        return result

    async def subscribe_resource(self, uri: str) -> None:
        """Ask to be told when the resource at *uri* changes (handshake era)."""
        await self.request("resources/subscribe", {"uri": uri})

    async def unsubscribe_resource(self, uri: str) -> None:
        """Stop being told about changes of the resource at *uri*."""
        await self.request("resources/unsubscribe", {"uri": uri})

    async def list_prompts(self) -> list[Prompt]:
        """Every prompt of the server, following pagination."""
        return [prompt for page in await self._pages("prompts/list") for prompt in page.prompts]

    async def get_prompt(
        self, name: str, arguments: dict[str, str] | None = None
    ) -> GetPromptResult:
        """Render a prompt with its arguments."""
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        result = await self.request("prompts/get", params)
        assert isinstance(result, GetPromptResult)
        return result

    async def complete(
        self,
        ref: PromptReference | ResourceTemplateReference,
        argument: str,
        value: str,
    ) -> CompleteResult:
        """Ask for completions of a prompt argument or template variable."""
        params = {"ref": ref.to_json(), "argument": {"name": argument, "value": value}}
        result = await self.request("completion/complete", params)
        assert isinstance(result, CompleteResult)
        return result

    async def set_logging_level(self, level: LoggingLevel) -> None:
        """Ask the server for log messages of *level* and above: ``logging/setLevel`` in
        the handshake era, the ``_meta`` of every later request in the stateless era."""
        if self._session.state.value == "stateless":
            self._session.log_level = level
            return
        await self.request("logging/setLevel", {"level": level})

    async def _pages(self, method: str) -> list[Any]:
        pages: list[
            ListToolsResult | ListResourcesResult | ListResourceTemplatesResult | ListPromptsResult
        ] = []
        cursor: str | None = None
        while True:
            page = await self.request(method, {"cursor": cursor} if cursor else {})
            assert isinstance(
                page,
                ListToolsResult
                | ListResourcesResult
                | ListResourceTemplatesResult
                | ListPromptsResult,
            )
            pages.append(page)
            cursor = page.next_cursor
            if not cursor or len(pages) >= 1000:
                return pages

    # The server's requests ---------------------------------------------------------------

    def handle(self, request: RequestReceived) -> Awaitable[Model] | Model:
        """Answer a server's request with the handler set for its method: what the handler
        returned, the result or an awaitable of it."""
        handler = self.handlers.get(request.method)
        if handler is None:
            raise McpError(METHOD_NOT_FOUND, f"no handler for {request.method}")
        return handler(request.params)
