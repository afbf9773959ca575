#!/usr/bin/env python3
"""Fuzz the application layer's argument checking (mcpws.app) with atheris.

Bit 0 of the first byte chooses one of two harnesses:

* Schemas: a parameter annotation is drawn from the input (``str``, ``int``, ``float``,
  ``bool``, ``Any``, ``list[X]``, ``dict[str, X]``, ``Literal[...]``, ``X | None``, nested,
  and annotations that have no schema: ``bytes``, ``tuple[int]``, ``dict[int, str]``,
  ``int | str``), for one or two parameters, with a default or not, beside ``**kwargs`` or
  not. :func:`mcpws.app.input_schema` must describe the function or raise ``SchemaError``,
  exactly when one annotation has no schema; then JSON arguments drawn from the input must
  pass :func:`mcpws.app.check_arguments` exactly when they fit the annotations, as a reading
  of the annotations that shares no code with the schema says.
* A server: ``tools/call``, ``prompts/get``, ``resources/read`` and ``completion/complete``
  requests whose params are drawn from the input reach an initialized session and a
  :class:`mcpws.app.Server` with tools of every kind of parameter, answered as a driver
  answers (:func:`mcpws.lowlevel.answer`). Each request gets one answer: a result, or an
  error with code -32602 (invalid params), -32601 or -32002, never -32603 (the handler
  failed); a tool runs only with arguments that fit its annotations, and arguments that do
  not fit give an ``isError`` result that says so.

Run it (pytest does not collect this file: its name does not start with ``test_``)::

    python tests/fuzz/fuzz_arguments.py -max_total_time=60
"""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Callable
from typing import Any, Literal

import atheris
from fuzzing import Script, Snapshot, jsonrpc_items, run

with atheris.instrument_imports(include=["mcpws"]):
    from mcpws.app import Context, SchemaError, Server, check_arguments, input_schema
    from mcpws.core import jsonrpc
    from mcpws.core.session import RequestReceived, ServerSession
    from mcpws.lowlevel import answer

#: libFuzzer's options for this harness, before those of the command line.
FLAGS = ("-max_len=256", "-timeout=10")
#: Requests an input sends the server at most.
MOVES = 4
_NAMES = ["a", "b", "text", "n", "x", "rest"]
_LITERALS: list[Any] = ["a", "b", 1, 2, True, False, ""]
_NOT_DESCRIBED: list[Any] = [complex, tuple[int, ...] | bytes, dict[int, str], int | str, set[str]]


# Annotations, and what fits them, read independently of the schema -------------------------


def _annotation(script: Script, depth: int = 0) -> Any:
    choice = script.number(0, 10 if depth < 3 else 4)
    simple: list[Any] = [str, int, float, bool, Any]
    if choice <= 4:
        return simple[choice]
    if choice == 5:
        return list[_annotation(script, depth + 1)]  # type: ignore[misc]
    if choice == 6:
        return dict[str, _annotation(script, depth + 1)]  # type: ignore[misc]
    if choice == 7:
        options = tuple(script.pick(_LITERALS) for _ in range(script.number(1, 3)))
        return Literal.__getitem__(options)
    if choice == 8:
        return _annotation(script, depth + 1) | None
    if choice == 9:
        return script.pick([list, dict, bytes])
    if choice == 10 and script.flag():
        items = tuple(_annotation(script, depth + 1) for _ in range(script.number(1, 3)))
        return tuple.__class_getitem__(items) if script.flag() else tuple[items[0], ...]  # type: ignore[valid-type]
    return script.pick(_NOT_DESCRIBED)


def _described(annotation: Any) -> bool:
    """Whether the schema module is meant to describe *annotation*."""
    if annotation in (str, int, float, bool, Any, list, dict, bytes):
        return True
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list:
        return _described(args[0])
    if origin is tuple:
        return all(arg is Ellipsis or _described(arg) for arg in args)
    if origin is dict:
        return args[0] is str and _described(args[1])
    if origin is Literal:
        return True
    if origin in (typing.Union, types.UnionType):
        rest = [arg for arg in args if arg is not type(None)]
        return len(rest) == 1 and len(args) == 2 and _described(rest[0])
    return False


