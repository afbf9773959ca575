"""The examples of the JSON-RPC 2.0 specification (https://www.jsonrpc.org/specification#examples),
at the decode level.

Each test feeds one example's text to :func:`mcpws.core.jsonrpc.decode` and asserts what the
specification says happens to it, as far as decoding decides it: which messages come out,
which are a parse error (-32700) or an invalid request (-32600), and which id a reply would
carry. Answering "method not found" (-32601) is the session layer's job: here such a request
simply decodes.

Where MCP narrows JSON-RPC 2.0, the test asserts mcpws' narrower behaviour and its name says so:

* positional params (an array) are an invalid request in MCP;
* ids are never null (nor fractional) in MCP;
* a batch is a message only where the caller allows it (MCP revision 2025-03-26);
* an error reply to a message whose id could not be read omits ``id`` instead of sending null.
"""

from __future__ import annotations

import pytest

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
)


def decoded(data: str) -> Message:
    message = decode(data)
    assert not isinstance(message, list)
    return message


def parse_error(data: str, *, allow_batch: bool = False) -> None:
    with pytest.raises(InvalidMessage) as info:
        decode(data, allow_batch=allow_batch)
    assert info.value.jsonrpc_code == PARSE_ERROR
    assert info.value.id is None


def invalid_request(data: str, *, id: str | int | None = None, allow_batch: bool = False) -> None:
    with pytest.raises(InvalidMessage) as info:
        decode(data, allow_batch=allow_batch)
    assert_invalid_request(info.value, id)


def assert_invalid_request(item: object, id: str | int | None = None) -> None:
    assert isinstance(item, InvalidMessage)
    assert item.jsonrpc_code == INVALID_REQUEST
    assert item.id == id


def reply_to_unreadable_id(code: int, message: str) -> str:
    return encode(ErrorResponse(None, ErrorObject(code, message)))


# rpc call with positional parameters --------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "id"),
    [
        ('{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}', 1),
        ('{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}', 2),
    ],
)
def test_positional_params_call_is_invalid_request_in_mcp(data: str, id: int) -> None:
    # JSON-RPC 2.0 allows params as an array; MCP's params are always objects.
    invalid_request(data, id=id)


def test_positional_params_replies_decode_as_responses() -> None:
    assert decoded('{"jsonrpc": "2.0", "result": 19, "id": 1}') == Response(1, 19)
    assert decoded('{"jsonrpc": "2.0", "result": -19, "id": 2}') == Response(2, -19)


# rpc call with named parameters -------------------------------------------------------------


def test_named_params_calls_decode_as_requests() -> None:
    first = '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}'  # noqa: E501
    second = '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}'  # noqa: E501
    assert decoded(first) == Request(3, "subtract", {"subtrahend": 23, "minuend": 42})
    assert decoded(second) == Request(4, "subtract", {"minuend": 42, "subtrahend": 23})
    assert decoded('{"jsonrpc": "2.0", "result": 19, "id": 3}') == Response(3, 19)
    assert decoded('{"jsonrpc": "2.0", "result": 19, "id": 4}') == Response(4, 19)


# a Notification -----------------------------------------------------------------------------


def test_notification_without_params_decodes() -> None:
    assert decoded('{"jsonrpc": "2.0", "method": "foobar"}') == Notification("foobar")


def test_notification_with_positional_params_is_invalid_in_mcp() -> None:
    # JSON-RPC 2.0 accepts it and never answers; in MCP array params are invalid, and with
    # no id to read the exception carries none.
    invalid_request('{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}')


# rpc call of non-existent method ------------------------------------------------------------


def test_call_of_unknown_method_decodes_method_not_found_is_for_the_session() -> None:
    assert decoded('{"jsonrpc": "2.0", "method": "foobar", "id": "1"}') == Request("1", "foobar")
    reply = (
        '{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}'
    )
    assert decoded(reply) == ErrorResponse("1", ErrorObject(-32601, "Method not found"))


# rpc call with invalid JSON -----------------------------------------------------------------


def test_invalid_json_is_a_parse_error_without_id() -> None:
    parse_error('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]')


def test_reply_to_parse_error_omits_id_in_mcp() -> None:
    # JSON-RPC 2.0 answers with "id": null; MCP (2025-11-25 on) leaves the member out.
    assert reply_to_unreadable_id(-32700, "Parse error") == (
        '{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"}}'
    )
    # A peer that follows JSON-RPC 2.0 literally and sends null is still understood.
    reply = '{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}'
    assert decoded(reply) == ErrorResponse(None, ErrorObject(-32700, "Parse error"))


# rpc call with invalid Request object -------------------------------------------------------


def test_invalid_request_object_is_invalid_request_without_id() -> None:
    invalid_request('{"jsonrpc": "2.0", "method": 1, "params": "bar"}')
    assert reply_to_unreadable_id(-32600, "Invalid Request") == (
        '{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"}}'
    )


