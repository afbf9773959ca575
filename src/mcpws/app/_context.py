"""What a handler sees of its request and its connection: :class:`Context`; and what a
driver offers for a connection: :class:`Link`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol, TypeVar

from mcpws.app._asking import ASKED_BY, ROUND_TRIP_METHODS, Rounds, StateSeal
from mcpws.app._errors import expect
from mcpws.core.errors import LocalProtocolError
from mcpws.core.mcp import (
    META_LOG_LEVEL,
    ClientCapabilities,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestFormParams,
    ElicitRequestURLParams,
    ElicitResult,
    ListRootsResult,
    LoggingLevel,
    Model,
)
from mcpws.core.session import UNSET, Params, RequestReceived, TimeoutArg
from mcpws.core.versions import STATELESS_REVISIONS

__all__ = ["LEVELS", "Context", "Link", "NotificationCallback", "ProgressCallback"]

#: The logging levels, least severe first.
LEVELS: Final = (
    "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"
)  # fmt: skip

#: What ``call_tool(..., on_progress=...)`` calls: progress, total, message.
ProgressCallback = Callable[[float, float | None, str | None], Any]
T = TypeVar("T")

#: What gets a peer's notifications: their method and typed params.
NotificationCallback = Callable[[str, Model], Any]


class Waiter(Protocol):
    """One task's wait for one outcome (a loop primitive)."""

    @property
    def settled(self) -> bool:
        """Whether the waiting task has its outcome (or will have it when it wakes)."""
        ...

    def settle(self, outcome: object) -> None:
        """Give the waiting task *outcome*, unless it has one or gave up waiting."""
        ...

    def wait(self) -> Awaitable[object]:
        """The outcome, once it has come; always a checkpoint. A task cancelled while it
        waits gets the loop's cancellation, even when the outcome came first."""
        ...


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
        on_notification: NotificationCallback | None = None,
    ) -> Model:
        """Send a request and wait for its answer; *on_notification* gets the peer's
        notifications that name the request as their subscription (2026-07-28)."""
        ...

    async def notify(self, method: str, params: Params = None, *, extension: bool = False) -> None:
        """Send a notification (*extension*: a vendor's method)."""
        ...

    async def send_progress(
        self, request_id: str | int, progress: float, total: float | None, message: str | None
    ) -> None: ...

    async def draining(self) -> None:
        """Wait until the connection begins to shut down gracefully (at once if it has)."""
        ...

    @property
    def is_open(self) -> bool:
        """Whether the connection is still there (open, or closing)."""
        ...

    def waiter(self) -> Waiter:
        """A new wait for one outcome, in the connection's loop."""
        ...

    async def in_thread(self, fn: Callable[[], T]) -> T:
        """Run *fn* in a worker thread of the loop; what it returns, or what it raises."""
        ...


#: The seal of contexts built without one, made at first use: this process's secret.
_process_seal: list[StateSeal] = []


class Context:
    """A request being handled: its revision, the peer's capabilities, the authenticated
    principal, and what a handler may do meanwhile: report progress, log, and ask the client
    for sampling, elicitation or its roots.

    Asking works in both eras. In the handshake era it is a request to the client, awaited
    there and then. In 2026-07-28 it is a multi-round-trip request (``tools/call``,
    ``prompts/get`` and ``resources/read`` only): the first question the client has not
    answered ends the handler's run (:class:`~mcpws.app.InputRequired`), the request is
    answered with the questions asked, and when the client repeats it with the answers the
    handler runs again from the start, its questions now answered at once. Questions asked
    before the first of them is awaited go to the client together. *seal* signs the
    ``requestState`` that carries the answers from round to round.
    """

    def __init__(self, link: Link, request: RequestReceived, seal: StateSeal | None = None) -> None:
        #: The connection the request came on.
        self.link = link
        self.request_id = request.request_id
        self.method = request.method
        self.params = request.params
        self.revision = request.revision
        self.peer_capabilities = request.peer_capabilities
        self.principal = link.principal
        #: The questions and answers of a multi-round-trip request (2026-07-28).
        self.rounds: Rounds | None = None
        if self.stateless and request.method in ROUND_TRIP_METHODS:
            if seal is None:
                seal = _process_seal[0] if _process_seal else StateSeal()
                _process_seal[:] = [seal]
            capabilities = request.peer_capabilities
            self.rounds = Rounds(
                seal,
                request.method,
                request.params,
                link.principal,
                capabilities if isinstance(capabilities, ClientCapabilities) else None,
            )

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

    def sample(
        self, params: CreateMessageRequestParams, *, key: str | None = None
    ) -> Awaitable[CreateMessageResult]:
        """Ask the client's model for a message (``sampling/createMessage``). In 2026-07-28
        *key* names the question (by default ``sampling-<n>``, n counting this run's
        questions); it must not change between runs."""
        return self._ask("sampling/createMessage", params, key)

    def elicit(
        self, params: ElicitRequestFormParams | ElicitRequestURLParams, *, key: str | None = None
    ) -> Awaitable[ElicitResult]:
        """Ask the client's user for input (``elicitation/create``); *key* as for
        :meth:`sample` (``elicitation-<n>``)."""
        return self._ask("elicitation/create", params, key)

    def list_roots(self, *, key: str | None = None) -> Awaitable[ListRootsResult]:
        """Ask the client for its roots (``roots/list``); *key* as for :meth:`sample`
        (``roots-<n>``)."""
        return self._ask("roots/list", None, key)

    def _ask(self, method: str, params: Any, key: str | None) -> Awaitable[Any]:
        """Ask *method* of the client. Raises
        :class:`~mcpws.core.errors.LocalProtocolError` when the client did not declare the
        capability, and in 2026-07-28 for a request that may not ask."""
        if self.rounds is not None:
            return self.rounds.ask(method, params, key)
        if self.stateless:
            allowed = ", ".join(sorted(ROUND_TRIP_METHODS))
            raise LocalProtocolError(f"in 2026-07-28 only {allowed} may ask the client for input")
        return self._request(method, params)

    async def _request(self, method: str, params: Any) -> Model:
        result = await self.link.request(method, params)
        return expect(result, ASKED_BY[method], method)
