"""JSON-RPC 2.0 envelopes, as MCP uses them, and their codec.

The four envelopes :class:`Request`, :class:`Notification`, :class:`Response` and
:class:`ErrorResponse` are symmetric value objects: both sides of a connection use the same
classes. :func:`decode` turns text or bytes into envelopes and :func:`encode` does the reverse.

MCP narrows JSON-RPC 2.0, and so does this module:

* ids are strings or integers, never null, booleans or fractions;
* ``params``, when present, is an object;
* a batch (a JSON array) is a message only where the caller allows it (MCP revision
  2025-03-26 alone has batches);
* an error reply to a message whose id could not be read carries no ``id`` member, as MCP's
  schemas since 2025-11-25 require (plain JSON-RPC 2.0 would send ``"id": null``).

:func:`decode` is strict and total: whatever the input, it returns envelopes or raises
:class:`~mcpws.core.errors.InvalidMessage`, whose ``jsonrpc_code`` and ``id`` are what the
error reply needs. Members it does not know are ignored, as MCP's schemas allow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from json.encoder import (  # type: ignore[attr-defined]
    c_make_encoder as _c_make_encoder,
    encode_basestring as _encode_basestring,
)
from typing import Any, Final, TypeAlias

import attrs

from .errors import InvalidMessage, LocalProtocolError

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "ErrorObject",
    "ErrorResponse",
    "Message",
    "Notification",
    "Request",
    "RequestId",
    "Response",
    "decode",
    "encode",
    "encode_value",
    "is_request_id",
    "to_object",
]

RequestId: TypeAlias = str | int

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603

#: How deeply arrays and objects may nest in one message, counting the message itself.
DEFAULT_MAX_DEPTH: Final = 128


def is_request_id(value: object) -> bool:
    """Tell whether *value* is a valid MCP request id: a string or an integer (not a bool)."""
    kind = type(value)
    return kind is str or kind is int


def _validate_id(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not is_request_id(value):
        raise TypeError(f"{attribute.name} must be a string or an integer, not {value!r}")


def _validate_optional_id(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _validate_id(_, attribute, value)


def _validate_params(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, dict):
        raise TypeError(f"{attribute.name} must be a dict or None, not {type(value).__name__}")


def _validate_code(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not int:
        raise TypeError(f"{attribute.name} must be an integer, not {value!r}")


_is_str = attrs.validators.instance_of(str)


@attrs.frozen
class Request:
    """A request: the peer must answer it with a response carrying the same ``id``."""

    id: RequestId = attrs.field(validator=_validate_id)
    method: str = attrs.field(validator=_is_str)
    params: dict[str, Any] | None = attrs.field(default=None, validator=_validate_params)


@attrs.frozen
class Notification:
    """A notification: a message that is never answered."""

    method: str = attrs.field(validator=_is_str)
    params: dict[str, Any] | None = attrs.field(default=None, validator=_validate_params)


@attrs.frozen
class Response:
    """A successful answer to the request with the same ``id``.

    ``result`` is any JSON value; MCP's results are objects, which the typed layer checks.
    """

    id: RequestId = attrs.field(validator=_validate_id)
    result: Any


@attrs.frozen
class ErrorObject:
    """The ``error`` member of an error response. ``data`` of ``None`` is left out."""

    code: int = attrs.field(validator=_validate_code)
    message: str = attrs.field(validator=_is_str)
    data: Any = None


@attrs.frozen
class ErrorResponse:
    """An error answer. ``id`` is ``None`` only when the request's id could not be read."""

    id: RequestId | None = attrs.field(validator=_validate_optional_id)
    error: ErrorObject = attrs.field(validator=attrs.validators.instance_of(ErrorObject))


Message: TypeAlias = Request | Notification | Response | ErrorResponse

# Decoding -----------------------------------------------------------------------------------
#
# The decoder builds envelopes from values it has already checked, so it skips the
# validators: it fills the slots of a bare instance directly.

_new = object.__new__
_set = object.__setattr__
_ABSENT: Any = object()


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _parse_float(text: str) -> float:
    value = float(text)
    if value - value != 0.0:  # infinite: the literal is too large for a double
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _unencodable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_json_decode = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_parse_float).decode
_json_encode: Callable[[Any], str] = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":")
).encode
if _c_make_encoder is not None:  # pragma: no branch - CPython has the C encoder
    # The C encoder called directly skips the per-call set-up of JSONEncoder.encode. Without
    # the circular-reference markers, a cycle ends in RecursionError, which encode reports.
    _c_encoder = _c_make_encoder(
        None, _unencodable, _encode_basestring, None, ":", ",", False, False, False
    )

    def _json_encode(value: Any) -> str:
        return "".join(_c_encoder(value, 0))


