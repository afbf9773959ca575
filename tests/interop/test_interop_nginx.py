"""nginx (Debian's package) in front of ``mcpws serve --proxy-headers``, in one process and
with ``--workers 2``, with the ``location`` README's "Deploying" section recommends (read
from there): clients connect through it, an idle connection outlives nginx's read timeout
thanks to the server's keepalive pings, the server's log shows each client's own address,
and an ``X-Forwarded-For`` a client forges is not believed.

The client connects from 127.0.0.2, nginx from 127.0.0.1, which is the only proxy trusted: so
the log can tell the client from the proxy, all on loopback."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import websockets.asyncio.client

from helpers.network import INITIALIZE
from helpers.peers import INTEROP, free_port, peer_missing, stop, wait_for_port

TIMEOUT = 60
#: nginx's proxy_read_timeout in the test, in seconds, and how long the client stays idle.
READ_TIMEOUT = 2
IDLE = 3.5

#: The nginx configuration the test runs ({port}: where nginx listens, {prefix}: nginx's own
#: files), around the location README recommends (:func:`location`).
CONFIG = """
daemon off;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
    server {{
        listen 127.0.0.1:{port};
{location}
    }}
}}
"""


def location(upstream: int) -> str:
    """README's nginx ``location``, passing to *upstream* and with the test's read timeout."""
    readme = (Path(__file__).resolve().parents[2] / "README.rst").read_text()
    block = readme.split(".. code-block:: nginx\n\n", 1)[1].split("\n\n", 1)[0]
    assert "proxy_pass http://127.0.0.1:8000;" in block
    assert "proxy_read_timeout 60s;" in block
    block = block.replace("127.0.0.1:8000", f"127.0.0.1:{upstream}")
    return block.replace("proxy_read_timeout 60s;", f"proxy_read_timeout {READ_TIMEOUT}s;")


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("/usr/sbin/nginx")
    if found is None:
        peer_missing("nginx is not installed (Debian: apt-get install nginx-light)")
    return found


@contextmanager
def mcpws_behind_nginx(tmp_path: Path, *options: str) -> Iterator[tuple[int, Path]]:
    """``mcpws serve --proxy-headers *options`` behind nginx; nginx's port, and the
    server's log."""
    upstream, port = free_port(), free_port()
    log = tmp_path / "mcpws.log"
    command = [sys.executable, "-m", "mcpws", "serve", "--port", str(upstream), *options]
    command += ["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1", "--ping-interval", "0.5"]
    with log.open("wb") as errors:
        server = subprocess.Popen(command, cwd=INTEROP, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        wait_for_port(upstream, server)
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        config = prefix / "nginx.conf"
        config.write_text(CONFIG.format(port=port, prefix=prefix, location=location(upstream)))
        proxy = subprocess.Popen(
            [nginx_binary(), "-c", str(config), "-p", str(prefix)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, proxy)
            yield port, log
        finally:
            stop(proxy)
    finally:
        stop(server)


async def talk(port: int) -> list[dict[str, object]]:
    """Open a session through nginx from 127.0.0.1 claiming another address, list the tools,
    stay idle past nginx's read timeout, list them again; the two answers."""
    async with asyncio.timeout(TIMEOUT):
        async with websockets.asyncio.client.connect(
            f"ws://127.0.0.1:{port}/mcp",
            subprotocols=[websockets.Subprotocol("mcp")],
            additional_headers={"X-Forwarded-For": "203.0.113.9"},
            local_addr=("127.0.0.2", 0),
        ) as socket:
            await socket.send(INITIALIZE)
            json.loads(await socket.recv())
            await socket.send('{"jsonrpc": "2.0", "method": "notifications/initialized"}')
            answers = []
            for number in (1, 2):
                await socket.send(
                    json.dumps({"jsonrpc": "2.0", "id": number, "method": "tools/list"})
                )
                answers.append(json.loads(await socket.recv()))
                if number == 1:
                    # Idle for longer than nginx waits for the upstream: the pings keep it open.
                    await asyncio.sleep(IDLE)
            return answers


async def clients(port: int, count: int) -> list[list[dict[str, object]]]:
    """What *count* clients talking at once (:func:`talk`) got."""
    return list(await asyncio.gather(*(talk(port) for _ in range(count))))


@pytest.mark.parametrize("workers", [(), ("--workers", "2")], ids=["one", "workers"])
def test_through_nginx_idle_sessions_live_and_the_log_shows_the_real_client(
    tmp_path: Path, workers: tuple[str, ...]
) -> None:
    nginx_binary()
    with mcpws_behind_nginx(tmp_path, *workers) as (port, log):
        started = time.monotonic()
        talks = asyncio.run(clients(port, 3))
        assert time.monotonic() - started > READ_TIMEOUT
    for first, second in talks:
        assert [answer["id"] for answer in (first, second)] == [1, 2]
        assert all("tools" in answer["result"] for answer in (first, second))  # type: ignore[operator]
    lines = log.read_text().splitlines()
    opened = [line for line in lines if "connection opened" in line]
    closed = [line for line in lines if "connection closed" in line]
    # The client as nginx saw it: not nginx (127.0.0.1), nor the address it forged.
    peers = [line.split("connection opened: ")[1].split(" ")[0] for line in opened]
    assert peers == ["127.0.0.2"] * 3, lines
    assert "203.0.113.9" not in log.read_text()
    assert len(closed) == 3
    assert all(", code 1000" in line for line in closed)
    if workers:
        assert all(line.startswith("mcpws[") for line in opened)  # a worker's
