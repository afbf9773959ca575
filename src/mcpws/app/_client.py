"""The high-level MCP client: :class:`Client`, the operations of an open session.

A driver's ``connect()`` builds one over the :class:`~mcpws.app.Link` of its connection.
Each operation sends a request and returns the typed result, raising
:class:`~mcpws.app.McpError` for a JSON-RPC error reply and
:class:`~mcpws.app.UnexpectedResult` for a result of another kind. The server's requests
(sampling, elicitation, roots) go to the handlers set on the client, in both eras: as
requests of their own in the handshake era, as the ``inputRequests`` of an
``InputRequiredResult`` in 2026-07-28, which the client answers and repeats its request
with; without a handler, a request is answered method-not-found.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from mcpws.app._context import Link, NotificationCallback, ProgressCallback, Waiter
from mcpws.app._driving import extension_result, then
from mcpws.app._errors import ConnectionLost, McpError, UnexpectedResult, expect
from mcpws.core.jsonrpc import METHOD_NOT_FOUND
from mcpws.core.mcp import (
    CallToolResult,
    CompleteResult,
    GetPromptResult,
    Implementation,
    InputRequest,
    InputRequiredResult,
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
    SubscriptionFilter,
    SubscriptionsListenResult,
    Tool,
    is_extension,
)
from mcpws.core.session import UNSET, ClientSession, Params, RequestReceived, TimeoutArg

__all__ = ["MAX_INPUT_ROUNDS", "Client", "RequestHandler"]

#: A handler of a server's request: it takes the typed params and returns the result (for
#: a vendor's method, the params and the result's members as dicts).
RequestHandler = Callable[[Any], Awaitable[Model | Mapping[str, Any]] | Model | Mapping[str, Any]]
#: How many times a request is repeated with input by default (2026-07-28).
MAX_INPUT_ROUNDS = 10

M = TypeVar("M", bound=Model)


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
        #: How many times a request answered with an ``InputRequiredResult`` is repeated
        #: with the answers before :class:`~mcpws.app.UnexpectedResult` is raised.
        self.max_input_rounds = MAX_INPUT_ROUNDS
        #: Whether a reconnection policy may bring a dropped connection back, and who
        #: waits for it to.
        self._reconnecting = False
        self._connected: list[Waiter] = []

    @property
    def link(self) -> Link:
        """The driver's connection this client works over."""
        return self._link

    def rebind(self, link: Link, session: ClientSession) -> None:
        """Carry on over a new connection and session (for a driver that reconnected)."""
        self._link = link
        self._session = session
        self._wake_connected()

    def reconnecting(self, active: bool) -> None:
        """A driver's report: whether a reconnection policy may bring the connection back
        when it drops."""
        self._reconnecting = active
        if not active:
            self._wake_connected()

    def _wake_connected(self) -> None:
        for waiter in self._connected:
            waiter.settle(None)

    async def connected(self) -> None:
        """Return once the client has an open connection: at once when it has, else once
        its reconnection policy (``connect(..., reconnect=...)``) has opened a new one.
        Raises :class:`~mcpws.app.ConnectionLost` when the connection is gone and nothing
        will bring it back (no policy, or one that gave up)."""
        while not self._link.is_open:
            if not self._reconnecting:
                raise ConnectionLost("the connection is lost, and no reconnection is coming")
            waiter = self._link.waiter()
            self._connected.append(waiter)
            try:
                await waiter.wait()
            finally:
                self._connected.remove(waiter)

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
        plain :class:`~mcpws.core.mcp.Result` holding what the server sent.

        An ``InputRequiredResult`` (2026-07-28) is answered with the handlers and the
        request repeated, as many as :attr:`max_input_rounds` times; past them, it raises
        :class:`~mcpws.app.UnexpectedResult`. *timeout* applies to each round."""
        result = await self._link.request(
            method, params, timeout=timeout, on_progress=on_progress, extension=extension
        )
        rounds = 0
        while isinstance(result, InputRequiredResult):
            if rounds == self.max_input_rounds:
                message = f"{method} still asks for input after {rounds} rounds"
                raise UnexpectedResult(message, result)
            rounds += 1
            params = _with_input(
                params, await self._answer_all(result.input_requests or {}), result.request_state
            )
            result = await self._link.request(
                method, params, timeout=timeout, on_progress=on_progress, extension=extension
            )
        return result

    async def _answer_all(self, requests: Mapping[str, InputRequest]) -> dict[str, Any]:
        """The answers to a round's questions, by key, from the handlers."""
        answers: dict[str, Any] = {}
        for key, question in requests.items():
            handler = self.handlers.get(question.method)
            if handler is None:
                message = f"the server asks for {question.method} and no handler answers it"
                raise McpError(METHOD_NOT_FOUND, message)
            answer = handler(question.params)
            if inspect.isawaitable(answer):
                answer = await answer
            answers[key] = answer.to_json() if isinstance(answer, Model) else dict(answer)
        return answers

    async def _typed(self, kind: type[M], method: str, params: Params, **options: Any) -> M:
        return expect(await self.request(method, params, **options), kind, method)

    async def notify(self, method: str, params: Params = None, *, extension: bool = False) -> None:
        """Send a notification; with *extension*, of a vendor's method, its params as they
        are."""
        await self._link.notify(method, params, extension=extension)

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
        return await self._typed(
            CallToolResult, "tools/call", params, timeout=timeout, on_progress=on_progress
        )

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
        return await self._typed(ReadResourceResult, "resources/read", {"uri": uri})

    async def listen(
        self,
        on_notification: NotificationCallback,
        *,
        tools: bool = False,
        prompts: bool = False,
        resources: bool = False,
        uris: Sequence[str] = (),
    ) -> SubscriptionsListenResult:
        """Listen to the server (2026-07-28, ``subscriptions/listen``): changes of its
        lists of *tools*, *prompts* or *resources*, and updates of the resources at *uris*.

        *on_notification* gets each notification of the stream with its method and typed
        params, the acknowledgment first (``notifications/subscriptions/acknowledged``,
        whose ``notifications`` say what the server agreed to send). The stream lasts
        until the server ends it (its result is returned), the connection is lost
        (:class:`~mcpws.app.ConnectionLost`), or the caller cancels the task this runs
        in, which cancels the stream. In the handshake era, use :attr:`on_notification`
        and :meth:`subscribe_resource` instead."""
        wanted = SubscriptionFilter(
            tools_list_changed=tools or None,
            prompts_list_changed=prompts or None,
            resources_list_changed=resources or None,
            resource_subscriptions=list(uris) or None,
        )
        params = {"notifications": wanted.to_json()}
        result = await self._link.request(
            "subscriptions/listen", params, timeout=None, on_notification=on_notification
        )
        return expect(result, SubscriptionsListenResult, "subscriptions/listen")

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
        return await self._typed(GetPromptResult, "prompts/get", params)

    async def complete(
        self,
        ref: PromptReference | ResourceTemplateReference,
        argument: str,
        value: str,
    ) -> CompleteResult:
        """Ask for completions of a prompt argument or template variable."""
        params = {"ref": ref.to_json(), "argument": {"name": argument, "value": value}}
        return await self._typed(CompleteResult, "completion/complete", params)

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
            page = await self._typed(_PAGES[method], method, {"cursor": cursor} if cursor else {})
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
        if is_extension(request.method):  # a vendor's: params and result as plain dicts
            return then(handler(dict(request.params.extra)), extension_result)
        return then(handler(request.params), _typed_result)


_PAGES: dict[
    str,
    type[ListToolsResult | ListResourcesResult | ListResourceTemplatesResult | ListPromptsResult],
] = {
    "tools/list": ListToolsResult,
    "resources/list": ListResourcesResult,
    "resources/templates/list": ListResourceTemplatesResult,
    "prompts/list": ListPromptsResult,
}


def _with_input(params: Params, answers: dict[str, Any], state: str | None) -> dict[str, Any]:
    """*params* for the next round: with *answers* and the server's *state*, and without
    the last round's."""
    retry = dict(params.to_json() if isinstance(params, Model) else params or {})
    retry.pop("requestState", None)
    retry["inputResponses"] = answers
    if state is not None:
        retry["requestState"] = state
    return retry


def _typed_result(value: Any) -> Model:
    """A handler's answer to one of MCP's requests, which is a typed result."""
    if not isinstance(value, Model):
        raise TypeError(f"a handler of an MCP request returns a Model, not {value!r}")
    return value
