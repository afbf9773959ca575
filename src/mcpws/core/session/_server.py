"""The server role of a session: answering ``initialize`` and ``server/discover``, and
admitting each request into the handshake era or the stateless era."""

from __future__ import annotations

from typing import Any, Final

from mcpws.core import jsonrpc
from mcpws.core.errors import InvalidParams, LocalProtocolError
from mcpws.core.jsonrpc import INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, Request, Response
from mcpws.core.mcp import (
    META_CLIENT_CAPABILITIES,
    META_PROTOCOL_VERSION,
    META_SERVER_INFO,
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    UNSUPPORTED_PROTOCOL_VERSION,
    ClientCapabilities,
    DiscoverResult,
    InitializeRequestParams,
    InitializeResult,
    MissingRequiredClientCapabilityData,
    UnsupportedProtocolVersionData,
    decode_params,
    method_spec,
)
from mcpws.core.session._base import UNSET, Params, Refusal, Session, TimeoutArg, for_revision
from mcpws.core.session._config import ServerSessionConfig
from mcpws.core.session._events import Capabilities, SessionInitialized
from mcpws.core.session._state import Input, State
from mcpws.core.versions import negotiate

__all__ = ["ServerSession"]


class ServerSession(Session):
    """The server side of an MCP session.

    With handshake-era revisions configured, ``initialize`` opens a session with one
    revision; with the stateless era configured, a request whose ``_meta`` names a
    stateless revision and the client's capabilities is served on its own, and
    ``server/discover`` is answered from the configuration. Either can be switched off
    through ``config.revisions``.
    """

    is_client = False

    def __init__(self, config: ServerSessionConfig | None = None) -> None:
        config = ServerSessionConfig() if config is None else config
        super().__init__(config)
        self.config = config
        self._supported = sorted(config.revisions, reverse=True)
        self._info: dict[str, dict[str, Any]] = {}

    def send_request(
        self,
        method: str,
        params: Params = None,
        *,
        now: float,
        timeout: TimeoutArg = UNSET,
        progress: bool = False,
        extension: bool = False,
    ) -> jsonrpc.RequestId:
        """Send a request to the client (handshake era only: in the stateless era a server
        asks for input by answering with an :class:`~mcpws.core.mcp.InputRequiredResult`)."""
        if self.state is State.STATELESS:
            raise LocalProtocolError(
                "a server sends no requests in the stateless era: "
                "answer with an InputRequiredResult instead"
            )
        return super().send_request(
            method, params, now=now, timeout=timeout, progress=progress, extension=extension
        )

    # Hooks ---------------------------------------------------------------------------------

    def _admit(self, request: Request, now: float) -> tuple[str, Capabilities | None] | str:
        method, state = request.method, self.state
        handshake = self.config.handshake_revisions
        if method == "initialize" and handshake:
            if state not in (State.IDLE, State.STATELESS):
                raise Refusal(
                    INVALID_REQUEST, f"initialize is not allowed: the session is {state.value}"
                )
            return self._initialize(request)
        if state in (State.INITIALIZING, State.READY):
            assert self.revision is not None
            return self.revision, self.peer_capabilities
        meta = request.params.get("_meta") if request.params else None
        version = meta.get(META_PROTOCOL_VERSION) if isinstance(meta, dict) else None
        if version is None and state is State.IDLE and handshake:
            if method == "ping":
                return handshake[-1], None
            if not self.config.stateless_revisions:
                raise Refusal(INVALID_REQUEST, f"{method} before initialize: send initialize first")
        stateless = self.config.stateless_revisions
        if (
            stateless
            and method_spec(method, stateless[-1]) is None
            and method != "initialize"
            and method not in self.config.extension_methods
        ):
            raise Refusal(METHOD_NOT_FOUND, f"method not found: {method} (MCP {stateless[-1]})")
        if version is None and method != "initialize":
            # A required member missing, as clientCapabilities can be. (A legacy client's
            # initialize gets -32022 below, which names the revisions spoken.)
            where = f"params._meta.{META_PROTOCOL_VERSION}"
            supported = {"supported": list(self._supported)}
            raise Refusal(INVALID_PARAMS, f"invalid params: {where}: required", supported)
        if version not in stateless:
            data = UnsupportedProtocolVersionData(
                requested=version if isinstance(version, str) else "", supported=self._supported
            )
            if version is None:
                message = "initialize is not a method of MCP 2026-07-28: send params._meta"
            elif version in handshake:
                message = f"revision {version} opens a session with initialize, not with _meta"
            else:
                message = f"unsupported protocol revision: {version!r}"
            raise Refusal(UNSUPPORTED_PROTOCOL_VERSION, message, data.to_json())
        assert isinstance(meta, dict)
        assert isinstance(version, str)
        capabilities = _client_capabilities(meta.get(META_CLIENT_CAPABILITIES))
        self._lifecycle.process(Input.RECEIVE_STATELESS)
        self.revision = version
        if method == "server/discover":
            return self._discover(request, version)
        return version, capabilities

    def _own_capabilities(self) -> Capabilities:
        return self.config.capabilities

    def _sending_revision(self, method: str) -> str:
        if self.revision is None:
            raise LocalProtocolError("no client has opened the session yet")
        return self.revision

    def _receiving_revision(self) -> str:
        return self.revision or self.config.revisions[-1]

    def _check_required(
        self, method: str, revision: str, capabilities: Capabilities | None
    ) -> None:
        required = self.config.required_client_capabilities.get(method)
        if required is None or not isinstance(capabilities, ClientCapabilities):
            return
        missing = _missing(required, capabilities)
        if missing:
            data = MissingRequiredClientCapabilityData(required_capabilities=required)
            raise Refusal(
                MISSING_REQUIRED_CLIENT_CAPABILITY,
                f"{method} needs the client capabilities {', '.join(missing)}",
                data.to_json(),
            )

    def _decorate_result(self, obj: dict[str, Any], revision: str) -> dict[str, Any]:
        if revision in self.config.stateless_revisions:
            meta = obj.get("_meta")
            if meta is None or META_SERVER_INFO not in meta:
                obj["_meta"] = {**(meta or {}), META_SERVER_INFO: self._server_info(revision)}
        return obj

    def _on_initialized(self) -> None:
        self._lifecycle.process(Input.RECEIVE_INITIALIZED)
        assert self.revision is not None
        assert self.peer_capabilities is not None
        self._events.append(
            SessionInitialized(self.revision, self.peer_info, self.peer_capabilities)
        )

    # Lifecycle answers ---------------------------------------------------------------------

    def _initialize(self, request: Request) -> str:
        handshake = self.config.handshake_revisions
        try:
            params = decode_params("initialize", handshake[-1], request.params)
        except InvalidParams as exc:
            raise Refusal(INVALID_PARAMS, f"invalid params: {exc}") from None
        assert isinstance(params, InitializeRequestParams)
        revision = negotiate(params.protocol_version, handshake)
        result = InitializeResult(
            protocol_version=revision,
            capabilities=self.config.capabilities,
            server_info=self.config.server_info,
            instructions=self.config.instructions,
        )
        obj = for_revision(result, revision)
        obj["capabilities"] = for_revision(self.config.capabilities, revision)
        obj["serverInfo"] = self._server_info(revision)
        self.revision = revision
        self.peer_info = params.client_info
        self.peer_capabilities = params.capabilities
        self._lifecycle.process(Input.RECEIVE_INITIALIZE)
        return jsonrpc.encode(Response(request.id, obj))

    def _discover(self, request: Request, revision: str) -> str:
        result = DiscoverResult(
            supported_versions=self._supported,
            capabilities=self.config.capabilities,
            instructions=self.config.instructions,
            ttl_ms=self.config.discover_ttl_ms,
            cache_scope=self.config.discover_cache_scope,  # type: ignore[arg-type]
        )
        obj = for_revision(result, revision)
        obj["capabilities"] = for_revision(self.config.capabilities, revision)
        return jsonrpc.encode(Response(request.id, self._decorate_result(obj, revision)))

    def _server_info(self, revision: str) -> dict[str, Any]:
        info = self._info.get(revision)
        if info is None:
            info = self._info[revision] = for_revision(self.config.server_info, revision)
        return info


#: The capabilities of a client that declares none, the usual case, decoded once.
_NO_CAPABILITIES: Final = ClientCapabilities()


def _client_capabilities(value: Any) -> ClientCapabilities:
    if type(value) is dict and not value:
        return _NO_CAPABILITIES
    where = f"params._meta.{META_CLIENT_CAPABILITIES}"
    if value is None:
        raise Refusal(INVALID_PARAMS, f"invalid params: {where}: required")
    try:
        return ClientCapabilities.from_json(value)
    except InvalidParams as exc:
        raise Refusal(INVALID_PARAMS, f"invalid params: {where}: {exc}") from None


def _missing(required: ClientCapabilities, declared: ClientCapabilities) -> list[str]:
    """The capabilities in *required* that *declared* lacks."""
    missing = []
    for name, value in required.to_json().items():
        have = declared.to_json().get(name)
        if have is None:
            missing.append(name)
        elif name in ("experimental", "extensions"):
            missing.extend(f"{name}.{key}" for key in value if key not in have)
    return missing
