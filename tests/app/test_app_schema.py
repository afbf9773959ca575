"""Tool argument schemas: what :func:`mcpws.app.input_schema` derives from a function's
annotations (and what it refuses), and what :func:`mcpws.app.check_arguments` says of a value
against a schema, naming the field at fault.

A derived schema requires exactly the parameters without a default, lets ``X | None`` take
``null``, and refuses members it does not name unless the function takes ``**kwargs``."""

import base64
import dataclasses
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal, Optional, TypedDict, Union

import attrs
import pytest
from hypothesis import given, settings, strategies as st

from helpers.links import QuietLink
from mcpws.app import Context, SchemaError, Server, check_arguments as check, input_schema
from mcpws.core.mcp import CallToolResult, decode_params
from mcpws.core.session import RequestReceived

MODEST = settings(max_examples=200, deadline=None, database=None)


def _one(annotation: Any, *, default: Any = inspect.Parameter.empty) -> Callable[..., Any]:
    """A function of one parameter ``x`` annotated *annotation*."""
    return _function([("x", annotation, default)])


def _function(spec: list[tuple[str, Any, Any]]) -> Callable[..., Any]:
    """A function whose keyword parameters are *spec*: (name, annotation, default)."""

    def fn(**kwargs: Any) -> None:
        return None

    parameters = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
        for name, _, default in spec
    ]
    setattr(fn, "__signature__", inspect.Signature(parameters))  # noqa: B010
    fn.__annotations__ = {name: annotation for name, annotation, _ in spec}
    return fn


def _property(annotation: Any) -> dict[str, Any]:
    schema = input_schema(_one(annotation))
    properties: dict[str, Any] = schema["properties"]
    return properties["x"]  # type: ignore[no-any-return]


# Derivation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (Any, {}),
        (list, {"type": "array"}),
        (typing.List, {"type": "array"}),  # noqa: UP006
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (typing.List[str], {"type": "array", "items": {"type": "string"}}),  # noqa: UP006
        (list[Any], {"type": "array"}),
        (
            list[list[bool]],
            {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}},
        ),
        (dict, {"type": "object"}),
        (dict[str, int], {"type": "object", "additionalProperties": {"type": "integer"}}),
        (typing.Dict[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),  # noqa: UP006
        (dict[str, Any], {"type": "object"}),
        (
            dict[str, list[str]],
            {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        ),
        (
            list[dict[str, bool]],
            {
                "type": "array",
                "items": {"type": "object", "additionalProperties": {"type": "boolean"}},
            },
        ),
        (Literal["a", "b"], {"enum": ["a", "b"]}),
        (Literal[1, 2], {"enum": [1, 2]}),
        (Literal["x", 3, True], {"enum": ["x", 3, True]}),
        (list[Literal["r", "w"]], {"type": "array", "items": {"enum": ["r", "w"]}}),
    ],
)
def test_a_required_parameter_gets_the_schema_of_its_annotation(
    annotation: Any, expected: dict[str, Any]
) -> None:
    assert input_schema(_one(annotation)) == {
        "type": "object",
        "properties": {"x": expected},
        "required": ["x"],
        "additionalProperties": False,
    }


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (int | None, {"type": ["integer", "null"]}),
        (None | str, {"type": ["string", "null"]}),
        (Optional[float], {"type": ["number", "null"]}),  # noqa: UP045
        (Union[bool, None], {"type": ["boolean", "null"]}),  # noqa: UP007
        (list[int] | None, {"type": ["array", "null"], "items": {"type": "integer"}}),
        (list | None, {"type": ["array", "null"]}),
        (
            dict[str, str] | None,
            {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        ),
        (Literal["a", "b"] | None, {"enum": ["a", "b", None]}),
        (Optional[Literal[1, True]], {"enum": [1, True, None]}),  # noqa: UP045
        (Any | None, {}),
        (Optional[Any], {}),  # noqa: UP045
        (list[int | None], {"type": "array", "items": {"type": ["integer", "null"]}}),
        (
            dict[str, Literal["r"] | None],
            {"type": "object", "additionalProperties": {"enum": ["r", None]}},
        ),
        (
            list[list[str | None] | None] | None,
            {
                "type": ["array", "null"],
                "items": {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
            },
        ),
    ],
)
def test_an_optional_annotation_admits_null_and_is_still_required(
    annotation: Any, expected: dict[str, Any]
) -> None:
    """``X | None`` is the schema of ``X`` that also takes ``null``; without a default the
    parameter is required all the same (the caller passes ``null`` for ``None``)."""
    assert input_schema(_one(annotation)) == {
        "type": "object",
        "properties": {"x": expected},
        "required": ["x"],
        "additionalProperties": False,
    }


