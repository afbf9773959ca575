"""What a server accepts before the application is even offered an upgrade:
:class:`ServerPolicy`, the matching of ``Origin`` and ``Host`` headers against its patterns,
and its choice of a subprotocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

__all__ = ["DEFAULT_ORIGINS", "LOOPBACK_HOSTS", "ServerPolicy", "host_allowed", "origin_allowed"]

#: Host patterns of the loopback names, any port: what a server bound to loopback accepts.
LOOPBACK_HOSTS: Final = ("localhost:*", "127.0.0.1:*", "[::1]:*")
#: Origin patterns allowed by default: pages served from a loopback name, any scheme or port.
DEFAULT_ORIGINS: Final = ("*://localhost:*", "*://127.0.0.1:*", "*://[::1]:*")


@attrs.frozen(kw_only=True)
class ServerPolicy:
    """What a server accepts before an upgrade is even offered to the application.

    * ``path``: the one request path that may upgrade (``None``: any); others get 404.
    * ``health_path``: a path answered ``200 ok`` to a plain GET or HEAD, while the server
      runs, for load balancers and liveness probes (``None``: off).
    * ``ready_path``: likewise, but answered ``503`` while the server is not ready for new
      connections, as while it shuts down (``None``: off).
    * ``probes_any_host``: whether those two answer any ``Host``; by default they answer
      only the allowed ones (403 otherwise), as an upgrade does.
    * ``allowed_origins``: patterns for the ``Origin`` header, ``scheme://host:port``, where the
      scheme or the port may be ``*`` and a host may start with ``*.`` for any subdomain; ``*``
      alone allows every origin. A request with no ``Origin`` (not from a browser) is always
      allowed; any other origin gets 403. The default allows the loopback names only.
    * ``allowed_hosts``: patterns for the ``Host`` header, ``host`` or ``host:port`` (port
      ``*`` for any); ``None`` allows every host. A server bound to a loopback address should
      use :data:`LOOPBACK_HOSTS`, which defeats DNS rebinding.
    * ``subprotocols``: the subprotocols the server speaks, preferred first. A client that
      offers some of them gets the first; one that offers only others gets 400; one that
      offers none is accepted without one unless ``require_subprotocol``.
    """

    path: str | None = "/mcp"
    health_path: str | None = "/healthz"
    ready_path: str | None = "/readyz"
    probes_any_host: bool = False
    allowed_origins: tuple[str, ...] = DEFAULT_ORIGINS
    allowed_hosts: tuple[str, ...] | None = None
    subprotocols: tuple[str, ...] = ()
    require_subprotocol: bool = False

    def refusal(
        self, host: str, origin: str | None, offered: Sequence[str]
    ) -> tuple[int, str] | None:
        """Why an upgrade request to the policy's path may not open, as the status and the
        reason to answer with: its ``Host`` header *host* or its ``Origin`` *origin*
        (``None``: none, not a browser) not allowed (403), or subprotocols *offered* none
        of which the policy speaks (400); ``None`` when it may open."""
        if self.allowed_hosts is not None and not host_allowed(host, self.allowed_hosts):
            return 403, f"the host {host!r} is not allowed"
        if origin is not None and not origin_allowed(origin, self.allowed_origins):
            return 403, f"the origin {origin!r} is not allowed"
        _, refused = _select(self, offered)
        return None if refused is None else (400, refused)

    def probe(self, path: str, host: str, *, ready: bool) -> tuple[int, str] | None:
        """The answer to a GET or HEAD of *path* with the ``Host`` *host*, when *path* is the
        health or the readiness path (``None`` otherwise): 200, or 503 for readiness when
        not *ready*, or 403 for a host not allowed."""
        if path not in (self.health_path, self.ready_path):
            return None
        allowed = self.allowed_hosts
        if not self.probes_any_host and allowed is not None and not host_allowed(host, allowed):
            return 403, f"the host {host!r} is not allowed"
        if path == self.ready_path and not ready:
            return 503, "not ready: the server is shutting down"
        return 200, "ok"


def _split_host_port(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        host, _, rest = authority.partition("]")
        host += "]"
        return host.lower(), rest[1:] if rest.startswith(":") else None
    host, colon, port = authority.rpartition(":")
    if not colon or (not port.isdigit() and port != "*"):
        return authority.lower(), None
    return host.lower(), port


def _host_matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return pattern == host


_DEFAULT_PORTS: Final = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def origin_allowed(origin: str, patterns: Sequence[str]) -> bool:
    """Tell whether an ``Origin`` header value matches one of the *patterns*."""
    scheme, sep, authority = origin.strip().partition("://")
    if not sep or "/" in authority:
        return "*" in patterns or origin in patterns
    scheme = scheme.lower()
    host, port = _split_host_port(authority)
    port = port or _DEFAULT_PORTS.get(scheme)
    for pattern in patterns:
        if pattern == "*":
            return True
        p_scheme, p_sep, p_authority = pattern.partition("://")
        if not p_sep:
            continue
        p_host, p_port = _split_host_port(p_authority)
        p_port = p_port or _DEFAULT_PORTS.get(p_scheme.lower())
        if (
            p_scheme in ("*", scheme)
            and _host_matches(p_host, host)
            and (p_port == "*" or p_port == port)
        ):
            return True
    return False


def host_allowed(host: str, patterns: Sequence[str]) -> bool:
    """Tell whether a ``Host`` header value matches one of the *patterns*."""
    name, port = _split_host_port(host.strip())
    for pattern in patterns:
        if pattern == "*":
            return True
        p_name, p_port = _split_host_port(pattern)
        if _host_matches(p_name, name) and (
            p_port in ("*", port) or (p_port is None and port is None)
        ):
            return True
    return False


def _select(policy: ServerPolicy, offered: Sequence[str]) -> tuple[str | None, str | None]:
    """The subprotocol the policy selects, and why the request fails when it fails."""
    chosen = next((name for name in policy.subprotocols if name in offered), None)
    if chosen is not None or not policy.subprotocols:
        return chosen, None
    if offered or policy.require_subprotocol:
        spoken = ", ".join(repr(name) for name in policy.subprotocols)
        return None, f"this endpoint speaks the WebSocket subprotocols {spoken} only"
    return None, None
