"""``wss://`` with the trio driver: a certificate made for the test by its own authority."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Awaitable, Callable

import pytest
import trio
import trustme

from mcpws import Server
from mcpws.trio import ConnectError, connect, serve


def _app() -> Server:
    app = Server("secure")

    @app.tool()
    def add(a: int, b: int) -> int:
        return a + b

    return app


def _contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for localhost, and a client context trusting it."""
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost", "127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    authority.configure_trust(client)
    return server, client


def _with_tls_server(test: Callable[[str, ssl.SSLContext], Awaitable[None]]) -> None:
    """Run *test* with the ``wss://`` URL of a server using a certificate made here, and a
    client context that trusts it."""
    server_context, client_context = _contexts()

    async def main() -> None:
        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                start = functools.partial(serve, _app(), ssl_context=server_context)
                listeners = await nursery.start(start)
                port = listeners[0].socket.getsockname()[1]
                await test(f"wss://localhost:{port}/mcp", client_context)
                nursery.cancel_scope.cancel()

    trio.run(main)


def test_a_client_that_trusts_the_certificate_talks_over_tls() -> None:
    async def test(url: str, trusting: ssl.SSLContext) -> None:
        async with connect(url, ssl_context=trusting) as client:
            result = await client.call_tool("add", {"a": 2, "b": 3})
            assert result.content[0].to_json()["text"] == "5"

    _with_tls_server(test)


def test_a_client_that_does_not_trust_it_fails_to_connect_and_the_server_goes_on() -> None:
    async def test(url: str, trusting: ssl.SSLContext) -> None:
        with pytest.raises(ConnectError, match="the TLS handshake failed"):
            async with connect(url, ssl_context=ssl.create_default_context()):
                pass  # pragma: no cover
        async with connect(url, ssl_context=trusting) as client:
            assert [tool.name for tool in await client.list_tools()] == ["add"]

    _with_tls_server(test)
