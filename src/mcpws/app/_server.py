"""The high-level MCP server: :class:`Server` holds tools, resources, prompts and
completions, declares the capabilities they need, and answers the requests for them.

It does no I/O: a driver (``mcpws.trio``, ``mcpws.asyncio``) hands it each
:class:`~mcpws.core.session.RequestReceived` with the :class:`~mcpws.app.Link` of its
connection, takes the answer :meth:`Server.handle` gives (the result, or an awaitable of it
when a handler has to wait) and sends it, or the JSON-RPC error of the
:class:`~mcpws.app.McpError` it raises.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import inspect
import json
import logging
import re
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Literal, TypeVar

import attrs

from mcpws.app._asking import InputRequired, Rounds, StateSeal
from mcpws.app._bus import Bus, Change, Channel
from mcpws.app._context import Context, Link
from mcpws.app._driving import Answer, extension_result, then
from mcpws.app._errors import McpError
from mcpws.app._schema import (
    Output,
    SchemaError,
    check,
    converter,
    input_schema,
    output_schema as derived_output,
    parameters,
    to_json,
)
from mcpws.core.jsonrpc import INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, RequestId
from mcpws.core.mcp import (
    META_SUBSCRIPTION_ID,
    BlobResourceContents,
    CallToolRequestParams,
    CallToolResult,
    CompleteRequestParams,
    CompleteResult,
    Completion,
    GetPromptRequestParams,
    GetPromptResult,
    Implementation,
    InputRequiredResult,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    Model,
    Prompt,
    PromptArgument,
    PromptMessage,
    ReadResourceRequestParams,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    Result,
    ServerCapabilities,
    SetLevelRequestParams,
    SubscribeRequestParams,
    SubscriptionFilter,
    SubscriptionsListenRequestParams,
    SubscriptionsListenResult,
    TextContent,
    TextResourceContents,
    Tool,
    ToolAnnotations,
    UnsubscribeRequestParams,
    is_extension,
)
from mcpws.core.session import RequestReceived, ServerSessionConfig

__all__ = ["MAX_STREAMS", "RESOURCE_NOT_FOUND", "Server"]

#: The JSON-RPC error code of a ``resources/read`` for a URI no resource answers to
#: (before 2026-07-28, which answers -32602).
RESOURCE_NOT_FOUND = -32002
#: The ``subscriptions/listen`` streams one connection may hold open at once.
MAX_STREAMS = 16

F = TypeVar("F", bound=Callable[..., Any])
_log = logging.getLogger("mcpws")
_NO_URIS: frozenset[str] = frozenset()


@attrs.frozen
class _Tool:
    tool: Tool
    fn: Callable[..., Any]
    wants_context: str | None
    #: Whether the plain function runs in a worker thread.
    threaded: bool = False
    #: The structured output its results carry, if any.
    output: Output | None = None
    #: What turns its checked JSON arguments into what its annotations ask for, if need be.
    convert: Callable[[dict[str, Any]], dict[str, Any]] | None = None


@attrs.frozen
class _Resource:
    resource: Resource
    fn: Callable[..., Any]
    wants_context: str | None


@attrs.frozen
class _Template:
    template: ResourceTemplate
    pattern: re.Pattern[str]
    fn: Callable[..., Any]
    wants_context: str | None


@attrs.frozen
class _Prompt:
    prompt: Prompt
    fn: Callable[..., Any]
    wants_context: str | None


@attrs.frozen
class _Method:
    """The handler of a vendor's method."""

    fn: Callable[..., Any]
    wants_context: str | None

    def answer(self, request: RequestReceived, context: Context) -> Answer:
        params = dict(request.params.extra)
        if self.wants_context is None:
            return then(self.fn(params), extension_result)
        return then(self.fn(params, **{self.wants_context: context}), extension_result)


def _context_parameter(fn: Callable[..., Any]) -> str | None:
    """The name of *fn*'s parameter annotated :class:`Context`, if any."""
    return next(
        (name for name, hint in _hints(fn).items() if hint is Context and name != "return"), None
    )


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    return typing.get_type_hints(fn)


