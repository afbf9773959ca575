"""Behaviour of mcpws.core.jsonrpc (the JSON-RPC 2.0 envelopes and their codec) and of the
exceptions in mcpws.core.errors that it raises."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mcpws.core.errors import (
    InvalidMessage,
    InvalidParams,
    LocalProtocolError,
    McpwsError,
    ProtocolError,
    RemoteProtocolError,
)
from mcpws.core.jsonrpc import (
    DEFAULT_MAX_DEPTH,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
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

# Helpers ------------------------------------------------------------------------------------


def text(**members: Any) -> str:
    """A JSON-RPC 2.0 object with *members*; ``jsonrpc`` may be overridden or dropped."""
    obj: dict[str, Any] = {"jsonrpc": "2.0", **members}
    if obj["jsonrpc"] is ABSENT:
        del obj["jsonrpc"]
    return json.dumps(obj)


ABSENT: Any = object()


def decoded(data: str | bytes | bytearray | memoryview, **options: Any) -> Message:
    """Decode *data*, which must be one valid message."""
    message = decode(data, **options)
    assert not isinstance(message, list)
    return message


def rejected_as_parse_error(
    data: str | bytes | bytearray | memoryview, **options: Any
) -> InvalidMessage:
    """Assert that *data* is refused with -32700, which never carries an id."""
    with pytest.raises(InvalidMessage) as info:
        decode(data, **options)
    assert info.value.jsonrpc_code == PARSE_ERROR
    assert info.value.id is None
    return info.value


def rejected_as_invalid_request(
    data: str | bytes, *, id: str | int | None = None, **options: Any
) -> InvalidMessage:
    """Assert that *data* is refused with -32600 and that the reply would carry *id*."""
    with pytest.raises(InvalidMessage) as info:
        decode(data, **options)
    assert_invalid_request(info.value, id)
    return info.value


def assert_invalid_request(exc: object, id: str | int | None = None) -> None:
    assert isinstance(exc, InvalidMessage)
    assert exc.jsonrpc_code == INVALID_REQUEST
    assert exc.id == id
    assert type(exc.id) is type(id)


def nested_message(depth: int, *, padding: int = 0) -> str:
    """A valid notification whose arrays and objects nest *depth* levels (at least 3).

    The message is level 1, its params level 2, and lists fill the rest. *padding*
    characters of a plain string make the text as long as wanted.
    """
    lists = depth - 2
    return (
        '{"jsonrpc":"2.0","method":"deep","params":{"pad":"'
        + "x" * padding
        + '","a":'
        + "[" * lists
        + "]" * lists
        + "}}"
    )


# The error codes ---------------------------------------------------------------------------


def test_error_codes_are_those_of_json_rpc_2() -> None:
    assert (PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR) == (
        -32700,
        -32600,
        -32601,
        -32602,
        -32603,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a", True),
        ("", True),
        (0, True),
        (-1, True),
        (2**80, True),
        (None, False),
        (True, False),
        (False, False),
        (1.0, False),
        ([], False),
        ({}, False),
    ],
)
def test_request_ids_are_strings_or_integers_only(value: object, expected: bool) -> None:
    assert is_request_id(value) is expected


# Valid messages decode ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (text(id=1, method="ping"), Request(1, "ping")),
        (text(id=0, method="ping"), Request(0, "ping")),
        (text(id=-5, method="ping"), Request(-5, "ping")),
        (text(id=2**70, method="ping"), Request(2**70, "ping")),
        (text(id="", method="ping"), Request("", "ping")),
        (text(id="a-1", method="x", params={}), Request("a-1", "x", {})),
        (text(id=1, method="x", params={"a": [1, None]}), Request(1, "x", {"a": [1, None]})),
        (text(method="notifications/x"), Notification("notifications/x")),
        (text(method="n", params={"k": 1.5}), Notification("n", {"k": 1.5})),
        (text(id=1, result={}), Response(1, {})),
        (text(id="r", result=None), Response("r", None)),
        (text(id=1, result=[1, "a"]), Response(1, [1, "a"])),
        (text(id=1, result=False), Response(1, False)),
        (
            text(id=3, error={"code": -32601, "message": "no"}),
            ErrorResponse(3, ErrorObject(-32601, "no")),
        ),
        (
            text(id="e", error={"code": 1, "message": "m", "data": {"x": [1]}}),
            ErrorResponse("e", ErrorObject(1, "m", {"x": [1]})),
        ),
        (
            text(error={"code": -32700, "message": "Parse error"}),
            ErrorResponse(None, ErrorObject(-32700, "Parse error")),
        ),
        (
            text(id=None, error={"code": -32600, "message": "Invalid Request"}),
            ErrorResponse(None, ErrorObject(-32600, "Invalid Request")),
        ),
    ],
)
def test_valid_message_decodes_to_its_envelope(data: str, expected: Message) -> None:
    message = decoded(data)
    assert message == expected
    assert type(message) is type(expected)


def test_decoded_request_id_keeps_its_type() -> None:
    by_number = decoded(text(id=1, method="m"))
    by_string = decoded(text(id="1", method="m"))
    assert isinstance(by_number, Request)
    assert isinstance(by_string, Request)
    assert type(by_number.id) is int
    assert type(by_string.id) is str


@pytest.mark.parametrize(
    "data",
    [
        text(id=1, method="m", extra=1, _meta={"a": 1}),
        text(method="m", foo=None),
        text(id=1, result=1, foo=[1]),
        text(id=1, error={"code": 1, "message": "m", "extra": True}),
    ],
)
def test_unknown_members_are_ignored(data: str) -> None:
    decoded(data)


def test_member_order_and_whitespace_do_not_matter() -> None:
    data = ' \n\t{ "method" : "m" ,\r\n "id" : 7 , "jsonrpc" : "2.0" }\n '
    assert decoded(data) == Request(7, "m")


def test_a_repeated_member_takes_its_last_value() -> None:
    assert decoded('{"jsonrpc":"2.0","id":1,"method":"a","method":"b"}') == Request(1, "b")


def test_error_data_null_decodes_as_absent() -> None:
    data = text(id=1, error={"code": 1, "message": "m", "data": None})
    assert decoded(data) == ErrorResponse(1, ErrorObject(1, "m"))


@pytest.mark.parametrize(
    "data",
    [
        '{"jsonrpc":"2.0","id":1,"method":"m"}',
        b'{"jsonrpc":"2.0","id":1,"method":"m"}',
        bytearray(b'{"jsonrpc":"2.0","id":1,"method":"m"}'),
        memoryview(b'{"jsonrpc":"2.0","id":1,"method":"m"}'),
    ],
    ids=["str", "bytes", "bytearray", "memoryview"],
)
def test_text_and_every_bytes_type_decode(data: str | bytes | bytearray | memoryview) -> None:
    assert decoded(data) == Request(1, "m")


def test_utf8_bytes_decode_to_text() -> None:
    data = text(method="m", params={"t": "é中😀"}).encode()
    assert decoded(data) == Notification("m", {"t": "é中😀"})
    raw = '{"jsonrpc":"2.0","method":"m","params":{"t":"é中😀"}}'.encode()
    assert decoded(raw) == Notification("m", {"t": "é中😀"})


def test_non_ascii_text_without_surrogates_decodes() -> None:
    data = '{"jsonrpc":"2.0","method":"é","params":{"中":"😀"}}'
    assert decoded(data) == Notification("é", {"中": "😀"})


def test_escapes_other_than_surrogates_decode() -> None:
    data = r'{"jsonrpc":"2.0","method":"a\nb","params":{"t":"\t\u00e9\/\"\\"}}'
    assert decoded(data) == Notification("a\nb", {"t": '\té/"\\'})


def test_tiny_numbers_underflow_to_zero_and_are_accepted() -> None:
    assert decoded('{"jsonrpc":"2.0","id":1,"result":1e-400}') == Response(1, 0.0)


def test_decoding_something_other_than_text_or_bytes_is_a_type_error() -> None:
    for value in (1, None, ["{}"], {"jsonrpc": "2.0"}):
        bad: Any = value
        with pytest.raises(TypeError, match="str or bytes"):
            decode(bad)


# Invalid requests: -32600, with the id when it can be read -----------------------------------


@pytest.mark.parametrize(
    "version",
    [ABSENT, "1.0", "2", "2.00", " 2.0", "2.0 ", 2.0, 2, None, True, ["2.0"], {"v": "2.0"}],
)
def test_jsonrpc_member_must_be_exactly_2_0(version: Any) -> None:
    rejected_as_invalid_request(text(jsonrpc=version, id=5, method="m"), id=5)
    rejected_as_invalid_request(text(jsonrpc=version, method="m"))
    rejected_as_invalid_request(text(jsonrpc=version, id="r", result=1), id="r")
    rejected_as_invalid_request(
        text(jsonrpc=version, id=2, error={"code": 1, "message": "m"}), id=2
    )


BAD_IDS: list[Any] = [None, True, False, 1.5, 1.0, 1e2, [], [1], {}, {"id": 1}]


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_request_id_must_be_string_or_integer(bad_id: Any) -> None:
    rejected_as_invalid_request(text(id=bad_id, method="m"))


@pytest.mark.parametrize("bad_id", [ABSENT, *BAD_IDS])
def test_response_id_must_be_string_or_integer(bad_id: Any) -> None:
    members = {} if bad_id is ABSENT else {"id": bad_id}
    rejected_as_invalid_request(text(result={}, **members))


@pytest.mark.parametrize("bad_id", [True, False, 1.5, 1.0, [], {}])
def test_error_response_id_must_be_string_integer_null_or_absent(bad_id: Any) -> None:
    rejected_as_invalid_request(text(id=bad_id, error={"code": 1, "message": "m"}))


@pytest.mark.parametrize("method", [None, 1, 1.5, True, [], ["m"], {}])
def test_method_must_be_a_string(method: Any) -> None:
    rejected_as_invalid_request(text(id=9, method=method), id=9)
    rejected_as_invalid_request(text(method=method))


@pytest.mark.parametrize("params", [None, [], [1, 2], "x", 1, 1.5, True, False])
def test_params_must_be_an_object_when_present(params: Any) -> None:
    rejected_as_invalid_request(text(id="p", method="m", params=params), id="p")
    rejected_as_invalid_request(text(method="m", params=params))


@pytest.mark.parametrize(
    "members",
    [
        {"method": "m", "result": 1},
        {"method": "m", "error": {"code": 1, "message": "m"}},
        {"method": "m", "result": None, "error": None},
        {"method": 1, "result": 1},
    ],
)
def test_request_and_response_members_cannot_mix(members: dict[str, Any]) -> None:
    rejected_as_invalid_request(text(id=4, **members), id=4)
    rejected_as_invalid_request(text(**members))


def test_response_cannot_have_both_result_and_error() -> None:
    error = {"code": 1, "message": "m"}
    rejected_as_invalid_request(text(id=4, result=1, error=error), id=4)
    rejected_as_invalid_request(text(id="4", result=None, error=None), id="4")
    rejected_as_invalid_request(text(result=1, error=error))


def test_message_needs_method_result_or_error() -> None:
    rejected_as_invalid_request(text(id=8), id=8)
    rejected_as_invalid_request(text(id=8, params={}), id=8)
    rejected_as_invalid_request(text())
    rejected_as_invalid_request("{}")


@pytest.mark.parametrize("error", [None, "boom", 1, [], [{"code": 1, "message": "m"}]])
def test_error_must_be_an_object(error: Any) -> None:
    rejected_as_invalid_request(text(id=6, error=error), id=6)
    rejected_as_invalid_request(text(error=error))


@pytest.mark.parametrize("code", [ABSENT, None, "1", 1.5, 1.0, True, False, [], {}])
def test_error_code_must_be_an_integer(code: Any) -> None:
    error: dict[str, Any] = {"message": "m"}
    if code is not ABSENT:
        error["code"] = code
    rejected_as_invalid_request(text(id=6, error=error), id=6)


@pytest.mark.parametrize("message", [ABSENT, None, 1, True, [], {}])
def test_error_message_must_be_a_string(message: Any) -> None:
    error: dict[str, Any] = {"code": -1}
    if message is not ABSENT:
        error["message"] = message
    rejected_as_invalid_request(text(id="e", error=error), id="e")
    rejected_as_invalid_request(text(error=error))


@pytest.mark.parametrize(
    ("data", "id"),
    [
        ('{"jsonrpc":"2.0","id":7,"method":1}', 7),
        ('{"jsonrpc":"1.0","id":"a","method":"x"}', "a"),
        ('{"id":"a","method":"x"}', "a"),
        ('{"jsonrpc":"2.0","id":7,"method":"x","params":[1]}', 7),
        ('{"jsonrpc":"2.0","id":7,"method":"x","result":1}', 7),
        ('{"jsonrpc":"2.0","id":7,"error":{"code":"x","message":"m"}}', 7),
        ('{"jsonrpc":"2.0","id":7}', 7),
        ('{"jsonrpc":"2.0","id":true,"method":"x"}', None),
        ('{"jsonrpc":"1.0","id":true,"method":"x"}', None),
        ('{"jsonrpc":"2.0","id":null,"method":"x"}', None),
        ('{"jsonrpc":"2.0","id":1.5,"method":"x"}', None),
        ('{"jsonrpc":"2.0","id":[7],"method":1}', None),
        ('{"jsonrpc":"2.0","method":1}', None),
    ],
)
def test_invalid_message_carries_the_request_id_when_readable(
    data: str, id: str | int | None
) -> None:
    rejected_as_invalid_request(data, id=id)


@pytest.mark.parametrize("data", ["1", "-1.5", '"x"', "null", "true", "false", ' "2.0" '])
def test_bare_top_level_value_is_invalid_request(data: str) -> None:
    rejected_as_invalid_request(data)
    rejected_as_invalid_request(data, allow_batch=True)


# Parse errors: -32700, never an id ---------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "",
        " ",
        "{",
        "}",
        "[",
        '{"jsonrpc":"2.0","method":"m"',
        '{"jsonrpc":"2.0","method":"m"} x',
        '{"jsonrpc":"2.0","method":"m"}{}',
        "{'jsonrpc':'2.0','method':'m'}",
        '{"jsonrpc":"2.0","method":"m",}',
        '{"jsonrpc":"2.0","id":01,"method":"m"}',
        '{"jsonrpc":"2.0","id":+1,"method":"m"}',
        '{"jsonrpc":"2.0","id":0x1,"method":"m"}',
        '{"jsonrpc":"2.0","method":"a\nb"}',
        '{"jsonrpc":"2.0","method":"\\x"}',
        '{"jsonrpc":"2.0","method":"\\u12"}',
        "\ufeff{}",
        "undefined",
        "True",
    ],
)
def test_text_that_is_not_json_is_a_parse_error(data: str) -> None:
    rejected_as_parse_error(data)
    rejected_as_parse_error(data, allow_batch=True)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1E999"])
def test_nan_infinity_and_out_of_range_numbers_are_parse_errors(constant: str) -> None:
    rejected_as_parse_error('{"jsonrpc":"2.0","id":1,"result":' + constant + "}")
    rejected_as_parse_error('{"jsonrpc":"2.0","method":"m","params":{"x":[' + constant + "]}}")
    rejected_as_parse_error(constant)


def test_huge_integers_are_parse_errors_not_crashes() -> None:
    digits = "9" * 5000
    rejected_as_parse_error('{"jsonrpc":"2.0","id":' + digits + ',"method":"m"}')
    rejected_as_parse_error('{"jsonrpc":"2.0","method":"m","params":{"n":-' + digits + "}}")
    rejected_as_parse_error(digits)


@pytest.mark.parametrize(
    "data",
    [
        b"\xff",
        b'{"jsonrpc":"2.0","method":"\xc3"}',
        b'{"jsonrpc":"2.0","method":"\xc3\x28"}',
        b'{"jsonrpc":"2.0","method":"\xc0\xaf"}',  # overlong
        b'{"jsonrpc":"2.0","method":"\xed\xa0\x80"}',  # an encoded surrogate
        b'{"jsonrpc":"2.0","method":"\xf4\x90\x80\x80"}',  # beyond U+10FFFF
        b'{"jsonrpc":"2.0","method":"m"}\x80',
    ],
)
def test_bytes_that_are_not_utf8_are_parse_errors(data: bytes) -> None:
    exc = rejected_as_parse_error(data)
    assert "UTF-8" in str(exc)
    rejected_as_parse_error(bytearray(data))
    rejected_as_parse_error(memoryview(data), allow_batch=True)


@pytest.mark.parametrize(
    "surrogate", [chr(code) for code in (0xD800, 0xDBFF, 0xDC00, 0xDFFF)], ids=ascii
)
def test_lone_surrogate_in_text_is_a_parse_error(surrogate: str) -> None:
    rejected_as_parse_error('{"jsonrpc":"2.0","method":"m' + surrogate + '"}')
    rejected_as_parse_error('{"jsonrpc":"2.0","method":"m","params":{"' + surrogate + '":1}}')
    rejected_as_parse_error('{"jsonrpc":"2.0","method":"é' + surrogate + '"}')


@pytest.mark.parametrize(
    "escape",
    [
        r"\ud800",
        r"\uD800",
        r"\udbff",
        r"\udc00",
        r"\uDFFF",
        r"\ude00\ud83d",  # a pair in the wrong order
        r"\ud800\u0041",  # a high surrogate before a non-surrogate
        r"\ud83d\ud83d",  # two high surrogates
        r"x\ud800y",
        r"é\ud800",
    ],
)
def test_escaped_lone_surrogate_is_a_parse_error(escape: str) -> None:
    value = '{"jsonrpc":"2.0","method":"m","params":{"v":"' + escape + '"}}'
    key = '{"jsonrpc":"2.0","method":"m","params":{"' + escape + '":1}}'
    deep_key = '{"jsonrpc":"2.0","method":"m","params":{"a":[{"b":{"' + escape + '":1}}]}}'
    method = '{"jsonrpc":"2.0","method":"' + escape + '"}'
    top_key = '{"jsonrpc":"2.0","method":"m","' + escape + '":1}'
    batch = '[{"jsonrpc":"2.0","method":"m"},{"jsonrpc":"2.0","method":"' + escape + '"}]'
    for data in (value, key, deep_key, method, top_key):
        rejected_as_parse_error(data)
        rejected_as_parse_error(data.encode())
        # the same past the length under which the text is scanned rather than walked
        padded = data[:-1] + ',"pad":"' + "x" * 5000 + '"}'
        rejected_as_parse_error(padded)
    rejected_as_parse_error(batch, allow_batch=True)


def test_escaped_surrogate_pair_decodes_to_its_character() -> None:
    data = r'{"jsonrpc":"2.0","method":"\ud83d\ude00","params":{"\uD83D\uDE00":"\ud83d\ude00"}}'
    assert decoded(data) == Notification("😀", {"😀": "😀"})
    padded = data[:-2] + ',"pad":"' + "x" * 5000 + '"}}'
    assert decoded(padded) == Notification("😀", {"😀": "😀", "pad": "x" * 5000})


def test_escaped_backslash_before_u_d800_is_not_a_surrogate() -> None:
    # The JSON text "\\ud800" is a backslash followed by the five letters ud800.
    data = r'{"jsonrpc":"2.0","method":"\\ud800","params":{"\\udc00":"\\ud800"}}'
    assert decoded(data) == Notification("\\ud800", {"\\udc00": "\\ud800"})
    padded = data[:-2] + ',"pad":"' + "x" * 5000 + '"}}'
    assert decoded(padded) == Notification("\\ud800", {"\\udc00": "\\ud800", "pad": "x" * 5000})


# Nesting ------------------------------------------------------------------------------------


def test_default_max_depth_is_128() -> None:
    assert DEFAULT_MAX_DEPTH == 128


@pytest.mark.parametrize("padding", [0, 5000], ids=["small-text", "large-text"])
def test_nesting_up_to_max_depth_is_accepted(padding: int) -> None:
    data = nested_message(DEFAULT_MAX_DEPTH, padding=padding)
    assert (len(data) > 4096) is (padding > 0)
    message = decoded(data)
    assert isinstance(message, Notification)
    assert message.params is not None
    assert message.params["pad"] == "x" * padding


@pytest.mark.parametrize("padding", [0, 5000], ids=["small-text", "large-text"])
def test_nesting_deeper_than_max_depth_is_a_parse_error(padding: int) -> None:
    data = nested_message(DEFAULT_MAX_DEPTH + 1, padding=padding)
    assert (len(data) > 4096) is (padding > 0)
    exc = rejected_as_parse_error(data)
    assert "nested deeper than 128" in str(exc)
    rejected_as_parse_error(data.encode())


@pytest.mark.parametrize("padding", [0, 5000], ids=["small-text", "large-text"])
def test_max_depth_is_configurable(padding: int) -> None:
    data = nested_message(5, padding=padding)
    assert decoded(data, max_depth=5) == decoded(data)
    rejected_as_parse_error(data, max_depth=4)
    rejected_as_parse_error(text(method="m"), max_depth=0)
    assert decoded(text(method="m"), max_depth=1) == Notification("m")
    rejected_as_parse_error(text(method="m", params={}), max_depth=1)


@pytest.mark.parametrize("padding", [0, 5000], ids=["small-text", "large-text"])
def test_deep_nesting_of_objects_is_a_parse_error(padding: int) -> None:
    inner = '{"a":' * 200 + "1" + "}" * 200
    data = '{"jsonrpc":"2.0","method":"m","params":{"pad":"' + "x" * padding + '","o":'
    rejected_as_parse_error(data + inner + "}}")


def test_depth_counts_a_batch_as_a_level() -> None:
    item = nested_message(DEFAULT_MAX_DEPTH)
    rejected_as_parse_error("[" + item + "]", allow_batch=True)
    shallower = nested_message(DEFAULT_MAX_DEPTH - 1)
    assert decode("[" + shallower + "]", allow_batch=True) == [decoded(shallower)]


@pytest.mark.parametrize("size", [500, 5000], ids=["small-text", "large-text"])
def test_brackets_inside_strings_do_not_count_as_nesting(size: int) -> None:
    brackets = "[{" * size
    data = text(id=1, method="m", params={brackets: brackets, "k": ["]}" * size]})
    assert decoded(data) == Request(1, "m", {brackets: brackets, "k": ["]}" * size]})


@pytest.mark.parametrize(
    "data",
    [
        "[" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000,
        '{"jsonrpc":"2.0","method":"m","params":{"a":' + "[" * 100_000 + "]" * 100_000 + "}}",
    ],
    ids=["open-arrays", "closed-arrays", "open-objects", "inside-a-message"],
)
def test_extreme_nesting_is_a_parse_error_not_a_recursion_error(data: str) -> None:
    rejected_as_parse_error(data)
    rejected_as_parse_error(data, allow_batch=True)
    rejected_as_parse_error(data.encode(), allow_batch=True)


# Batches ------------------------------------------------------------------------------------


def test_batch_is_invalid_request_unless_allowed() -> None:
    batch = "[" + text(id=1, method="m") + "]"
    rejected_as_invalid_request(batch)
    rejected_as_invalid_request(batch, allow_batch=False)
    assert decode(batch, allow_batch=True) == [Request(1, "m")]


def test_empty_batch_is_invalid_request() -> None:
    rejected_as_invalid_request("[]", allow_batch=True)
    rejected_as_invalid_request(" [ ] ", allow_batch=True)
    rejected_as_invalid_request("[]")


def test_batch_decodes_item_by_item_in_order() -> None:
    items = [
        text(id=1, method="a"),
        text(method="n", params={"x": 1}),
        text(id="r", result={"ok": True}),
        text(error={"code": -32700, "message": "p"}),
        text(id=2, method=5),
        text(jsonrpc="1.0", id="v", method="a"),
        "1",
        '"x"',
        "null",
        "[]",
        "[" + text(id=3, method="a") + "]",
        text(id=True, method="a"),
        text(id=9, method="a", params=[1]),
        "{}",
    ]
    batch = decode("[" + ",".join(items) + "]", allow_batch=True)
    assert isinstance(batch, list)
    assert batch[:4] == [
        Request(1, "a"),
        Notification("n", {"x": 1}),
        Response("r", {"ok": True}),
        ErrorResponse(None, ErrorObject(-32700, "p")),
    ]
    invalid_ids: list[str | int | None] = [2, "v", None, None, None, None, None, None, 9, None]
    assert len(batch) == 4 + len(invalid_ids)
    for item, id in zip(batch[4:], invalid_ids, strict=True):
        assert_invalid_request(item, id)


def test_batch_with_invalid_json_is_one_parse_error() -> None:
    rejected_as_parse_error("[" + text(id=1, method="a") + ",", allow_batch=True)
    rejected_as_parse_error("[" + text(id=1, method="a") + ",NaN]", allow_batch=True)


# Encoding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (Request(1, "m"), '{"jsonrpc":"2.0","id":1,"method":"m"}'),
        (Request("a", "m", {}), '{"jsonrpc":"2.0","id":"a","method":"m","params":{}}'),
        (
            Request(1, "m", {"a": [1, 2.5, None, True], "b": {"c": "d"}}),
            '{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":[1,2.5,null,true],"b":{"c":"d"}}}',
        ),
        (Notification("n"), '{"jsonrpc":"2.0","method":"n"}'),
        (Notification("n", {"x": 1}), '{"jsonrpc":"2.0","method":"n","params":{"x":1}}'),
        (Response(1, {}), '{"jsonrpc":"2.0","id":1,"result":{}}'),
        (Response("r", None), '{"jsonrpc":"2.0","id":"r","result":null}'),
        (
            ErrorResponse(1, ErrorObject(-32601, "Method not found")),
            '{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}',
        ),
        (
            ErrorResponse(None, ErrorObject(-32700, "Parse error")),
            '{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"}}',
        ),
        (
            ErrorResponse("x", ErrorObject(1, "m", {"why": [1]})),
            '{"jsonrpc":"2.0","id":"x","error":{"code":1,"message":"m","data":{"why":[1]}}}',
        ),
        (
            ErrorResponse("x", ErrorObject(1, "m", None)),
            '{"jsonrpc":"2.0","id":"x","error":{"code":1,"message":"m"}}',
        ),
        (
            ErrorResponse("x", ErrorObject(1, "m", False)),
            '{"jsonrpc":"2.0","id":"x","error":{"code":1,"message":"m","data":false}}',
        ),
    ],
)
def test_encode_writes_compact_json(message: Message, expected: str) -> None:
    assert encode(message) == expected
    assert decode(expected) == message


def test_encode_keeps_non_ascii_as_characters() -> None:
    encoded = encode(Notification("é", {"中": "😀\u2028"}))
    assert encoded == '{"jsonrpc":"2.0","method":"é","params":{"中":"😀\u2028"}}'
    assert "\\u" not in encoded
    assert decode(encoded.encode()) == Notification("é", {"中": "😀\u2028"})


def test_encode_writes_a_batch_for_a_sequence() -> None:
    messages: list[Message] = [Request(1, "a"), Notification("b"), Response(2, 3)]
    expected = (
        '[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"},'
        '{"jsonrpc":"2.0","id":2,"result":3}]'
    )
    assert encode(messages) == expected
    assert encode(tuple(messages)) == expected
    assert decode(expected, allow_batch=True) == messages


@pytest.mark.parametrize("empty", [[], ()])
def test_encoding_an_empty_batch_is_a_local_error(empty: Any) -> None:
    with pytest.raises(LocalProtocolError, match="at least one"):
        encode(empty)


def _circular() -> dict[str, Any]:
    value: dict[str, Any] = {}
    value["self"] = value
    return value


def _deep(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        [1.0, float("nan")],
        set(),
        frozenset({1}),
        b"bytes",
        object(),
        1j,
        _circular(),
        _deep(100_000),
        "\ud800",
        "a\udfffb",
        "é\udc00",
        {"\ud800": 1},
        {float("nan"): 1},
    ],
    ids=[
        "nan",
        "inf",
        "-inf",
        "nan-in-list",
        "set",
        "frozenset",
        "bytes",
        "object",
        "complex",
        "circular",
        "too-deep",
        "high-surrogate",
        "low-surrogate",
        "surrogate-after-non-ascii",
        "surrogate-key",
        "nan-key",
    ],
)
def test_encoding_what_json_cannot_carry_is_a_local_error(value: Any) -> None:
    for message in (
        Request(1, "m", {"v": value}),
        Notification("m", {"v": value}),
        Response(1, value),
        ErrorResponse(None, ErrorObject(1, "m", value)),
    ):
        with pytest.raises(LocalProtocolError):
            encode(message)
        with pytest.raises(LocalProtocolError):
            encode([Request(1, "ok"), message])


def test_encoding_a_lone_surrogate_in_a_method_or_message_is_a_local_error() -> None:
    with pytest.raises(LocalProtocolError, match="surrogate"):
        encode(Notification("\ud800"))
    with pytest.raises(LocalProtocolError, match="surrogate"):
        encode(ErrorResponse(1, ErrorObject(1, "\udc00")))
    with pytest.raises(LocalProtocolError, match="surrogate"):
        encode(Request("\udbff", "m"))


@pytest.mark.parametrize(
    "value",
    [
        42,
        None,
        "a string",
        {"jsonrpc": "2.0", "method": "m"},
        ErrorObject(1, "m"),
        [Request(1, "m"), "not a message"],
        [{"jsonrpc": "2.0", "method": "m"}],
    ],
    ids=repr,
)
def test_encoding_a_non_message_is_a_local_error(value: Any) -> None:
    with pytest.raises(LocalProtocolError, match="not a JSON-RPC message"):
        encode(value)


def test_encoding_the_empty_string_is_a_local_error() -> None:
    bad: Any = ""
    with pytest.raises(LocalProtocolError):
        encode(bad)


# Building envelopes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "arguments"),
    [
        (Request, {"id": None, "method": "m"}),
        (Request, {"id": True, "method": "m"}),
        (Request, {"id": 1.0, "method": "m"}),
        (Request, {"id": [1], "method": "m"}),
        (Request, {"id": 1, "method": 1}),
        (Request, {"id": 1, "method": None}),
        (Request, {"id": 1, "method": "m", "params": []}),
        (Request, {"id": 1, "method": "m", "params": "x"}),
        (Notification, {"method": b"m"}),
        (Notification, {"method": "m", "params": [1]}),
        (Response, {"id": None, "result": 1}),
        (Response, {"id": False, "result": 1}),
        (Response, {"id": 1.5, "result": 1}),
        (ErrorObject, {"code": True, "message": "m"}),
        (ErrorObject, {"code": 1.0, "message": "m"}),
        (ErrorObject, {"code": "1", "message": "m"}),
        (ErrorObject, {"code": 1, "message": None}),
        (ErrorResponse, {"id": True, "error": ErrorObject(1, "m")}),
        (ErrorResponse, {"id": 1.5, "error": ErrorObject(1, "m")}),
        (ErrorResponse, {"id": 1, "error": {"code": 1, "message": "m"}}),
        (ErrorResponse, {"id": 1, "error": None}),
    ],
)
def test_building_an_envelope_with_a_bad_field_is_a_type_error(
    cls: type[Any], arguments: dict[str, Any]
) -> None:
    with pytest.raises(TypeError):
        cls(**arguments)


def test_envelopes_are_frozen_values() -> None:
    request = Request(1, "m", {"a": 1})
    assert request == Request(id=1, method="m", params={"a": 1})
    assert request != Request(2, "m", {"a": 1})
    assert Notification("m").params is None
    assert ErrorObject(1, "m").data is None
    assert ErrorResponse(None, ErrorObject(1, "m")).id is None
    with pytest.raises(AttributeError):
        request.id = 2  # type: ignore[misc]


# Exceptions ---------------------------------------------------------------------------------


def test_exception_tree() -> None:
    assert issubclass(ProtocolError, McpwsError)
    assert issubclass(LocalProtocolError, ProtocolError)
    assert issubclass(RemoteProtocolError, ProtocolError)
    assert issubclass(InvalidMessage, RemoteProtocolError)
    assert issubclass(InvalidParams, RemoteProtocolError)
    assert not issubclass(LocalProtocolError, RemoteProtocolError)


@pytest.mark.parametrize("cls", [ProtocolError, LocalProtocolError, RemoteProtocolError])
def test_protocol_error_hints_default_to_none(cls: type[ProtocolError]) -> None:
    exc = cls("it broke")
    assert (exc.jsonrpc_code, exc.close_code, exc.http_status) == (None, None, None)
    assert exc.message == "it broke"
    assert str(exc) == "it broke"
    assert exc.args == ("it broke",)


@pytest.mark.parametrize("cls", [ProtocolError, LocalProtocolError, RemoteProtocolError])
def test_protocol_error_hints_are_kept_when_given(cls: type[ProtocolError]) -> None:
    exc = cls("bad", jsonrpc_code=-32603, close_code=1011, http_status=400)
    assert (exc.jsonrpc_code, exc.close_code, exc.http_status) == (-32603, 1011, 400)
    only_close = cls("bad", close_code=1009)
    assert (only_close.jsonrpc_code, only_close.close_code, only_close.http_status) == (
        None,
        1009,
        None,
    )
    only_status = cls("bad", http_status=426)
    assert (only_status.jsonrpc_code, only_status.close_code, only_status.http_status) == (
        None,
        None,
        426,
    )
    # hints live on the instance; the class defaults stay None
    assert ProtocolError.jsonrpc_code is None


def test_invalid_message_attributes_str_and_repr() -> None:
    exc = InvalidMessage("no method", jsonrpc_code=INVALID_REQUEST, id="a")
    assert (exc.message, exc.jsonrpc_code, exc.id) == ("no method", -32600, "a")
    assert (exc.close_code, exc.http_status) == (None, None)
    assert str(exc) == "no method"
    assert repr(exc) == "InvalidMessage('no method', jsonrpc_code=-32600, id='a')"
    parse = InvalidMessage("not JSON", jsonrpc_code=PARSE_ERROR)
    assert parse.id is None
    assert repr(parse) == "InvalidMessage('not JSON', jsonrpc_code=-32700, id=None)"
    assert repr(InvalidMessage("x", jsonrpc_code=-32600, id=7)).endswith("id=7)")


def test_invalid_message_raised_by_decode_explains_itself() -> None:
    exc = rejected_as_invalid_request(text(id=7, method=1), id=7)
    assert str(exc) == '"method" must be a string'
    assert repr(exc) == ("InvalidMessage('\"method\" must be a string', jsonrpc_code=-32600, id=7)")
    assert str(rejected_as_parse_error("{")).startswith("invalid JSON: ")


def test_invalid_params_names_the_field_path() -> None:
    exc = InvalidParams("must be a string", path="arguments.items[2].name")
    assert exc.jsonrpc_code == INVALID_PARAMS
    assert (exc.close_code, exc.http_status) == (None, None)
    assert exc.path == "arguments.items[2].name"
    assert exc.reason == "must be a string"
    assert str(exc) == "arguments.items[2].name: must be a string"
    assert exc.message == str(exc)
    assert repr(exc) == "InvalidParams('must be a string', path='arguments.items[2].name')"


def test_invalid_params_without_a_path_blames_the_whole_object() -> None:
    exc = InvalidParams("must be an object")
    assert exc.path == ""
    assert str(exc) == "must be an object"
    assert repr(exc) == "InvalidParams('must be an object', path='')"


class TestEncodeRefusesKeysJsonWouldRewrite:
    """JSON object keys are strings; json would silently turn 1 into "1" (and so may make two
    members of one name), so encode refuses such keys instead."""

    class _Dict(dict[Any, Any]):
        pass

    @pytest.mark.parametrize(
        "result",
        [
            {1: "a", "1": "b"},
            {"a": [{True: 1}]},
            {"a": ({"b": {None: 1}},)},
            _Dict({2: 1}),
            [_Dict({"a": _Dict({3.5: 1})})],
        ],
    )
    def test_a_key_that_is_not_a_string_is_refused(self, result: Any) -> None:
        with pytest.raises(LocalProtocolError, match="object keys must be strings"):
            encode(Response(1, result))

    def test_string_subclass_keys_and_dict_subclasses_are_encoded(self) -> None:
        class Key(str):
            pass

        message = Response(1, {Key("k"): 1, "a": self._Dict({"x": [self._Dict()]})})
        assert encode(message) == '{"jsonrpc":"2.0","id":1,"result":{"k":1,"a":{"x":[{}]}}}'


def test_a_strided_memoryview_is_decoded_from_its_bytes() -> None:
    strided = memoryview(b'{x"xjxsxoxnxrxpxcx"x:x"x2x.x0x"x,x"xmxextxhxoxdx"x:x"xpx"x}x')[::2]
    assert decode(strided) == Notification("p")
    valid = memoryview(b'{"jsonrpc":"2.0","method":"x"}' * 2)[
        : len(b'{"jsonrpc":"2.0","method":"x"}')
    ]
    assert decode(valid) == Notification("x")
