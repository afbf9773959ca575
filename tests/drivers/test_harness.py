"""The scenario harness of ``tests/helpers/pairs.py`` judges the code, not the machine: a slow
loop turn never fails a scenario, while what asyncio's debug mode reports as a fault does."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from helpers.pairs import Pair

ASYNCIO = Pair("asyncio", "asyncio")


def test_a_slow_turn_of_the_loop_fails_nothing() -> None:
    """A busy machine can hold one step of a task for long; debug mode would report it."""

    async def main() -> None:
        time.sleep(0.3)  # a step three times as long as debug mode lets one take
        await asyncio.sleep(0)

    ASYNCIO.run(main)


def test_an_exception_nobody_retrieved_fails_the_scenario() -> None:
    async def main() -> None:
        lost = asyncio.get_running_loop().create_future()
        lost.set_exception(ValueError("lost"))
        del lost  # debug mode reports it at once

    with pytest.raises(AssertionError, match="exception was never retrieved"):
        ASYNCIO.run(main)


def test_whatever_the_asyncio_logger_says_fails_the_scenario() -> None:
    async def main() -> None:
        logging.getLogger("asyncio").warning("a fault asyncio saw")

    with pytest.raises(AssertionError, match="a fault asyncio saw"):
        ASYNCIO.run(main)
