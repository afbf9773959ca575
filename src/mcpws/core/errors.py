"""The exceptions of mcpws.

Every exception mcpws raises on purpose derives from :class:`McpwsError`::

    McpwsError
    └── ProtocolError                 carries the hints jsonrpc_code, close_code, http_status
        ├── LocalProtocolError        the local application misused the API; nothing changed
        └── RemoteProtocolError       the peer sent something invalid
            ├── InvalidMessage        not a JSON-RPC 2.0 message (-32700 parse error,
            │                         -32600 invalid request); carries the request id when
            │                         it could be read, so the caller can build the reply
            └── InvalidParams         valid JSON-RPC, but the params or result do not match
                                      the MCP type (-32602); names the offending field path

Errors travel on three channels that are never mixed:

* A local mistake (sending before the session is ready, a value that cannot be encoded as
  JSON) raises :class:`LocalProtocolError` at once and leaves all state unchanged.
* A peer's mistake never escapes ``receive_data``. The sans-IO objects answer it themselves
  (a JSON-RPC error reply, a WebSocket close code, an HTTP status) and report it as an event;
  the exception object rides on that event. Only the decoding functions raise
  :class:`RemoteProtocolError` subclasses directly, and only those documented here.
* A peer's JSON-RPC error *response* is ordinary data: an ``ErrorResponse`` message.

Building a value object (a message, a configuration) with arguments of the wrong type raises
the usual :class:`TypeError` or :class:`ValueError` naming the field.
"""

from __future__ import annotations

__all__ = [
    "InvalidMessage",
    "InvalidParams",
    "LocalProtocolError",
    "McpwsError",
    "ProtocolError",
    "RemoteProtocolError",
]

#: JSON-RPC 2.0 error codes, repeated here so that this module imports nothing.
_INVALID_REQUEST = -32600
_INVALID_PARAMS = -32602


class McpwsError(Exception):
    """Base class of every exception mcpws raises on purpose."""


class ProtocolError(McpwsError):
    """A protocol rule was broken, locally or by the peer.

    The hints say how a protocol would report the fault; each is ``None`` when it does not
    apply:

    * ``jsonrpc_code``: the JSON-RPC error code of an error reply.
    * ``close_code``: the WebSocket close code that ends the connection.
    * ``http_status``: the HTTP status that refuses a WebSocket upgrade.
    """

    jsonrpc_code: int | None = None
    close_code: int | None = None
    http_status: int | None = None

    def __init__(
        self,
        message: str,
        *,
        jsonrpc_code: int | None = None,
        close_code: int | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if jsonrpc_code is not None:
            self.jsonrpc_code = jsonrpc_code
        if close_code is not None:
            self.close_code = close_code
        if http_status is not None:
            self.http_status = http_status

    def __str__(self) -> str:
        return self.message


class LocalProtocolError(ProtocolError):
    """The local application used the API in a way the protocol forbids.

    Raised at once by the call that broke the rule; the object's state is unchanged.
    """


class RemoteProtocolError(ProtocolError):
    """The peer broke a protocol rule."""


class InvalidMessage(RemoteProtocolError):
    """Data that is not a valid JSON-RPC 2.0 message.

    ``jsonrpc_code`` is -32700 (parse error: not JSON, not UTF-8) or -32600 (invalid
    request: JSON, but not a valid message). ``id`` is the message's request id when it
    could be read, else ``None``; an error reply must carry it.
    """

    jsonrpc_code: int = _INVALID_REQUEST

    def __init__(self, message: str, *, jsonrpc_code: int, id: str | int | None = None) -> None:
        super().__init__(message, jsonrpc_code=jsonrpc_code)
        self.id = id

    def __repr__(self) -> str:
        return f"InvalidMessage({self.message!r}, jsonrpc_code={self.jsonrpc_code}, id={self.id!r})"


class InvalidParams(RemoteProtocolError):
    """Params or a result that do not match their MCP type.

    ``path`` names the offending member from the top of the params or result, in the form
    ``arguments.items[2].name``; it is empty when the object as a whole is wrong.
    """

    jsonrpc_code: int = _INVALID_PARAMS

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message, jsonrpc_code=_INVALID_PARAMS)
        self.path = path
        self.reason = message

    def __repr__(self) -> str:
        return f"InvalidParams({self.reason!r}, path={self.path!r})"
