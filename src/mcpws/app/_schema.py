"""JSON schemas for tool arguments: derived from a handler's annotations, and checked.

:func:`input_schema` turns the parameters of a function into the ``inputSchema`` of a tool,
for simple annotations: ``str``, ``int``, ``float``, ``bool``, ``list[X]``, ``dict[str, X]``,
``Literal[...]`` and ``X | None``. A parameter with a default is optional.
:func:`check` validates arguments against such a schema (or one given by hand, of which it
reads ``type``, ``properties``, ``required``, ``items``, ``enum`` and
``additionalProperties``) and names the first field at fault.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, Literal

__all__ = ["SchemaError", "check", "input_schema", "parameters"]

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


def _schema(annotation: Any, where: str) -> dict[str, Any]:
    """The schema of *annotation*."""
    if annotation is Any:
        return {}
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


def check(schema: dict[str, Any], value: Any, path: str = "") -> str | None:
    """Say what is wrong with *value* for *schema*, naming the field, or return ``None``."""
    where = f"argument {path!r}" if path else "the arguments"
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
                return f"argument {_join(path, name)!r} is required"
        extra = schema.get("additionalProperties", True)
        for name, member in value.items():
            inner = properties.get(name, extra)
            if inner is False:
                return f"argument {_join(path, name)!r} is not expected"
            if isinstance(inner, dict) and (problem := check(inner, member, _join(path, name))):
                return problem
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, member in enumerate(value):
            if problem := check(schema["items"], member, f"{path}[{index}]"):
                return problem
    return None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
