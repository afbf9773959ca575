"""The errors of the high-level API: :class:`McpError` (a JSON-RPC error reply, either
way), :class:`ConnectionLost` and :class:`UnexpectedResult`, and :func:`expect`, which
checks the kind of a peer's result."""

from __future__ import annotations

from typing import Any, TypeVar

from mcpws.core.errors import McpwsError, RemoteProtocolError
from mcpws.core.mcp import Model

__all__ = ["ConnectionLost", "McpError", "UnexpectedResult"]

M = TypeVar("M", bound=Model)


class McpError(McpwsError):
    """The peer answered a request with a JSON-RPC error; or, raised by a handler, the error
    to answer with."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def __repr__(self) -> str:
        return f"McpError({self.code}, {self.message!r})"


class ConnectionLost(McpwsError):
    """The connection ended while a request waited for its answer."""


class UnexpectedResult(RemoteProtocolError):
    """The peer answered a request with a result of another kind than the operation
    gives, or a server still asked for input after the client's last round; ``result`` is
    what it sent."""

    def __init__(self, message: str, result: Model) -> None:
        super().__init__(message)
        self.result = result


def expect(result: Model, kind: type[M], method: str) -> M:
    """*result*, the answer to *method*, when it is a *kind*; raises
    :class:`UnexpectedResult` otherwise."""
    if not isinstance(result, kind):
        got = type(result).__name__
        raise UnexpectedResult(f"{method} was answered with {got}, not {kind.__name__}", result)
    return result