# ids: MCP narrows what JSON-RPC 2.0 tolerates -----------------------------------------------


def test_null_id_is_invalid_in_mcp() -> None:
    # JSON-RPC 2.0 discourages a null id; MCP forbids it.
    invalid_request('{"jsonrpc": "2.0", "method": "foobar", "id": null}')


def test_fractional_id_is_invalid_in_mcp() -> None:
    # JSON-RPC 2.0 says numbers SHOULD NOT have fractional parts; MCP ids are integers.
    invalid_request('{"jsonrpc": "2.0", "method": "foobar", "id": 1.5}')


# rpc call Batch, invalid JSON ---------------------------------------------------------------

BATCH_INVALID_JSON = """[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]"""


def test_batch_with_invalid_json_is_one_parse_error() -> None:
    parse_error(BATCH_INVALID_JSON, allow_batch=True)
    # parsing comes first, so the answer is the same where batches are not allowed
    parse_error(BATCH_INVALID_JSON)


# rpc call with an empty Array ---------------------------------------------------------------


def test_empty_array_is_one_invalid_request() -> None:
    invalid_request("[]", allow_batch=True)
    invalid_request("[]")


# rpc call with an invalid Batch (but not empty) ---------------------------------------------


def test_batch_of_one_non_object_gives_one_invalid_item() -> None:
    batch = decode("[1]", allow_batch=True)
    assert isinstance(batch, list)
    assert len(batch) == 1
    assert_invalid_request(batch[0])


def test_batch_of_non_objects_gives_an_invalid_item_each() -> None:
    batch = decode("[1,2,3]", allow_batch=True)
    assert isinstance(batch, list)
    assert len(batch) == 3
    for item in batch:
        assert_invalid_request(item)


def test_batch_where_batches_are_not_allowed_is_invalid_in_mcp() -> None:
    # MCP has batches in revision 2025-03-26 only; elsewhere the whole array is invalid.
    invalid_request("[1]")
    invalid_request("[1,2,3]")
    invalid_request(BATCH)
    invalid_request(ALL_NOTIFICATIONS)


# rpc call Batch ------------------------------------------------------------------------------

BATCH = """[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
  {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
  {"foo": "boo"},
  {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
  {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
]"""


def test_batch_decodes_item_by_item_with_mcp_params_rule() -> None:
    batch = decode(BATCH, allow_batch=True)
    assert isinstance(batch, list)
    assert len(batch) == 6
    # JSON-RPC 2.0 serves items 1 to 3; in MCP their positional params make them invalid,
    # each keeping the id it has (the notification has none).
    assert_invalid_request(batch[0], "1")
    assert_invalid_request(batch[1])
    assert_invalid_request(batch[2], "2")
    # {"foo": "boo"} is an invalid request in both.
    assert_invalid_request(batch[3])
    # foo.get decodes; that no such method exists (-32601) is for the session to say.
    assert batch[4] == Request("5", "foo.get", {"name": "myself"})
    assert batch[5] == Request("9", "get_data")


def test_batch_reply_decodes_item_by_item() -> None:
    reply = """[
      {"jsonrpc": "2.0", "result": 7, "id": "1"},
      {"jsonrpc": "2.0", "result": 19, "id": "2"},
      {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
      {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
      {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}
    ]"""
    assert decode(reply, allow_batch=True) == [
        Response("1", 7),
        Response("2", 19),
        ErrorResponse(None, ErrorObject(-32600, "Invalid Request")),
        ErrorResponse("5", ErrorObject(-32601, "Method not found")),
        Response("9", ["hello", 5]),
    ]


# rpc call Batch (all notifications) ---------------------------------------------------------

ALL_NOTIFICATIONS = """[
  {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
  {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
]"""


def test_batch_of_notifications_with_positional_params_is_invalid_in_mcp() -> None:
    # JSON-RPC 2.0: two notifications and nothing to answer. MCP: array params are invalid.
    batch = decode(ALL_NOTIFICATIONS, allow_batch=True)
    assert isinstance(batch, list)
    assert len(batch) == 2
    for item in batch:
        assert_invalid_request(item)


def test_batch_of_notifications_with_named_params_has_nothing_to_answer() -> None:
    batch = decode(
        '[{"jsonrpc": "2.0", "method": "notify_sum", "params": {"n": [1,2,4]}},'
        ' {"jsonrpc": "2.0", "method": "notify_hello", "params": {"n": 7}}]',
        allow_batch=True,
    )
    assert isinstance(batch, list)
    assert batch == [
        Notification("notify_sum", {"n": [1, 2, 4]}),
        Notification("notify_hello", {"n": 7}),
    ]
    assert not any(isinstance(item, Request | InvalidMessage) for item in batch)
