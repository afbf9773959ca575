"""The client role of a session: opening it (the handshake, the ``server/discover`` probe,
or both), and the per-request ``_meta`` of the stateless era."""

from __future__ import annotations

from typing import Any, Final

from mcpws.core import jsonrpc
from mcpws.core.errors import InvalidParams, LocalProtocolError, RemoteProtocolError
from mcpws.core.jsonrpc import (
    METHOD_NOT_FOUND,
    ErrorResponse,
    Notification,
    Request,
    RequestId,
    Response,
)
from mcpws.core.mcp import (
    META_CLIENT_CAPABILITIES,
    META_CLIENT_INFO,
    META_LOG_LEVEL,
    META_PROTOCOL_VERSION,
    META_SERVER_INFO,
    DiscoverResult,
    Implementation,
    InitializeRequestParams,
    InitializeResult,
    LoggingLevel,
    decode_result,
)
from mcpws.core.session._base import UNSET, Refusal, Session, _Outgoing, for_revision
from mcpws.core.session._config import ClientSessionConfig
from mcpws.core.session._events import Capabilities, SessionInitialized
from mcpws.core.session._state import Input, State
from mcpws.core.versions import newest_common

__all__ = ["ClientSession"]

#: The WebSocket close code a failed session's error suggests (1002, protocol error).
_PROTOCOL_ERROR: Final = 1002


