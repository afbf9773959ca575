"""JSON schemas for tool arguments and results: derived from a handler's annotations, and
checked.

:func:`input_schema` turns the parameters of a function into the ``inputSchema`` of a tool,
for simple annotations: ``str``, ``int``, ``float``, ``bool``, ``list[X]``, ``dict[str, X]``,
``Literal[...]`` and ``X | None``. A parameter with a default is optional.
:func:`output_schema` turns a return annotation into the ``outputSchema`` of a tool: those
annotations, and ``TypedDict``, dataclass and ``attrs`` classes; a result that is not an
object is wrapped as ``{"result": ...}``, as the official SDK does.
:func:`check` validates arguments against such a schema (or one given by hand, of which it
reads ``type``, ``properties``, ``required``, ``items``, ``enum`` and
``additionalProperties``) and names the first field at fault.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, Literal

import attrs

from mcpws.core.mcp import Model

__all__ = ["Output", "SchemaError", "check", "input_schema", "output_schema", "parameters"]

_SIMPLE: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


class SchemaError(TypeError):
    """An annotation that has no JSON schema here."""


def parameters(fn: Callable[..., Any], skip: type | None = None) -> list[inspect.Parameter]:
    """The parameters of *fn* that are arguments (those annotated *skip* left out)."""
    hints = typing.get_type_hints(fn)
    found = []
    for parameter in inspect.signature(fn).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if skip is not None and hints.get(parameter.name) is skip:
            continue
        found.append(parameter.replace(annotation=hints.get(parameter.name, Any)))
    return found


def input_schema(fn: Callable[..., Any], skip: type | None = None) -> dict[str, Any]:
    """The JSON schema of the arguments of *fn*; raises :class:`SchemaError` for an
    annotation it cannot describe."""
    properties: dict[str, Any] = {}
    required = []
    for parameter in parameters(fn, skip):
        properties[parameter.name] = _schema(parameter.annotation, parameter.name)
        if parameter.default is parameter.empty:
            required.append(parameter.name)
    result: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        result["required"] = required
    if not any(p.kind is p.VAR_KEYWORD for p in inspect.signature(fn).parameters.values()):
        result["additionalProperties"] = False
    return result


@attrs.frozen
class Output:
    """A tool's structured output: its schema, and whether a value is wrapped in it as
    ``{"result": value}`` (for a value that is not an object)."""

    schema: dict[str, Any]
    wrapped: bool = False

    def content(self, value: Any) -> Any:
        """The structured content for a value the tool returned: JSON, wrapped if need be."""
        value = to_json(value)
        return {"result": value} if self.wrapped else value


def output_schema(fn: Callable[..., Any]) -> Output | None:
    """The structured output of *fn*, from its return annotation; ``None`` for no
    annotation, one of text (``str``), of MCP's own types or of no schema here."""
    annotation = typing.get_type_hints(fn).get("return", Any)
    if annotation in (Any, str, type(None), None) or _is_model(annotation):
        return None
    try:
        schema = _schema(annotation, "return")
    except SchemaError:
        return None
    if schema.get("type") == "object":
        return Output(schema)
    wrapper = {"type": "object", "properties": {"result": schema}, "required": ["result"]}
    return Output(wrapper, wrapped=True)


def _is_model(annotation: Any) -> bool:
    origin = typing.get_origin(annotation) or annotation
    if origin is list:
        return any(_is_model(arg) for arg in typing.get_args(annotation))
    return isinstance(origin, type) and issubclass(origin, Model)


def to_json(value: Any) -> Any:
    """*value* as JSON: dataclass and ``attrs`` instances become objects, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if attrs.has(type(value)):
        return {f.name: to_json(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, dict):
        return {key: to_json(member) for key, member in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(member) for member in value]
    return value


def _record(annotation: Any, where: str) -> dict[str, Any] | None:
    """The object schema of a TypedDict, dataclass or ``attrs`` class, else ``None``."""
    if typing.is_typeddict(annotation):
        hints = typing.get_type_hints(annotation)
        required = [name for name in hints if name in annotation.__required_keys__]
    elif isinstance(annotation, type) and (
        dataclasses.is_dataclass(annotation) or attrs.has(annotation)
    ):
        hints = typing.get_type_hints(annotation)
        fields: Any = (
            dataclasses.fields(annotation)
            if dataclasses.is_dataclass(annotation)
            else attrs.fields(annotation)
        )
        required = [f.name for f in fields if not _has_default(f)]
        hints = {f.name: hints[f.name] for f in fields}
    else:
        return None
    properties = {name: _schema(hint, f"{where}.{name}") for name, hint in hints.items()}
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _has_default(field: Any) -> bool:
    if isinstance(field, dataclasses.Field):
        return not (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
    return field.default is not attrs.NOTHING


def _schema(annotation: Any, where: str) -> dict[str, Any]:
    """The schema of *annotation*."""
    if annotation is Any:
        return {}
    record = _record(annotation, where)
    if record is not None:
        return record
    if annotation in _SIMPLE:
        return {"type": _SIMPLE[annotation]}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1:
            return _nullable(_schema(rest[0], where))
    elif origin is Literal and all(type(arg) in (str, int, bool) for arg in args):
        return {"enum": list(args)}
    elif annotation is list or origin is list:
        items = _schema(args[0], where) if args else {}
        return {"type": "array", **({"items": items} if items else {})}
    elif annotation is dict or (origin is dict and (not args or args[0] is str)):
        values = _schema(args[1], where) if len(args) == 2 else {}
        return {"type": "object", **({"additionalProperties": values} if values else {})}
    raise SchemaError(f"parameter {where!r}: no JSON schema for {annotation!r}")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """*schema*, admitting ``null`` too."""
    if "type" in schema:
        return {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    return schema


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not 1, though Python says so."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: type(value) is int,
    "number": lambda value: type(value) in (int, float),
    "boolean": lambda value: type(value) is bool,
    "array": lambda value: isinstance(value, list),
    "object": lambda value: isinstance(value, dict),
    "null": lambda value: value is None,
}


def check(
    schema: dict[str, Any], value: Any, path: str = "", *, noun: str = "argument"
) -> str | None:
    """Say what is wrong with *value* for *schema*, naming the field (an *noun*), or return
    ``None``."""
    where = f"{noun} {path!r}" if path else f"the {noun}s"
    kinds = schema.get("type")
    if kinds is not None:
        names = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_CHECKS.get(name, lambda _: True)(value) for name in names):
            return f"{where} must be of type {' or '.join(names)}"
    if "enum" in schema and not any(_same(value, option) for option in schema["enum"]):
        return f"{where} must be one of {schema['enum']}"
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                return f"{noun} {_join(path, name)!r} is required"
        extra = schema.get("additionalProperties", True)
        for name, member in value.items():
            inner = properties.get(name, extra)
            if inner is False:
                return f"{noun} {_join(path, name)!r} is not expected"
            if isinstance(inner, dict) and (
                problem := check(inner, member, _join(path, name), noun=noun)
            ):
                return problem
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, member in enumerate(value):
            if problem := check(schema["items"], member, f"{path}[{index}]", noun=noun):
                return problem
    return None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