def _template_pattern(template: str) -> re.Pattern[str]:
    """A regular expression for a URI template's level-1 ``{variable}`` expressions."""
    parts = re.split(r"\{([A-Za-z0-9_]+)\}", template)
    pattern = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
        for index, part in enumerate(parts)
    )
    return re.compile(f"^{pattern}$")


class Server:
    """An MCP server application: register what it offers, then serve it with a driver.

    Tools take their arguments as keyword parameters, checked against the tool's input
    schema (derived from the annotations unless given); a parameter annotated
    :class:`~mcpws.app.Context` (of a tool, a prompt or a resource) receives the request's
    context instead. A tool may return a
    string, a dict (structured content, with its JSON as text), a list of content blocks, a
    :class:`~mcpws.core.mcp.CallToolResult`, or any other JSON value (sent as text); a
    return annotation with a schema makes the value structured output (see
    :meth:`add_tool`). An
    exception in a tool becomes an ``isError`` result with its message; the traceback is
    logged, never sent. Handlers may be plain or ``async`` functions.
    """

    def __init__(
        self,
        name: str,
        version: str = "0.0.0",
        *,
        instructions: str | None = None,
        title: str | None = None,
        state_secret: bytes | str | None = None,
        state_ttl: float = 600.0,
    ) -> None:
        self.info = Implementation(name=name, version=version, title=title)
        #: Signs the ``requestState`` of 2026-07-28's multi-round-trip requests: with
        #: *state_secret* (or ``$MCPWS_STATE_SECRET``), which every process that may
        #: receive a retry must share, for *state_ttl* seconds.
        self.state_seal = StateSeal(state_secret, ttl=state_ttl)
        self.instructions = instructions
        self._tools: dict[str, _Tool] = {}
        self._resources: dict[str, _Resource] = {}
        self._templates: list[_Template] = []
        self._prompts: dict[str, _Prompt] = {}
        self._completion: Callable[..., Any] | None = None
        self._logging = False
        #: Handlers of methods MCP does not define, by method; extensions declared.
        self._methods: dict[str, _Method] = {}
        self._extensions: dict[str, dict[str, Any]] = {}
        #: The open connections, and the resources each subscribed to.
        self._links: dict[Link, frozenset[str]] = {}  # the URIs each has subscribed to
        #: The open ``subscriptions/listen`` streams (2026-07-28), by connection and
        #: request id, with the notifications each agreed to carry.
        self._streams: dict[tuple[Link, RequestId], SubscriptionFilter] = {}
        self._channels: list[Channel] = []  # the buses it is on, which carry its changes

    # Registration ------------------------------------------------------------------------

    def tool(
        self,
        name: str | None = None,
        *,
        description: str | None = None,
        input_schema: dict[str, Any] | None = None,
        title: str | None = None,
        annotations: ToolAnnotations | None = None,
        thread: bool = False,
        output_schema: dict[str, Any] | None = None,
    ) -> Callable[[F], F]:
        """Register the decorated function as a tool (see :meth:`add_tool`)."""

        def register(fn: F) -> F:
            self.add_tool(
                fn,
                name=name,
                description=description,
                input_schema=input_schema,
                title=title,
                annotations=annotations,
                thread=thread,
                output_schema=output_schema,
            )
            return fn

        return register

    def add_tool(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        input_schema: dict[str, Any] | None = None,
        title: str | None = None,
        annotations: ToolAnnotations | None = None,
        thread: bool = False,
        output_schema: dict[str, Any] | None = None,
    ) -> Tool:
        """Register *fn* as a tool and return its description; raises ``TypeError`` when no
        schema is given and an annotation has none, ``ValueError`` for a name in use.

        A plain function runs on the event loop, as every handler does, and holds up every
        connection while it runs; with *thread*, it runs in a worker thread instead, for a
        function that blocks (on a file, a database, a ``time.sleep``) or computes for long.
        An ``async`` function already lets the loop go on while it waits, and takes no
        *thread*.

        A tool whose return annotation has a schema (a number, a list, a ``TypedDict``, a
        dataclass or ``attrs`` class...; not ``str``) declares it as its ``outputSchema``
        (or *output_schema*, given), and each result carries the value as
        ``structuredContent`` (as ``{"result": value}`` when it is not an object) beside
        its JSON as text. A value that does not match the schema gives an error result."""
        name = name or fn.__name__
        if name in self._tools:
            raise ValueError(f"a tool named {name!r} is already registered")
        if thread and inspect.iscoroutinefunction(fn):
            raise ValueError(f"{name}: an async tool runs on the loop; thread= is for plain ones")
        schema = input_schema if input_schema is not None else _derived(fn)
        output = Output(output_schema) if output_schema is not None else derived_output(fn)
        tool = Tool(
            name=name,
            input_schema=schema,
            title=title,
            description=description if description is not None else inspect.getdoc(fn),
            output_schema=None if output is None else output.schema,
            annotations=annotations,
        )
        convert = converter(fn, skip=Context) if input_schema is None else None
        self._tools[name] = _Tool(tool, fn, _context_parameter(fn), thread, output, convert)
        return tool

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
    ) -> Callable[[F], F]:
        """Register the decorated function as the resource at *uri*, or, when *uri* has
        ``{variables}``, as a resource template whose variables are its parameters."""

        def register(fn: F) -> F:
            label = name or fn.__name__
            text = description if description is not None else inspect.getdoc(fn)
            if "{" in uri:
                template = ResourceTemplate(
                    uri_template=uri, name=label, description=text, mime_type=mime_type
                )
                pattern = _template_pattern(uri)
                self._templates.append(_Template(template, pattern, fn, _context_parameter(fn)))
            else:
                resource = Resource(uri=uri, name=label, description=text, mime_type=mime_type)
                self._resources[uri] = _Resource(resource, fn, _context_parameter(fn))
            return fn

        return register

    def prompt(
        self, name: str | None = None, *, description: str | None = None
    ) -> Callable[[F], F]:
        """Register the decorated function as a prompt whose arguments are its (string)
        parameters; it returns a string (one user message), messages, or a full result."""

        def register(fn: F) -> F:
            label = name or fn.__name__
            arguments = [
                PromptArgument(name=p.name, required=p.default is p.empty)
                for p in parameters(fn, skip=Context)
            ]
            prompt = Prompt(
                name=label,
                description=description if description is not None else inspect.getdoc(fn),
                arguments=arguments or None,
            )
            self._prompts[label] = _Prompt(prompt, fn, _context_parameter(fn))
            return fn

        return register

    def completion(self, fn: F) -> F:
        """Register the function that completes prompt arguments and template variables:
        it takes the reference, the argument's name and its value so far, and returns a
        list of values or a :class:`~mcpws.core.mcp.CompleteResult`."""
        self._completion = fn
        return fn

    def method(self, name: str) -> Callable[[F], F]:
        """Register the decorated function as the handler of *name*, a method MCP does not
        define (a vendor's, such as ``x-acme/sync``): it takes the request's params as a
        dict (and, if it has one, the :class:`~mcpws.app.Context` parameter) and returns
        the result's members as a dict (or a :class:`~mcpws.core.mcp.Result`, or ``None``),
        at once or awaited. A notification of *name* calls it too (with no context), and
        what it returns is dropped. Raises ``ValueError`` for a method of MCP or one
        registered."""

        def register(fn: F) -> F:
            if not name or not is_extension(name):
                raise ValueError(f"{name!r} is a method of MCP: only extensions are registered")
            if name in self._methods:
                raise ValueError(f"a handler of {name!r} is already registered")
            self._methods[name] = _Method(fn, _context_parameter(fn))
            return fn

        return register

    def declare_extension(self, name: str, settings: dict[str, Any] | None = None) -> None:
        """Declare the extension *name* (``io.acme/sync``, say) with its *settings*, among
        the server's capabilities: as ``extensions`` (2026-07-28) and ``experimental`` (the
        handshake era, which has no ``extensions``)."""
        self._extensions[name] = dict(settings or {})

    def enable_logging(self) -> None:
        """Declare the logging capability: handlers' ``ctx.log`` reaches clients that ask."""
        self._logging = True

    @property
    def capabilities(self) -> ServerCapabilities:
        """What the registered handlers need declared."""
        resources = self._resources or self._templates
        changing = {"listChanged": True}
        return ServerCapabilities(
            tools=changing if self._tools else None,
            resources={"subscribe": True, **changing} if resources else None,
            prompts=changing if self._prompts else None,
            completions={} if self._completion else None,
            logging={} if self._logging else None,
            extensions=dict(self._extensions) or None,
            experimental=dict(self._extensions) or None,
        )

    def session_config(self, **options: Any) -> ServerSessionConfig:
        """The session configuration this server's connections use; *options* are passed
        on (``revisions``, ``request_timeout``, ``max_pending_requests``...), and override
        what the server derives (``capabilities``, ``extension_methods``...)."""
        derived: dict[str, Any] = {
            "server_info": self.info,
            "capabilities": self.capabilities,
            "instructions": self.instructions,
            "extension_methods": frozenset(self._methods),
        }
        return ServerSessionConfig(**{**derived, **options})

    # Connections and notifications -------------------------------------------------------

    def connected(self, link: Link) -> None:
        """A driver's report: a connection opened (its notifications start)."""
        self._links[link] = _NO_URIS  # shared: an empty set costs each connection 216 bytes

    def notified(self, link: Link, method: str, params: Model) -> Coroutine[Any, Any, None] | None:
        """A driver's report: the client sent a notification the session does not handle
        itself. A vendor's is handed to the handler of its method; the others are not the
        application's. Returns what is left to run when the handler must be awaited."""
        handler = self._methods.get(method)
        if handler is None:
            return None
        try:
            arguments = {handler.wants_context: None} if handler.wants_context else {}
            outcome = handler.fn(dict(params.extra), **arguments)
        except Exception:
            _log.exception("the handler of the notification %s failed", method)
            return None
        return _drop(method, outcome) if inspect.isawaitable(outcome) else None

    def disconnected(self, link: Link) -> None:
        """A driver's report: a connection closed."""
        self._links.pop(link, None)

    async def list_changed(self, kind: Literal["tools", "resources", "prompts"]) -> None:
        """Tell every connected client of the handshake era, and every stream that asked
        for it (2026-07-28), that the list of *kind* changed; those of the other processes
        too, through the buses this server is on (:meth:`on_bus`)."""
        await self._changed(Change(kind))

    async def resource_updated(self, uri: str) -> None:
        """Tell the clients that subscribed to *uri* that it changed: with
        ``resources/subscribe`` (handshake era) or on a stream (2026-07-28); those of the
        other processes too, through the buses this server is on (:meth:`on_bus`)."""
        await self._changed(Change("resource", uri))

    @contextlib.asynccontextmanager
    async def on_bus(self, bus: Bus) -> AsyncIterator[None]:
        """For the block, this server is on *bus*: its changes reach the clients of the
        servers of its name in other processes, and theirs its own (``serve(...,
        bus=...)`` does this while it serves)."""
        async with bus.attach(self.info.name, self._deliver) as channel:
            self._channels.append(channel)
            try:
                yield
            finally:
                self._channels.remove(channel)

    async def _changed(self, change: Change) -> None:
        """Tell this process's clients of *change*, then the buses."""
        await self._deliver(change)
        for channel in list(self._channels):
            await channel.publish(change)

    async def _deliver(self, change: Change) -> None:
        """Tell this process's clients of *change*, made here or come from a bus."""
        uri = change.uri
        if uri is not None:
            await self._broadcast(
                "notifications/resources/updated",
                {"uri": uri},
                lambda s: uri in (s.resource_subscriptions or ()),
                uri,
            )
            return
        wants = _WANTS_CHANGES[change.kind]
        await self._broadcast(
            f"notifications/{change.kind}/list_changed",
            {},
            lambda s: getattr(s, wants) is True,
            None,
        )

    async def _broadcast(
        self,
        method: str,
        params: dict[str, Any],
        wanted: Callable[[SubscriptionFilter], bool],
        uri: str | None,
    ) -> None:
        sends: list[tuple[Link, dict[str, Any]]] = [
            (link, params)
            for link, subscribed in self._links.items()
            if not link.stateless and (uri is None or uri in subscribed)
        ]
        sends += [
            (link, {**params, "_meta": {META_SUBSCRIPTION_ID: request_id}})
            for (link, request_id), agreed in self._streams.items()
            if wanted(agreed)
        ]
        for link, sent in sends:
            try:
                await link.notify(method, sent or None)
            except Exception as exc:  # a connection not open for it, or gone
                _log.debug("%s not sent to a connection: %s", method, exc)

    # Answering ---------------------------------------------------------------------------

    def handle(self, request: RequestReceived, link: Link) -> Answer:
        """Answer *request*: the result, at once when every handler involved returned a
        plain value, else an awaitable of it. Raises :class:`McpError` (at once, or when
        awaited) for a JSON-RPC error reply."""
        handler = _HANDLERS.get(request.method)
        if handler is None:
            extension = self._methods.get(request.method)
            if extension is None:
                raise McpError(METHOD_NOT_FOUND, f"method not found: {request.method}")
            return extension.answer(request, Context(link, request, self.state_seal))
        context = Context(link, request, self.state_seal)
        answer = handler(self, request, context)
        if context.rounds is not None and inspect.isawaitable(answer):
            return _asking(answer, context.rounds)
        return answer

    def _list_tools(self, request: RequestReceived, context: Context) -> Model:
        return ListToolsResult(tools=[entry.tool for entry in self._tools.values()])

    def _call_tool(self, request: RequestReceived, context: Context) -> Answer:
        params = request.params
        assert isinstance(params, CallToolRequestParams)
        entry = self._tools.get(params.name)
        if entry is None:
            raise McpError(INVALID_PARAMS, f"unknown tool: {params.name}")
        arguments = params.arguments or {}
        problem = check(entry.tool.input_schema, arguments)
        if problem is not None:
            return _tool_error(f"invalid arguments: {problem}")
        if entry.convert is not None:
            try:
                arguments = entry.convert(arguments)
            except (TypeError, ValueError) as exc:  # base64 that is not, say
                return _tool_error(f"invalid arguments: {exc}")
        arguments = _with_context(arguments, entry.wants_context, context)
        if entry.threaded:
            work = functools.partial(entry.fn, **arguments)
            return _tool_later(entry, context.link.in_thread(work))
        try:
            value = entry.fn(**arguments)
            if inspect.isawaitable(value):
                return _tool_later(entry, value)
            return _tool_result(value, entry.output)
        except McpError:
            raise
        except Exception as exc:
            return _tool_failed(entry.tool.name, exc)

    def _list_resources(self, request: RequestReceived, context: Context) -> Model:
        return ListResourcesResult(resources=[e.resource for e in self._resources.values()])

    def _list_templates(self, request: RequestReceived, context: Context) -> Model:
        return ListResourceTemplatesResult(resource_templates=[e.template for e in self._templates])

    def _read_resource(self, request: RequestReceived, context: Context) -> Answer:
        params = request.params
        assert isinstance(params, ReadResourceRequestParams)
        uri = params.uri
        entry = self._resources.get(uri)
        if entry is not None:
            finish = functools.partial(_contents, uri, mime_type=entry.resource.mime_type)
            return then(entry.fn(**_with_context({}, entry.wants_context, context)), finish)
        for template in self._templates:
            match = template.pattern.match(uri)
            if match:
                finish = functools.partial(_contents, uri, mime_type=template.template.mime_type)
                arguments = _with_context(match.groupdict(), template.wants_context, context)
                return then(template.fn(**arguments), finish)
        # 2026-07-28 answers an unknown URI as invalid params; earlier revisions had a code.
        code = INVALID_PARAMS if context.stateless else RESOURCE_NOT_FOUND
        raise McpError(code, f"resource not found: {uri}", {"uri": uri})

    def _list_prompts(self, request: RequestReceived, context: Context) -> Model:
        return ListPromptsResult(prompts=[entry.prompt for entry in self._prompts.values()])

    def _get_prompt(self, request: RequestReceived, context: Context) -> Answer:
        params = request.params
        assert isinstance(params, GetPromptRequestParams)
        entry = self._prompts.get(params.name)
        if entry is None:
            raise McpError(INVALID_PARAMS, f"unknown prompt: {params.name}")
        arguments: dict[str, Any] = dict(params.arguments or {})
        missing = [
            argument.name
            for argument in entry.prompt.arguments or ()
            if argument.required and argument.name not in arguments
        ]
        if missing:
            raise McpError(INVALID_PARAMS, f"missing prompt arguments: {', '.join(missing)}")
        known = {argument.name for argument in entry.prompt.arguments or ()}
        unexpected = sorted(set(arguments) - known)
        if unexpected:
            raise McpError(INVALID_PARAMS, f"unexpected prompt arguments: {', '.join(unexpected)}")
        arguments = _with_context(arguments, entry.wants_context, context)
        finish = functools.partial(_prompt_result, description=entry.prompt.description)
        return then(entry.fn(**arguments), finish)

    def _complete(self, request: RequestReceived, context: Context) -> Answer:
        params = request.params
        assert isinstance(params, CompleteRequestParams)
        if self._completion is None:
            raise McpError(METHOD_NOT_FOUND, "this server completes nothing")
        value = self._completion(params.ref, params.argument.name, params.argument.value)
        return then(value, _completion_result)

    def _subscribe(self, request: RequestReceived, context: Context) -> Model:
        params = request.params
        assert isinstance(params, SubscribeRequestParams | UnsubscribeRequestParams)
        subscribed = self._links.get(context.link)
        if subscribed is not None:
            if request.method == "resources/subscribe":
                self._links[context.link] = subscribed | {params.uri}
            else:
                self._links[context.link] = subscribed - {params.uri}
        return Result()

    def _listen(self, request: RequestReceived, context: Context) -> Answer:
        params = request.params
        assert isinstance(params, SubscriptionsListenRequestParams)
        streams = sum(1 for link, _ in self._streams if link is context.link)
        if streams >= MAX_STREAMS:
            message = f"this connection has {MAX_STREAMS} subscription streams open already"
            raise McpError(INVALID_REQUEST, message)
        return self._stream(context.link, request.request_id, self._agreed(params.notifications))

    def _agreed(self, wanted: SubscriptionFilter) -> SubscriptionFilter:
        """The part of *wanted* this server delivers."""
        resources = bool(self._resources or self._templates)
        return SubscriptionFilter(
            tools_list_changed=(wanted.tools_list_changed and bool(self._tools)) or None,
            prompts_list_changed=(wanted.prompts_list_changed and bool(self._prompts)) or None,
            resources_list_changed=(wanted.resources_list_changed and resources) or None,
            resource_subscriptions=(resources and wanted.resource_subscriptions) or None,
        )

    async def _stream(
        self, link: Link, request_id: RequestId, agreed: SubscriptionFilter
    ) -> SubscriptionsListenResult:
        """A ``subscriptions/listen`` stream: acknowledged first, open until the client
        cancels it, the connection ends, or the server shuts down, which ends it with its
        result."""
        meta = {META_SUBSCRIPTION_ID: request_id}
        key = (link, request_id)
        self._streams[key] = agreed  # before the acknowledgment, queued before any await
        try:
            acknowledged = {"_meta": meta, "notifications": agreed.to_json()}
            await link.notify("notifications/subscriptions/acknowledged", acknowledged)
            await link.draining()
        finally:
            del self._streams[key]
        return SubscriptionsListenResult(meta=meta)

    def _set_level(self, request: RequestReceived, context: Context) -> Model:
        params = request.params
        assert isinstance(params, SetLevelRequestParams)
        context.set_log_level(params.level)
        return Result()


