"""Interoperability with a real browser: headless Chromium, whose own WebSocket loads
``tests/interop/browser_page.html`` and uses ``mcpws serve`` on each driver.

A small HTTP server in a thread serves the page and takes what the page saw, which it POSTs
as JSON; a test waits for that POST, then ends Chromium. From a loopback origin, which the
server allows by default, the page opens a session of each era, each on a connection of its
own: ``initialize`` then ``tools/call``, and ``server/discover`` then a stateless
``tools/call``. From a foreign origin (``app.example``, which Chromium is told to resolve to
127.0.0.1) its WebSocket is refused with 403. The same page uses an SDK server run on stdio
behind ``mcpws expose``. When Chromium is not installed (Debian's
``chromium`` package), :func:`peers.peer_missing` says so.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

import mcpws
from helpers.peers import (
    ASGI_SERVERS,
    INTEROP,
    LOOPS,
    asgi_serving,
    last_line,
    mcpws_serving,
    peer_missing,
    upgrade_status,
)
from mcpws.core.versions import REVISIONS

PAGE = INTEROP / "browser_page.html"
FOREIGN = "app.example"

#: Headless, and quiet: no sandbox (which needs a user namespace that root may not get), no
#: GPU, and none of the background traffic that a browser starts by itself.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

#: How long a page may take to post what it saw, Chromium's start included.
PAGE_TIMEOUT = 120.0


class _Site(ThreadingHTTPServer):
    """Serves the page on 127.0.0.1 and keeps what the page posts."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.results: queue.Queue[dict[str, Any]] = queue.Queue()

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port


class _Handler(BaseHTTPRequestHandler):
    server: _Site

    def do_GET(self) -> None:
        if urlsplit(self.path).path != "/":
            self.send_error(404)
            return
        body = PAGE.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        if self.path != "/result":
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.end_headers()
        self.server.results.put(json.loads(body))

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing of each request."""


@contextmanager
def _site() -> Iterator[_Site]:
    site = _Site()
    thread = threading.Thread(target=site.serve_forever, name="page server", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.shutdown()
        site.server_close()
        thread.join(timeout=30)


def _end(process: subprocess.Popen[bytes]) -> None:
    """End Chromium and the processes it started (its process group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=30)
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait(timeout=30)


def _browse(chromium: str, url: str, site: _Site, folder: Path, *flags: str) -> dict[str, Any]:
    """Load *url* in a fresh headless Chromium and return what the page posted."""
    log = folder / "chromium.log"
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={folder / 'profile'}", *flags, url]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + PAGE_TIMEOUT
            while process.poll() is None and time.monotonic() < deadline:
                try:  # waiting for the post, and noticing at once should Chromium exit first
                    return site.results.get(timeout=0.5)
                except queue.Empty:
                    continue
            said = last_line(log.read_bytes())
            if process.returncode is not None:
                raise AssertionError(f"Chromium exited ({process.returncode}): {said}")
            raise AssertionError(f"the page posted nothing in {PAGE_TIMEOUT} s; Chromium: {said}")
        finally:
            _end(process)


def _page_url(host: str, site: _Site, mode: str, server: int) -> str:
    query = urlencode({"mode": mode, "ws": f"ws://127.0.0.1:{server}/mcp"})
    return f"http://{host}:{site.port}/?{query}"


