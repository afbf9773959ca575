"""Where ``serve()`` listens besides a host and port, on each driver mcpws ships: a unix
socket (``uds``), a listening socket made elsewhere (``sock``, as an inherited descriptor is),
and a port shared with another process (``reuse_port``)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

from helpers.network import proxy
from helpers.pairs import SHIPPED, Pair
from mcpws import Server
from mcpws.core.mcp import TextContent
from mcpws.lowlevel import serve_options


def echo_server() -> Server:
    app = Server("sockets", "1.0")

    @app.tool()
    def echo(text: str) -> str:
        """Return the text."""
        return text

    return app


@pytest.fixture(params=SHIPPED)
def alone(request: pytest.FixtureRequest) -> Pair:
    return Pair(request.param, request.param)


async def call_through(pair: Pair, url: str) -> str:
    async with pair.connect(url) as client:
        result = await client.call_tool("echo", {"text": "hi"})
        block = result.content[0]
        assert isinstance(block, TextContent)
        return block.text


def short_path(tmp_path: Path) -> str:
    """A unix socket's path in *tmp_path*, or in /tmp when that is too long for one."""
    path = str(tmp_path / "mcp.sock")
    return path if len(path) < 100 else f"/tmp/mcpws-{os.getpid()}-{id(tmp_path)}.sock"


def test_a_unix_socket_serves_any_host_and_its_file_goes_with_the_server(
    alone: Pair, tmp_path: Path
) -> None:
    path = short_path(tmp_path)
    Path(path).touch()  # a file there that is not a socket is an error

    with pytest.raises(FileExistsError, match="not a socket"):
        serve_options(echo_server(), uds=path).bind()
    assert Path(path).is_file()  # left as it was
    os.unlink(path)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)  # a socket file left by a server that is gone is replaced
    stale.close()

    async def main() -> None:
        async with alone.serving(echo_server(), uds=path) as served:
            (listening,) = served.sockets
            assert listening.getsockname() == path
            async with proxy(path) as relay:
                # Host is 127.0.0.1:<relay port>: any Host is taken on a unix socket.
                assert await call_through(alone, f"ws://127.0.0.1:{relay.port}/mcp") == "hi"

    alone.run(main)
    assert not os.path.exists(path)


def test_a_given_socket_is_served_and_its_address_checks_the_host(alone: Pair) -> None:
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]

    async def main() -> None:
        async with alone.serving(echo_server(), sock=listening) as served:
            assert served.port == port
            assert await call_through(alone, f"ws://127.0.0.1:{port}/mcp") == "hi"

    alone.run(main)
    assert listening.fileno() == -1  # closed with the server


def test_several_given_sockets_are_each_served(alone: Pair) -> None:
    sockets = [socket.create_server(("127.0.0.1", 0)) for _ in range(2)]
    ports = [one.getsockname()[1] for one in sockets]

    async def main() -> None:
        async with alone.serving(echo_server(), sock=sockets) as served:
            assert served.port == ports[0]
            for port in ports:
                assert await call_through(alone, f"ws://127.0.0.1:{port}/mcp") == "hi"

    alone.run(main)
    assert [one.fileno() for one in sockets] == [-1, -1]


def test_a_given_socket_must_be_a_listening_stream_and_not_beside_uds() -> None:
    with socket.socket() as unbound, pytest.raises(ValueError, match="listening already"):
        serve_options(echo_server(), sock=unbound).bind()
    datagrams = socket.socket(type=socket.SOCK_DGRAM)
    with datagrams, pytest.raises(ValueError, match="a stream socket"):
        serve_options(echo_server(), sock=datagrams).bind()
    listening = socket.create_server(("127.0.0.1", 0))
    with listening, pytest.raises(ValueError, match="not both"):
        serve_options(echo_server(), sock=listening, uds="x.sock")


def test_reuse_port_lets_two_servers_share_a_port(alone: Pair) -> None:
    async def main() -> None:
        app = echo_server()
        async with alone.serving(app, reuse_port=True) as first:
            options: dict[str, Any] = {"reuse_port": True}
            async with alone.serving(app, port=first.port, **options) as second:
                assert second.port == first.port
                for _ in range(4):
                    assert await call_through(alone, first.url) == "hi"

    alone.run(main)
