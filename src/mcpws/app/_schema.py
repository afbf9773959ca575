"""JSON schemas for tool arguments and results: derived from a handler's annotations, and
checked.

:func:`input_schema` turns the parameters of a function into the ``inputSchema`` of a tool:
``str``, ``int``, ``float``, ``bool``, ``bytes`` (base64 text), ``list[X]``, ``tuple[X, ...]``
and ``tuple[X, Y]``, ``dict[str, X]``, ``Literal[...]``, ``X | None``, and ``TypedDict``,
dataclass and ``attrs`` classes. A parameter with a default is optional, and its default is
in the schema when it is JSON. A parameter's description comes from ``Annotated[X, "text"]``
(or metadata with a ``description``, as a pydantic ``Field``), else from the docstring's
``Args:`` section or ``:param name:`` lines. :func:`converter` turns checked JSON arguments
into what the annotations ask for (bytes, tuples, instances).
:func:`output_schema` turns a return annotation into the ``outputSchema`` of a tool: those
annotations, and ``TypedDict``, dataclass and ``attrs`` classes; a result that is not an
object is wrapped as ``{"result": ...}``, as the official SDK does.
:func:`check` validates arguments against such a schema (or one given by hand, of which it
reads ``type``, ``properties``, ``required``, ``items``, ``prefixItems``, ``minItems``,
``maxItems``, ``enum`` and ``additionalProperties``) and names the first field at fault.
"""

from __future__ import annotations

import base64
import dataclasses
import inspect
import json
import re
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal

import attrs

from mcpws.core.mcp import Model

__all__ = [
    "Output",
    "SchemaError",
    "check",
    "converter",
    "input_schema",
    "output_schema",
    "parameters",
]

_SIMPLE: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_SCALARS = frozenset({str, int, float, bool, type(None)})


class SchemaError(TypeError):
    """An annotation that has no JSON schema here."""


def parameters(fn: Callable[..., Any], skip: type | None = None) -> list[inspect.Parameter]:
    """The parameters of *fn* that are arguments (those annotated *skip* left out)."""
    hints = typing.get_type_hints(fn, include_extras=True)
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
    described = _documented(inspect.getdoc(fn) or "")
    for parameter in parameters(fn, skip):
        schema = _schema(parameter.annotation, parameter.name)
        if "description" not in schema and parameter.name in described:
            schema = {**schema, "description": described[parameter.name]}
        if parameter.default is parameter.empty:
            required.append(parameter.name)
        elif _is_json(parameter.default):
            schema = {**schema, "default": to_json(parameter.default)}
        properties[parameter.name] = schema
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
        """The structured content for *value*, the JSON of what the tool returned: wrapped
        if need be."""
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
    if type(value) in _SCALARS:
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if attrs.has(type(value)):
        return {f.name: to_json(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, dict):
        return {key: to_json(member) for key, member in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(member) for member in value]
    return value


_ARGS_HEADING = re.compile(r"^(Args|Arguments|Parameters):\s*$")
_GOOGLE_ARG = re.compile(r"^(\w+)(?:\s*\([^)]*\))?:\s*(.*)$")
_SPHINX_ARG = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+):\s*(.*)$")