# Two properties of a decoded message need a look at the whole value: no string may hold a
# lone surrogate (only an escape such as \ud800 can make one, since the text itself is valid
# Unicode), and arrays and objects may not nest too deeply. Looking is costly for a large
# message, so cheap tests on the text decide when to look: a small text is scanned for its
# brackets and surrogate escapes; a large one is always walked, which costs in proportion to
# its arrays and objects, not its characters, and skips the strings that are pure ASCII.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
_SCAN_LIMIT: Final = 4096


def _fault(value: Any, max_depth: int, strings: bool) -> str | None:
    """Say what is wrong with a decoded value's nesting or strings, or return ``None``."""
    level = [value]
    depth = 1
    while level:
        if depth > max_depth:
            return f"arrays and objects are nested deeper than {max_depth} levels"
        below = []
        for node in level:
            members = node.values() if type(node) is dict else node
            if strings and type(node) is dict:
                members = [*node, *members]
            for member in members:
                kind = type(member)
                if kind is dict or kind is list:
                    below.append(member)
                elif strings and kind is str and not member.isascii() and _SURROGATE.search(member):
                    return "a string contains a lone surrogate"
        level = below
        depth += 1
    return None


def _check(text: str, value: Any, max_depth: int) -> None:
    if type(value) is not dict and type(value) is not list:
        return
    escapes = "\\" in text
    if len(text) <= _SCAN_LIMIT:
        escapes = escapes and _SURROGATE_ESCAPE.search(text) is not None
        if not escapes and text.count("{") + text.count("[") <= max_depth:
            return
    fault = _fault(value, max_depth, escapes)
    if fault is not None:
        raise _parse_error(fault)


def _invalid(reason: str, id: Any = None) -> InvalidMessage:
    readable = id if is_request_id(id) else None
    return InvalidMessage(reason, jsonrpc_code=INVALID_REQUEST, id=readable)


def _parse_error(reason: str) -> InvalidMessage:
    return InvalidMessage(reason, jsonrpc_code=PARSE_ERROR)


def _error_object(error: Any, id: Any) -> ErrorObject:
    if type(error) is not dict:
        raise _invalid('"error" must be an object', id)
    code = error.get("code")
    if type(code) is not int:
        raise _invalid('"error.code" must be an integer', id)
    message = error.get("message")
    if type(message) is not str:
        raise _invalid('"error.message" must be a string', id)
    obj = _new(ErrorObject)
    _set(obj, "code", code)
    _set(obj, "message", message)
    _set(obj, "data", error.get("data"))
    return obj


def _message(obj: dict[str, Any]) -> Message:
    """Build the envelope an already-decoded JSON object stands for."""
    id = obj.get("id", _ABSENT)
    if obj.get("jsonrpc") != "2.0":
        raise _invalid('"jsonrpc" must be exactly "2.0"', id)
    method = obj.get("method", _ABSENT)
    message: Message
    if method is not _ABSENT:
        if "result" in obj or "error" in obj:
            raise _invalid("a message cannot be both a request and a response", id)
        if type(method) is not str:
            raise _invalid('"method" must be a string', id)
        params = obj.get("params")
        if type(params) is not dict:
            if "params" in obj:
                raise _invalid('"params" must be an object', id)
            params = None
        if id is _ABSENT:
            message = _new(Notification)
        elif is_request_id(id):
            message = _new(Request)
            _set(message, "id", id)
        else:
            raise _invalid('"id" must be a string or an integer')
        _set(message, "method", method)
        _set(message, "params", params)
        return message
    result = obj.get("result", _ABSENT)
    if result is not _ABSENT:
        if "error" in obj:
            raise _invalid('a response cannot have both "result" and "error"', id)
        if not is_request_id(id):
            raise _invalid('a response must have an "id" that is a string or an integer')
        message = _new(Response)
        _set(message, "id", id)
        _set(message, "result", result)
        return message
    error = obj.get("error", _ABSENT)
    if error is _ABSENT:
        raise _invalid('a message needs "method", "result" or "error"', id)
    if id is _ABSENT or id is None:
        id = None
    elif not is_request_id(id):
        raise _invalid('"id" must be a string or an integer')
    message = _new(ErrorResponse)
    _set(message, "id", id)
    _set(message, "error", _error_object(error, id))
    return message


def _batch_item(obj: Any) -> Message | InvalidMessage:
    if type(obj) is not dict:
        return _invalid("a batch item must be an object")
    try:
        return _message(obj)
    except InvalidMessage as exc:
        return exc


