"""The ``pair`` fixture: the end-to-end tests that take it run once per pair of drivers; and
``wire``, what the sessions of a scenario send."""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpers.pairs import Pair
from mcpws.core.session import ClientSession, ServerSession

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


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every message a client or server session sends during the test, decoded, with its
    sender, in every loop and thread the test runs."""
    sent: list[tuple[str, Any]] = []
    for kind, sender in ((ClientSession, "client"), (ServerSession, "server")):
        original = kind.messages_to_send

        def recording(self: Any, original: Any = original, sender: str = sender) -> list[str]:
            texts: list[str] = original(self)
            sent.extend((sender, json.loads(text)) for text in texts)
            return texts

        monkeypatch.setattr(kind, "messages_to_send", recording)
    return sent
