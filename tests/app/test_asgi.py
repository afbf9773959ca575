"""``mcpws.asgi.App`` driven in process by a scripted ASGI server, on asyncio and on trio: the
lifespan, the refusals an ASGI server's own tests cannot reach (the authentication hook, the
connection limit, a stopping application, a server without the denial extension), the
``http`` answers, and a graceful stop with a call in flight."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from helpers.network import INITIALIZE
from mcpws import Context, Server
from mcpws.app import ConnectionEnded, ConnectionInfo, Hooks, RequestDone
from mcpws.asgi import App
from mcpws.core.connection import AuthenticationFailed, ConnectionRequested
from mcpws.lowlevel import Carrier, Host, Kernel

BACKENDS = ["asyncio", "trio"]
TIMEOUT = 30
DENIAL: dict[str, Any] = {"websocket.http.response": {}}


def tools() -> Server:
    server = Server("in-process")

    @server.tool()
    async def hold(release: str, ctx: Context) -> str:
        """Report progress, then answer once the file *release* exists."""
        await ctx.report_progress(1, 2)
        while not Path(release).exists():
            await anyio.sleep(0.01)
        return "released"

    return server


def scope_of(kind: str = "websocket", **fields: Any) -> dict[str, Any]:
    scope = {
        "type": kind,
        "path": "/mcp",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "subprotocols": ["mcp"],
        "server": ("127.0.0.1", 8000),
        "extensions": DENIAL,
        "method": "GET",
    }
    return {**scope, **fields}


class Peer:
    """One ASGI connection to the application: what the server gives it, and what it sent."""

    def __init__(self) -> None:
        self._in, self._receive = anyio.create_memory_object_stream[dict[str, Any]](math.inf)
        self._send, self._out = anyio.create_memory_object_stream[dict[str, Any]](math.inf)

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for stream in (self._in, self._receive, self._send, self._out):
            stream.close()

    async def receive(self) -> MutableMapping[str, Any]:
        return await self._receive.receive()

    async def send(self, message: MutableMapping[str, Any]) -> None:
        await self._send.send(dict(message))

    def give(self, message: dict[str, Any]) -> None:
        self._in.send_nowait(message)

    def text(self, text: str) -> None:
        self.give({"type": "websocket.receive", "text": text})

    async def next(self) -> dict[str, Any]:
        with anyio.fail_after(TIMEOUT):
            return await self._out.receive()

    async def answer(self) -> Any:
        """The next message the application sends, as JSON."""
        message = await self.next()
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])


@asynccontextmanager
async def connected(
    app: App, **scope: Any
) -> AsyncIterator[tuple[Peer, Callable[[], Awaitable[None]]]]:
    """A WebSocket to *app*, its handler running; and a function that waits for its end."""
    done = anyio.Event()

    with Peer() as peer:

        async def handle() -> None:
            try:
                await app(scope_of(**scope), peer.receive, peer.send)
            finally:
                done.set()

        async with anyio.create_task_group() as group:
            group.start_soon(handle)
            peer.give({"type": "websocket.connect"})
            yield peer, done.wait


def run(backend: str, main: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        with anyio.fail_after(TIMEOUT):
            await main()

    anyio.run(bounded, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_call_in_flight_is_answered_when_the_lifespan_ends_then_1001(
    backend: str, tmp_path: Path
) -> None:
    app = App(tools())
    release = tmp_path / "release"

    async def main() -> None:
        async with app.lifespan(), connected(app) as (peer, ended):
            assert (await peer.next()) == {"type": "websocket.accept", "subprotocol": "mcp"}
            peer.text(INITIALIZE)
            assert (await peer.answer())["id"] == 0
            call = {"name": "hold", "arguments": {"release": str(release)}}
            peer.text(
                json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "tools/call",
                        "params": {**call, "_meta": {"progressToken": "t"}},
                    }
                )
            )
            assert (await peer.answer())["method"] == "notifications/progress"
            async with anyio.create_task_group() as group:
                stopping = anyio.Event()

                async def stop() -> None:
                    stopping.set()
                    await app_stop(app)

                group.start_soon(stop)
                await stopping.wait()
                release.touch()
                answer = await peer.answer()
                assert answer["result"]["content"][0]["text"] == "released"
                closed = await peer.next()
                assert (closed["type"], closed["code"]) == ("websocket.close", 1001)
                peer.give({"type": "websocket.disconnect", "code": 1001})
            await ended()

    run(backend, main)


async def app_stop(app: App) -> None:
    """What the end of *app*'s lifespan does to its connections, while the lifespan goes on."""
    from mcpws.asgi import _stop_all

    await _stop_all(app._on)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_lifespan_protocol_runs_the_hosted_servers_lifespan(backend: str) -> None:
    host = _Lifespan()
    app = App(host)

    async def main() -> None:
        with Peer() as peer:
            async with anyio.create_task_group() as group:
                group.start_soon(app, {"type": "lifespan"}, peer.receive, peer.send)
                peer.give({"type": "lifespan.startup"})
                assert (await peer.next()) == {"type": "lifespan.startup.complete"}
                assert host.phases == ["up"]
                peer.give({"type": "lifespan.shutdown"})
                assert (await peer.next()) == {"type": "lifespan.shutdown.complete"}
                assert host.phases == ["up", "down"]

    run(backend, main)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_lifespan_that_fails_to_start_is_reported(backend: str) -> None:
    app = App(_Lifespan(fail=True))

    async def main() -> None:
        with Peer() as peer:
            peer.give({"type": "lifespan.startup"})
            with pytest.raises(RuntimeError, match="no database"):
                await app({"type": "lifespan"}, peer.receive, peer.send)
            assert (await peer.next()) == {
                "type": "lifespan.startup.failed",
                "message": "no database",
            }

    run(backend, main)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_lifespan_that_fails_to_end_is_reported(backend: str) -> None:
    app = App(_Lifespan(fail_at_end=True))

    async def main() -> None:
        with Peer() as peer:
            peer.give({"type": "lifespan.startup"})
            peer.give({"type": "lifespan.shutdown"})
            with pytest.raises(RuntimeError, match="would not close"):
                await app({"type": "lifespan"}, peer.receive, peer.send)
            assert (await peer.next())["type"] == "lifespan.startup.complete"
            failed = {"type": "lifespan.shutdown.failed", "message": "the database would not close"}
            assert (await peer.next()) == failed

    run(backend, main)


