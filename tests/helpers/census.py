"""What this process holds, for the tests that check that nothing is left behind or that
many connections fit: the objects of mcpws's own classes, by class, the descriptors open,
and room for more of them."""

from __future__ import annotations

import collections
import gc
import os
import resource
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def mcpws_objects() -> collections.Counter[str]:
    """How many objects of each class of mcpws's the garbage collector knows, after a full
    collection: every pump, connection core, session and waiter is one of them."""
    gc.collect()
    return collections.Counter(
        f"{kind.__module__}.{kind.__qualname__}"
        for kind in map(type, gc.get_objects())
        if _module_of(kind).startswith("mcpws.")
    )


def _module_of(kind: type) -> str:
    """The module of a class: some classes have none, and some (pydantic's) a descriptor."""
    module = getattr(kind, "__module__", "")
    return module if isinstance(module, str) else ""


@contextmanager
def set_aside() -> Iterator[None]:
    """Set what the process holds now aside (``gc.freeze()``) for the block: a census then
    collects and walks only what was made since, however much earlier tests imported."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def open_descriptors() -> int:
    """How many file descriptors this process has open."""
    return len(os.listdir("/dev/fd")) - 1  # less the one that lists them


def room_for(descriptors: int) -> None:
    """Make room for *descriptors* more open files (raising the soft limit as far as the
    hard one allows), or skip the test."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = open_descriptors() + descriptors + 64
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"{descriptors} descriptors more need a limit of {wanted}, not {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
