"""The notification bus: replicas of a server on a :class:`LocalBus`, each behind a
``serve()`` of its own, tell each other's clients of their changes, in both eras; servers
of other names do not hear each other; a change is checked as it comes off a bus."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from helpers.pairs import NAMES, Pair
from mcpws.app import Change, Client, LocalBus, Server
from mcpws.core.mcp import Model

HANDSHAKE = ("2025-11-25",)
STATELESS = ("2026-07-28",)
UPDATED: tuple[str, dict[str, str]] = ("notifications/resources/updated", {"uri": "news://today"})
CHANGED: tuple[str, dict[str, str]] = ("notifications/tools/list_changed", {})


@pytest.fixture(params=NAMES)
def alone(request: pytest.FixtureRequest) -> Pair:
    return Pair(request.param, request.param)


def replica(name: str = "news") -> Server:
    app = Server(name)

    @app.resource("news://today")
    def today() -> str:
        return "nothing yet"

    @app.tool()
    async def publish(uri: str) -> str:
        await app.resource_updated(uri)
        await app.list_changed("tools")
        return "published"

    return app


def _heard(into: list[tuple[str, Any]]) -> Any:
    def note(method: str, params: Model) -> None:
        json = params.to_json()
        json.pop("_meta", None)
        into.append((method, json))

    return note


async def _listening(
    client: Client, heard: list[tuple[str, Any]], *, ready: Any, both: Any
) -> None:
    """A 2026-07-28 stream for tool list changes and news://today, until cancelled; *ready*
    is set once it is acknowledged, *both* once two notifications came."""

    def note(method: str, params: Model) -> None:
        if method == "notifications/subscriptions/acknowledged":
            ready.set()
            return
        _heard(heard)(method, params)
        if len(heard) == 2:
            both.set()

    await client.listen(note, tools=True, uris=["news://today"])


def test_replicas_on_a_local_bus_tell_each_others_clients_in_both_eras(alone: Pair) -> None:
    bus = LocalBus()
    first, second, stranger = replica(), replica(), replica("other")
    heard: dict[str, list[tuple[str, Any]]] = {"old": [], "new": [], "near": [], "far": []}

    async def main() -> None:
        async with (
            alone.serving(first, bus=bus) as on_first,
            alone.serving(second, bus=bus) as on_second,
            alone.serving(stranger, bus=bus) as on_stranger,
            alone.connect(on_first.url, revisions=HANDSHAKE) as old,
            alone.connect(on_first.url, revisions=STATELESS) as new,
            alone.connect(on_second.url, revisions=HANDSHAKE) as near,
            alone.connect(on_stranger.url, revisions=HANDSHAKE) as far,
            anyio.create_task_group() as tasks,
        ):
            for name, client in (("old", old), ("near", near), ("far", far)):
                client.on_notification = _heard(heard[name])
                await client.subscribe_resource("news://today")
            ready, both = anyio.Event(), anyio.Event()
            tasks.start_soon(lambda: _listening(new, heard["new"], ready=ready, both=both))
            await ready.wait()
            result = await near.call_tool("publish", {"uri": "news://today"})
            assert result.content[0].to_json()["text"] == "published"
            await both.wait()  # a stream's notifications, in order
            for client in (old, near, far):  # a round trip: what was sent before came
                await client.list_resources()
            tasks.cancel_scope.cancel()

    alone.run(main)
    assert heard["old"] == [UPDATED, CHANGED]  # from the other replica, through the bus
    assert heard["near"] == [UPDATED, CHANGED]  # once: its own server told it
    assert heard["new"] == [UPDATED, CHANGED]
    assert heard["far"] == []  # another server's name: another channel


def test_a_server_leaves_the_bus_when_it_stops_serving(alone: Pair) -> None:
    bus = LocalBus()
    first = replica()

    async def main() -> None:
        async with alone.serving(first, bus=bus):
            assert list(bus._attached) == ["news"]
        assert bus._attached == {}
        await first.list_changed("tools")  # off the bus: to its own clients only

    alone.run(main)


def test_a_bus_is_for_an_mcpws_server() -> None:
    from mcpws.app import StdioServer
    from mcpws.lowlevel import serve_options

    with pytest.raises(TypeError, match=r"a bus is for an mcpws\.Server"):
        serve_options(StdioServer(["true"]), bus=LocalBus())


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("text", "not a change"),
        ({"uri": "x"}, "not a change"),
        ({"kind": "tools", "uri": 3}, "a change's URI is a string"),
        ({"kind": "weather"}, "a change is of one of tools, resources, prompts, resource"),
        ({"kind": "resource"}, "a resource's change names its URI"),
        ({"kind": "tools", "uri": "x"}, "and only a resource's does"),
    ],
)
def test_a_change_off_a_bus_is_checked(value: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Change.from_json(value)


def test_a_change_goes_through_json_unchanged() -> None:
    for change in (Change("prompts"), Change("resource", "news://today")):
        assert Change.from_json(change.to_json()) == change


def test_a_server_that_fails_to_deliver_does_not_fail_the_publisher(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = LocalBus()
    told: list[Change] = []

    async def failing(change: Change) -> None:
        raise RuntimeError("gone")

    async def noting(change: Change) -> None:
        told.append(change)

    async def own(change: Change) -> None:
        raise AssertionError("a publisher is not told of its own change")

    async def main() -> None:
        async with (
            bus.attach("news", failing),
            bus.attach("news", noting),
            bus.attach("news", own) as channel,
        ):
            await channel.publish(Change("tools"))

    anyio.run(main)
    assert told == [Change("tools")]
    assert caplog.records[0].getMessage() == (
        "telling the clients of Change(kind='tools', uri=None) failed"
    )
