"""Hypothesis properties of mcpws.core.jsonrpc.

* decode is total: any text or bytes, and any mutation of a valid message, decodes to
  envelopes or raises InvalidMessage (-32700 or -32600), nothing else;
* whatever decode accepts, encode can write back, and decoding that gives the same envelopes;
* encode then decode is the identity on valid envelopes, and encode writes the JSON object
  the envelope stands for.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings, strategies as st

from mcpws.core.errors import InvalidMessage
from mcpws.core.jsonrpc import (
    INVALID_REQUEST,
    PARSE_ERROR,
    ErrorObject,
    ErrorResponse,
    Message,
    Notification,
    Request,
    Response,
    decode,
    encode,
    is_request_id,
)

MODEST = settings(max_examples=200, deadline=None, database=None)

# Strategies ---------------------------------------------------------------------------------

#: Text that UTF-8 can carry: no lone surrogates.
json_text = st.text(st.characters(codec="utf-8"), max_size=12)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | json_text
)
#: JSON values of bounded depth (max_leaves keeps them far below the depth limit).
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(json_text, children, max_size=4)
    ),
    max_leaves=8,
)
json_objects = st.dictionaries(json_text, json_values, max_size=4)

request_ids: st.SearchStrategy[str | int] = st.integers() | json_text
methods = json_text | st.sampled_from(["initialize", "tools/call", "notifications/cancelled"])
params = st.none() | json_objects

requests = st.builds(Request, id=request_ids, method=methods, params=params)
notifications = st.builds(Notification, method=methods, params=params)
responses = st.builds(Response, id=request_ids, result=json_values)
error_objects = st.builds(
    ErrorObject, code=st.integers(), message=json_text, data=st.none() | json_values
)
error_responses = st.builds(ErrorResponse, id=st.none() | request_ids, error=error_objects)
messages: st.SearchStrategy[Message] = st.one_of(
    requests, notifications, responses, error_responses
)

#: Any JSON value at all, with strings that may hold lone surrogates (written as escapes).
wild_text = st.text(max_size=8)
wild_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | wild_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(wild_text, children, max_size=4)
    ),
    max_leaves=8,
)
#: Values that make a member interesting to the validator.
telling_values = st.sampled_from(
    [
        *("2.0", "1.0", None, True, False, 0, 1, -1, 1.5, "", "x", [], [1], {}),
        *({"code": 1}, {"code": 1, "message": "m"}, {"code": True, "message": "m"}),
    ]
)
members = st.sampled_from(["jsonrpc", "id", "method", "params", "result", "error", "extra"])


def expected_json(message: Message) -> dict[str, Any]:
    """The JSON object *message* stands for, built independently of the encoder."""
    obj: dict[str, Any] = {"jsonrpc": "2.0"}
    match message:
        case Request(id=id, method=method, params=params):
            obj |= {"id": id, "method": method}
            if params is not None:
                obj["params"] = params
        case Notification(method=method, params=params):
            obj["method"] = method
            if params is not None:
                obj["params"] = params
        case Response(id=id, result=result):
            obj |= {"id": id, "result": result}
        case ErrorResponse(id=id, error=error):
            if id is not None:
                obj["id"] = id
            obj["error"] = {"code": error.code, "message": error.message}
            if error.data is not None:
                obj["error"]["data"] = error.data
    return obj


def outcome(
    data: str | bytes, allow_batch: bool
) -> Message | list[Message | InvalidMessage] | InvalidMessage:
    """What decode makes of *data*: its result, or the InvalidMessage it raises."""
    try:
        return decode(data, allow_batch=allow_batch)
    except InvalidMessage as exc:
        return exc


def assert_decodes_or_is_rejected(data: str | bytes, allow_batch: bool) -> None:
    """The invariant of decode: envelopes that survive re-encoding, or InvalidMessage."""
    result = outcome(data, allow_batch)
    if isinstance(result, InvalidMessage):
        assert result.jsonrpc_code in (PARSE_ERROR, INVALID_REQUEST)
        assert result.id is None or is_request_id(result.id)
        if result.jsonrpc_code == PARSE_ERROR:
            assert result.id is None
        return
    if isinstance(result, list):
        assert allow_batch
        assert result
        for item in result:
            if isinstance(item, InvalidMessage):
                assert item.jsonrpc_code == INVALID_REQUEST
                assert item.id is None or is_request_id(item.id)
            else:
                assert decode(encode(item)) == item
    else:
        assert decode(encode(result)) == result


# (a) Arbitrary input ------------------------------------------------------------------------


@MODEST
@given(st.binary(max_size=200), st.booleans())
def test_arbitrary_bytes_decode_or_are_rejected(data: bytes, allow_batch: bool) -> None:
    assert_decodes_or_is_rejected(data, allow_batch)


@MODEST
@given(st.text(max_size=200), st.booleans())
def test_arbitrary_text_decodes_or_is_rejected(data: str, allow_batch: bool) -> None:
    assert_decodes_or_is_rejected(data, allow_batch)


@MODEST
@given(wild_values, st.booleans(), st.booleans())
def test_arbitrary_json_decodes_or_is_rejected(
    value: Any, ensure_ascii: bool, allow_batch: bool
) -> None:
    # json.dumps writes NaN and Infinity, and lone surrogates as \ud800 escapes
    assert_decodes_or_is_rejected(json.dumps(value, ensure_ascii=ensure_ascii), allow_batch)


# (b) Mutations of valid messages ------------------------------------------------------------


PUNCTUATION = [bytes([byte]) for byte in b'{}[]",:\\'] + [b"\\ud800", b"\xed\xa0\x80"]


@st.composite
def byte_mutations(draw: st.DrawFn) -> bytes:
    data = bytearray(encode(draw(messages)).encode())
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        if kind == "insert" or not data:
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.binary(min_size=1, max_size=4) | st.sampled_from(PUNCTUATION))
        else:
            at = draw(st.integers(0, len(data) - 1))
            if kind == "flip":
                data[at] ^= 1 << draw(st.integers(0, 7))
            elif kind == "truncate":
                del data[at:]
            else:
                del data[at]
    return bytes(data)


@st.composite
def json_mutations(draw: st.DrawFn) -> str:
    # A copy: the drawn message's params are mutated below, and Hypothesis may replay it.
    obj = copy.deepcopy(expected_json(draw(messages)))
    for _ in range(draw(st.integers(1, 3))):
        target = obj
        inner = target.get("error", target.get("params"))
        if isinstance(inner, dict) and draw(st.booleans()):
            target = inner
        key = draw(members | st.sampled_from(["code", "message", *target]))
        if draw(st.booleans()):
            # A copy too: sampled values are shared objects, which mutating would corrupt.
            target[key] = copy.deepcopy(draw(telling_values | json_values))
        else:
            target.pop(key, None)
    document: Any = obj
    if draw(st.booleans()):
        document = [obj, *draw(st.lists(st.sampled_from([1, None, {}, obj]), max_size=2))]
    return json.dumps(document, ensure_ascii=draw(st.booleans()))


@MODEST
@given(byte_mutations(), st.booleans())
def test_byte_mutations_decode_or_are_rejected(data: bytes, allow_batch: bool) -> None:
    assert_decodes_or_is_rejected(data, allow_batch)


@MODEST
@given(json_mutations(), st.booleans())
def test_json_mutations_decode_or_are_rejected(data: str, allow_batch: bool) -> None:
    assert_decodes_or_is_rejected(data, allow_batch)
    assert_decodes_or_is_rejected(data.encode(), allow_batch)


# (c) Round trips ----------------------------------------------------------------------------


@MODEST
@given(messages)
def test_encode_then_decode_is_the_identity(message: Message) -> None:
    encoded = encode(message)
    assert decode(encoded) == message
    assert decode(encoded.encode()) == message
    assert json.loads(encoded) == expected_json(message)
    # compact, members in a fixed order, non-ASCII written as characters
    assert encoded == json.dumps(expected_json(message), ensure_ascii=False, separators=(",", ":"))


@MODEST
@given(st.lists(messages, min_size=1, max_size=3))
def test_encode_then_decode_is_the_identity_for_batches(batch: list[Message]) -> None:
    encoded = encode(batch)
    assert decode(encoded, allow_batch=True) == batch
    assert json.loads(encoded) == [expected_json(message) for message in batch]