@pytest.mark.parametrize(
    "annotation",
    [int | None, Optional[str], list[int] | None, Literal["a"] | None, Any | None],  # noqa: UP045
)
def test_an_optional_annotation_admits_null(annotation: Any) -> None:
    """``X | None`` says the function takes ``None``: a JSON null for it must pass, with a
    default or without one."""
    assert check(input_schema(_one(annotation, default=None)), {"x": None}) is None
    assert check(input_schema(_one(annotation)), {"x": None}) is None


@pytest.mark.parametrize(
    ("annotation", "refusal"),
    [
        (int, "argument 'x' must be of type integer"),
        (list[int], "argument 'x' must be of type array"),
        (dict[str, int], "argument 'x' must be of type object"),
        (Literal["a"], "argument 'x' must be one of ['a']"),
    ],
)
def test_a_non_optional_annotation_refuses_null(annotation: Any, refusal: str) -> None:
    """Only ``X | None`` admits null: a default of ``None`` does not."""
    assert check(input_schema(_one(annotation)), {"x": None}) == refusal
    assert check(input_schema(_one(annotation, default=None)), {"x": None}) == refusal


def test_an_optional_annotation_still_checks_its_inner_type() -> None:
    schema = input_schema(_one(int | None))
    assert check(schema, {"x": 3}) is None
    assert check(schema, {"x": "3"}) == "argument 'x' must be of type integer or null"
    assert check(schema, {"x": True}) == "argument 'x' must be of type integer or null"
    enum = input_schema(_one(Literal["a", 1] | None))
    assert check(enum, {"x": "a"}) is None
    assert check(enum, {"x": 1}) is None
    assert check(enum, {"x": None}) is None
    assert check(enum, {"x": "b"}) == "argument 'x' must be one of ['a', 1, None]"
    assert check(enum, {"x": True}) == "argument 'x' must be one of ['a', 1, None]"


def test_an_optional_item_admits_null() -> None:
    schema = input_schema(_one(list[int | None]))
    assert check(schema, {"x": [1, None]}) is None
    assert check(schema, {"x": None}) == "argument 'x' must be of type array"
    assert check(schema, {"x": [1, "2"]}) == "argument 'x[1]' must be of type integer or null"
    values = input_schema(_one(dict[str, str | None]))
    assert check(values, {"x": {"a": None, "b": "b"}}) is None
    assert check(values, {"x": {"a": 1}}) == "argument 'x.a' must be of type string or null"


def test_an_optional_parameter_without_a_default_is_required() -> None:
    """Required exactly when there is no default, whatever the annotation: leaving out an
    ``X | None`` parameter without a default would fail the call."""
    schema = input_schema(_one(int | None))
    assert schema["required"] == ["x"]
    assert check(schema, {}) == "argument 'x' is required"
    assert check(schema, {"x": None}) is None
    with_default = input_schema(_one(int | None, default=None))
    assert "required" not in with_default
    assert check(with_default, {}) is None


def test_parameters_with_defaults_are_not_required() -> None:
    def fn(
        a: int,
        b: str = "b",
        *,
        c: bool,
        d: float = 1.0,
        e: int | None = None,
        f: str | None,
    ) -> None:
        return None

    assert input_schema(fn) == {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "string", "default": "b"},
            "c": {"type": "boolean"},
            "d": {"type": "number", "default": 1.0},
            "e": {"type": ["integer", "null"], "default": None},
            "f": {"type": ["string", "null"]},
        },
        "required": ["a", "c", "f"],
        "additionalProperties": False,
    }


