"""Where mcpws reaches into the official SDK and into fastmcp past their public API, in one
place: neither library has a public way to run its high-level server over a transport of
someone else's, so the low-level server inside is found by a private attribute."""

from __future__ import annotations

from typing import Any

from mcp.server.lowlevel import Server

__all__ = ["TESTED", "lowlevel_server"]

#: The versions whose private attributes :func:`lowlevel_server` was tested against.
TESTED = {"mcp": "2.3.0", "fastmcp": "4.1.6"}

#: The private attribute holding the low-level server, by the library of the class.
_ATTRIBUTES = {"mcp": "_lowlevel_server", "fastmcp": "_mcp_server"}


def lowlevel_server(server: object) -> Server[Any]:
    """The SDK low-level :class:`~mcp.server.lowlevel.Server` that answers for *server*:
    itself, or the one inside an ``MCPServer`` (private ``_lowlevel_server``; the SDK's own
    in-memory client reaches it the same way, and its code notes that this should become
    public) or a ``fastmcp.FastMCP`` (private ``_mcp_server``, as fastmcp's in-memory
    transport reaches it). Raises ``TypeError`` when an upgrade of either library has moved
    it: the test of this function fails loudly then."""
    if isinstance(server, Server):
        return server
    for kind in type(server).__mro__:
        library = kind.__module__.partition(".")[0]
        attribute = _ATTRIBUTES.get(library)
        if attribute is None:
            continue
        inner = getattr(server, attribute, None)
        if isinstance(inner, Server):
            return inner
        raise TypeError(
            f"{type(server).__name__} has no low-level server at {attribute!r}: mcpws.sdk was"
            f" tested with {library} {TESTED[library]}, and this version keeps it elsewhere"
        )
    raise TypeError(f"not a server of mcp or fastmcp: {type(server).__name__}")
