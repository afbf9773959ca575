"""The machinery behind the typed MCP messages: conversion to and from JSON values.

A model is a frozen, slotted, keyword-only attrs class deriving from :class:`Model`. Each
field stands for one member of a JSON object; its JSON name is the field name in camelCase
(``input_schema`` is ``inputSchema``, ``meta`` is ``_meta``) unless the field's metadata says
otherwise (``metadata={"json": "name"}``). The field's annotation says how the member is
checked and converted:

===========================  ==================================================================
annotation                   JSON member
===========================  ==================================================================
``str``, ``int``, ``bool``   that type exactly (``int`` excludes booleans)
``float``                    any number, kept as the integer or float it was
``Any``                      any JSON value, unchecked
``dict[str, Any]``           any JSON object, kept as it is
``Literal["a", "b"]``        one of those strings
a :class:`Model` subclass    an object, converted recursively
a union of models            an object, told apart by the tag field the models declare with
                             a ``Literal`` (``type`` for content blocks)
``list[X]``, ``dict[str, X]``  an array or object of X
``X | None``                 an optional member; an absent member (or a JSON null) is ``None``
===========================  ==================================================================

Members a model does not declare are kept in ``extra``, and ``to_json`` writes them back, so
decoding and encoding a valid value gives back the same JSON value. Decoding raises
:class:`~mcpws.core.errors.InvalidParams` naming the path of the member at fault; building a
model with a wrong argument raises :class:`TypeError` naming the field.

The conversion plans are compiled on first use, from the resolved annotations, and kept per
class.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, Self

import attrs

from mcpws.core.errors import InvalidParams

__all__ = ["EMPTY", "Model", "json_name", "null_member"]

#: The shared, immutable empty mapping that stands for "no unknown members".
EMPTY: Mapping[str, Any] = types.MappingProxyType({})

_new = object.__new__
_set = object.__setattr__

Convert = Callable[[Any], Any]


def json_name(attribute: str) -> str:
    """Return the JSON member name of a model field: camelCase, and ``meta`` as ``_meta``."""
    if attribute == "meta":
        return "_meta"
    head, *rest = attribute.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _prefixed(exc: InvalidParams, step: str | int) -> InvalidParams:
    part = f"[{step}]" if isinstance(step, int) else step
    if not exc.path:
        path = part
    elif exc.path.startswith("["):
        path = part + exc.path
    else:
        path = f"{part}.{exc.path}"
    return InvalidParams(exc.reason, path=path)


@attrs.frozen
class _Conversion:
    """How one annotation converts: JSON to Python, Python to JSON, and the Python check.

    ``encode`` is ``None`` when the Python value is its own JSON value. ``decode`` is ``None``
    when, besides, ``accepts`` is the whole check; a container of plain values that checks
    each element, to name the one at fault, has a ``decode`` and no ``encode``.
    """

    decode: Convert | None
    encode: Convert | None
    accepts: Callable[[Any], bool]
    describe: str
    python_check: Callable[[Any], bool] | None = None
    literals: tuple[str, ...] = ()
    #: ``list`` for arrays; a union sends the arrays it meets to its one array member.
    json_kind: type | None = None

    def from_json(self, value: Any) -> Any:
        if self.decode is not None:
            return self.decode(value)
        if not self.accepts(value):
            raise InvalidParams(f"must be {self.describe}")
        return value

    def check(self, value: Any) -> bool:
        return (self.python_check or self.accepts)(value)


def _is_str(value: Any) -> bool:
    return type(value) is str


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float


def _is_bool(value: Any) -> bool:
    return type(value) is bool


def _is_object(value: Any) -> bool:
    return type(value) is dict


def _is_anything(_: Any) -> bool:
    return True


def _instance_check(value: Any, kinds: tuple[type, ...]) -> bool:
    return isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)


_SCALARS: dict[Any, _Conversion] = {
    str: _Conversion(None, None, _is_str, "a string", lambda v: isinstance(v, str)),
    int: _Conversion(None, None, _is_int, "an integer", lambda v: _instance_check(v, (int,))),
    float: _Conversion(
        None, None, _is_number, "a number", lambda v: _instance_check(v, (int, float))
    ),
    bool: _Conversion(None, None, _is_bool, "a boolean"),
    Any: _Conversion(None, None, _is_anything, "any JSON value"),
}


def _literal(values: tuple[Any, ...]) -> _Conversion:
    allowed = frozenset(values)
    shown = " or ".join(repr(v) for v in values)

    def accepts(value: Any) -> bool:
        return type(value) is str and value in allowed

    return _Conversion(None, None, accepts, shown, literals=values)


def _list(item: _Conversion) -> _Conversion:
    item_encode, item_check = item.encode, item.check

    def accepts(value: Any) -> bool:
        return type(value) is list and all(map(item.accepts, value))

    def decode(value: Any) -> Any:
        if type(value) is not list:
            raise InvalidParams("must be an array")
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item.from_json(element))
            except InvalidParams as exc:
                raise _prefixed(exc, index) from None
        return out

    def encode(value: Any) -> Any:
        return [item_encode(element) for element in value]  # type: ignore[misc]

    def check(value: Any) -> bool:
        return isinstance(value, list) and all(map(item_check, value))

    if item_encode is None:
        return _Conversion(
            None, None, accepts, f"an array of {item.describe}", check, json_kind=list
        )
    return _Conversion(decode, encode, accepts, "an array", check, json_kind=list)


def _mapping(item: _Conversion) -> _Conversion:
    if item.decode is None and item.encode is None and item.accepts is _is_anything:
        return _Conversion(None, None, _is_object, "an object", lambda v: isinstance(v, dict))
    item_encode, item_check = item.encode, item.check

    def decode(value: Any) -> Any:
        if type(value) is not dict:
            raise InvalidParams("must be an object")
        out = {}
        for key, element in value.items():
            try:
                out[key] = item.from_json(element)
            except InvalidParams as exc:
                raise _prefixed(exc, key) from None
        return out

    def encode(value: Any) -> Any:
        return {key: item_encode(element) for key, element in value.items()}  # type: ignore[misc]

    def check(value: Any) -> bool:
        return isinstance(value, dict) and all(map(item_check, value.values()))

    if item_encode is None:
        return _Conversion(decode, None, _is_object, "an object", check)
    return _Conversion(decode, encode, _is_object, "an object", check)


def _to_json(value: Model) -> dict[str, Any]:
    return value.to_json()


def _instance_of(kinds: type | tuple[type, ...]) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return isinstance(value, kinds)

    return check


def _model(cls: type[Model]) -> _Conversion:
    def decode(value: Any) -> Any:
        return _plan(cls).decode(value)

    return _Conversion(decode, _to_json, _is_object, f"a {cls.__name__} object", _instance_of(cls))


def _model_union(members: tuple[type[Model], ...]) -> _Conversion:
    """Models told apart by the first member each declares as a ``Literal``, if there is one.

    Models with no such member are tried in order, and the first that decodes wins.
    """
    plans = [_plan(cls) for cls in members]
    key = next((f.key for f in plans[0].fields if all(f.key in p.literals for p in plans)), None)
    table: dict[str | None, _Plan] = {}
    if key is not None:
        for plan in plans:
            for value in plan.literals[key]:
                table[value] = plan
    shown = " or ".join(repr(v) for v in table if v is not None)

    def decode(value: Any) -> Any:
        if type(value) is not dict:
            raise InvalidParams("must be an object")
        if key is None:
            return _first_fit(plans, value)
        tag = value.get(key)
        plan = table.get(tag) if tag is None or type(tag) is str else None
        if plan is None:
            raise InvalidParams(f"must be {shown}", path=key)
        return plan.decode(value)

    names = " or ".join(cls.__name__ for cls in members)
    return _Conversion(decode, _to_json, _is_object, f"a {names} object", _instance_of(members))


def _first_fit(plans: list[_Plan], value: dict[str, Any]) -> Any:
    failures = []
    for plan in plans:
        try:
            return plan.decode(value)
        except InvalidParams as exc:
            failures.append(f"as {plan.cls.__name__}, {exc}")
    raise InvalidParams("matches none of its types: " + "; ".join(failures))


def _union(options: tuple[_Conversion, ...], models: tuple[type[Model], ...]) -> _Conversion:
    """Values of different JSON kinds: objects go to *models*, the rest to *options*."""
    objects = _model_union(models) if models else None
    arrays = next((o for o in options if o.json_kind is list), None)
    scalars = tuple(o for o in options if o is not arrays)
    shown = " or ".join([*(o.describe for o in options), *([objects.describe] if objects else [])])

    def accepts(value: Any) -> bool:
        return any(o.accepts(value) for o in options) or (
            objects is not None and objects.accepts(value)
        )

    def decode(value: Any) -> Any:
        kind = type(value)
        if kind is dict and objects is not None:
            return objects.from_json(value)
        if kind is list and arrays is not None:
            return arrays.from_json(value)
        if any(o.accepts(value) for o in scalars):
            return value
        raise InvalidParams(f"must be {shown}")

    def encode(value: Any) -> Any:
        if isinstance(value, Model):
            return value.to_json()
        if arrays is not None and arrays.encode is not None and isinstance(value, list):
            return arrays.encode(value)
        return value

    def check(value: Any) -> bool:
        return any(o.check(value) for o in options) or (
            objects is not None and objects.check(value)
        )

    plain = objects is None and all(o.decode is None and o.encode is None for o in options)
    if plain:
        return _Conversion(None, None, accepts, shown, check)
    return _Conversion(decode, encode, accepts, shown, check)


def _conversion(annotation: Any) -> tuple[_Conversion, bool]:
    """Return the conversion of an annotation, and whether the member may be absent."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is types.UnionType or origin is typing.Union:
        options = tuple(a for a in arguments if a is not type(None))
        optional = len(options) < len(arguments)
        if len(options) == 1:
            return _conversion(options[0])[0], optional
        models = tuple(o for o in options if isinstance(o, type) and issubclass(o, Model))
        others = tuple(_conversion(o)[0] for o in options if o not in models)
        if not others:
            return _model_union(models), optional
        return _union(others, models), optional
    if annotation is Any:  # any JSON value: null too, so absent is allowed
        return _SCALARS[Any], True
    if annotation in _SCALARS:
        return _SCALARS[annotation], False
    if origin is Literal:
        return _literal(arguments), False
    if origin is list:
        return _list(_conversion(arguments[0])[0]), False
    if origin is dict or origin is Mapping:
        return _mapping(_conversion(arguments[1])[0]), False
    if isinstance(annotation, type) and issubclass(annotation, Model):
        return _model(annotation), False
    raise TypeError(f"no JSON conversion for the annotation {annotation!r}")


