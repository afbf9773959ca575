"""The ``pair`` fixture: the end-to-end tests that take it run once per pair of drivers."""

from __future__ import annotations

import pytest

from helpers.pairs import Pair

PAIRS = [
    Pair("trio", "trio"),
    Pair("asyncio", "asyncio"),
    Pair(server="asyncio", client="trio"),
    Pair(server="trio", client="asyncio"),
    Pair("anyio", "anyio"),
]


@pytest.fixture(params=PAIRS, ids=str)
def pair(request: pytest.FixtureRequest) -> Pair:
    """The drivers a scenario runs on: each alone, and each as the other's peer."""
    return request.param  # type: ignore[no-any-return]
