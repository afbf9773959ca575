"""Who a client behind a reverse proxy is: :class:`Proxies`, the proxies a server trusts, and
the client's address and scheme that a trusted one reports in ``Forwarded`` (RFC 7239) or
``X-Forwarded-For`` and ``X-Forwarded-Proto``. The headers of a peer that is not trusted are
ignored, and so are the hops a trusted chain names before the last one it does not trust:
a client cannot pass itself off as another by sending the headers itself."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import attrs

__all__ = ["Forwarded", "Proxies"]

#: The proxies trusted when none are named: those on this machine.
LOCAL_PROXIES = ("127.0.0.1", "::1")

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@attrs.frozen
class Forwarded:
    """What a trusted proxy says of its client: its address and the scheme it used
    (``None``: not said)."""

    client: str
    scheme: str | None


class Proxies:
    """The proxies whose forwarding headers are believed: addresses and networks
    (``10.0.0.0/8``), or ``*`` for any peer. ``ValueError`` for anything else."""

    __slots__ = ("_any", "_networks")

    def __init__(self, trusted: Sequence[str] = LOCAL_PROXIES) -> None:
        self._any = "*" in trusted
        try:
            self._networks: tuple[_Network, ...] = tuple(
                ipaddress.ip_network(one.strip(), strict=False) for one in trusted if one != "*"
            )
        except ValueError as exc:
            raise ValueError(f"a trusted proxy is an address or a network: {exc}") from None

    def trusts(self, address: str | None) -> bool:
        """Whether *address* (an IP address; anything else is not trusted) is a proxy's;
        ``None`` stands for a peer on this machine over a unix socket, trusted when a
        loopback address is."""
        if self._any:
            return True
        if address is None:
            return any(network.is_loopback for network in self._networks)
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)

    def forwarded(self, peer: str | None, headers: Sequence[tuple[str, str]]) -> Forwarded | None:
        """The client that *peer* (the address the connection came from; ``None``: a unix
        socket's peer) forwards, from the
        request's *headers* (lower-case names); ``None`` when *peer* is not trusted or says
        nothing. ``Forwarded`` is read when present, else the ``X-Forwarded-*`` headers."""
        if not self.trusts(peer):
            return None
        hops: list[str] = []
        schemes: list[str | None] = []
        forwarded = [value for name, value in headers if name == "forwarded"]
        if forwarded:
            for element in _elements(",".join(forwarded)):
                hops.append(_node(element.get("for", "")))
                schemes.append(element.get("proto"))
        else:
            chain = ",".join(value for name, value in headers if name == "x-forwarded-for")
            hops = [hop.strip() for hop in chain.split(",") if hop.strip()]
            proto = next((value for name, value in headers if name == "x-forwarded-proto"), None)
            told = None if proto is None else proto.split(",")[-1].strip().lower()
            schemes = [told] * len(hops)
        if not hops:
            return None
        # From the nearest hop back: the first one not trusted is the client.
        for index in range(len(hops) - 1, -1, -1):
            if not self.trusts(hops[index]) or index == 0:
                # The scheme the client used: said at its hop, or at one before it.
                said = [scheme for scheme in schemes[: index + 1] if scheme]
                return Forwarded(hops[index], said[-1] if said else None)
        raise AssertionError("unreachable")  # pragma: no cover


def _elements(value: str) -> list[dict[str, str]]:
    """The forwarded-elements of a ``Forwarded`` value, each as its pairs (names in
    lower case, quotes taken off)."""
    elements: list[dict[str, str]] = []
    for element in _split(value, ","):
        pairs: dict[str, str] = {}
        for pair in _split(element, ";"):
            name, _, raw = pair.partition("=")
            raw = raw.strip()
            if len(raw) >= 2 and raw[0] == raw[-1] == '"':
                raw = raw[1:-1].replace('\\"', '"')
            pairs[name.strip().lower()] = raw
        elements.append(pairs)
    return elements


def _split(value: str, separator: str) -> list[str]:
    """*value* split at *separator* outside quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def _node(node: str) -> str:
    """The address of a ``for=`` node: ``[v6]:port`` and ``v4:port`` without the port;
    an obfuscated or unknown node as it is."""
    if node.startswith("["):
        return node[1 : node.find("]")] if "]" in node else node
    if node.count(":") == 1:
        return node.split(":")[0]
    return node
