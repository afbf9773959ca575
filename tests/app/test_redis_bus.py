"""``mcpws.redis.RedisBus`` without a Redis server: what it accepts as its URL and delays,
what it makes of the messages on its channel, what it publishes while Redis is down or slow,
and the URL it logs. ``tests/test_cli.py`` runs it against a real ``redis-server``."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
import pytest
import trio

from mcpws.app import Change
from mcpws.redis import BACKLOG, RedisBus, _Place, _shown


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://cache.example:6380/1", "unix:///run/r.sock"]
)
def test_a_bus_takes_the_urls_redis_is_reached_at(url: str) -> None:
    assert RedisBus(url).url == url


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "127.0.0.1:6379", ""])
def test_a_bus_refuses_other_urls(url: str) -> None:
    with pytest.raises(ValueError, match=r"a Redis URL begins with redis://, rediss://, unix://"):
        RedisBus(url)


@pytest.mark.parametrize(
    "options", [{"min_delay": 0}, {"min_delay": 3, "max_delay": 2}, {"timeout": 0}]
)
def test_a_bus_refuses_delays_that_are_not_positive_and_ordered(options: Any) -> None:
    with pytest.raises(ValueError, match="positive"):
        RedisBus("redis://localhost", **options)


def test_the_logs_show_no_password() -> None:
    assert _shown("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert _shown("redis://ops:s3cret@cache/0") == "redis://ops:***@cache/0"
    assert _shown("redis://cache/0") == "redis://cache/0"


def _place(delivered: list[Change]) -> _Place:
    async def deliver(change: Change) -> None:
        if change.kind == "prompts":
            raise RuntimeError("the clients could not be told")
        delivered.append(change)

    return _Place(RedisBus("redis://localhost"), "mcpws:news", deliver)


def _message(origin: str, change: Any) -> bytes:
    return json.dumps({"origin": origin, "change": change}).encode()


def test_a_place_delivers_the_changes_of_others_and_ignores_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    delivered: list[Change] = []

    async def main() -> None:
        place = _place(delivered)
        for data in (
            _message("elsewhere", {"kind": "resource", "uri": "news://today"}),
            _message(place.origin, {"kind": "tools", "uri": None}),  # its own
            b"not json",
            b"[1]",
            _message("elsewhere", {"kind": "weather"}),
            _message("elsewhere", {"kind": "prompts", "uri": None}),  # delivering fails
            _message("elsewhere", {"kind": "tools", "uri": None}),
        ):
            await place._received(data)
        place.close()

    with caplog.at_level(logging.WARNING, logger="mcpws.bus"):
        trio.run(main)
    assert delivered == [Change("resource", "news://today"), Change("tools")]
    said = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert [message.split(": ")[0] for _, message in said[:3]] == [
        "not a change on mcpws:news, ignored"
    ] * 3
    assert "(a message is an object with an origin and a change)" in said[1][1]
    assert "(a change is of one of tools" in said[2][1]
    assert said[3] == ("ERROR", "telling the clients of Change(kind='prompts', uri=None) failed")


def test_what_a_place_publishes_waits_for_the_publisher_while_up_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        place = _place([])
        await place.publish(Change("tools"))  # down: dropped
        place.up = True
        for _ in range(BACKLOG + 1):  # the last finds the queue full
            await place.publish(Change("resource", "news://today"))
        first = json.loads(place._queued.receive_nowait())
        assert first == {
            "origin": place.origin,
            "change": {"kind": "resource", "uri": "news://today"},
        }
        place._down(ConnectionError("gone"), 0.5)  # what waited is dropped with the link
        with pytest.raises(anyio.WouldBlock):
            place._queued.receive_nowait()
        place.close()

    with caplog.at_level(logging.WARNING, logger="mcpws.bus"):
        trio.run(main)
    said = [record.getMessage() for record in caplog.records]
    assert said[0] == (
        f"{BACKLOG} changes wait for mcpws:news: Change(kind='resource', "
        "uri='news://today') is dropped"
    )
    assert said[1].startswith(
        "the bus at redis://localhost is down (ConnectionError: gone): the changes of other "
        "processes are not heard, local delivery goes on; trying again in 0.5 s"
    )


def test_a_place_that_leaves_publishes_what_it_queued_first() -> None:
    sent: list[Any] = []

    class Client:
        async def publish(self, topic: str, data: bytes) -> None:
            await trio.sleep(0)  # the publisher takes its time
            sent.append((topic, json.loads(data)["change"]))

    async def main() -> None:
        place = _place([])
        place.up = True
        async with trio.open_nursery() as nursery:
            nursery.start_soon(place._publishing, Client())
            for uri in ("news://today", "news://late"):
                await place.publish(Change("resource", uri))
            await place.leave()
        await place.publish(Change("tools"))  # left: dropped
        place.close()

    trio.run(main)
    assert sent == [
        ("mcpws:news", {"kind": "resource", "uri": "news://today"}),
        ("mcpws:news", {"kind": "resource", "uri": "news://late"}),
    ]