@attrs.frozen
class _Field:
    attribute: str
    key: str
    required: bool
    conversion: _Conversion
    nullable: bool = False


def _fields_most_derived_first(cls: type[Model]) -> list[attrs.Attribute[Any]]:
    """A model's fields, its own first and then its bases' (attrs lists bases' first), so that
    ``name`` comes before ``_meta`` in JSON and in the ``repr``."""
    every = {field.name: field for field in attrs.fields(cls)}
    ordered: dict[str, attrs.Attribute[Any]] = {}
    for klass in cls.__mro__:
        if attrs.has(klass):
            for field in attrs.fields(klass):
                if not field.inherited and field.name != "extra":
                    ordered.setdefault(field.name, every[field.name])
    return list(ordered.values())


class _Plan:
    """The compiled conversion of one model class."""

    def __init__(self, cls: type[Model]) -> None:
        hints = typing.get_type_hints(cls)
        fields = []
        #: For each member whose values are a Literal, those values (None: it may be absent).
        self.literals: dict[str, tuple[str | None, ...]] = {}
        for field in _fields_most_derived_first(cls):
            conversion, optional = _conversion(hints[field.name])
            key = field.metadata.get("json", json_name(field.name))
            nullable = bool(field.metadata.get("nullable"))
            fields.append(_Field(field.name, key, nullable or not optional, conversion, nullable))
            if conversion.literals:
                self.literals[key] = (*conversion.literals, *((None,) if optional else ()))
        #: The members that may not be JSON null, each with its model class, if it is one.
        self.not_null = {f.key: _model_of(hints[f.attribute]) for f in fields if not f.nullable}
        self.cls = cls
        self.fields = tuple(fields)
        self.keys = frozenset(f.key for f in fields)
        self.steps = tuple(
            (
                f.attribute,
                f.key,
                f.required and not f.nullable,
                f.nullable,
                f.conversion.decode,
                f.conversion.accepts,
            )
            for f in fields
        )
        self.encoders = tuple((f.attribute, f.key, f.conversion.encode, f.nullable) for f in fields)

    def decode(self, value: Any) -> Any:
        if type(value) is not dict:
            raise InvalidParams("must be an object")
        instance = _new(self.cls)
        for attribute, key, required, nullable, decode, accepts in self.steps:
            member = value.get(key)
            if member is None:
                if required:
                    raise InvalidParams("is required", path=key)
                if nullable and key not in value:
                    raise InvalidParams("is required (it may be null)", path=key)
            elif decode is not None:
                try:
                    member = decode(member)
                except InvalidParams as exc:
                    raise _prefixed(exc, key) from None
            elif not accepts(member):
                raise InvalidParams(f"must be {_describe(self.cls, key)}", path=key)
            _set(instance, attribute, member)
        keys = self.keys
        if keys.issuperset(value):
            _set(instance, "extra", EMPTY)
        else:
            _set(instance, "extra", {k: v for k, v in value.items() if k not in keys})
        return instance

    def encode(self, instance: Model) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for attribute, key, encode, nullable in self.encoders:
            value = getattr(instance, attribute)
            if value is not None:
                out[key] = value if encode is None else encode(value)
            elif nullable:
                out[key] = None
        if instance.extra:
            out.update(instance.extra)
        return out

    def check(self, instance: Model) -> None:
        for field in self.fields:
            value = getattr(instance, field.attribute)
            if value is None:
                if field.required and not field.nullable:
                    raise TypeError(f"{self.cls.__name__}.{field.attribute} is required")
            elif not field.conversion.check(value):
                raise TypeError(
                    f"{self.cls.__name__}.{field.attribute} must be {field.conversion.describe},"
                    f" not {value!r:.60}"
                )
        clash = self.keys.intersection(instance.extra)
        if clash:
            raise ValueError(f"extra members {sorted(clash)} are fields of {self.cls.__name__}")