async def _drop(method: str, outcome: Awaitable[Any]) -> None:
    """Await a notification handler, logging what it raises."""
    try:
        await outcome
    except Exception:
        _log.exception("the handler of the notification %s failed", method)


def _with_context(
    arguments: dict[str, Any], parameter: str | None, context: Context
) -> dict[str, Any]:
    """*arguments*, with *context* as *parameter* when the handler has one."""
    return arguments if parameter is None else {**arguments, parameter: context}


async def _asking(answer: Awaitable[Model], rounds: Rounds) -> Model:
    """The result of a handler that may ask the client for input (2026-07-28): its own,
    or the questions still open when it awaited an unanswered one."""
    try:
        return await answer
    except InputRequired:
        return rounds.result()


def _derived(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return input_schema(fn, skip=Context)
    except SchemaError as exc:
        raise TypeError(f"{fn.__name__}: {exc}; give input_schema= explicitly") from None


async def _tool_later(entry: _Tool, value: Awaitable[Any]) -> CallToolResult | InputRequiredResult:
    """The result of a tool that returned an awaitable."""
    try:
        return _tool_result(await value, entry.output)
    except McpError:
        raise
    except Exception as exc:
        return _tool_failed(entry.tool.name, exc)


def _tool_failed(name: str, exc: Exception) -> CallToolResult:
    """A tool's exception as its error result; the traceback is logged, not sent."""
    _log.error("tool %s failed", name, exc_info=exc)
    return _tool_error(f"{type(exc).__name__}: {exc}")


def _tool_error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=message)], is_error=True)


