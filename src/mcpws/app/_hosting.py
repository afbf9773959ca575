"""Serving another library's MCP server: the :class:`Host` a ``serve()`` takes in place of an
:class:`~mcpws.app.Server`, and :func:`hosted`, which finds the host for an object of a
library mcpws has an adapter for (:mod:`mcpws.sdk`, for the official SDK's servers and
fastmcp's), importing that adapter only then: the drivers never import those libraries."""

from __future__ import annotations

import abc
import importlib
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcpws.app._kernel import Carrier, Kernel
    from mcpws.app._server import Server

__all__ = ["Host", "hosted"]

#: The adapter module for the objects of each library, by the top-level module that
#: defines their class (or one of its bases).
_ADAPTERS = {"fastmcp": "mcpws.sdk", "mcp": "mcpws.sdk"}


class Host(abc.ABC):
    """Another library's MCP server, served by mcpws: its connections have no session of
    mcpws's own; a :class:`~mcpws.lowlevel.Carrier` of the host's carries each one's messages
    to the library's own loop for it. mcpws keeps the WebSocket, its limits and the upgrade
    policy, and the library answers."""

    #: The server's name, for logs and the command line.
    name: str

    @abc.abstractmethod
    def carrier(self, pump: Kernel, *, max_concurrent: int) -> Carrier:
        """The carrier of a new connection, driven by *pump*, which hands the library at
        most *max_concurrent* requests at a time."""

    @abc.abstractmethod
    def lifespan(self) -> AbstractAsyncContextManager[object]:
        """The library's lifespan, entered once around the whole of a ``serve()``."""


def hosted(app: object) -> Server | Host:
    """*app* itself when it is an :class:`~mcpws.app.Server` or a :class:`Host`, else the
    host an adapter makes of it; ``TypeError`` when no adapter knows its class."""
    from mcpws.app._server import Server

    if isinstance(app, Server | Host):
        return app
    for kind in type(app).__mro__:
        adapter = _ADAPTERS.get(kind.__module__.partition(".")[0])
        if adapter is not None:
            module = importlib.import_module(adapter)
            host: Host = module.host(app)
            return host
    raise TypeError(
        f"cannot serve a {type(app).__name__}: serve() takes an mcpws.Server, an mcp Server or"
        " MCPServer (mcpws[sdk]) or a fastmcp.FastMCP (mcpws[fastmcp])"
    )