class _Lifespan(Host):
    """A hosted server of no library, whose lifespan is recorded (or fails to start, or to
    end)."""

    name = "recorded"

    def __init__(self, *, fail: bool = False, fail_at_end: bool = False) -> None:
        self.phases: list[str] = []
        self._fail = fail
        self._fail_at_end = fail_at_end

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        if self._fail:
            raise RuntimeError("no database")
        self.phases.append("up")
        yield
        if self._fail_at_end:
            raise RuntimeError("the database would not close")
        self.phases.append("down")

    def carrier(self, pump: Kernel, *, max_concurrent: int) -> Carrier:
        raise AssertionError("no connection in these tests")


def _refuse(requested: ConnectionRequested) -> object:
    token = requested.auth_token or ""
    if token == "":
        raise AuthenticationFailed("a token is needed")
    if token != "good":
        raise AuthenticationFailed("not for you", status_code=403)
    return "principal"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("app", "scope", "status", "headers"),
    [
        ({"authenticate": _refuse}, {}, 401, {b"www-authenticate": b"Bearer"}),
        ({"authenticate": _refuse}, {"subprotocols": ["mcp", "mcp.auth.bad"]}, 403, {}),
        ({}, {"headers": [(b"host", b"evil.example")]}, 403, {}),
        ({}, {"path": "/other"}, 404, {}),
        ({}, {"subprotocols": ["chat"]}, 400, {}),
    ],
)
def test_an_upgrade_refused_gets_its_status(
    backend: str,
    app: dict[str, Any],
    scope: dict[str, Any],
    status: int,
    headers: dict[bytes, bytes],
) -> None:
    served = App(tools(), **app)

    async def main() -> None:
        async with connected(served, **scope) as (peer, ended):
            start = await peer.next()
            assert (start["type"], start["status"]) == ("websocket.http.response.start", status)
            assert headers.items() <= dict(start["headers"]).items()
            body = await peer.next()
            assert body["type"] == "websocket.http.response.body"
            assert body["body"].endswith(b"\n")
            await ended()

    run(backend, main)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_good_token_opens_and_a_server_without_the_denial_extension_closes(
    backend: str,
) -> None:
    served = App(tools(), authenticate=_refuse)

    async def main() -> None:
        async with connected(served, subprotocols=["mcp", "mcp.auth.good"]) as (peer, _):
            assert (await peer.next()) == {"type": "websocket.accept", "subprotocol": "mcp"}
            peer.give({"type": "websocket.disconnect", "code": 1000})
        async with connected(served, extensions={}) as (peer, ended):
            closed = await peer.next()
            assert (closed["type"], closed["code"]) == ("websocket.close", 1008)
            assert closed["reason"] == "a token is needed"
            await ended()

    run(backend, main)