def _documented(doc: str) -> dict[str, str]:
    """The descriptions of parameters in a docstring: its ``Args:`` section (Google style;
    an entry's further lines go on indented) and its ``:param name:`` lines (Sphinx)."""
    found: dict[str, str] = {}
    lines = doc.splitlines()
    for line in lines:
        if match := _SPHINX_ARG.match(line.strip()):
            found[match.group(1)] = match.group(2)
    for index, line in enumerate(lines):
        if not _ARGS_HEADING.match(line.strip()):
            continue
        entries = []
        for following in lines[index + 1 :]:
            if following.strip() and _indent(following) <= _indent(line):
                break
            if following.strip():
                entries.append(following)
        if not entries:
            continue
        level = min(map(_indent, entries))
        current = None
        for entry in entries:
            match = _GOOGLE_ARG.match(entry.strip())
            if _indent(entry) == level and match:
                current = match.group(1)
                found[current] = match.group(2)
            elif current is not None:
                found[current] = f"{found[current]} {entry.strip()}".strip()
    return {name: text for name, text in found.items() if text}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_json(value: Any) -> bool:
    try:
        json.dumps(to_json(value), allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def _record(annotation: Any, where: str) -> dict[str, Any] | None:
    """The object schema of a TypedDict, dataclass or ``attrs`` class, else ``None``."""
    if typing.is_typeddict(annotation):
        hints = typing.get_type_hints(annotation, include_extras=True)
        required = [name for name in hints if name in annotation.__required_keys__]
    elif isinstance(annotation, type) and (
        dataclasses.is_dataclass(annotation) or attrs.has(annotation)
    ):
        hints = typing.get_type_hints(annotation, include_extras=True)
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
    schema["additionalProperties"] = False
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
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        schema = _schema(args[0], where)
        text = next((_description(extra) for extra in args[1:] if _description(extra)), None)
        return schema if text is None else {**schema, "description": text}
    record = _record(annotation, where)
    if record is not None:
        return record
    if annotation in _SIMPLE:
        return {"type": _SIMPLE[annotation]}
    if annotation is bytes:
        return {"type": "string", "contentEncoding": "base64"}
    if origin is tuple and args and all(arg is not Ellipsis for arg in args):
        prefix = [_schema(arg, where) for arg in args]
        n = len(prefix)
        return {"type": "array", "prefixItems": prefix, "minItems": n, "maxItems": n}
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        each = _schema(args[0], where)
        return {"type": "array", **({"items": each} if each else {})}
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


def _description(extra: Any) -> str | None:
    """The description an ``Annotated`` metadata item gives: itself, if text, or its
    ``description`` (a pydantic ``Field``, say)."""
    if isinstance(extra, str):
        return extra
    text = getattr(extra, "description", None)
    return text if isinstance(text, str) else None


def converter(
    fn: Callable[..., Any], skip: type | None = None
) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
    """What turns checked JSON arguments of *fn* into the values its annotations ask for
    (``bytes`` from base64, tuples, dataclass, ``attrs`` and nested instances); ``None``
    when every argument is used as it comes."""
    conversions = {
        p.name: convert
        for p in parameters(fn, skip)
        if (convert := _conversion(p.annotation)) is not None
    }
    if not conversions:
        return None

    def convert_all(arguments: dict[str, Any]) -> dict[str, Any]:
        return {
            name: conversions[name](value) if name in conversions and value is not None else value
            for name, value in arguments.items()
        }

    return convert_all


def _conversion(annotation: Any) -> Callable[[Any], Any] | None:
    """How a JSON value of *annotation* becomes its Python value, or ``None`` when it is
    used as it is."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return _conversion(args[0])
    if annotation is bytes:
        return lambda value: base64.b64decode(value, validate=True)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in args if arg is not type(None)]
        convert = _conversion(inner[0]) if len(inner) == 1 else None
        if convert is None:
            return None
        return lambda value: None if value is None else convert(value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            each = _conversion(args[0]) or _same_value
            return lambda value: tuple(each(item) for item in value)
        converts = [_conversion(arg) or _same_value for arg in args]
        return lambda value: tuple(c(item) for c, item in zip(converts, value, strict=True))
    if origin is list and args and (item := _conversion(args[0])) is not None:
        return lambda value: [item(member) for member in value]
    if origin is dict and len(args) == 2 and (member := _conversion(args[1])) is not None:
        return lambda value: {key: member(inner) for key, inner in value.items()}
    if isinstance(annotation, type) and (
        dataclasses.is_dataclass(annotation) or attrs.has(annotation)
    ):
        hints = typing.get_type_hints(annotation)
        fields = {name: _conversion(hint) or _same_value for name, hint in hints.items()}
        return lambda value: annotation(**{k: fields[k](v) for k, v in value.items()})
    if typing.is_typeddict(annotation):
        hints = typing.get_type_hints(annotation)
        fields = {name: c for name, hint in hints.items() if (c := _conversion(hint)) is not None}
        if not fields:
            return None
        return lambda value: {k: fields[k](v) if k in fields else v for k, v in value.items()}
    return None


def _same_value(value: Any) -> Any:
    return value


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
    if isinstance(value, list):
        least, most = schema.get("minItems"), schema.get("maxItems")
        if type(least) is int and len(value) < least:
            return f"{where} must have at least {least} items"
        if type(most) is int and len(value) > most:
            return f"{where} must have at most {most} items"
        prefix = schema.get("prefixItems")
        for index, (inner, member) in enumerate(zip(prefix or (), value, strict=False)):
            if isinstance(inner, dict) and (
                problem := check(inner, member, f"{path}[{index}]", noun=noun)
            ):
                return problem
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, member in enumerate(value):
            if problem := check(schema["items"], member, f"{path}[{index}]", noun=noun):
                return problem
    return None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