def decode(
    data: str | bytes | bytearray | memoryview,
    *,
    allow_batch: bool = False,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Message | list[Message | InvalidMessage]:
    """Decode one JSON-RPC message, or a batch where *allow_batch* is true.

    Bytes must be UTF-8. Raises :class:`~mcpws.core.errors.InvalidMessage`, and nothing else,
    for input that is not one valid message: ``jsonrpc_code`` is -32700 where the input is not
    JSON (or not valid Unicode, or nests arrays and objects deeper than *max_depth*) and
    -32600 where it is JSON but not a message.

    A batch decodes to a list with one item for each element, in order: the envelope, or the
    :class:`~mcpws.core.errors.InvalidMessage` that element deserves a reply for, so that the
    valid elements are still served. An empty batch is invalid as a whole.
    """
    if isinstance(data, str):
        text = data
        if not text.isascii() and _SURROGATE.search(text):
            raise _parse_error("the text contains a lone surrogate")
    elif isinstance(data, bytes | bytearray | memoryview):
        try:
            text = str(data if type(data) is not memoryview else data.tobytes(), "utf-8")
        except UnicodeDecodeError as exc:
            raise _parse_error(
                f"the data is not valid UTF-8 ({exc.reason} at byte {exc.start})"
            ) from None
    else:
        raise TypeError(f"decode() takes str or bytes, not {type(data).__name__}")
    try:
        obj = _json_decode(text)
    except RecursionError:
        raise _parse_error("arrays and objects are nested too deeply") from None
    except ValueError as exc:
        raise _parse_error(f"invalid JSON: {exc}") from None
    _check(text, obj, max_depth)
    if type(obj) is dict:
        return _message(obj)
    if type(obj) is list:
        if not allow_batch:
            raise _invalid("batches are not allowed in this protocol revision")
        if not obj:
            raise _invalid("an empty batch is not a message")
        return [_batch_item(item) for item in obj]
    raise _invalid("a message must be a JSON object")


# Encoding -----------------------------------------------------------------------------------


def to_object(message: Message) -> dict[str, Any]:
    """The JSON object of a message, as :func:`encode` writes it (for a library that takes
    messages as objects)."""
    obj: dict[str, Any] = {"jsonrpc": "2.0"}
    if isinstance(message, Request | Notification):
        if isinstance(message, Request):
            obj["id"] = message.id
        obj["method"] = message.method
        if message.params is not None:
            obj["params"] = message.params
    elif isinstance(message, Response):
        obj["id"] = message.id
        obj["result"] = message.result
    elif isinstance(message, ErrorResponse):
        if message.id is not None:
            obj["id"] = message.id
        error = message.error
        body: dict[str, Any] = {"code": error.code, "message": error.message}
        if error.data is not None:
            body["data"] = error.data
        obj["error"] = body
    else:
        raise LocalProtocolError(f"not a JSON-RPC message: {message!r}")
    return obj


_CONTAINERS: Final = (dict, list, tuple)
_SCALARS: Final = frozenset({str, int, float, bool, type(None)})


def _non_string_key(value: Any) -> Any:
    """Find a key that is not a string in the objects of a value (JSON would rewrite it), or
    return ``_ABSENT``."""
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        members: Iterable[Any] = node
        if isinstance(node, dict):
            for key in node:
                if not isinstance(key, str):
                    return key
            members = node.values()
        for member in members:
            kind = type(member)
            if kind not in _SCALARS and isinstance(member, _CONTAINERS):
                push(member)
    return _ABSENT


def encode(message: Message | Sequence[Message]) -> str:
    """Encode a message, or a non-empty sequence of them as a batch, as compact JSON text.

    Raises :class:`~mcpws.core.errors.LocalProtocolError` for anything that JSON cannot carry
    exactly: NaN or infinite numbers, objects JSON has no form for, circular references and
    lone surrogates, and object keys that are not strings (JSON would rewrite them).
    """
    if isinstance(message, Sequence):
        if not message:
            raise LocalProtocolError("a batch must hold at least one message")
        return encode_value([to_object(item) for item in message])
    return encode_value(to_object(message))


def encode_value(obj: Any) -> str:
    """Encode a JSON value that is already a message's envelope, as :func:`encode` does,
    with the same checks: for senders that build the envelope themselves."""
    try:
        text: str = _json_encode(obj)
    except (TypeError, ValueError, RecursionError) as exc:
        raise LocalProtocolError(f"the message cannot be encoded as JSON: {exc}") from None
    key = _non_string_key(obj)
    if key is not _ABSENT:
        raise LocalProtocolError(f"object keys must be strings, not {key!r}")
    if not text.isascii() and _SURROGATE.search(text):
        raise LocalProtocolError("the message contains a lone surrogate, which UTF-8 cannot carry")
    return text