def test_a_function_with_no_required_parameter_has_no_required_list() -> None:
    def fn(a: int = 1) -> None:
        return None

    def nothing() -> None:
        return None

    assert input_schema(fn) == {
        "type": "object",
        "properties": {"a": {"type": "integer", "default": 1}},
        "additionalProperties": False,
    }
    assert input_schema(nothing) == {
        "type": "object",
        "properties": {},
        "additionalProperties": False,
    }


def test_an_unannotated_parameter_takes_anything() -> None:
    def fn(a, b: int):  # type: ignore[no-untyped-def]
        return None

    assert input_schema(fn) == {
        "type": "object",
        "properties": {"a": {}, "b": {"type": "integer"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    }


def test_string_annotations_are_resolved() -> None:
    def fn(a: "int", b: "list[str] | None" = None) -> None:
        return None

    assert input_schema(fn)["properties"] == {
        "a": {"type": "integer"},
        "b": {"type": ["array", "null"], "items": {"type": "string"}, "default": None},
    }


def test_var_positional_and_var_keyword_parameters_are_ignored() -> None:
    def fn(a: str, *args: int, b: int = 0, **kwargs: Any) -> None:
        return None

    assert input_schema(fn) == {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer", "default": 0}},
        "required": ["a"],
    }


def test_a_function_taking_var_keyword_accepts_other_members() -> None:
    """``**kwargs`` takes any other argument, so its schema leaves ``additionalProperties``
    out (JSON Schema's default: anything)."""

    def fn(a: int, **kwargs: Any) -> None:
        return None

    def only(**kwargs: int) -> None:
        return None

    schema = input_schema(fn)
    assert "additionalProperties" not in schema
    assert check(schema, {"a": 1, "z": [None], "y": "y"}) is None
    assert check(schema, {"a": "1", "z": 1}) == "argument 'a' must be of type integer"
    assert input_schema(only) == {"type": "object", "properties": {}}
    assert check(input_schema(only), {"z": "not checked"}) is None


def test_a_function_without_var_keyword_refuses_other_members() -> None:
    def fn(a: int, *args: int, b: int = 0) -> None:
        return None

    schema = input_schema(fn)
    assert schema["additionalProperties"] is False
    assert check(schema, {"a": 1, "b": 2}) is None
    assert check(schema, {"a": 1, "z": 3}) == "argument 'z' is not expected"
    assert check(schema, {"a": 1, "args": [3]}) == "argument 'args' is not expected"


def test_the_skipped_type_is_left_out() -> None:
    def fn(ctx: Context, a: int, b: str = "") -> None:
        return None

    schema = input_schema(fn, skip=Context)
    assert schema == {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "string", "default": ""}},
        "required": ["a"],
        "additionalProperties": False,
    }
    assert check(schema, {"a": 1, "ctx": "forged"}) == "argument 'ctx' is not expected"


def test_a_context_parameter_has_no_schema_unless_skipped() -> None:
    def fn(ctx: Context, a: int) -> None:
        return None

    with pytest.raises(SchemaError, match="'ctx'"):
        input_schema(fn)


class _Point:
    x: int
    y: int


@pytest.mark.parametrize(
    "annotation",
    [
        _Point,
        complex,
        type(None),
        set,
        set[int],
        frozenset[str],
        tuple,
        tuple[int, complex],
        tuple[set[int], ...],
        dict[int, str],
        dict[bool, str],
        int | str,
        int | str | None,
        Union[int, str],  # noqa: UP007
        Literal[1.5],
        Literal[None],
        Literal[b"x"],
        list[set[int]],
        list[_Point],
        dict[str, tuple[complex]],
        set[int] | None,
        Optional[_Point],  # noqa: UP045
    ],
)
def test_an_annotation_without_a_json_schema_raises_schema_error(annotation: Any) -> None:
    with pytest.raises(SchemaError, match=r"parameter 'x': no JSON schema for") as caught:
        input_schema(_one(annotation))
    assert isinstance(caught.value, TypeError)


