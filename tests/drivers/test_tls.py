"""``wss://`` for every pair of drivers: a certificate made for the test by its own
authority."""

from __future__ import annotations

import ssl

import pytest

from helpers.pairs import Pair, text_of
from helpers.tls import contexts
from mcpws import Server
from mcpws.app import ConnectError


def _app() -> Server:
    app = Server("secure")

    @app.tool()
    def add(a: int, b: int) -> int:
        return a + b

    return app


def test_a_client_that_trusts_the_certificate_talks_over_tls(pair: Pair) -> None:
    server_context, client_context = contexts()

    async def main() -> None:
        async with pair.serving(_app(), ssl_context=server_context) as server:
            url = f"wss://127.0.0.1:{server.port}/mcp"
            async with pair.connect(url, ssl_context=client_context) as client:
                assert text_of(await client.call_tool("add", {"a": 2, "b": 3})) == "5"

    pair.run(main)


def test_a_client_that_does_not_trust_it_fails_to_connect_and_the_server_goes_on(
    pair: Pair,
) -> None:
    server_context, client_context = contexts()

    async def main() -> None:
        async with pair.serving(_app(), ssl_context=server_context) as server:
            url = f"wss://127.0.0.1:{server.port}/mcp"
            with pytest.raises(ConnectError, match="the TLS handshake failed"):
                async with pair.connect(url, ssl_context=ssl.create_default_context()):
                    pytest.fail("the session opened")  # pragma: no cover
            async with pair.connect(url, ssl_context=client_context) as client:
                assert [tool.name for tool in await client.list_tools()] == ["add"]

    pair.run(main)