def _equal(a: Any, b: Any) -> bool:
    """JSON's equality: booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if type(a) in (int, float) and type(b) in (int, float):
        return bool(a == b)
    return type(a) is type(b) and a == b


def fits(annotation: Any, value: Any) -> bool:
    """Whether the JSON *value* is what *annotation* asks for."""
    if annotation is Any:
        return True
    if annotation in (str, bool):
        return type(value) is annotation
    if annotation is bytes:  # base64 text: what is not base64 fails later, when converted
        return type(value) is str
    if annotation is int:
        return type(value) is int
    if annotation is float:
        return type(value) in (int, float)
    if annotation is list:
        return type(value) is list
    if annotation is dict:
        return type(value) is dict
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list:
        return type(value) is list and all(fits(args[0], item) for item in value)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return type(value) is list and all(fits(args[0], item) for item in value)
    if origin is tuple:
        return (
            type(value) is list
            and len(value) == len(args)
            and all(fits(arg, item) for arg, item in zip(args, value, strict=True))
        )
    if origin is dict:
        return type(value) is dict and all(fits(args[1], item) for item in value.values())
    if origin is Literal:
        return any(_equal(value, option) for option in args)
    rest = [arg for arg in args if arg is not type(None)]
    return value is None or fits(rest[0], value)


def fit_arguments(parameters: list[inspect.Parameter], open_ended: bool, value: Any) -> bool:
    """Whether *value* is the arguments of a function with *parameters* (and ``**kwargs``,
    when *open_ended*) whose annotations say what each takes."""
    if type(value) is not dict:
        return False
    known = {parameter.name: parameter for parameter in parameters}
    if any(p.default is p.empty and p.name not in value for p in parameters):
        return False
    for name, member in value.items():
        if name not in known:
            if not open_ended:
                return False
        elif not fits(known[name].annotation, member):
            return False
    return True


def _function(parameters: list[inspect.Parameter], open_ended: bool) -> Callable[..., Any]:
    def function(**arguments: Any) -> Any:
        return arguments

    kwargs = [inspect.Parameter("rest", inspect.Parameter.VAR_KEYWORD, annotation=Any)]
    function.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*parameters, *(kwargs if open_ended else [])]
    )
    function.__annotations__ = {p.name: p.annotation for p in parameters}
    return function


def fuzz_schema(script: Script) -> None:
    parameters = []
    for name in _NAMES[: script.number(1, 2)]:
        annotation = _annotation(script)
        default = None if script.flag() else inspect.Parameter.empty
        kind = inspect.Parameter.KEYWORD_ONLY
        parameters.append(inspect.Parameter(name, kind, default=default, annotation=annotation))
    open_ended = script.flag()
    function = _function(parameters, open_ended)
    described = all(_described(p.annotation) for p in parameters)
    try:
        schema = input_schema(function)
    except SchemaError:
        if described:
            raise
        return
    if not described:
        raise AssertionError(f"a schema for what has none: {parameters}: {schema}")
    json.dumps(schema)
    for _ in range(3):
        if not script.left():
            break
        value = script.value(keys=_NAMES) if script.number(0, 3) else {}
        if script.flag() and isinstance(value, dict):
            value = {**value, **{p.name: script.value(keys=_NAMES) for p in parameters}}
        problem = check_arguments(schema, value)
        if (problem is None) != fit_arguments(parameters, open_ended, value):
            raise AssertionError(f"{parameters} {schema}: {value!r} -> {problem!r}")


# A server -----------------------------------------------------------------------------------

_CALLS: list[tuple[str, dict[str, Any]]] = []


def _tools(server: Server) -> dict[str, Callable[..., Any]]:
    """Register tools of every kind of parameter; each notes the arguments it gets."""

    def echo(text: str) -> str:
        _CALLS.append(("echo", {"text": text}))
        return text

    def add(a: int, b: int = 1) -> int:
        _CALLS.append(("add", {"a": a, "b": b}))
        return a + b

    def scale(x: float, flag: bool = False) -> dict[str, Any]:
        _CALLS.append(("scale", {"x": x, "flag": flag}))
        return {"x": x}

    def pick(kind: Literal["a", "b", 1, True]) -> str:
        _CALLS.append(("pick", {"kind": kind}))
        return str(kind)

    def maybe(n: int | None, tags: list[str] | None = None) -> None:
        _CALLS.append(("maybe", {"n": n, "tags": tags}))

    def table(rows: list[list[int]], names: dict[str, float]) -> list[Any]:
        _CALLS.append(("table", {"rows": rows, "names": names}))
        return []

    def anything(value: Any, **rest: Any) -> Any:
        _CALLS.append(("anything", {"value": value}))
        return [value]

    def with_context(ctx: Context, word: str) -> str:
        _CALLS.append(("with_context", {"word": word}))
        return ctx.method

    tools: list[Callable[..., Any]] = [echo, add, scale, pick, maybe, table, anything, with_context]
    for tool in tools:
        server.add_tool(tool)
    return {tool.__name__: tool for tool in tools}


_SERVER = Server("fuzz")
_TOOLS = _tools(_SERVER)


@_SERVER.prompt()
def greet(name: str, tone: str = "warm") -> str:
    return f"hello {name}, {tone}ly"


@_SERVER.resource("file:///docs/{page}")
def docs(page: str) -> str:
    return page


@_SERVER.completion
def complete(ref: Any, argument: str, value: str) -> list[str]:
    return [value, argument]


class _Link:
    """What a handler may ask of its connection: nothing that waits, here."""

    principal: object = None
    log_level: Any = None
    stateless = False

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a tool of this harness never asks its client")

    async def notify(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("a tool of this harness never notifies")

    async def send_progress(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("a tool of this harness reports no progress")

    async def draining(self) -> None:
        raise AssertionError("no stream here")

    async def in_thread(self, fn: Callable[[], Any]) -> Any:
        return fn()  # no loop to keep going here

    is_open = True

    def waiter(self) -> Any:
        raise AssertionError("no waiting here")


def _initialized() -> ServerSession:
    session = ServerSession(_SERVER.session_config())
    params = {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "fuzz", "version": "1"},
    }
    session.receive_message(jsonrpc.Request("initialize", "initialize", params), 0.0)
    session.receive_message(jsonrpc.Notification("notifications/initialized"), 0.0)
    session.messages_to_send()
    session.events_received()
    return session


_SESSION = Snapshot(_initialized())
_LINK = _Link()
_ALLOWED = (jsonrpc.INVALID_PARAMS, jsonrpc.METHOD_NOT_FOUND, -32002)
_ARGUMENT_NAMES = ["text", "a", "b", "x", "flag", "kind", "n", "tags", "rows", "names", "value"]


def _params(script: Script) -> tuple[str, Any]:
    """A request's method and params: mostly a tool call, its arguments drawn from the input."""
    method = script.pick(
        ["tools/call"] * 5 + ["prompts/get", "resources/read", "completion/complete"]
    )
    if not script.number(0, 7):
        return method, script.value(keys=["name", "arguments", "uri", "ref", "argument"])
    if method == "tools/call":
        arguments = script.value(keys=_ARGUMENT_NAMES) if script.number(0, 7) else {}
        if isinstance(arguments, dict) and script.flag():
            arguments.update({name: script.value() for name in script.pick(_ARGUMENT_NAMES[:4])})
        return method, {"name": script.pick([*_TOOLS, "nope", 1]), "arguments": arguments}
    if method == "prompts/get":
        return method, {
            "name": script.pick(["greet", "nope"]),
            "arguments": script.value(keys=["name", "tone"]),
        }
    if method == "resources/read":
        return method, {"uri": script.pick(["file:///docs/a", "file:///docs/", "file:///x", 1])}
    ref = script.pick(
        [{"type": "ref/prompt", "name": "greet"}, {"type": "ref/resource", "uri": "x"}, 1]
    )
    return method, {
        "ref": ref,
        "argument": {"name": script.pick(["name", 1]), "value": script.value()},
    }