def test_schema_error_names_the_parameter_at_fault() -> None:
    def fn(good: int, bad: set[int]) -> None:
        return None

    with pytest.raises(SchemaError, match="'bad'"):
        input_schema(fn)


# Checking: types -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("string", ["", "a", "é"], [1, 1.5, True, None, [], {}]),
        ("integer", [0, -3, 10**30], [1.5, True, False, "1", None, [], {}]),
        ("number", [0, 1.5, -2, 1e300], [True, False, "1", None, [], {}]),
        ("boolean", [True, False], [0, 1, "true", None, [], {}]),
        ("array", [[], [1, "a"]], [{}, "[]", None, 1]),
        ("object", [{}, {"a": 1}], [[], "{}", None, 1]),
        ("null", [None], [0, "", False, [], {}]),
    ],
)
def test_type_accepts_its_values_and_names_the_field_otherwise(
    kind: str, good: list[Any], bad: list[Any]
) -> None:
    schema = {"type": kind}
    for value in good:
        assert check(schema, value) is None, value
        assert check(schema, value, "a.b") is None, value
    for value in bad:
        assert check(schema, value) == f"the arguments must be of type {kind}", value
        assert check(schema, value, "a.b") == f"argument 'a.b' must be of type {kind}", value


def test_bool_is_neither_an_integer_nor_a_number() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "f": {"type": "number"}}}
    assert check(schema, {"n": True}) == "argument 'n' must be of type integer"
    assert check(schema, {"f": False}) == "argument 'f' must be of type number"
    assert check(schema, {"n": 1, "f": 2}) is None


def test_several_types_accept_any_of_them() -> None:
    schema = {"type": ["string", "null"]}
    assert check(schema, "a") is None
    assert check(schema, None) is None
    assert check(schema, 1, "x") == "argument 'x' must be of type string or null"
    assert check({"type": ("integer", "boolean")}, True) is None


def test_an_unknown_type_name_accepts_anything() -> None:
    assert check({"type": "whatever"}, 1) is None
    assert check({"type": ["integer", "whatever"]}, "a") is None


def test_an_empty_schema_accepts_anything() -> None:
    for value in (None, 1, "a", [1, {"b": None}], {"c": [True]}):
        assert check({}, value) is None


# Checking: enum ------------------------------------------------------------------------------


def test_enum_accepts_its_members_only() -> None:
    schema = {"enum": ["a", "b", 3]}
    assert check(schema, "a") is None
    assert check(schema, 3) is None
    assert check(schema, "c", "mode") == "argument 'mode' must be one of ['a', 'b', 3]"
    assert check(schema, "c") == "the arguments must be one of ['a', 'b', 3]"


def test_enum_and_type_both_apply() -> None:
    schema = {"type": "string", "enum": ["1", "2"]}
    assert check(schema, 1, "x") == "argument 'x' must be of type string"
    assert check(schema, "3", "x") == "argument 'x' must be one of ['1', '2']"


def test_enum_tells_booleans_from_numbers() -> None:
    """JSON ``true`` is not the number 1 (JSON Schema compares enum members as JSON values),
    as ``integer`` already tells ``true`` from 1."""
    assert check({"enum": [1, 2]}, True, "x") == "argument 'x' must be one of [1, 2]"
    assert check({"enum": [True]}, 1, "x") == "argument 'x' must be one of [True]"
    assert check({"enum": [0]}, False, "x") == "argument 'x' must be one of [0]"
    assert check({"enum": [False]}, 0, "x") == "argument 'x' must be one of [False]"
    assert check({"enum": [1, True]}, True) is None
    assert check({"enum": [1, True]}, 1) is None
    assert check({"enum": [False, 0]}, False) is None
    assert check({"enum": [False, 0]}, 0) is None


def test_enum_compares_numbers_by_value() -> None:
    """1 and 1.0 are the same JSON number."""
    assert check({"enum": [1, 2]}, 1.0) is None
    assert check({"enum": [1.0]}, 1) is None
    assert check({"enum": [1.5]}, 1, "x") == "argument 'x' must be one of [1.5]"