_PLANS: dict[type, _Plan] = {}


def _model_of(annotation: Any) -> type[Model] | None:
    """The model class *annotation* names, alone or with ``None``; else ``None``."""
    options = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    only = options[0]
    if len(options) == 1 and isinstance(only, type) and issubclass(only, Model):
        return only
    return None


def null_member(cls: type[Model], value: Any) -> str | None:
    """The path of the first member of *value* that *cls* declares and that is JSON null
    (as a schema without ``null`` forbids), looking into members that are models; ``None``
    when there is none. Members the model does not declare may be null."""
    if type(value) is not dict:
        return None
    not_null = _plan(cls).not_null
    members: dict[str, Any] = value
    for key, member in members.items():
        if key not in not_null:
            continue
        if member is None:
            return key
        inner = not_null[key]
        path: str | None = None if inner is None else null_member(inner, member)
        if path is not None:
            return f"{key}.{path}"
    return None


def _describe(cls: type[Model], key: str) -> str:
    return next(f.conversion.describe for f in _plan(cls).fields if f.key == key)


def _plan(cls: type[Model]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(cls)
    return plan


@attrs.frozen(kw_only=True, repr=False)
class Model:
    """Base class of the typed MCP structures.

    ``extra`` holds the members of the JSON object that the model does not declare, so that
    nothing a newer peer sends is lost. The ``repr`` shows the members that are set.
    """

    extra: Mapping[str, Any] = attrs.field(default=EMPTY)

    def __repr__(self) -> str:
        shown = [
            f"{field.attribute}={value!r}"
            for field in _plan(type(self)).fields
            if (value := getattr(self, field.attribute)) is not None or field.nullable
        ]
        if self.extra:
            shown.append(f"extra={dict(self.extra)!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __attrs_post_init__(self) -> None:
        _plan(type(self)).check(self)

    @classmethod
    def from_json(cls, value: Any) -> Self:
        """Build the model from a decoded JSON value.

        Raises :class:`~mcpws.core.errors.InvalidParams` naming the first member at fault.
        """
        result: Self = _plan(cls).decode(value)
        return result

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object (a dict) this model stands for."""
        return _plan(type(self)).encode(self)
