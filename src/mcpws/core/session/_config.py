"""The configuration of a client session and of a server session, validated on construction."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from mcpws._version import __version__
from mcpws.core._checks import non_negative_int, positive_int, positive_or_none
from mcpws.core.mcp import ClientCapabilities, Implementation, ServerCapabilities, is_extension
from mcpws.core.versions import HANDSHAKE_REVISIONS, REVISIONS, STATELESS_REVISIONS

__all__ = [
    "DEFAULT_REQUEST_TIMEOUT",
    "SHUTTING_DOWN",
    "TOO_MANY_REQUESTS",
    "ClientSessionConfig",
    "ServerSessionConfig",
]

#: Seconds a request waits for its answer unless told otherwise.
DEFAULT_REQUEST_TIMEOUT: Final = 60.0

#: The JSON-RPC error code (in the implementation-defined -32000 range) a session answers a
#: request with when the peer already has ``max_pending_requests`` requests in flight.
TOO_MANY_REQUESTS: Final = -32005
#: The JSON-RPC error code (in the same range) a draining session answers new requests with.
SHUTTING_DOWN: Final = -32006


def _revisions(_: object, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    unknown = [revision for revision in value if revision not in REVISIONS]
    if unknown:
        raise ValueError(f"{attribute.name}: unknown MCP revisions {unknown}")
    if not value:
        raise ValueError(f"{attribute.name} must name at least one revision")


def _extensions(instance: object, attribute: attrs.Attribute[Any], value: frozenset[Any]) -> None:
    for method in value:
        if not isinstance(method, str) or not method or not is_extension(method):
            raise ValueError(f"{method!r} is a method of MCP, or no method: not an extension")


def _method_set(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _revision_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _instance(kind: type) -> Any:
    return attrs.validators.instance_of(kind)


@attrs.frozen(kw_only=True)
class _Common:
    """What both roles configure.

    * ``revisions``: the revisions this side speaks; those of the handshake era and of the
      stateless era switch each era on or off.
    * ``request_timeout``: seconds a request waits for its answer (``None``: forever); each
      call may override it.
    * ``reset_timeout_on_progress``: whether progress on a request restarts its timeout.
    * ``max_request_time``: seconds after which a request times out whatever its progress
      (``None``: no limit beyond ``request_timeout``).
    * ``max_pending_requests``: requests in flight per direction. A local request over it
      raises; a peer's is answered with :data:`TOO_MANY_REQUESTS`.
    * ``extension_methods``: methods MCP does not define (a vendor's, such as
      ``x-acme/sync``) whose requests and notifications this side takes from the peer:
      their params reach the application as they are (in ``extra``, ``_meta`` in ``meta``),
      and its answers go as they are. A peer's other unknown methods still get -32601.
    """

    revisions: tuple[str, ...] = attrs.field(
        default=REVISIONS, converter=_revision_tuple, validator=_revisions
    )
    request_timeout: float | None = attrs.field(
        default=DEFAULT_REQUEST_TIMEOUT, validator=positive_or_none
    )
    reset_timeout_on_progress: bool = False
    max_request_time: float | None = attrs.field(default=None, validator=positive_or_none)
    max_pending_requests: int = attrs.field(default=1000, validator=positive_int)
    extension_methods: frozenset[str] = attrs.field(
        default=frozenset(), converter=_method_set, validator=_extensions
    )

    @functools.cached_property
    def handshake_revisions(self) -> tuple[str, ...]:
        """The configured revisions of the handshake era, oldest first."""
        return tuple(r for r in HANDSHAKE_REVISIONS if r in self.revisions)

    @functools.cached_property
    def stateless_revisions(self) -> tuple[str, ...]:
        """The configured revisions of the stateless era, oldest first."""
        return tuple(r for r in STATELESS_REVISIONS if r in self.revisions)


_MCPWS: Final = Implementation(name="mcpws", version=__version__)


@attrs.frozen(kw_only=True)
class ClientSessionConfig(_Common):
    """A client session's configuration.

    * ``client_info`` and ``capabilities``: what the client tells the server about itself.
    * ``probe_timeout``: with both eras on, seconds to wait for the ``server/discover`` probe
      before falling back to ``initialize``.
    """

    client_info: Implementation = attrs.field(default=_MCPWS, validator=_instance(Implementation))
    capabilities: ClientCapabilities = attrs.field(
        factory=ClientCapabilities, validator=_instance(ClientCapabilities)
    )
    probe_timeout: float | None = attrs.field(default=10.0, validator=positive_or_none)


@attrs.frozen(kw_only=True)
class ServerSessionConfig(_Common):
    """A server session's configuration.

    * ``server_info``, ``capabilities`` and ``instructions``: what the server tells clients,
      in the ``initialize`` result and in the ``server/discover`` result.
    * ``required_client_capabilities``: per method, the client capabilities a request needs:
      declared in ``initialize`` (handshake era) or in the request's ``_meta`` (stateless
      era). A request whose client lacks them is answered with -32021.
    * ``discover_ttl_ms`` and ``discover_cache_scope``: how long and how widely a client may
      cache the ``server/discover`` result.
    """

    server_info: Implementation = attrs.field(default=_MCPWS, validator=_instance(Implementation))
    capabilities: ServerCapabilities = attrs.field(
        factory=ServerCapabilities, validator=_instance(ServerCapabilities)
    )
    instructions: str | None = None
    required_client_capabilities: Mapping[str, ClientCapabilities] = attrs.field(factory=dict)
    discover_ttl_ms: int = attrs.field(default=0, validator=non_negative_int)
    discover_cache_scope: str = attrs.field(
        default="public", validator=attrs.validators.in_(("public", "private"))
    )
