"""What a server tells of its connections and requests, on every pair of drivers: the hooks
(:class:`mcpws.app.Hooks`) and the log records of ``mcpws.connection`` and
``mcpws.request``."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from helpers.pairs import Pair
from mcpws.app import (
    ConnectionEnded,
    ConnectionInfo,
    Hooks,
    McpError,
    RequestDone,
    Server,
)
from mcpws.core.jsonrpc import INTERNAL_ERROR
from mcpws.lowlevel import Watch, serve_options


def lab() -> Server:
    app = Server("lab", "1.0")

    @app.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @app.tool()
    async def later(text: str) -> str:
        """Answer after a turn of the loop."""
        return text

    @app.resource("lab://known")
    def known() -> str:
        return "here"

    return app


class Recorder(Hooks):
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any, Any]] = []

    def connection_opened(self, connection: ConnectionInfo) -> None:
        self.seen.append(("opened", connection, None))

    def connection_closed(self, connection: ConnectionInfo, ended: ConnectionEnded) -> None:
        self.seen.append(("closed", connection, ended))

    def request_done(self, connection: ConnectionInfo, request: RequestDone) -> None:
        self.seen.append(("request", connection, request))


async def use(client: Any) -> None:
    assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}
    await client.call_tool("later", {"text": "hi"})
    with pytest.raises(McpError):
        await client.read_resource("lab://unknown")


def test_hooks_see_each_connection_and_request_with_its_outcome(pair: Pair) -> None:
    recorder = Recorder()

    async def main() -> None:
        async with (
            pair.serving(lab(), hooks=[recorder]) as served,
            pair.connect(served.url, revisions=("2025-06-18",)) as client,
        ):
            await use(client)

    pair.run(main)
    kinds = [kind for kind, _, _ in recorder.seen]
    assert kinds[0] == "opened"
    assert kinds[-1] == "closed"
    opened: ConnectionInfo = recorder.seen[0][1]
    assert opened.peer is not None
    assert opened.peer.startswith("127.0.0.1:")
    # The client named no revision in its subprotocol: the session agreed on one later.
    assert (opened.path, opened.subprotocol, opened.revision) == ("/mcp", "mcp", None)
    requests = {r.method: r for kind, _, r in recorder.seen if kind == "request"}
    assert "initialize" not in requests  # the session answers it, not a handler
    assert requests["tools/call"].outcome == "result"
    assert requests["resources/read"].outcome == "error"
    assert requests["resources/read"].code == -32002
    assert all(r.duration >= 0 for r in requests.values())
    ended: ConnectionEnded = recorder.seen[-1][2]
    assert recorder.seen[-1][1] is opened
    assert (ended.code, ended.revision) == (1000, "2025-06-18")
    assert ended.duration >= 0
    # initialize, initialized, two calls and a read in; three answers and a read's error out.
    assert ended.traffic.messages_received == 5
    assert ended.traffic.messages_sent == 4
    assert ended.traffic.bytes_received > 0
    assert ended.traffic.bytes_sent > 0


def test_a_failing_handler_is_an_internal_error_and_a_failing_hook_is_logged_only(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(Hooks):
        def connection_opened(self, connection: ConnectionInfo) -> None:
            raise RuntimeError("broken hook")

    recorder = Recorder()
    app = Server("lab", "1.0")

    @app.method("x/fail")
    def fail(params: Any) -> None:
        raise RuntimeError("kaput")

    async def main() -> None:
        async with (
            pair.serving(app, hooks=[Broken(), recorder]) as served,
            pair.connect(served.url) as client,
        ):
            with pytest.raises(McpError):
                await client.request("x/fail", {}, extension=True)

    with caplog.at_level(logging.ERROR, "mcpws"):
        pair.run(main)
    failed = [r for kind, _, r in recorder.seen if kind == "request" and r.method == "x/fail"]
    assert [(r.outcome, r.code) for r in failed] == [("error", INTERNAL_ERROR)]
    assert any("connection_opened failed" in r.getMessage() for r in caplog.records)
    assert recorder.seen[0][0] == "opened"  # the broken hook stopped no other


def test_a_hook_is_a_hooks() -> None:
    with pytest.raises(TypeError, match=r"mcpws\.app\.Hooks"):
        serve_options(Server("lab"), hooks=[object()])  # type: ignore[list-item]


def test_connections_are_logged_at_info_and_requests_at_debug(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        async with pair.serving(lab()) as served, pair.connect(served.url) as client:
            await use(client)

    with caplog.at_level(logging.DEBUG, "mcpws"):
        pair.run(main)
    records = [r for r in caplog.records if r.name in ("mcpws.connection", "mcpws.request")]
    opened = [r for r in records if r.mcpws["event"] == "opened"]  # type: ignore[attr-defined]
    closed = [r for r in records if r.mcpws["event"] == "closed"]  # type: ignore[attr-defined]
    calls = [r for r in records if r.mcpws["event"] == "request"]  # type: ignore[attr-defined]
    assert len(opened) == len(closed) == 1
    assert opened[0].levelno == closed[0].levelno == logging.INFO
    assert "connection opened: 127.0.0.1:" in opened[0].getMessage()
    fields = closed[0].mcpws  # type: ignore[attr-defined]
    assert fields["code"] == 1000
    assert fields["messages_received"] >= 4
    assert "code 1000" in closed[0].getMessage()
    methods = [r.mcpws["method"] for r in calls]  # type: ignore[attr-defined]
    assert "tools/call" in methods
    assert all(r.levelno == logging.DEBUG for r in calls)


def test_nothing_is_watched_when_nothing_listens(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "mcpws"):
        assert not Watch().watching()
        assert not Watch().timing()
        assert Watch([Hooks()]).watching()
        assert not Watch([Hooks()]).timing()
        assert Watch([Recorder()]).timing()


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        pytest.param(("127.0.0.1",), ("203.0.113.7", "wss"), id="trusted-proxy"),
        pytest.param(("10.0.0.1",), (None, "ws"), id="forged-from-an-untrusted-peer"),
    ],
)
def test_behind_a_trusted_proxy_the_hooks_see_the_forwarded_client(
    pair: Pair, trusted: tuple[str, ...], expected: tuple[str | None, str]
) -> None:
    recorder = Recorder()
    forged = [("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-Proto", "https")]

    async def main() -> None:
        options = {"proxy_headers": True, "forwarded_allow_ips": trusted}
        async with (
            pair.serving(lab(), hooks=[recorder], **options) as served,
            pair.connect(served.url, headers=forged) as client,
        ):
            await client.list_tools()

    pair.run(main)
    opened: ConnectionInfo = recorder.seen[0][1]
    client, scheme = expected
    if client is None:
        assert opened.peer is not None
        assert opened.peer.startswith("127.0.0.1:")  # the headers were ignored
    else:
        assert opened.peer == client
    assert opened.scheme == scheme
