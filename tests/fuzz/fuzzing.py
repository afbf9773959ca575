"""What the fuzz harnesses share: how one runs (:func:`run`), values drawn from an input
(:class:`Script`), a snapshot of objects built once and copied cheaply for each input
(:class:`Snapshot`), and a reading of JSON-RPC that is independent of
:mod:`mcpws.core.jsonrpc` (:func:`jsonrpc_items`).

It imports no mcpws module, so that a harness imports it before it instruments mcpws.
"""

from __future__ import annotations

import collections
import enum
import inspect
import itertools
import json
import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeAlias, TypeVar

import atheris

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
#: Where crash artefacts go, git-ignored: ``<harness>-crash-<sha1>`` and the like.
CRASHES = HERE / "crashes"
#: Where the inputs a run finds are kept, git-ignored: ``found/<harness>/``.
FOUND = HERE / "found"


def run(fuzz_one_input: Callable[[bytes], None], flags: Sequence[str] = ()) -> None:
    """Fuzz *fuzz_one_input* with libFuzzer's options from the command line, after defaults.

    The defaults are the harness's *flags*, its dictionary (``<harness>.dict`` beside it) and
    crash artefacts in :data:`CRASHES`; an option given on the command line wins. Without a
    corpus directory or input file on the command line, the run reads the seeds in
    ``corpus/<harness>/`` and keeps what it finds in ``found/<harness>/``."""
    name = Path(inspect.getfile(fuzz_one_input)).stem
    CRASHES.mkdir(exist_ok=True)
    defaults = [f"-artifact_prefix={CRASHES}/{name}-", *flags]
    dictionary = HERE / f"{name}.dict"
    if dictionary.exists():
        defaults.append(f"-dict={dictionary}")
    given = sys.argv[1:]
    if not any(not arg.startswith("-") for arg in given):
        found, seeds = FOUND / name, HERE / "corpus" / name
        found.mkdir(parents=True, exist_ok=True)
        given += [str(found), *([str(seeds)] if seeds.is_dir() else [])]
    atheris.Setup([sys.argv[0], *defaults, *given], fuzz_one_input)
    atheris.Fuzz()


# Scripts --------------------------------------------------------------------------------------

#: Members of the objects :meth:`Script.value` builds: some of those MCP's params read.
KEYS = ["name", "arguments", "uri", "cursor", "requestId", "progressToken", "progress", "_meta"]
SCALARS: list[Any] = [None, True, 0, -1, 2**63, 1.5, "", "x", "file:///a", [], {}]


class Script:
    """Values drawn from the fuzzer's input, front to back."""

    def __init__(self, data: bytes) -> None:
        self.fdp = atheris.FuzzedDataProvider(data)

    def left(self) -> int:
        return int(self.fdp.remaining_bytes())

    def number(self, low: int, high: int) -> int:
        return int(self.fdp.ConsumeIntInRange(low, high))

    def flag(self) -> bool:
        return bool(self.fdp.ConsumeBool())

    def pick(self, options: Sequence[Any]) -> Any:
        return options[self.fdp.ConsumeIntInRange(0, len(options) - 1)]

    def id(self) -> Any:
        return self.pick([0, 1, 2, 3, "a", "b", None, 1.5, True])

    def value(self, depth: int = 0, keys: Sequence[str] = KEYS) -> Any:
        """A JSON value: a scalar, a short string, or an array or object, nested a little."""
        choice = self.fdp.ConsumeIntInRange(0, 3 if depth < 3 else 1)
        if choice == 0:
            return self.pick(SCALARS)
        if choice == 1:
            return self.fdp.ConsumeUnicodeNoSurrogates(8)
        if choice == 2:
            return [self.value(depth + 1, keys) for _ in range(self.number(0, 3))]
        return {self.pick(keys): self.value(depth + 1, keys) for _ in range(self.number(0, 4))}


# Snapshots ------------------------------------------------------------------------------------

#: Values a copy shares with the original.
_ATOMIC = (
    type(None), bool, int, float, complex, str, bytes, range, type, enum.Enum,
    types.FunctionType, types.BuiltinFunctionType, types.ModuleType, types.MethodDescriptorType,
    BaseException,  # reported, never changed
)  # fmt: skip
_Copier: TypeAlias = Callable[[dict[int, Any]], Any]