def _fits_tool(name: str, arguments: Any) -> bool:
    function = _TOOLS[name]
    hints = typing.get_type_hints(function)
    parameters = [
        p.replace(annotation=hints.get(p.name, Any))
        for p in inspect.signature(function).parameters.values()
        if p.kind is not p.VAR_KEYWORD and hints.get(p.name) is not Context
    ]
    open_ended = name == "anything"
    return fit_arguments(parameters, open_ended, arguments if arguments is not None else {})


def fuzz_server(script: Script) -> None:
    session = _SESSION.copy()
    for index in range(MOVES):
        if not script.left():
            break
        method, params = _params(script)
        if not isinstance(params, dict):
            continue  # not a request: the channel answers it before a session sees it
        session.receive_message(jsonrpc.Request(index, method, params), 0.0)
        requests = [e for e in session.events_received() if isinstance(e, RequestReceived)]
        del _CALLS[:]
        for request in requests:
            if answer(session, request, _SERVER.handle, _LINK) is not None:
                raise AssertionError(f"a handler of this harness waited: {request!r}")
        texts = session.messages_to_send()
        if len(texts) != 1:
            raise AssertionError(f"{texts!r} answer one request")
        (reply,) = jsonrpc_items(texts[0], batch=False)
        if reply.get("id") != index:
            raise AssertionError(f"{reply!r} does not answer request {index}")
        if "error" in reply:
            if reply["error"]["code"] not in _ALLOWED:
                raise AssertionError(f"{method} {params!r} failed: {reply!r}")
            continue
        if method != "tools/call":
            continue
        name, arguments = params["name"], params.get("arguments")
        result = reply["result"]
        refused = result.get("isError") and result["content"][0]["text"].startswith("invalid arg")
        if _CALLS:
            ((called, _),) = _CALLS
            if called != name or not _fits_tool(name, arguments):
                raise AssertionError(f"{name} ran with {arguments!r}")
        elif not refused:
            raise AssertionError(f"{name} neither ran nor refused {arguments!r}: {reply!r}")
        if refused and _fits_tool(name, arguments):
            raise AssertionError(f"{name} refused {arguments!r}, which fit: {reply!r}")


def fuzz_one_input(data: bytes) -> None:
    script = Script(data)
    if script.flag():
        fuzz_server(script)
    else:
        fuzz_schema(script)


if __name__ == "__main__":
    run(fuzz_one_input, FLAGS)
