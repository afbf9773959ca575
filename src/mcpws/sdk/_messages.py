"""A message between mcpws and the SDK: mcpws's :mod:`~mcpws.core.jsonrpc` message made an
SDK :class:`~mcp.shared.message.SessionMessage`, and an SDK message made JSON text."""

from __future__ import annotations

from mcp.shared.message import SessionMessage
from mcp_types import JSONRPCError, JSONRPCResponse, jsonrpc_message_adapter

from mcpws.core import jsonrpc

__all__ = ["answered_id", "text_of", "to_sdk"]


def to_sdk(message: jsonrpc.Message) -> SessionMessage:
    """The SDK's message for one that mcpws decoded and checked; raises pydantic's
    ``ValidationError`` for one that the SDK's own types refuse."""
    parsed = jsonrpc_message_adapter.validate_python(jsonrpc.to_object(message), by_name=False)
    return SessionMessage(parsed)


def text_of(message: SessionMessage) -> str:
    """The JSON text of an SDK message, as the SDK's own transports write it."""
    return message.message.model_dump_json(by_alias=True, exclude_unset=True)


def answered_id(message: SessionMessage) -> jsonrpc.RequestId | None:
    """The id of the request an SDK message answers, if it is an answer."""
    inner = message.message
    if isinstance(inner, JSONRPCResponse | JSONRPCError):
        return inner.id
    return None
