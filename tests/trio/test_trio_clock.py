"""The trio driver's one clock for every connection of a run (``mcpws.trio._clock``)."""

from __future__ import annotations

import gc
import math

import pytest
import trio
import trio.testing

from mcpws.trio._clock import alarm


class _Sleeper:
    def __init__(self, woken: list[tuple[str, float]], name: str, *, fails: bool = False):
        self.wake_at = math.inf
        self._woken, self._name, self._fails = woken, name, fails

    def wake(self) -> None:
        self._woken.append((self._name, trio.current_time()))
        if self._fails:
            raise RuntimeError("a bug")


def _run(main: object) -> None:
    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))  # type: ignore[arg-type]


def test_sleepers_are_woken_at_their_deadlines_in_order_once() -> None:
    woken: list[tuple[str, float]] = []

    async def main() -> None:
        late, early = _Sleeper(woken, "late"), _Sleeper(woken, "early")
        alarm(late, 5.0)
        alarm(early, 2.0)
        await trio.sleep(10)

    _run(main)
    assert woken == [("early", 2.0), ("late", 5.0)]


def test_only_the_last_deadline_asked_for_counts() -> None:
    woken: list[tuple[str, float]] = []

    async def main() -> None:
        sleeper = _Sleeper(woken, "sleeper")
        alarm(sleeper, 2.0)
        alarm(sleeper, 1.0)
        await trio.sleep(10)

    _run(main)
    assert woken == [("sleeper", 1.0)]


def test_a_sleeper_that_is_gone_is_skipped() -> None:
    woken: list[tuple[str, float]] = []

    async def main() -> None:
        gone = _Sleeper(woken, "gone")
        alarm(gone, 1.0)
        del gone
        gc.collect()
        alarm(_kept := _Sleeper(woken, "kept"), 2.0)
        await trio.sleep(10)

    _run(main)
    assert woken == [("kept", 2.0)]


def test_a_sleeper_that_fails_is_logged_and_the_others_are_woken(
    caplog: pytest.LogCaptureFixture,
) -> None:
    woken: list[tuple[str, float]] = []

    async def main() -> None:
        failing, other = _Sleeper(woken, "failing", fails=True), _Sleeper(woken, "other")
        alarm(failing, 1.0)
        alarm(other, 1.0)
        await trio.sleep(10)

    _run(main)
    assert woken == [("failing", 1.0), ("other", 1.0)]
    assert "a connection's timer failed" in caplog.text
