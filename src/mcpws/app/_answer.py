"""How a driver answers a peer's request with the application's handler, whatever the loop:
:func:`answer`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from mcpws.app._context import Link, McpError
from mcpws.core.errors import LocalProtocolError
from mcpws.core.jsonrpc import INTERNAL_ERROR
from mcpws.core.mcp import Model
from mcpws.core.session import ClientSession, RequestReceived, ServerSession

__all__ = ["Handler", "answer"]

_log = logging.getLogger("mcpws")

#: What answers a peer's request: a coroutine that returns the result or raises McpError.
Handler = Callable[[RequestReceived, Link], Awaitable[Model]]


async def answer(
    session: ClientSession | ServerSession, request: RequestReceived, handler: Handler, link: Link
) -> None:
    """Run *handler* for *request* and queue its answer on *session*.

    An :class:`McpError` becomes that JSON-RPC error; any other exception, or a result that
    does not fit the method, an internal error (-32603), logged on the ``mcpws`` logger and
    never sent. Cancellation passes through: the driver decides what a cancelled handler
    answers.
    """
    request_id = request.request_id
    try:
        result = await handler(request, link)
    except McpError as exc:
        session.respond_error(request_id, exc.code, exc.message, exc.data)
    except Exception:
        _log.exception("the handler of %s failed", request.method)
        session.respond_error(request_id, INTERNAL_ERROR, "internal error")
    else:
        try:
            session.respond(request_id, result)
        except LocalProtocolError as exc:
            _log.error("the answer to %s is invalid: %s", request.method, exc)
            session.respond_error(request_id, INTERNAL_ERROR, "invalid result")