def _frozen(obj: object) -> bool:
    """Whether *obj* is an instance of a frozen attrs class: a value, safe to share."""
    setter = getattr(type(obj), "__setattr__", None)
    return getattr(setter, "__name__", "") == "_frozen_setattrs"


def _fresh_parser(protocol: Any) -> None:
    """Give a copy of a wsproto ``FrameProtocol`` a parser of its own: a generator, which no
    copy can take, and which between frames holds nothing but its object."""
    protocol._parse_more = protocol._parse_more_gen()


def _check_parser(protocol: Any) -> None:
    parser = protocol._parse_more
    state = inspect.getgeneratorstate(parser)
    if state == inspect.GEN_SUSPENDED and parser.gi_frame.f_locals.get("closed") is False:
        return
    if state != inspect.GEN_CREATED:
        raise TypeError("a snapshot cannot hold a wsproto frame parser amid a frame")


class _Planner:
    """Turns an object graph into a function that copies it: the plan is made once, so that a
    copy does no more than build the mutable objects again (sharing every value) and never
    looks at a type."""

    def __init__(self, shared: tuple[type, ...]) -> None:
        self._shared = shared
        self._seen: dict[int, int] = {}

    def plan(self, root: object) -> _Copier:
        self._count(root)
        return self._plan(root, {})

    def _is_value(self, obj: object) -> bool:
        if isinstance(obj, tuple | frozenset):
            return all(self._is_value(item) for item in obj)
        return isinstance(obj, (*_ATOMIC, *self._shared)) or _frozen(obj)

    def _children(self, obj: Any) -> list[Any]:
        if isinstance(obj, dict):
            return [*obj.values()]
        if isinstance(obj, list | tuple | set | frozenset | collections.deque):
            return [*obj]
        if isinstance(obj, types.MethodType):
            return [obj.__self__]
        return [*self._fields(obj).values()]

    def _fields(self, obj: Any) -> dict[str, Any]:
        fields = dict(getattr(obj, "__dict__", {}))
        for cls in type(obj).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if name not in ("__dict__", "__weakref__") and hasattr(obj, name):
                    fields[name] = getattr(obj, name)
        if type(obj).__name__ == "FrameProtocol":
            _check_parser(obj)
            fields.pop("_parse_more")
        return fields

    def _count(self, root: object) -> None:
        """Count the references to each mutable object: one referred to twice is copied once."""
        stack = [root]
        while stack:
            obj = stack.pop()
            if self._is_value(obj):
                continue
            seen = self._seen.get(id(obj), 0)
            self._seen[id(obj)] = seen + 1
            if not seen:
                stack.extend(self._children(obj))

    def _plan(self, obj: Any, planned: dict[int, _Copier]) -> _Copier:
        if id(obj) in planned:
            return planned[id(obj)]
        kind: Any = type(obj)
        key = id(obj)
        shared = self._seen.get(key, 0) > 1

        def remember(make: Callable[[dict[int, Any]], Any]) -> _Copier:
            if not shared:
                return make

            def once(memo: dict[int, Any]) -> Any:
                if key not in memo:
                    memo[key] = make(memo)
                return memo[key]

            return once

        if kind is itertools.count:
            start = int(repr(obj).removeprefix("count(").removesuffix(")"))
            planned[key] = remember(lambda memo: itertools.count(start))
            return planned[key]
        if kind is bytearray or (kind.__module__ == "zlib" and hasattr(obj, "copy")):
            planned[key] = remember(lambda memo: obj.copy())
            return planned[key]
        containers = (dict, list, tuple, set, frozenset, collections.deque, types.MethodType)
        if kind not in containers:
            slotted = any(getattr(cls, "__slots__", ()) for cls in kind.__mro__)
            if not hasattr(obj, "__dict__") and not slotted:
                raise TypeError(f"a snapshot cannot copy {obj!r}")
            kind.__new__(kind)  # a copy is made so: a class that needs more fails now
        # A placeholder while the children are planned, for the cycles an object closes.
        planned[key] = lambda memo: memo[key]
        parts = [(index, self._plan(child, planned)) for index, child in self._items(obj)]
        planned[key] = remember(self._maker(obj, parts))
        return planned[key]

    def _items(self, obj: Any) -> list[tuple[Any, Any]]:
        """The mutable children of *obj*, each with its key, index or field name."""
        if isinstance(obj, dict):
            pairs = list(obj.items())
        elif isinstance(obj, list | tuple | collections.deque | set | frozenset):
            pairs = list(enumerate(obj))
        elif isinstance(obj, types.MethodType):
            pairs = [("__self__", obj.__self__)]
        else:
            pairs = list(self._fields(obj).items())
        return [(where, child) for where, child in pairs if not self._is_value(child)]

    def _maker(self, obj: Any, parts: list[tuple[Any, _Copier]]) -> _Copier:
        kind: Any = type(obj)
        key = id(obj)
        if kind is dict:

            def make_dict(memo: dict[int, Any]) -> Any:
                new = obj.copy()
                for where, part in parts:
                    new[where] = part(memo)
                return new

            return make_dict
        if kind in (list, collections.deque):

            def make_list(memo: dict[int, Any]) -> Any:
                new = list(obj)
                for where, part in parts:
                    new[where] = part(memo)
                return new if kind is list else collections.deque(new, obj.maxlen)

            return make_list
        if kind in (tuple, set, frozenset):
            if not parts:
                return lambda memo: obj if kind is not set else set(obj)

            def make_tuple(memo: dict[int, Any]) -> Any:
                new = list(obj)
                for where, part in parts:
                    new[where] = part(memo)
                return kind(new)

            return make_tuple
        if kind is types.MethodType:
            ((_, owner),) = parts
            return lambda memo: types.MethodType(obj.__func__, owner(memo))
        fields = self._fields(obj)
        slots = [name for name in fields if name not in getattr(obj, "__dict__", {})]
        values = {name: value for name, value in fields.items() if name not in slots}
        parser = kind.__name__ == "FrameProtocol"
        remembered = self._seen[key] > 1
        if slots:
            slot_parts = [(name, part) for name, part in parts if name in slots]
            parts = [(name, part) for name, part in parts if name not in slots]
            slot_values = [(name, fields[name]) for name in slots if name not in dict(slot_parts)]

        def make_object(memo: dict[int, Any]) -> Any:
            new = kind.__new__(kind)
            if remembered:
                memo[key] = new  # before the fields, which may lead back here
            if values:
                state = values.copy()
                for where, part in parts:
                    state[where] = part(memo)
                object.__setattr__(new, "__dict__", state)
            if slots:
                for name, value in slot_values:
                    object.__setattr__(new, name, value)
                for name, part in slot_parts:
                    object.__setattr__(new, name, part(memo))
            if parser:
                _fresh_parser(new)
            return new

        return make_object