def _tool_result(value: Any, output: Output | None = None) -> CallToolResult | InputRequiredResult:
    """A tool's return value as a result: with its structured content when the tool has an
    *output* schema."""
    if isinstance(value, CallToolResult | InputRequiredResult):
        return value
    if output is not None:
        plain = to_json(value)
        structured = output.content(plain)
        problem = check(output.schema, structured, noun="member")
        if problem is not None:
            _log.error("a result of a tool does not match its output schema: %s", problem)
            return _tool_error(f"the result does not match the tool's output schema: {problem}")
        text = json.dumps(plain, ensure_ascii=False, allow_nan=False)
        return CallToolResult(content=[TextContent(text=text)], structured_content=structured)
    if value is None:
        return CallToolResult(content=[])
    if isinstance(value, str):
        return CallToolResult(content=[TextContent(text=value)])
    if isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        return CallToolResult(content=[TextContent(text=text)], structured_content=value)
    if isinstance(value, list) and value and all(isinstance(item, Model) for item in value):
        return CallToolResult(content=value)
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return CallToolResult(content=[TextContent(text=text)])


def _prompt_result(value: Any, description: str | None) -> GetPromptResult | InputRequiredResult:
    """A prompt handler's return value as a result."""
    if isinstance(value, GetPromptResult | InputRequiredResult):
        return value
    if isinstance(value, str):
        value = [PromptMessage(role="user", content=TextContent(text=value))]
    return GetPromptResult(messages=list(value), description=description)


