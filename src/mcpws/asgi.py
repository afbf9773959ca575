"""mcpws as an ASGI 3 application: :class:`App` serves an :class:`mcpws.Server` (or any
server ``serve()`` takes: the official SDK's, fastmcp's, a stdio bridge) at a path of an ASGI
server's (uvicorn, hypercorn, granian, ...), alone or mounted in another application.

The ASGI server listens, speaks TLS and frames the WebSocket; the application checks each
upgrade as ``serve()`` does (path, ``Host`` and ``Origin`` allow-lists, the subprotocol, the
``authenticate`` hook, the connection limit), refusing with the same HTTP statuses and
bodies, and drives the core's message channel with each message whole
(:class:`~mcpws.core.messages.MessageConnection`). Its ``http`` requests get ``/healthz`` and a
426 for a plain GET of the endpoint, as ``serve()`` answers them; ``lifespan`` runs the
served server's lifespan, and its end shuts the connections down gracefully. It runs on the
ASGI server's event loop: asyncio, or trio (hypercorn's trio worker).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from mcpws.app._observing import address_name
from mcpws.app._pumping import asgi_options
from mcpws.core.channel import select_subprotocol
from mcpws.core.connection import AuthenticationFailed, ConnectionRequested
from mcpws.core.websocket import HandshakeRequest

__all__ = ["App"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: What a client is told to wait before trying again when the server is full.
_RETRY_AFTER = (b"retry-after", b"1")


class App:
    """An ASGI application serving *server* at *path* (relative to where it is mounted),
    with the options of ``serve()`` that an ASGI server leaves to its application:
    *allowed_origins*, *allowed_hosts* (``None``: loopback names only when the ASGI server
    listens on a loopback address, else any), *authenticate*, *max_connections*,
    *max_concurrent_requests*, *shutdown_timeout*, *write_limit*; *max_message_size* bounds
    one message in bytes (set the ASGI server's own limit at least as high: it refuses
    bigger ones itself). *hooks* instrument it, as ``serve()``'s do, and during the
    lifespan the server is on *bus* (see :class:`mcpws.app.Bus`), so that the replicas under
    several workers tell each other's clients of their changes. *session_options* go to
    :meth:`mcpws.Server.session_config`.
    """

    def __init__(self, server: object, **options: Any) -> None:
        self._on = asgi_options(server, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    # Lifespan ----------------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """The application's lifespan, for a host application to enter (Starlette's
        ``lifespan=``) when this one is mounted inside it: the served server's lifespan
        runs within; at its end, new upgrades are refused with 503, the requests in flight
        get the grace, and every connection closes with 1001."""
        on = self._on
        on.stopping = False
        async with on.running():
            try:
                yield
            finally:
                on.stopping = True
                await _stop_all(on)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "lifespan.startup":
            return
        phase = "startup"
        try:
            async with self.lifespan():
                await send({"type": "lifespan.startup.complete"})
                while (await receive())["type"] != "lifespan.shutdown":
                    pass
                phase = "shutdown"
        except Exception as exc:
            await send({"type": f"lifespan.{phase}.failed", "message": str(exc)})
            raise
        await send({"type": "lifespan.shutdown.complete"})

    # HTTP --------------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = _path_of(scope)
        on = self._on
        server = scope.get("server")
        policy = on.policy_at(None if not server else str(server[0]))
        method = scope.get("method")
        host = next((v for k, v in scope.get("headers", ()) if k.lower() == b"host"), b"")
        probed = None
        if method in ("GET", "HEAD"):
            probed = policy.probe(path, host.decode("latin-1"), ready=not on.stopping)
        if probed is not None:
            retry = [_RETRY_AFTER] if probed[0] == 503 else []
            await _answer(send, *probed, retry, head=method == "HEAD")
        elif policy.path is not None and path != policy.path:
            await _answer(send, 404, f"nothing is served at {path}")
        else:
            upgrade = [(b"upgrade", b"websocket")]
            await _answer(send, 426, "this endpoint speaks WebSocket only", upgrade)

    # WebSocket ---------------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        on = self._on
        server = scope.get("server")
        policy = on.policy_at(None if not server else str(server[0]))
        path = _path_of(scope)
        headers = tuple(
            (name.decode("latin-1").lower(), value.decode("latin-1"))
            for name, value in scope.get("headers", ())
        )
        offered = tuple(scope.get("subprotocols", ()))
        request = HandshakeRequest(_target_of(scope), path, headers, offered)
        deny = _Denial(scope, send)
        if policy.path is not None and path != policy.path:
            await deny(404, f"nothing is served at {path}")
            return
        refused = policy.refusal(request.header("host") or "", request.header("origin"), offered)
        choice = select_subprotocol(offered, on.revisions)
        if refused is None and choice.refusal is not None:
            refused = 400, choice.refusal
        if refused is not None:
            await deny(*refused)
            return
        if on.stopping:
            await deny(503, "the server is shutting down", [_RETRY_AFTER])
            return
        if on.full:
            await deny(503, "the server is at its connection limit", [_RETRY_AFTER])
            return
        requested = ConnectionRequested(
            request, choice.subprotocol, choice.auth_token, choice.revision
        )
        try:
            principal = on.authenticate(requested) if on.authenticate is not None else None
        except AuthenticationFailed as exc:
            extra = [(b"www-authenticate", b"Bearer")] if exc.status_code == 401 else []
            await deny(exc.status_code, exc.message, extra)
            return
        await send({"type": "websocket.accept", "subprotocol": choice.subprotocol})
        peer = address_name(scope.get("client"))
        await _driver().serve_websocket(on, requested, principal, peer, receive, send)


class _Denial:
    """Refuse an upgrade with an HTTP response, where the ASGI server can send one (the
    WebSocket Denial Response extension); else by closing the handshake, which the server
    answers with 403."""

    def __init__(self, scope: Scope, send: Send) -> None:
        self._respond = "websocket.http.response" in (scope.get("extensions") or {})
        self._send = send

    async def __call__(
        self, status: int, reason: str, headers: Sequence[tuple[bytes, bytes]] = ()
    ) -> None:
        if not self._respond:
            await self._send({"type": "websocket.close", "code": 1008, "reason": reason[:123]})
            return
        body = (reason + "\n").encode()
        await self._send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [*_text_head(body), *headers],
            }
        )
        await self._send({"type": "websocket.http.response.body", "body": body})


def _text_head(body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]


async def _answer(
    send: Send,
    status: int,
    reason: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
    *,
    head: bool = False,
) -> None:
    """Answer an HTTP request with *status* and *reason* as a plain-text body."""
    body = (reason + "\n").encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [*_text_head(body), *headers],
    }
    await send(start)
    await send({"type": "http.response.body", "body": b"" if head else body})


def _path_of(scope: Scope) -> str:
    """The request's path below where the application is mounted (ASGI servers and
    frameworks put the mount point in ``root_path``, and some repeat it in ``path``)."""
    path: str = scope.get("path") or "/"
    root: str = scope.get("root_path") or ""
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    return path


def _target_of(scope: Scope) -> str:
    raw = scope.get("raw_path")
    target = raw.decode("latin-1") if raw else scope.get("path", "/")
    query: bytes = scope.get("query_string") or b""
    return f"{target}?{query.decode('latin-1')}" if query else target


def _on_trio() -> bool:
    """Whether this runs in a trio run (hypercorn's trio worker), not on asyncio."""
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True


def _driver() -> Any:
    """The driver of the running event loop's connections."""
    return importlib.import_module("mcpws.trio._asgi" if _on_trio() else "mcpws.asyncio._asgi")


async def _stop_all(on: Any) -> None:
    """Shut every connection down gracefully, at once, on the running loop."""
    await _driver().stop_all(on)