def test_enum_compares_null_strings_and_containers_as_json() -> None:
    assert check({"enum": ["a", None]}, None) is None
    assert check({"enum": ["a"]}, None, "x") == "argument 'x' must be one of ['a']"
    assert check({"enum": [None]}, False, "x") == "argument 'x' must be one of [None]"
    assert check({"enum": [None]}, 0, "x") == "argument 'x' must be one of [None]"
    assert check({"enum": [[1, 2], {"a": 1}]}, [1, 2]) is None
    assert check({"enum": [[1, 2], {"a": 1}]}, {"a": 1}) is None
    assert check({"enum": [[1, 2]]}, [2, 1], "x") == "argument 'x' must be one of [[1, 2]]"


# Checking: objects ---------------------------------------------------------------------------


def test_a_missing_required_member_is_named() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a", "b"]}
    assert check(schema, {"a": 1, "b": 2}) is None
    assert check(schema, {"b": 2}) == "argument 'a' is required"
    assert check(schema, {"a": 1}) == "argument 'b' is required"


def test_required_applies_to_objects_only() -> None:
    assert check({"required": ["a"]}, [1]) is None
    assert check({"required": ["a"]}, "a") is None


def test_members_are_checked_against_their_properties() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}}
    assert check(schema, {"a": 1, "b": "x"}) is None
    assert check(schema, {"a": "1"}) == "argument 'a' must be of type integer"
    assert check(schema, {"a": 1, "b": 2}) == "argument 'b' must be of type string"


def test_additional_members_are_allowed_by_default() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert check(schema, {"a": 1, "z": [None]}) is None
    assert check({**schema, "additionalProperties": True}, {"z": 1}) is None


def test_additional_properties_false_names_the_unexpected_member() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "additionalProperties": False,
    }
    assert check(schema, {"a": 1}) is None
    assert check(schema, {"a": 1, "z": 2}) == "argument 'z' is not expected"


def test_additional_properties_schema_checks_the_other_members() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "additionalProperties": {"type": "integer"},
    }
    assert check(schema, {"name": "n", "x": 1, "y": 2}) is None
    assert check(schema, {"name": "n", "x": "1"}) == "argument 'x' must be of type integer"
    assert check(schema, {"name": 1}) == "argument 'name' must be of type string"


def test_a_property_schema_of_false_forbids_the_member() -> None:
    schema = {"type": "object", "properties": {"secret": False}}
    assert check(schema, {}) is None
    assert check(schema, {"secret": 1}) == "argument 'secret' is not expected"


def test_a_boolean_true_property_schema_accepts_anything() -> None:
    schema = {"type": "object", "properties": {"a": True}, "additionalProperties": False}
    assert check(schema, {"a": [1, {}]}) is None


# Checking: arrays and paths ------------------------------------------------------------------


def test_items_are_checked_and_named_by_index() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "array", "items": {"type": "integer"}}},
    }
    assert check(schema, {"a": [1, 2, 3]}) is None
    assert check(schema, {"a": [1, "2", 3.5]}) == "argument 'a[1]' must be of type integer"


def test_items_of_a_top_level_array_are_named_by_index() -> None:
    schema = {"type": "array", "items": {"type": "string"}}
    assert check(schema, ["a", 1]) == "argument '[1]' must be of type string"


def test_items_that_are_not_a_schema_object_are_not_checked() -> None:
    assert check({"type": "array", "items": True}, [1, "a"]) is None
    assert check({"type": "array", "items": [{"type": "string"}]}, [1]) is None