def _completion_result(value: Any) -> CompleteResult:
    """A completion handler's return value as a result."""
    if isinstance(value, CompleteResult):
        return value
    values = [str(item) for item in value][:100]
    return CompleteResult(
        completion=Completion(values=values, total=len(value), has_more=len(value) > 100)
    )


def _contents(
    uri: str, value: Any, mime_type: str | None
) -> ReadResourceResult | InputRequiredResult:
    """A resource handler's return value as a result."""
    if isinstance(value, ReadResourceResult | InputRequiredResult):
        return value
    if isinstance(value, bytes):
        blob = base64.b64encode(value).decode()
        return ReadResourceResult(
            contents=[BlobResourceContents(uri=uri, blob=blob, mime_type=mime_type)]
        )
    if isinstance(value, str):
        return ReadResourceResult(
            contents=[TextResourceContents(uri=uri, text=value, mime_type=mime_type)]
        )
    return ReadResourceResult(contents=list(value))


_Handler = Callable[[Server, RequestReceived, Context], Answer]
_HANDLERS: dict[str, _Handler] = {
    "tools/list": Server._list_tools,
    "tools/call": Server._call_tool,
    "resources/list": Server._list_resources,
    "resources/templates/list": Server._list_templates,
    "resources/read": Server._read_resource,
    "prompts/list": Server._list_prompts,
    "prompts/get": Server._get_prompt,
    "completion/complete": Server._complete,
    "logging/setLevel": Server._set_level,
    "resources/subscribe": Server._subscribe,
    "resources/unsubscribe": Server._subscribe,
    "subscriptions/listen": Server._listen,
}
#: The member of a subscription filter that asks for each kind of list change.
_WANTS_CHANGES: dict[str, str] = {
    "tools": "tools_list_changed",
    "resources": "resources_list_changed",
    "prompts": "prompts_list_changed",
}
