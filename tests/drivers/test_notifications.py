"""Notifications a server sends on its own: list changes to every client, and resource
updates to the clients that subscribed, over real loopback connections."""

from __future__ import annotations

from typing import Any

import anyio

from helpers.pairs import Pair
from mcpws import Server
from mcpws.app import Context
from mcpws.core.mcp import Model

HANDSHAKE = ("2025-11-25",)
STATELESS = ("2026-07-28",)


def _app() -> Server:
    app = Server("news")

    @app.resource("news://today")
    def today() -> str:
        return "nothing yet"

    @app.resource("news://weather")
    def weather() -> str:
        return "sunny"

    @app.tool()
    async def publish(ctx: Context, uri: str) -> str:
        await app.resource_updated(uri)
        await app.list_changed("resources")
        return "published"

    return app


def test_updates_reach_subscribers_and_list_changes_reach_every_handshake_client(
    pair: Pair,
) -> None:
    app = _app()
    seen: dict[str, list[tuple[str, Any]]] = {"a": [], "b": [], "c": []}

    def listener(name: str) -> Any:
        def note(method: str, params: Model) -> None:
            seen[name].append((method, params.to_json()))

        return note

    async def main() -> None:
        async with (
            pair.serving(app) as server,
            pair.connect(server.url, revisions=HANDSHAKE) as a,
            pair.connect(server.url, revisions=HANDSHAKE) as b,
            pair.connect(server.url, revisions=STATELESS) as c,
            pair.connect(server.url, revisions=HANDSHAKE) as deaf,
        ):
            for name, client in (("a", a), ("b", b), ("c", c)):
                client.on_notification = listener(name)
            await deaf.subscribe_resource("news://today")  # and has no listener
            await a.subscribe_resource("news://today")
            await b.subscribe_resource("news://weather")
            await b.subscribe_resource("news://today")
            await b.unsubscribe_resource("news://today")
            await c.call_tool("publish", {"uri": "news://today"})
            # a round trip on each connection lets its notifications arrive first
            for client in (a, b, c, deaf):
                await client.list_resources()

    pair.run(main)
    updated = ("notifications/resources/updated", {"uri": "news://today"})
    changed: tuple[str, dict[str, Any]] = ("notifications/resources/list_changed", {})
    assert seen["a"] == [updated, changed]
    assert seen["b"] == [changed]
    assert seen["c"] == []  # stateless clients hear of changes on listen streams only


def test_a_notification_for_a_connection_that_cannot_take_it_is_skipped() -> None:
    app = _app()

    class Closed:
        principal: object = None
        log_level = None
        stateless = False

        async def notify(self, method: str, params: Any = None) -> None:
            raise RuntimeError("gone")

    app.connected(Closed())  # type: ignore[arg-type]
    anyio.run(app.list_changed, "tools")
    app.disconnected(Closed())  # type: ignore[arg-type]
