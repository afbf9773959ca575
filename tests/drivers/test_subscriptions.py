"""``subscriptions/listen`` (2026-07-28) end to end on every pair of drivers: the
acknowledgment first, with what the server agreed to; list changes and resource updates,
each on the streams that asked for them; streams told apart by their subscription id; a
stream cancelled by the client, refused past the limit, and ended with its result when the
server shuts down. Every message either side sends is checked against the schema.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from helpers import schemas
from helpers.pairs import Pair, Served
from mcpws.app import MAX_STREAMS, Client, McpError, Server
from mcpws.core.errors import LocalProtocolError
from mcpws.core.jsonrpc import INVALID_REQUEST
from mcpws.core.mcp import META_SUBSCRIPTION_ID, Model, SubscriptionsListenResult

STATELESS = "2026-07-28"


def served_app(prompts: bool = True) -> Server:
    app = Server("listened")

    @app.tool()
    def t() -> str:
        return "t"

    @app.resource("notes://{name}")
    def note(name: str) -> str:
        return name

    if prompts:

        @app.prompt()
        def p() -> str:
            return "p"

    return app


class Stream:
    """One ``listen`` call of a client, run in a task: what it heard and how it ended."""

    def __init__(self, client: Client, **wanted: Any) -> None:
        self.client = client
        self.wanted = wanted
        self.heard: list[tuple[str, Model]] = []
        self.acknowledged = anyio.Event()
        self.changed = anyio.Event()
        self.result: SubscriptionsListenResult | None = None
        self.scope = anyio.CancelScope()

    def _heard(self, method: str, params: Model) -> None:
        self.heard.append((method, params))
        if method == "notifications/subscriptions/acknowledged":
            self.acknowledged.set()
        self.changed.set()

    async def run(self) -> None:
        with self.scope:
            self.result = await self.client.listen(self._heard, **self.wanted)

    async def until(self, count: int) -> None:
        """Wait until *count* notifications have come."""
        while len(self.heard) < count:
            self.changed = anyio.Event()
            await self.changed.wait()

    def summary(self) -> list[tuple[str, Any]]:
        return [(method, _members(params)) for method, params in self.heard]


def _members(params: Model) -> dict[str, Any]:
    return {k: v for k, v in params.to_json().items() if k != "_meta"}


def subscription_of(params: Model) -> Any:
    meta = getattr(params, "meta", None) or {}
    return meta.get(META_SUBSCRIPTION_ID)


def check_the_schema(wire: list[tuple[str, Any]]) -> None:
    schemas.skip_unless_present()
    for sender, value in wire:
        assert schemas.violation(STATELESS, "JSONRPCMessage", value) is None, (sender, value)
        for name in schemas.method_definitions(STATELESS, value.get("method", "")):
            assert schemas.violation(STATELESS, name, value) is None, (sender, value)


def test_a_stream_hears_what_it_asked_for_and_no_more(
    pair: Pair, wire: list[tuple[str, Any]]
) -> None:
    app = served_app()

    async def main() -> None:
        async with (
            pair.serving(app) as served,
            pair.connect(served.url) as client,
            anyio.create_task_group() as tasks,
        ):
            others: list[str] = []
            client.on_notification = lambda method, params: others.append(method)
            lists = Stream(client, tools=True, prompts=True)
            notes = Stream(client, resources=True, uris=["notes://a"])
            for stream in (lists, notes):
                tasks.start_soon(stream.run)
                await stream.acknowledged.wait()
            await served.call(app.list_changed, "tools")
            await served.call(app.list_changed, "prompts")
            await served.call(app.resource_updated, "notes://b")  # nobody asked
            await served.call(app.resource_updated, "notes://a")
            await served.call(app.list_changed, "resources")
            await lists.until(3)
            await notes.until(3)
            tasks.cancel_scope.cancel()
        assert lists.summary() == [
            (
                "notifications/subscriptions/acknowledged",
                {"notifications": {"toolsListChanged": True, "promptsListChanged": True}},
            ),
            ("notifications/tools/list_changed", {}),
            ("notifications/prompts/list_changed", {}),
        ]
        assert notes.summary() == [
            (
                "notifications/subscriptions/acknowledged",
                {
                    "notifications": {
                        "resourcesListChanged": True,
                        "resourceSubscriptions": ["notes://a"],
                    }
                },
            ),
            ("notifications/resources/updated", {"uri": "notes://a"}),
            ("notifications/resources/list_changed", {}),
        ]
        # Each stream's notifications carry its own subscription id, and only they reach it.
        ids = {subscription_of(params) for _, params in lists.heard}
        assert len(ids) == 1
        assert ids != {subscription_of(params) for _, params in notes.heard}
        assert others == []

    pair.run(main)
    check_the_schema(wire)


def test_a_stream_is_acknowledged_with_what_the_server_has(pair: Pair) -> None:
    app = served_app(prompts=False)

    async def main() -> None:
        async with (
            pair.serving(app) as served,
            pair.connect(served.url) as client,
            anyio.create_task_group() as tasks,
        ):
            stream = Stream(client, tools=True, prompts=True, uris=["notes://a"])
            tasks.start_soon(stream.run)
            await stream.acknowledged.wait()
            tasks.cancel_scope.cancel()
        # No prompts here: the server does not agree to tell of their changes.
        assert stream.summary() == [
            (
                "notifications/subscriptions/acknowledged",
                {
                    "notifications": {
                        "toolsListChanged": True,
                        "resourceSubscriptions": ["notes://a"],
                    }
                },
            )
        ]

    pair.run(main)


async def streams_of(served: Served, app: Server) -> int:
    return int(await served.call(lambda: len(app._streams)))


async def until_streams(served: Served, app: Server, count: int) -> None:
    """Wait (in virtual time, a tick at a time) until the server holds *count* streams."""
    while await streams_of(served, app) != count:
        await anyio.sleep(0.01)


def test_a_stream_the_client_cancels_ends_on_the_server(pair: Pair) -> None:
    app = served_app()

    async def main() -> None:
        async with (
            pair.serving(app) as served,
            pair.connect(served.url) as client,
            anyio.create_task_group() as tasks,
        ):
            stream = Stream(client, tools=True)
            tasks.start_soon(stream.run)
            await stream.acknowledged.wait()
            assert await streams_of(served, app) == 1
            stream.scope.cancel()
            await until_streams(served, app, 0)
            heard: list[str] = []
            client.on_notification = lambda method, params: heard.append(method)
            await served.call(app.list_changed, "tools")
            assert (await client.call_tool("t")).content  # the connection goes on
        assert stream.result is None
        assert heard == []

    pair.run(main)


def test_a_shutdown_ends_each_stream_with_its_result(pair: Pair) -> None:
    app = served_app()

    async def main() -> None:
        async with (
            pair.serving(app) as served,
            pair.connect(served.url) as client,
            anyio.create_task_group() as tasks,
        ):
            stream = Stream(client, prompts=True)
            tasks.start_soon(stream.run)
            await stream.acknowledged.wait()
            await served.stop()
        assert stream.result is not None
        (_, acknowledged), *_ = stream.heard
        assert stream.result.meta is not None
        assert stream.result.meta[META_SUBSCRIPTION_ID] == subscription_of(acknowledged)

    pair.run(main)


def test_a_connection_holds_a_bounded_number_of_streams(pair: Pair) -> None:
    app = served_app()

    async def main() -> None:
        async with (
            pair.serving(app) as served,
            pair.connect(served.url) as client,
            anyio.create_task_group() as tasks,
        ):
            streams = [Stream(client, tools=True) for _ in range(MAX_STREAMS)]
            for stream in streams:
                tasks.start_soon(stream.run)
                await stream.acknowledged.wait()
            with pytest.raises(McpError) as caught:
                await client.listen(lambda method, params: None, tools=True)
            assert caught.value.code == INVALID_REQUEST
            assert caught.value.message == (
                f"this connection has {MAX_STREAMS} subscription streams open already"
            )
            tasks.cancel_scope.cancel()

    pair.run(main)


def test_there_is_no_stream_in_the_handshake_era(pair: Pair) -> None:
    async def main() -> None:
        async with (
            pair.serving(served_app()) as served,
            pair.connect(served.url, revisions=("2025-11-25",)) as client,
        ):
            with pytest.raises(LocalProtocolError, match="subscriptions/listen"):
                await client.listen(lambda method, params: None, tools=True)

    pair.run(main)