class Snapshot(Generic[T]):
    """Objects built once (costly: an opening handshake, an initialized session), copied for
    each input at a fraction of the cost.

    The copy is deep, but instances of frozen attrs classes and of the *shared* types are
    shared by every copy: values, or objects the copies never touch (the h11 parser of a
    handshake that is over). A wsproto frame parser is copied between frames only."""

    def __init__(self, value: T, shared: tuple[type, ...] = ()) -> None:
        self._copy = _Planner(shared).plan(value)

    def copy(self) -> T:
        """A fresh copy of the objects."""
        value: T = self._copy({})
        return value


# JSON-RPC -------------------------------------------------------------------------------------


def _is_id(value: object) -> bool:
    return type(value) in (str, int)


def jsonrpc_items(text: str | bytes, *, batch: bool = True) -> list[dict[str, Any]]:
    """The JSON-RPC messages in *text* (one, or a batch where *batch*); raises
    :class:`AssertionError` when *text* is not JSON-RPC as MCP writes it: ids are strings or
    integers, ``params`` an object, a response has ``result`` or an ``error`` with an integer
    code and a string message, and an error whose request had no readable id has no id."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise AssertionError(f"not JSON: {text!r}") from exc
    items = value if batch and isinstance(value, list) and value else [value]
    for item in items:
        if not isinstance(item, dict) or item.get("jsonrpc") != "2.0":
            raise AssertionError(f"not a JSON-RPC message: {text!r}")
        if "method" in item:
            good = isinstance(item["method"], str) and ("id" not in item or _is_id(item["id"]))
            good = good and isinstance(item.get("params", {}), dict)
            good = good and "result" not in item and "error" not in item
        elif "result" in item:
            good = "error" not in item and _is_id(item.get("id"))
        else:
            error: Any = item.get("error")
            good = isinstance(error, dict) and type(error.get("code")) is int
            good = good and isinstance(error.get("message"), str)
            good = good and ("id" not in item or _is_id(item["id"]))
        if not good:
            raise AssertionError(f"not a valid JSON-RPC message: {text!r}")
    return items
