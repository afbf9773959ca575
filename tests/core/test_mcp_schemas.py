"""Hypothesis-generated typed messages for each revision encode to JSON that validates against
``../shared/mcp-schema/<revision>/schema.json``.

For every ``(method, revision)`` of :data:`mcp.METHODS`, typed params are drawn from a strategy
built from the params class's fields as that revision has them (field metadata ``since``,
``until``, ``required_in`` and ``nullable``), wrapped in a JSON-RPC request or notification and
encoded. The JSON must validate against the JSON-RPC envelope and against every definition of the
revision whose ``method`` is that method, and must decode back to an equal object. Each result a
request may get (its result class, the task a 2025-11-25 request may run as, the
``InputRequiredResult`` of 2026-07-28) is checked in the same way against the definition named
like its class.

The strategies are generic; :data:`_SPECIAL` lists the few members that the schemas constrain
more tightly than the annotations do, and what is generated for them instead. Since the schemas
let objects carry undeclared members, a last test compares the field metadata itself with each
definition: the members a revision has, and those it requires.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import attrs
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from jsonschema.exceptions import best_match

from helpers import schemas
from mcpws.core import jsonrpc, mcp
from mcpws.core.mcp._model import json_name
from mcpws.core.versions import REVISIONS, STATELESS_REVISIONS

schemas.skip_unless_present()

#: The first revision whose requests carry their revision and capabilities in ``_meta``.
FIRST_STATELESS = STATELESS_REVISIONS[0]
#: The first revision where sampling content may be a list of blocks and elicited values lists.
FIRST_CONTENT_LISTS = "2025-11-25"

_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The official schemas --------------------------------------------------------------------------


def _assert_valid(revision: str, name: str, instance: Any) -> None:
    error = best_match(schemas.validator(revision, name).iter_errors(instance))
    if error is not None:
        raise AssertionError(
            f"MCP {revision} {name} rejects the value at {error.json_path}: {error.message}\n"
            f"{json.dumps(instance)}"
        )


#: Classes that some revisions name otherwise.
_ALIASES: dict[tuple[type[mcp.Model], str], str] = {
    (mcp.ResourceTemplateReference, "2024-11-05"): "ResourceReference",
    (mcp.ResourceTemplateReference, "2025-03-26"): "ResourceReference",
    (mcp.LegacyTitledEnumSchema, "2025-06-18"): "EnumSchema",
}


def _definition(cls: type[mcp.Model], revision: str) -> str:
    return _ALIASES.get((cls, revision), cls.__name__)


def _is_defined(cls: type[mcp.Model], revision: str) -> bool:
    return _definition(cls, revision) in schemas.definitions(revision)


# Strategies for plain values -------------------------------------------------------------------

_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
_INTEGERS = st.integers(-(2**53), 2**53)
_NUMBERS = _INTEGERS | st.floats(allow_nan=False, allow_infinity=False)
_IDS = _TEXT | _INTEGERS
# Free-form JSON holds no floats and no nulls: 2026-07-28's JSONValue has neither.
_JSON: st.SearchStrategy[Any] = st.recursive(
    st.booleans() | _INTEGERS | _TEXT,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(_TEXT, inner, max_size=2),
    max_leaves=4,
)
_JSON_OBJECTS = st.dictionaries(_TEXT, _JSON, max_size=2)
_UNIT = st.floats(0, 1) | st.integers(0, 1)
_TITLED_OPTIONS = st.lists(st.fixed_dictionaries({"const": _TEXT, "title": _TEXT}), max_size=2)

_SCALARS: dict[Any, st.SearchStrategy[Any]] = {
    str: _TEXT,
    int: _INTEGERS,
    float: _NUMBERS,
    bool: st.booleans(),
    Any: _JSON,
}


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, mcp.Model)


def _is_optional(annotation: Any) -> bool:
    """Whether the model lets the member be absent: an ``X | None`` or an ``Any``."""
    return annotation is Any or type(None) in typing.get_args(annotation)


def _from_annotation(annotation: Any, revision: str) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is types.UnionType or origin is typing.Union:
        options = [a for a in arguments if a is not type(None)]
        models = [a for a in options if _is_model(a)]
        if len(models) > 1:  # a tagged union: only the members this revision defines
            models = [m for m in models if _is_defined(m, revision)]
        return st.one_of(
            *(_model(m, revision) for m in models),
            *(_from_annotation(o, revision) for o in options if not _is_model(o)),
        )
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if origin is Literal:
        return st.sampled_from(arguments)
    if origin is list:
        return st.lists(_from_annotation(arguments[0], revision), max_size=2)
    if origin is dict:
        return st.dictionaries(_TEXT, _from_annotation(arguments[1], revision), max_size=2)
    if _is_model(annotation):
        return _model(annotation, revision)
    raise TypeError(f"no strategy for the annotation {annotation!r}")


def _json_of(cls: type[mcp.Model], revision: str) -> st.SearchStrategy[dict[str, Any]]:
    return _model(cls, revision).map(lambda model: model.to_json())


# Where the schemas are stricter than the annotations -------------------------------------------


def _object_schema(revision: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"type": st.just("object")},
        optional={
            "properties": st.dictionaries(_TEXT, _JSON_OBJECTS, max_size=2),
            "required": st.lists(_TEXT, max_size=2),
        },
    )


_FIELD_SCHEMAS = (
    mcp.StringSchema,
    mcp.NumberSchema,
    mcp.BooleanSchema,
    mcp.LegacyTitledEnumSchema,
    mcp.UntitledSingleSelectEnumSchema,
    mcp.TitledSingleSelectEnumSchema,
    mcp.UntitledMultiSelectEnumSchema,
    mcp.TitledMultiSelectEnumSchema,
)


def _requested_schema(revision: str) -> st.SearchStrategy[dict[str, Any]]:
    fields = st.one_of(*(_json_of(c, revision) for c in _FIELD_SCHEMAS if _is_defined(c, revision)))
    return st.fixed_dictionaries(
        {"type": st.just("object"), "properties": st.dictionaries(_TEXT, fields, max_size=2)},
        optional={"required": st.lists(_TEXT, max_size=2)},
    )


def _sampling_content(revision: str) -> st.SearchStrategy[Any]:
    block = _from_annotation(mcp.SamplingContent, revision)
    return block | st.lists(block, max_size=2) if revision >= FIRST_CONTENT_LISTS else block


def _elicited_content(revision: str) -> st.SearchStrategy[dict[str, Any]]:
    value: st.SearchStrategy[Any] = _TEXT | _INTEGERS | st.booleans()
    if revision >= FIRST_CONTENT_LISTS:
        value |= st.lists(_TEXT, max_size=2)
    return st.dictionaries(_TEXT, value, max_size=2)


def _structured_content(revision: str) -> st.SearchStrategy[Any]:
    return _JSON if revision >= FIRST_STATELESS else _JSON_OBJECTS


class _Special(NamedTuple):
    #: The values to generate, for a revision.
    values: Callable[[str], st.SearchStrategy[Any]]
    #: Whether the member is always present, although the class lets it be absent.
    always: bool = False


_NON_NEGATIVE = _Special(lambda _: st.integers(0, 2**53))
_PRIORITY = _Special(lambda _: _UNIT)
_CAPABILITY = _Special(lambda _: st.just({}))
_EXTENSIONS = _Special(lambda _: st.dictionaries(_TEXT, st.just({}), max_size=2))

#: Members the schemas constrain more tightly than their annotations, by (class, field); a
#: class's entries hold for its subclasses. (``Completion.values`` holds at most 100 strings in
#: 2026-07-28: the lists generated here are always that short. A 2026-07-28 request's ``_meta``,
#: which ``required_in`` marks, is :func:`_request_meta`.)
_SPECIAL: dict[tuple[type, str], _Special] = {
    # A tool's JSON Schemas describe objects.
    (mcp.Tool, "input_schema"): _Special(_object_schema),
    (mcp.Tool, "output_schema"): _Special(_object_schema),
    # An elicitation form is an object of primitive field schemas, built here from our classes.
    (mcp.ElicitRequestFormParams, "requested_schema"): _Special(_requested_schema),
    (mcp.TitledSingleSelectEnumSchema, "one_of"): _Special(lambda _: _TITLED_OPTIONS),
    (mcp.UntitledMultiSelectEnumSchema, "items"): _Special(
        lambda _: st.fixed_dictionaries(
            {"type": st.just("string"), "enum": st.lists(_TEXT, max_size=2)}
        )
    ),
    (mcp.TitledMultiSelectEnumSchema, "items"): _Special(
        lambda _: st.fixed_dictionaries({"anyOf": _TITLED_OPTIONS})
    ),
    # Each capability is an object whose few known members the schemas type strictly (a
    # boolean listChanged, an object url...): an empty one, or extensions of empty ones.
    **{
        (cls, name): _EXTENSIONS if name in ("experimental", "extensions") else _CAPABILITY
        for cls in (mcp.ClientCapabilities, mcp.ServerCapabilities)
        for name in attrs.fields_dict(cls)
        if name != "extra"
    },
    # Priorities run from 0 to 1.
    (mcp.Annotations, "priority"): _PRIORITY,
    (mcp.ModelPreferences, "cost_priority"): _PRIORITY,
    (mcp.ModelPreferences, "speed_priority"): _PRIORITY,
    (mcp.ModelPreferences, "intelligence_priority"): _PRIORITY,
    # Cache lifetimes (2026-07-28) are not negative.
    **{
        (cls, "ttl_ms"): _NON_NEGATIVE
        for cls in (
            mcp.DiscoverResult,
            mcp.ListToolsResult,
            mcp.ListResourcesResult,
            mcp.ListResourceTemplatesResult,
            mcp.ListPromptsResult,
            mcp.ReadResourceResult,
        )
    },
    # Structured content is an object until 2026-07-28, which allows any JSON value.
    (mcp.CallToolResult, "structured_content"): _Special(_structured_content),
    (mcp.ToolResultContent, "structured_content"): _Special(_structured_content),
    # Sampling content is a list of blocks only from 2025-11-25 on.
    (mcp.SamplingMessage, "content"): _Special(_sampling_content),
    (mcp.CreateMessageResult, "content"): _Special(_sampling_content),
    # Elicited values are strings, integers or booleans (the class also takes floats, which no
    # revision allows), and lists of strings from 2025-11-25 on.
    (mcp.ElicitResult, "content"): _Special(_elicited_content),
    # A 2026-07-28 result says what it is.
    (mcp.Result, "result_type"): _Special(lambda _: st.just("complete")),
    (mcp.InputRequiredResult, "result_type"): _Special(lambda _: st.just("input_required")),
    # The schema requires the subscription id; the class (its `meta` is Result's) does not.
    (mcp.SubscriptionsListenResult, "meta"): _Special(
        lambda _: st.fixed_dictionaries({mcp.META_SUBSCRIPTION_ID: _IDS}, optional={"x": _JSON}),
        always=True,
    ),
}


def _special(cls: type[mcp.Model], name: str) -> _Special | None:
    for klass in cls.__mro__:
        special = _SPECIAL.get((klass, name))
        if special is not None:
            return special
    return None


@functools.cache
def _request_meta(revision: str) -> st.SearchStrategy[dict[str, Any]]:
    """A 2026-07-28 request's ``_meta``: its revision and the client's capabilities."""
    return st.fixed_dictionaries(
        {
            mcp.META_PROTOCOL_VERSION: st.just(revision) | _TEXT,
            mcp.META_CLIENT_CAPABILITIES: _json_of(mcp.ClientCapabilities, revision),
        },
        optional={
            mcp.META_CLIENT_INFO: _json_of(mcp.Implementation, revision),
            mcp.META_LOG_LEVEL: st.sampled_from(typing.get_args(mcp.LoggingLevel)),
            "progressToken": _IDS,
        },
    )


# Strategies for models --------------------------------------------------------------------------


def _in_revision(field: attrs.Attribute[Any], revision: str) -> bool:
    since = field.metadata.get("since", REVISIONS[0])
    until = field.metadata.get("until", REVISIONS[-1])
    return bool(since <= revision <= until)


_STRATEGIES: dict[tuple[type, str], st.SearchStrategy[mcp.Model]] = {}


def _model(cls: type[mcp.Model], revision: str) -> st.SearchStrategy[mcp.Model]:
    """Instances of *cls* with the members *revision* has, and all those it requires."""
    strategy = _STRATEGIES.get((cls, revision))
    if strategy is None:
        strategy = _STRATEGIES[cls, revision] = _build_model(cls, revision)
    return strategy


def _build_model(cls: type[mcp.Model], revision: str) -> st.SearchStrategy[mcp.Model]:
    hints = typing.get_type_hints(cls)
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field in attrs.fields(cls):
        if field.name == "extra" or not _in_revision(field, revision):
            continue
        annotation = hints[field.name]
        required_in = field.metadata.get("required_in", ())
        nullable = bool(field.metadata.get("nullable"))
        special = _special(cls, field.name)
        if special is not None:
            values = special.values(revision)
        elif field.name == "meta" and revision >= FIRST_STATELESS and revision in required_in:
            values = _request_meta(revision)
        else:
            values = _from_annotation(annotation, revision)
        if nullable:
            values = st.none() | values
        always = special is not None and special.always
        if always or nullable or revision in required_in or not _is_optional(annotation):
            required[field.name] = values
        else:
            optional[field.name] = values

    def build(members: dict[str, Any]) -> mcp.Model:
        return cls(**members)

    return st.fixed_dictionaries(required, optional=optional).map(build)


#: Params classes that :func:`mcp.decode_params` may choose instead of the table's.
_OTHER_PARAMS: dict[type[mcp.Model], tuple[type[mcp.Model], ...]] = {
    mcp.ElicitRequestFormParams: (mcp.ElicitRequestURLParams,),
}


def _params(spec: mcp.MethodSpec) -> st.SearchStrategy[mcp.Model]:
    others = [c for c in _OTHER_PARAMS.get(spec.params, ()) if _is_defined(c, spec.revision)]
    return st.one_of(*(_model(cls, spec.revision) for cls in (spec.params, *others)))


def _results(spec: mcp.MethodSpec) -> list[type[mcp.Model]]:
    """Every class a response to *spec* may carry."""
    assert spec.result is not None
    return [
        spec.result,
        *([spec.task_result] if spec.task_result is not None else []),
        *([mcp.InputRequiredResult] if spec.input_required else []),
    ]


# The tests ------------------------------------------------------------------------------------

SPECS = sorted(mcp.METHODS.values(), key=lambda spec: (spec.revision, spec.method))
RESULT_CASES = [
    (spec, cls) for spec in SPECS if spec.kind is mcp.Kind.REQUEST for cls in _results(spec)
]


@pytest.mark.parametrize("spec", SPECS, ids=[f"{s.revision}-{s.method}" for s in SPECS])
@_SETTINGS
@given(data=st.data())
def test_messages_validate_and_decode(spec: mcp.MethodSpec, data: st.DataObject) -> None:
    params = data.draw(_params(spec), label="params")
    message: jsonrpc.Message
    if spec.kind is mcp.Kind.REQUEST:
        message = jsonrpc.Request(data.draw(_IDS, label="id"), spec.method, params.to_json())
        envelope = "JSONRPCRequest"
    else:
        message = jsonrpc.Notification(spec.method, params.to_json())
        envelope = "JSONRPCNotification"
    value = json.loads(jsonrpc.encode(message))
    _assert_valid(spec.revision, envelope, value)
    definitions = schemas.method_definitions(spec.revision, spec.method)
    assert definitions, f"MCP {spec.revision} defines no {spec.method}"
    for name in definitions:
        _assert_valid(spec.revision, name, value)
    assert mcp.decode_params(spec.method, spec.revision, value["params"]) == params


@pytest.mark.parametrize(
    ("spec", "result_class"),
    RESULT_CASES,
    ids=[f"{s.revision}-{s.method}-{c.__name__}" for s, c in RESULT_CASES],
)
@_SETTINGS
@given(data=st.data())
def test_results_validate_and_decode(
    spec: mcp.MethodSpec, result_class: type[mcp.Model], data: st.DataObject
) -> None:
    result = data.draw(_model(result_class, spec.revision), label="result")
    value = result.to_json()
    _assert_valid(spec.revision, _definition(result_class, spec.revision), value)
    response = json.loads(jsonrpc.encode(jsonrpc.Response(data.draw(_IDS, label="id"), value)))
    definitions = schemas.definitions(spec.revision)
    envelope = (
        "JSONRPCResultResponse" if "JSONRPCResultResponse" in definitions else "JSONRPCResponse"
    )
    _assert_valid(spec.revision, envelope, response)
    assert mcp.decode_result(spec.method, spec.revision, response["result"]) == result


# The revision metadata against the definitions ---------------------------------------------------
#
# The schemas let objects carry members they do not declare, so the tests above cannot see a
# member sent in a revision that lacks it. This one compares, for every class the revision
# defines by name, the members the field metadata gives that revision with those the definition
# declares, and the members each requires.


def _declared(definition: dict[str, Any], revision: str) -> tuple[set[str], set[str]]:
    """The members a definition declares and those it requires, through ``$ref`` and ``allOf``."""
    while "$ref" in definition:
        definition = schemas.definitions(revision)[definition["$ref"].rsplit("/", 1)[-1]]
    declared = set(definition.get("properties", ()))
    required = set(definition.get("required", ()))
    for part in definition.get("allOf", ()):
        more, needed = _declared(part, revision)
        declared |= more
        required |= needed
    return declared, required


def _members(cls: type[mcp.Model], revision: str) -> tuple[set[str], set[str]]:
    """The members *cls* has in *revision* and those it requires there."""
    hints = typing.get_type_hints(cls)
    members: set[str] = set()
    required: set[str] = set()
    for field in attrs.fields(cls):
        if field.name == "extra" or not _in_revision(field, revision):
            continue
        key = field.metadata.get("json", json_name(field.name))
        members.add(key)
        if (
            field.metadata.get("nullable")
            or revision in field.metadata.get("required_in", ())
            or not _is_optional(hints[field.name])
        ):
            required.add(key)
    return members, required


_MODELS = [getattr(mcp, name) for name in mcp.__all__ if _is_model(getattr(mcp, name))]


def _structure_cases() -> list[Any]:
    """Each (revision, class) whose definition is an object and not a whole JSON-RPC message
    (the input requests of 2026-07-28 are requests to the client in 2025-11-25)."""
    cases = []
    for revision in REVISIONS:
        for cls in _MODELS:
            if not _is_defined(cls, revision):
                continue
            declared = _declared(
                schemas.definitions(revision)[_definition(cls, revision)], revision
            )[0]
            if not declared or "jsonrpc" in declared:
                continue
            cases.append(pytest.param(revision, cls, id=f"{revision}-{cls.__name__}"))
    return cases


@pytest.mark.parametrize(("revision", "cls"), _structure_cases())
def test_revision_metadata_matches_the_definition(revision: str, cls: type[mcp.Model]) -> None:
    declared, required = _declared(
        schemas.definitions(revision)[_definition(cls, revision)], revision
    )
    members, needed = _members(cls, revision)
    assert members == declared, f"members {sorted(members ^ declared)} disagree"
    assert needed == required, f"required members {sorted(needed ^ required)} disagree"


# The method table's other facts against the schemas ---------------------------------------------
#
# The schemas say, in their capabilities, which capability gates a request: each is named after
# the methods it gates (``tools`` gates ``tools/*``, ``completions`` ``completion/complete``),
# and where no member is so named (``ping``, ``initialize``, ``completion/complete`` in
# 2024-11-05) none gates the request. They say which requests may run as tasks
# (``tasks.requests`` in 2025-11-25) and which results may be an ``InputRequiredResult`` (the
# ``*ResultResponse`` definitions of 2026-07-28).

_REQUESTS = [spec for spec in SPECS if spec.kind is mcp.Kind.REQUEST]


def _receivers(spec: mcp.MethodSpec) -> list[str]:
    """The capabilities definitions of those who may receive the request *spec*."""
    return [
        name
        for name, by_client in (("ServerCapabilities", True), ("ClientCapabilities", False))
        if spec.direction.allows(by_client)
    ]


def _member(definition: dict[str, Any], path: tuple[str, ...], revision: str) -> bool:
    """Whether *path* leads through the members *definition* declares."""
    for name in path:
        while "$ref" in definition:
            definition = schemas.definitions(revision)[definition["$ref"].rsplit("/", 1)[-1]]
        if name not in definition.get("properties", {}):
            return False
        definition = definition["properties"][name]
    return True


@pytest.mark.parametrize("spec", _REQUESTS, ids=[f"{s.revision}-{s.method}" for s in _REQUESTS])
def test_the_capability_of_each_request_is_the_schemas(spec: mcp.MethodSpec) -> None:
    group = spec.method.split("/")[0]
    for receiver in _receivers(spec):
        definition = schemas.definitions(spec.revision)[receiver]
        named = [
            name for name in (group, f"{group}s") if name in _declared(definition, spec.revision)[0]
        ]
        if spec.capability is mcp.NO_CAPABILITY:
            assert named == [], f"MCP {spec.revision} {receiver} has {named} for {spec.method}"
            continue
        assert named == [spec.capability[0]], f"{receiver} names {named}"
        assert _member(definition, spec.capability, spec.revision), (
            f"MCP {spec.revision} {receiver} has no {'.'.join(spec.capability)}"
        )


@pytest.mark.parametrize("revision", REVISIONS)
def test_the_requests_that_may_run_as_tasks_are_the_schemas(revision: str) -> None:
    for receiver, by_client in (("ServerCapabilities", True), ("ClientCapabilities", False)):
        definition = schemas.definitions(revision)[receiver]
        declared: set[str] = set()
        if _member(definition, ("tasks", "requests"), revision):
            groups = definition["properties"]["tasks"]["properties"]["requests"]["properties"]
            declared = {
                f"{group}/{name}" for group, value in groups.items() for name in value["properties"]
            }
        ours = {
            spec.method
            for spec in mcp.methods_of(revision, kind=mcp.Kind.REQUEST, sender_is_client=by_client)
            if spec.task_result is not None
        }
        assert ours == declared, f"MCP {revision} {receiver}: {sorted(ours ^ declared)} disagree"


@pytest.mark.parametrize("spec", _REQUESTS, ids=[f"{s.revision}-{s.method}" for s in _REQUESTS])
def test_the_requests_input_may_answer_are_the_schemas(spec: mcp.MethodSpec) -> None:
    assert spec.result is not None
    definitions = schemas.definitions(spec.revision)
    if "InputRequiredResult" not in definitions:
        assert not spec.input_required
        return
    response = definitions[f"{_definition(spec.result, spec.revision)}Response"]
    answers = {
        part["$ref"].rsplit("/", 1)[-1]
        for part in response["properties"]["result"].get(
            "anyOf", [response["properties"]["result"]]
        )
    }
    assert ("InputRequiredResult" in answers) is spec.input_required, sorted(answers)