class ClientSession(Session):
    """The client side of an MCP session.

    :meth:`start` opens it: with revisions of both eras configured, a ``server/discover``
    probe, falling back to ``initialize`` on any error or on the probe's timeout; with one
    era, ``initialize`` or ``server/discover`` alone. :class:`SessionInitialized` reports
    success and :class:`SessionFailed` failure. Requests made in the stateless era carry
    the revision, the client's capabilities and its info in ``_meta``.
    """

    is_client = True

    def __init__(self, config: ClientSessionConfig | None = None) -> None:
        config = ClientSessionConfig() if config is None else config
        super().__init__(config)
        self.config = config
        #: The server's instructions, once the session is open.
        self.instructions: str | None = None
        #: The ``io.modelcontextprotocol/logLevel`` stateless-era requests carry, if any.
        self.log_level: LoggingLevel | None = None
        self._requested: str | None = None
        self._meta_cache: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def start(self, now: float) -> None:
        """Open the session; raises :class:`LocalProtocolError` when already started."""
        if self.config.stateless_revisions:
            self._lifecycle.check(Input.SEND_DISCOVER)
            probing = bool(self.config.handshake_revisions)
            timeout = self.config.probe_timeout if probing else UNSET
            revision = self.config.stateless_revisions[-1]
            self._request(
                self._next_id, "server/discover", None, revision, now=now, timeout=timeout,
                lifecycle=True,
            )  # fmt: skip
            self._lifecycle.process(Input.SEND_DISCOVER)
        else:
            self._initialize(now)

    def _initialize(self, now: float) -> None:
        self._lifecycle.check(Input.SEND_INITIALIZE)
        revision = self.config.handshake_revisions[-1]
        params = InitializeRequestParams(
            protocol_version=revision,
            capabilities=self.config.capabilities,
            client_info=self.config.client_info,
        )
        obj = for_revision(params, revision)
        obj["capabilities"] = for_revision(self.config.capabilities, revision)
        obj["clientInfo"] = for_revision(self.config.client_info, revision)
        self._request(self._next_id, "initialize", obj, revision, now=now, timeout=UNSET,
                      lifecycle=True)  # fmt: skip
        self._requested = revision
        self._lifecycle.process(Input.SEND_INITIALIZE)

    # Hooks ---------------------------------------------------------------------------------

    def _admit(self, request: Request, now: float) -> tuple[str, Capabilities | None]:
        if self.state is State.STATELESS:
            raise Refusal(METHOD_NOT_FOUND, "a server sends no requests in the stateless era")
        return self._receiving_revision(), self.peer_capabilities

    def _own_capabilities(self) -> Capabilities:
        return self.config.capabilities

    def _sending_revision(self, method: str) -> str:
        revision = self.revision or self._requested
        if revision is None:
            raise LocalProtocolError(f"the session is {self.state.value}: start it first")
        return revision

    def _receiving_revision(self) -> str:
        return self.revision or self._requested or self.config.revisions[-1]

    def _stateless_meta(self, params: dict[str, Any], revision: str) -> dict[str, Any]:
        cached = self._meta_cache.get(revision)
        if cached is None:
            capabilities = for_revision(self.config.capabilities, revision)
            info = for_revision(self.config.client_info, revision)
            cached = self._meta_cache[revision] = (capabilities, info)
        meta = dict(params.get("_meta") or {})
        meta[META_PROTOCOL_VERSION] = revision
        meta[META_CLIENT_CAPABILITIES] = cached[0]
        meta[META_CLIENT_INFO] = cached[1]
        if self.log_level is not None:
            meta[META_LOG_LEVEL] = self.log_level
        return {**params, "_meta": meta}

    def _lifecycle_answered(
        self,
        request_id: RequestId,
        entry: _Outgoing,
        response: Response | ErrorResponse,
        now: float,
    ) -> None:
        if entry.method == "server/discover":
            self._discovered(entry.revision, response, now)
        else:
            self._initialized(entry.revision, response)

    def _lifecycle_timed_out(self, request_id: RequestId, entry: _Outgoing, now: float) -> None:
        if entry.method == "server/discover" and self.config.handshake_revisions:
            self._initialize(now)
        else:
            self._fail(_failure(f"{entry.method} got no answer in time"))

    # Opening -------------------------------------------------------------------------------

    def _discovered(self, revision: str, response: Response | ErrorResponse, now: float) -> None:
        problem, result = _read(response, "server/discover", revision)
        common = None
        if isinstance(result, DiscoverResult):
            supported = self.config.stateless_revisions
            common = newest_common(supported, result.supported_versions)
            if common is None:
                problem = f"the server supports none of {list(supported)}"
        if common is None or not isinstance(result, DiscoverResult):
            if self.config.handshake_revisions:
                self._initialize(now)
            else:
                self._fail(_failure(f"server/discover failed: {problem}"))
            return
        self.revision = common
        self.peer_capabilities = result.capabilities
        self.peer_info = _server_info((result.meta or {}).get(META_SERVER_INFO))
        self.instructions = result.instructions
        self._lifecycle.process(Input.DISCOVERED)
        self._events.append(
            SessionInitialized(common, self.peer_info, result.capabilities, result.instructions)
        )

    def _initialized(self, revision: str, response: Response | ErrorResponse) -> None:
        problem, result = _read(response, "initialize", revision)
        if isinstance(result, InitializeResult):
            chosen = result.protocol_version
            if chosen not in self.config.handshake_revisions:
                problem = (
                    f"the server chose MCP revision {chosen!r}, which this client does not speak"
                )
        if problem is not None or not isinstance(result, InitializeResult):
            self._fail(_failure(f"initialize failed: {problem}"))
            return
        self.revision = result.protocol_version
        self.peer_info = result.server_info
        self.peer_capabilities = result.capabilities
        self.instructions = result.instructions
        self._outbox.append(jsonrpc.encode(Notification("notifications/initialized")))
        self._lifecycle.process(Input.SEND_INITIALIZED)
        self._events.append(
            SessionInitialized(
                self.revision, result.server_info, result.capabilities, result.instructions
            )
        )


def _read(response: Response | ErrorResponse, method: str, revision: str) -> tuple[str | None, Any]:
    """The problem with a lifecycle answer, or its typed result."""
    if isinstance(response, ErrorResponse):
        error = response.error
        return f"the server answered {error.code}: {error.message}", None
    try:
        return None, decode_result(method, revision, response.result)
    except InvalidParams as exc:
        return f"invalid result: {exc}", None


def _server_info(value: Any) -> Implementation | None:
    try:
        return Implementation.from_json(value)
    except InvalidParams:
        return None


def _failure(message: str) -> RemoteProtocolError:
    return RemoteProtocolError(message, close_code=_PROTOCOL_ERROR)