def test_nested_faults_are_named_by_their_path() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {
                "type": "object",
                "properties": {
                    "b": {"type": "array", "items": {"type": "integer"}},
                    "c": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"d": {"enum": ["x"]}},
                            "required": ["d"],
                            "additionalProperties": False,
                        },
                    },
                },
                "required": ["b"],
            },
            "m": {"type": "array", "items": {"type": "array", "items": {"type": "boolean"}}},
        },
    }
    assert check(schema, {"a": {"b": [1, 2], "c": [{"d": "x"}]}, "m": [[True], []]}) is None
    assert check(schema, {"a": {"b": [1, 2, "3"]}}) == "argument 'a.b[2]' must be of type integer"
    assert check(schema, {"a": {}}) == "argument 'a.b' is required"
    assert check(schema, {"a": []}) == "argument 'a' must be of type object"
    assert check(schema, {"a": {"b": [], "c": [{}]}}) == "argument 'a.c[0].d' is required"
    assert (
        check(schema, {"a": {"b": [], "c": [{"d": "x"}, {"d": "y"}]}})
        == "argument 'a.c[1].d' must be one of ['x']"
    )
    assert (
        check(schema, {"a": {"b": [], "c": [{"d": "x", "e": 1}]}})
        == "argument 'a.c[0].e' is not expected"
    )
    assert (
        check(schema, {"m": [[True], [False, 0]]}) == "argument 'm[1][1]' must be of type boolean"
    )


def test_derived_schemas_check_nested_arguments() -> None:
    def fn(
        tags: list[str],
        weights: dict[str, float],
        mode: Literal["fast", "slow"] = "fast",
        matrix: list[list[int]] | None = None,
    ) -> None:
        return None

    schema = input_schema(fn)
    assert check(schema, {"tags": ["a"], "weights": {"w": 1.5, "v": 2}}) is None
    assert check(schema, {"tags": [], "weights": {}, "matrix": None}) is None
    assert (
        check(schema, {"tags": [], "weights": {}, "extra": 1}) == "argument 'extra' is not expected"
    )
    assert check(schema, {"tags": [], "weights": {}, "mode": None}) == (
        "argument 'mode' must be one of ['fast', 'slow']"
    )
    assert check(schema, {"weights": {}}) == "argument 'tags' is required"
    assert (
        check(schema, {"tags": ["a", 2], "weights": {}})
        == "argument 'tags[1]' must be of type string"
    )
    assert (
        check(schema, {"tags": [], "weights": {"w": "heavy"}})
        == "argument 'weights.w' must be of type number"
    )
    assert (
        check(schema, {"tags": [], "weights": {}, "mode": "medium"})
        == "argument 'mode' must be one of ['fast', 'slow']"
    )
    assert (
        check(schema, {"tags": [], "weights": {}, "matrix": [[1], [2, 2.5]]})
        == "argument 'matrix[1][1]' must be of type integer"
    )
    assert check(schema, []) == "the arguments must be of type object"


# Properties ----------------------------------------------------------------------------------

_SCALARS: list[Any] = [str, int, float, bool, Any, list, dict, Literal["a", "b"], Literal[1, True]]

annotations = st.recursive(
    st.sampled_from(_SCALARS),
    lambda inner: st.one_of(
        inner.map(lambda a: list[a]),  # type: ignore[valid-type]
        inner.map(lambda a: dict[str, a]),  # type: ignore[valid-type]
        inner.map(lambda a: Optional[a]),  # noqa: UP045
    ),
    max_leaves=4,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def _values(annotation: Any) -> st.SearchStrategy[Any]:
    """Values of *annotation* that its derived schema describes."""
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=5),
        int: st.integers(),
        float: st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
        bool: st.booleans(),
        Any: json_values,
        list: st.lists(json_values, max_size=3),
        dict: st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    }
    if annotation in simple:
        return simple[annotation]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Union:
        (inner,) = [arg for arg in args if arg is not type(None)]
        return st.none() | _values(inner)
    if origin is Literal:
        return st.sampled_from(args)
    if origin is list:
        return st.lists(_values(args[0]), max_size=3)
    assert origin is dict
    return st.dictionaries(st.text(max_size=5), _values(args[1]), max_size=3)


@st.composite
def functions_and_arguments(
    draw: st.DrawFn,
) -> tuple[Callable[..., Any], dict[str, Any]]:
    """A function of up to four parameters of supported annotations (some optional, some
    with defaults), and arguments of the right types for it (those with a default sometimes
    left out, optional ones sometimes null)."""
    spec = []
    arguments = {}
    for index in range(draw(st.integers(0, 4))):
        name = f"p{index}"
        annotation = draw(annotations)
        if draw(st.booleans()):
            annotation = Optional[annotation]  # noqa: UP045
        default = draw(st.sampled_from([inspect.Parameter.empty, None]))
        spec.append((name, annotation, default))
        left_out = default is not inspect.Parameter.empty and draw(st.booleans())
        if not left_out:
            arguments[name] = draw(_values(annotation))
    return _function(spec), arguments


