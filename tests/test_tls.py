"""``wss://`` with each driver: a certificate made for the test by its own authority."""

from __future__ import annotations

import asyncio
import functools
import importlib
import ssl
import types
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio
import trustme

from mcpws import Server
from mcpws.app import ConnectError


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


DRIVERS = ["trio", "asyncio"]
Test = Callable[[str, ssl.SSLContext, Any], Awaitable[None]]


def _with_tls_server(driver: str, test: Test) -> None:
    """Run *test* on *driver* with the ``wss://`` URL of a server using a certificate made
    here, a client context that trusts it, and the driver's ``connect``."""
    server_context, client_context = _contexts()
    module = importlib.import_module(f"mcpws.{driver}")

    async def on_trio() -> None:
        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                start = functools.partial(module.serve, _app(), ssl_context=server_context)
                listeners = await nursery.start(start)
                port = listeners[0].socket.getsockname()[1]
                await test(f"wss://localhost:{port}/mcp", client_context, module.connect)
                nursery.cancel_scope.cancel()

    async def on_asyncio() -> None:
        async with asyncio.timeout(20):
            started: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            status = types.SimpleNamespace(started=started.set_result)
            task = asyncio.create_task(
                module.serve(_app(), ssl_context=server_context, task_status=status)
            )
            port = (await started)[0].getsockname()[1]
            try:
                await test(f"wss://localhost:{port}/mcp", client_context, module.connect)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    if driver == "trio":
        trio.run(on_trio)
    else:
        asyncio.run(on_asyncio(), debug=True)


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_client_that_trusts_the_certificate_talks_over_tls(driver: str) -> None:
    async def test(url: str, trusting: ssl.SSLContext, connect: Any) -> None:
        async with connect(url, ssl_context=trusting) as client:
            result = await client.call_tool("add", {"a": 2, "b": 3})
            assert result.content[0].to_json()["text"] == "5"

    _with_tls_server(driver, test)


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_client_that_does_not_trust_it_fails_to_connect_and_the_server_goes_on(
    driver: str,
) -> None:
    async def test(url: str, trusting: ssl.SSLContext, connect: Any) -> None:
        with pytest.raises(ConnectError, match="the TLS handshake failed"):
            async with connect(url, ssl_context=ssl.create_default_context()):
                pass  # pragma: no cover
        async with connect(url, ssl_context=trusting) as client:
            assert [tool.name for tool in await client.list_tools()] == ["add"]

    _with_tls_server(driver, test)
