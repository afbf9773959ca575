"""A message between mcpws and the SDK: mcpws's :mod:`~mcpws.core.jsonrpc` message made an
SDK :class:`~mcp.shared.message.SessionMessage` (a request carrying the
:class:`WebSocketRequest` of its connection, as the SDK's HTTP transports carry theirs), and
an SDK message made JSON text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from mcp_types import JSONRPCError, JSONRPCResponse, jsonrpc_message_adapter

from mcpws.core import jsonrpc
from mcpws.core.websocket import HandshakeRequest

__all__ = ["WebSocketRequest", "answered_id", "text_of", "to_sdk"]


@attrs.frozen
class WebSocketRequest:
    """The WebSocket upgrade a connection was opened with, as an SDK server's handlers see
    it (``ctx.request_context.request``, where the SDK's HTTP transports put their HTTP
    request): its *path*, its *headers* (names in lower case, the first value of each),
    the *subprotocol* selected and the *principal* that ``serve()``'s ``authenticate`` hook
    returned. fastmcp's ``get_http_headers()`` reads the headers; *scope* is an ASGI-like
    scope of type ``websocket``."""

    path: str
    headers: Mapping[str, str]
    subprotocol: str | None
    principal: object
    scope: Mapping[str, Any]

    @classmethod
    def of(
        cls, request: HandshakeRequest, subprotocol: str | None, principal: object
    ) -> WebSocketRequest:
        """The one of *request*, accepted with *subprotocol* for *principal*."""
        headers: dict[str, str] = {}
        for name, value in request.headers:
            headers.setdefault(name, value)
        scope = {"type": "websocket", "path": request.path, "subprotocols": request.subprotocols}
        return cls(request.path, headers, subprotocol, principal, scope)


def to_sdk(message: jsonrpc.Message, request: WebSocketRequest | None = None) -> SessionMessage:
    """The SDK's message for one that mcpws decoded and checked (a request carrying
    *request*); raises pydantic's ``ValidationError`` for one that the SDK's types refuse."""
    parsed = jsonrpc_message_adapter.validate_python(jsonrpc.to_object(message), by_name=False)
    if request is None:
        return SessionMessage(parsed)
    return SessionMessage(parsed, ServerMessageMetadata(request_context=request))


def text_of(message: SessionMessage) -> str:
    """The JSON text of an SDK message, as the SDK's own transports write it."""
    return message.message.model_dump_json(by_alias=True, exclude_unset=True)


def answered_id(message: SessionMessage) -> jsonrpc.RequestId | None:
    """The id of the request an SDK message answers, if it is an answer."""
    inner = message.message
    if isinstance(inner, JSONRPCResponse | JSONRPCError):
        return inner.id
    return None