@MODEST
@given(functions_and_arguments())
def test_arguments_built_for_a_derived_schema_pass(
    case: tuple[Callable[..., Any], dict[str, Any]],
) -> None:
    fn, arguments = case
    assert check(input_schema(fn), arguments) is None


@MODEST
@given(functions_and_arguments(), st.text(min_size=1, max_size=5), json_values)
def test_a_derived_schema_refuses_any_argument_it_does_not_name(
    case: tuple[Callable[..., Any], dict[str, Any]], name: str, value: Any
) -> None:
    fn, arguments = case
    schema = input_schema(fn)
    if name not in schema["properties"]:
        assert check(schema, {**arguments, name: value}) == f"argument {name!r} is not expected"


@MODEST
@given(functions_and_arguments())
def test_a_parameter_is_required_exactly_when_it_has_no_default(
    case: tuple[Callable[..., Any], dict[str, Any]],
) -> None:
    fn, arguments = case
    schema = input_schema(fn)
    without_default = [
        name
        for name, parameter in inspect.signature(fn).parameters.items()
        if parameter.default is inspect.Parameter.empty
    ]
    assert schema.get("required", []) == without_default
    for name in without_default:
        rest = {key: value for key, value in arguments.items() if key != name}
        assert check(schema, rest) == f"argument {name!r} is required"


@MODEST
@given(functions_and_arguments(), json_values)
def test_check_never_raises_on_any_json_against_a_derived_schema(
    case: tuple[Callable[..., Any], dict[str, Any]], value: Any
) -> None:
    fn, arguments = case
    schema = input_schema(fn)
    for candidate in (value, {**arguments, "p0": value}, {"p1": value}):
        problem = check(schema, candidate)
        assert problem is None or problem.startswith(("argument ", "the arguments "))


_TYPE_NAMES = st.sampled_from(["string", "integer", "number", "boolean", "array", "object", "null"])

schemas = st.recursive(
    st.fixed_dictionaries(
        {},
        optional={
            "type": _TYPE_NAMES | st.lists(_TYPE_NAMES, min_size=1, max_size=3),
            "enum": st.lists(json_values, max_size=3),
            "required": st.lists(st.text(max_size=2), max_size=2),
        },
    ),
    lambda inner: st.fixed_dictionaries(
        {},
        optional={
            "type": _TYPE_NAMES,
            "properties": st.dictionaries(st.text(max_size=2), inner | st.booleans(), max_size=3),
            "required": st.lists(st.text(max_size=2), max_size=2),
            "additionalProperties": st.booleans() | inner,
            "items": inner | st.booleans(),
        },
    ),
    max_leaves=6,
)


@MODEST
@given(schemas, json_values)
def test_check_never_raises_on_any_json_against_any_schema_of_the_rules_it_reads(
    schema: dict[str, Any], value: Any
) -> None:
    problem = check(schema, value)
    assert problem is None or problem.startswith(("argument ", "the arguments "))


# Descriptions, defaults, tuples, bytes and records ---------------------------------------------


class _Described:
    """Metadata with a description, as a pydantic ``Field`` is."""

    description = "how many"


def test_descriptions_come_from_annotated_metadata_and_the_docstring() -> None:
    def google(
        city: Annotated[str, "the city"],
        days: Annotated[int, _Described()] = 3,
        unit: str = "C",
        note: str | None = None,
    ) -> None:
        """Forecast.

        Args:
            city: not this one: Annotated wins.
            unit: C or F,
                as you like.
            note (str): anything.

        Returns:
            nothing: not an argument.
        """

    def sphinx(city: str, days: int) -> None:
        """Forecast.

        :param city: the city
        :param int days: how many
        """

    properties = input_schema(google)["properties"]
    assert properties == {
        "city": {"type": "string", "description": "the city"},
        "days": {"type": "integer", "description": "how many", "default": 3},
        "unit": {"type": "string", "description": "C or F, as you like.", "default": "C"},
        "note": {"type": ["string", "null"], "description": "anything.", "default": None},
    }
    assert input_schema(sphinx)["properties"] == {
        "city": {"type": "string", "description": "the city"},
        "days": {"type": "integer", "description": "how many"},
    }