@pytest.fixture(scope="module")
def chromium() -> str:
    """The path of Debian's Chromium, if it is installed and runs."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        peer_missing("Chromium is not installed (Debian's package chromium)")
    try:
        done = subprocess.run([path, "--version"], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        peer_missing(f"Chromium does not run: {exc}")
    if done.returncode != 0:
        peer_missing(f"Chromium does not run: {last_line(done.stderr or done.stdout)}")
    return path


@pytest.fixture(scope="module", params=LOOPS)
def server(request: pytest.FixtureRequest) -> Iterator[int]:
    """``mcpws serve`` (the demo server) on each loop; its port."""
    with mcpws_serving(request.param) as port:
        yield port


def test_a_browser_page_uses_an_mcpws_server(chromium: str, server: int, tmp_path: Path) -> None:
    with _site() as site:
        seen = _browse(chromium, _page_url("127.0.0.1", site, "use", server), site, tmp_path)
        origin = f"http://127.0.0.1:{site.port}"
    assert "error" not in seen, seen["error"]
    assert seen["origin"] == origin
    server_info = {"name": "mcpws-demo", "version": mcpws.__version__}

    handshake = seen["handshake"]
    assert handshake["protocol"] == "mcp"
    opened = handshake["initialize"]
    assert (opened["id"], opened["result"]["protocolVersion"]) == (0, "2025-11-25")
    assert opened["result"]["serverInfo"] == server_info
    assert handshake["call"] == {
        "jsonrpc": "2.0",
        "id": 1,
        "result": {"content": [{"type": "text", "text": "5"}], "structuredContent": {"result": 5}},
    }

    stateless = seen["stateless"]
    assert stateless["protocol"] == "mcp"
    discovered = stateless["discover"]
    assert discovered["id"] == "discover"
    assert discovered["result"]["supportedVersions"] == sorted(REVISIONS, reverse=True)
    assert discovered["result"]["_meta"] == {"io.modelcontextprotocol/serverInfo": server_info}
    assert stateless["call"] == {
        "jsonrpc": "2.0",
        "id": "call",
        "result": {
            "content": [{"type": "text", "text": "9"}],
            "structuredContent": {"result": 9},
            "resultType": "complete",
            "_meta": {"io.modelcontextprotocol/serverInfo": server_info},
        },
    }


def test_a_page_from_a_foreign_origin_is_refused(
    chromium: str, server: int, tmp_path: Path
) -> None:
    """The page sees its handshake fail (1006); what the server answered it is 403, as the
    same upgrade by hand shows, where the page's own origin gets 101."""
    rule = f"--host-resolver-rules=MAP {FOREIGN} 127.0.0.1"
    with _site() as site:
        url = _page_url(FOREIGN, site, "refused", server)
        seen = _browse(chromium, url, site, tmp_path, rule)
        origin = f"http://{FOREIGN}:{site.port}"
    assert seen == {
        "origin": origin,
        "opened": False,
        "closed": {"code": 1006, "wasClean": False},
    }
    assert upgrade_status(server, origin=origin) == 403
    assert upgrade_status(server, origin=f"http://127.0.0.1:{site.port}") == 101


def test_a_browser_page_uses_a_stdio_server_through_expose(chromium: str, tmp_path: Path) -> None:
    """An SDK ``MCPServer`` run on stdio, behind ``mcpws expose``: the page's two sessions,
    one of each era, each get a child and their answers."""
    child = [sys.executable, str(INTEROP / "stdio_app.py")]
    with mcpws_serving("trio", child=child) as port, _site() as site:
        seen = _browse(chromium, _page_url("127.0.0.1", site, "use", port), site, tmp_path)
    assert "error" not in seen, seen["error"]
    handshake, stateless = seen["handshake"], seen["stateless"]
    assert handshake["protocol"] == stateless["protocol"] == "mcp"
    assert handshake["initialize"]["result"]["serverInfo"]["name"] == "stdio-sdk"
    assert handshake["call"]["result"]["structuredContent"] == {"result": 5}
    assert "2026-07-28" in stateless["discover"]["result"]["supportedVersions"]
    assert stateless["call"]["result"]["structuredContent"] == {"result": 9}


@pytest.mark.parametrize("server", sorted(ASGI_SERVERS))
def test_a_browser_page_uses_mcpws_as_an_asgi_application(
    chromium: str, server: str, tmp_path: Path
) -> None:
    """``mcpws.asgi.App`` under an ASGI server: the page's two sessions, one of each era,
    get their answers, and a page of a foreign origin is refused."""
    with asgi_serving("asgi_app:app", *ASGI_SERVERS[server]) as port, _site() as site:
        seen = _browse(chromium, _page_url("127.0.0.1", site, "use", port), site, tmp_path)
        assert upgrade_status(port, origin=f"http://{FOREIGN}:{site.port}") == 403
    assert "error" not in seen, seen["error"]
    handshake, stateless = seen["handshake"], seen["stateless"]
    assert handshake["protocol"] == stateless["protocol"] == "mcp"
    assert handshake["initialize"]["result"]["serverInfo"]["name"] == "asgi"
    assert handshake["call"]["result"]["structuredContent"] == {"result": 5}
    assert stateless["call"]["result"]["structuredContent"] == {"result": 9}