@pytest.mark.parametrize("backend", BACKENDS)
def test_beyond_its_connections_and_once_stopped_an_upgrade_gets_503(backend: str) -> None:
    served = App(tools(), max_connections=1)

    async def main() -> None:
        async with served.lifespan(), connected(served) as (first, _):
            assert (await first.next())["type"] == "websocket.accept"
            async with connected(served) as (second, ended):
                start = await second.next()
                assert start["status"] == 503
                assert (b"retry-after", b"1") in start["headers"]
                assert b"connection limit" in (await second.next())["body"]
                await ended()
            first.give({"type": "websocket.disconnect", "code": 1000})
        async with connected(served) as (late, ended):
            assert (await late.next())["status"] == 503
            assert b"shutting down" in (await late.next())["body"]
            await ended()

    run(backend, main)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_server_listening_elsewhere_accepts_any_host(backend: str) -> None:
    served = App(tools())

    async def main() -> None:
        scope = {"headers": [(b"host", b"mcp.example")], "server": ("10.0.0.1", 80)}
        async with connected(served, **scope) as (peer, _):
            assert (await peer.next())["type"] == "websocket.accept"
            peer.give({"type": "websocket.disconnect", "code": 1000})

    run(backend, main)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/healthz", 200, b"ok\n"),
        ("HEAD", "/healthz", 200, b""),
        ("GET", "/mcp", 426, b"this endpoint speaks WebSocket only\n"),
        ("POST", "/healthz", 404, b"nothing is served at /healthz\n"),
        ("GET", "/prefix/healthz", 200, b"ok\n"),
        ("GET", "/readyz", 200, b"ok\n"),
    ],
)
def test_http_requests_get_health_426_or_404(
    backend: str, method: str, path: str, status: int, body: bytes
) -> None:
    served = App(tools())

    async def main() -> None:
        with Peer() as peer:
            scope = scope_of("http", method=method, path=path, root_path="/prefix")
            await served(scope, peer.receive, peer.send)
            start, sent = await peer.next(), await peer.next()
            assert (start["status"], sent["body"]) == (status, body)

    run(backend, main)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_websocket_that_does_not_open_with_connect_is_left(backend: str) -> None:
    served = App(tools())

    async def main() -> None:
        with Peer() as peer, Peer() as lifespan:
            peer.give({"type": "websocket.disconnect", "code": 1006})
            await served(scope_of(), peer.receive, peer.send)
            await served({"type": "other"}, peer.receive, peer.send)
            lifespan.give({"type": "lifespan.shutdown"})
            await served({"type": "lifespan"}, lifespan.receive, lifespan.send)

    run(backend, main)


@pytest.mark.parametrize("backend", BACKENDS)
def test_hooks_see_the_connection_with_its_client_and_how_it_closed(backend: str) -> None:
    seen: list[Any] = []

    class Recorder(Hooks):
        def connection_opened(self, connection: ConnectionInfo) -> None:
            seen.append(connection)

        def connection_closed(self, connection: ConnectionInfo, ended: ConnectionEnded) -> None:
            seen.append(ended)

        def request_done(self, connection: ConnectionInfo, request: RequestDone) -> None:
            seen.append(request)

    served = App(tools(), hooks=[Recorder()])

    async def main() -> None:
        async with connected(served, client=("10.0.0.7", 5555)) as (peer, ended):
            assert (await peer.next())["type"] == "websocket.accept"
            peer.text(INITIALIZE)
            await peer.answer()
            peer.text('{"jsonrpc": "2.0", "method": "notifications/initialized"}')
            peer.text('{"jsonrpc": "2.0", "id": 2, "method": "tools/list"}')
            await peer.answer()
            peer.give({"type": "websocket.disconnect", "code": 1001})
            await ended()

    run(backend, main)
    opened, listed, closed = seen
    assert isinstance(opened, ConnectionInfo)
    assert (opened.peer, opened.path, opened.subprotocol) == ("10.0.0.7:5555", "/mcp", "mcp")
    assert isinstance(listed, RequestDone)
    assert (listed.method, listed.id, listed.outcome) == ("tools/list", 2, "result")
    assert isinstance(closed, ConnectionEnded)
    assert (closed.code, closed.revision) == (1001, "2025-11-25")
    assert (closed.traffic.messages_received, closed.traffic.messages_sent) == (3, 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_readiness_is_503_once_stopping_and_probes_check_the_host(backend: str) -> None:
    served = App(tools(), allowed_hosts=["mcp.example"])

    async def get(path: str, host: bytes) -> tuple[int, bytes, dict[bytes, bytes]]:
        with Peer() as peer:
            scope = scope_of("http", path=path, headers=[(b"host", host)])
            await served(scope, peer.receive, peer.send)
            start, sent = await peer.next(), await peer.next()
            return start["status"], sent["body"], dict(start["headers"])

    async def main() -> None:
        assert (await get("/readyz", b"mcp.example"))[:2] == (200, b"ok\n")
        status, body, _ = await get("/healthz", b"evil.example")
        assert (status, body) == (403, b"the host 'evil.example' is not allowed\n")
        async with served.lifespan():
            pass  # its end: the application stops taking connections
        status, body, headers = await get("/readyz", b"mcp.example")
        assert (status, body) == (503, b"not ready: the server is shutting down\n")
        assert headers[b"retry-after"] == b"1"
        assert (await get("/healthz", b"mcp.example"))[0] == 200

    run(backend, main)