def test_a_default_that_is_not_json_is_left_out() -> None:
    marker = object()

    def fn(a: Any = marker) -> None:
        return None

    assert input_schema(fn)["properties"] == {"a": {}}


def test_tuples_bytes_and_records_have_schemas() -> None:
    def fn(
        pair: tuple[int, str],
        many: tuple[float, ...],
        blob: bytes,
        point: _Spot,
        options: _Options,
    ) -> None:
        return None

    assert input_schema(fn)["properties"] == {
        "pair": {
            "type": "array",
            "prefixItems": [{"type": "integer"}, {"type": "string"}],
            "minItems": 2,
            "maxItems": 2,
        },
        "many": {"type": "array", "items": {"type": "number"}},
        "blob": {"type": "string", "contentEncoding": "base64"},
        "point": {
            "type": "object",
            "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
            "required": ["x"],
            "additionalProperties": False,
        },
        "options": {
            "type": "object",
            "properties": {"loud": {"type": "boolean"}},
            "additionalProperties": False,
        },
    }


def test_a_fixed_tuple_is_checked_item_by_item() -> None:
    def fn(pair: tuple[int, str]) -> None:
        return None

    schema = input_schema(fn)
    assert check(schema, {"pair": [1, "a"]}) is None
    assert check(schema, {"pair": [1]}) == "argument 'pair' must have at least 2 items"
    assert check(schema, {"pair": [1, "a", 2]}) == "argument 'pair' must have at most 2 items"
    assert check(schema, {"pair": ["a", "a"]}) == "argument 'pair[0]' must be of type integer"


@dataclasses.dataclass
class _Spot:
    x: int
    y: int = 0


class _Options(TypedDict, total=False):
    loud: bool


@attrs.define
class _Labelled:
    spot: _Spot
    tags: tuple[str, ...] = ()


def test_a_tool_gets_its_arguments_as_its_annotations_ask() -> None:
    app = Server("typed")
    seen: list[Any] = []

    @app.tool()
    def take(
        blob: bytes,
        pair: tuple[int, str],
        spot: _Spot,
        labelled: _Labelled,
        options: _Options | None = None,
        spots: list[_Spot] | None = None,
    ) -> str:
        seen.append((blob, pair, spot, labelled, options, spots))
        return "taken"

    arguments = {
        "blob": base64.b64encode(b"\x00\xff").decode(),
        "pair": [1, "a"],
        "spot": {"x": 1},
        "labelled": {"spot": {"x": 2, "y": 3}, "tags": ["t"]},
        "options": {"loud": True},
        "spots": [{"x": 4}],
    }
    result = _call(app, "take", arguments)
    assert result.text == "taken"
    assert seen == [
        (
            b"\x00\xff",
            (1, "a"),
            _Spot(1),
            _Labelled(_Spot(2, 3), ("t",)),
            {"loud": True},
            [_Spot(4)],
        )
    ]
    bad = _call(app, "take", {**arguments, "blob": "not base64!"})
    assert bad.is_error is True
    assert bad.text.startswith("invalid arguments: ")
    extra = _call(app, "take", {**arguments, "spot": {"x": 1, "z": 2}})
    assert extra.text == "invalid arguments: argument 'spot.z' is not expected"


def _call(app: Server, name: str, arguments: dict[str, Any]) -> CallToolResult:
    params = decode_params("tools/call", "2025-11-25", {"name": name, "arguments": arguments})
    request = RequestReceived(1, "tools/call", params, "2025-11-25", None)
    result = app.handle(request, QuietLink())
    assert isinstance(result, CallToolResult)
    return result
