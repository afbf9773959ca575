"""``tools/call`` round trips over real loopback sockets, server and clients in separate
processes, side by side: mcpws on trio (``mcpws``) and on asyncio (``asyncio``), the official
Python SDK 1.30's WebSocket transport with its low-level server (``sdk``), a hand-written
wsproto-over-trio echo as the transport floor (``floor``), and the SDK's high-level server
carried two ways: the SDK 2.x ``MCPServer`` served by mcpws with ``mcp.Client`` over
``mcpws.sdk.websocket_client`` (``sdk2-mcpws``), and the same server code on the SDK 1.30
(``FastMCP``, as 1.x named it) over its own WebSocket transport (``sdk-high``); and under
ASGI servers, ``mcpws.asgi.App`` with the mcpws server (``asgi-uvicorn``, with uvicorn's
websockets-sansio backend, and ``asgi-hypercorn``) beside the SDK 1.30's ASGI endpoint with
its low-level server under the same servers (``sdk``, under uvicorn, and ``sdk-hypercorn``).

Run ``python benchmarks/bench_roundtrip.py`` (``--quick`` for shorter runs). The SDK runs in
its own virtual environment (``$MCPWS_TEST_CACHE`` or ``~/.cache/mcpws``, made on first use,
as the interoperability tests make it); without it the SDK column is left out.

Each contender's server offers one tool, ``echo``, that returns its ``text`` argument (the
floor echoes the request's bytes). Figures:

* sequential round trips per second, one client, ~200 bytes of text;
* the aggregate calls per second of 8 client processes calling at once;
* the server's CPU microseconds per call (user + system time of its process, over the
  sequential run);
* MB/s of a 1 MiB argument echoed back (the SDK's size limits raised so that it does not
  close with 1009; mcpws uses its defaults).

The same file holds every role: ``--role NAME`` runs one (the servers and clients are
started by the orchestrator, never by hand).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TEXT = "The quick brown fox jumps over the lazy dog. " * 4 + "0123456789" * 2
BIG = 1 << 20
CLIENTS = 8
SDK = "mcp==1.30.0"
CACHE = Path(os.environ.get("MCPWS_TEST_CACHE") or Path.home() / ".cache" / "mcpws")
HERE = Path(__file__).resolve()

#: The targets of the SDK carried by mcpws against the SDK 1.30's own transport, for the
#: same server code: (figure, least ratio, or most for CPU).
SDK_TARGETS = (("sequential calls/s", 1.5), ("server CPU µs/call", 1 / 1.5))

#: The targets of mcpws.asgi against the SDK 1.30's ASGI endpoint under the same ASGI server:
#: (contender, the SDK's, figure, most ratio).
ASGI_TARGETS = (
    ("asgi-uvicorn", "sdk", "server CPU µs/call", 0.5),
    ("asgi-hypercorn", "sdk-hypercorn", "server CPU µs/call", 0.5),
)

#: The targets: (figure, contender it is compared with, least ratio, or most for CPU).
TARGETS = (
    ("sequential calls/s", "sdk", 8.0),
    ("sequential calls/s", "floor", 0.6),
    ("8 clients calls/s", "sdk", 5.0),
    ("server CPU µs/call", "sdk", 1 / 6),
    ("1 MiB echo MB/s", "sdk", 5.0),
)


# Servers ------------------------------------------------------------------------------------


def server_mcpws(port: int) -> None:
    import trio

    from mcpws import Server
    from mcpws.trio import serve

    app = Server("bench")

    @app.tool()
    def echo(text: str) -> str:
        return text

    trio.run(lambda: serve(app, port=port))


def server_asyncio(port: int) -> None:
    import asyncio

    from mcpws import Server
    from mcpws.asyncio import serve

    app = Server("bench")

    @app.tool()
    def echo(text: str) -> str:
        return text

    asyncio.run(serve(app, port=port))


def server_sdk2(port: int) -> None:
    """The SDK 2.x's high-level server, served by mcpws's asyncio driver."""
    import asyncio

    from mcp.server import MCPServer

    from mcpws.asyncio import serve

    high = MCPServer("bench")

    @high.tool()
    def echo(text: str) -> str:
        return text

    asyncio.run(serve(high, port=port))


def _echo_app() -> Any:
    """The mcpws server of the other contenders, as an ASGI application."""
    from mcpws import Server
    from mcpws.asgi import App

    app = Server("bench")

    @app.tool()
    def echo(text: str) -> str:
        return text

    return App(app, max_message_size=1 << 26)


def server_asgi_uvicorn(port: int) -> None:
    import uvicorn

    uvicorn.run(
        _echo_app(),
        host="127.0.0.1",
        port=port,
        log_level="error",
        ws="websockets-sansio",
        ws_max_size=1 << 26,
    )


def server_asgi_hypercorn(port: int) -> None:
    _hypercorn(_echo_app(), port)


def _hypercorn(app: Any, port: int) -> None:
    """Serve *app* with hypercorn's asyncio worker, its message limit raised."""
    import asyncio

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.websocket_max_message_size = 1 << 26
    config.loglevel = "ERROR"
    asyncio.run(serve(app, config))


def server_sdk(port: int) -> None:  # pragma: no cover - runs in the SDK 1.30's environment
    import _sdk130

    _sdk130.server_lowlevel(port)


def server_sdk_high(port: int) -> None:  # pragma: no cover - runs in the SDK 1.30's environment
    import _sdk130

    _sdk130.server_high(port)


def server_sdk_hypercorn(port: int) -> None:  # pragma: no cover - runs in the SDK 1.30's env
    import _sdk130

    _sdk130.server_lowlevel(port, serve=lambda app, port: _hypercorn(app, port))


def server_floor(port: int) -> None:
    """The transport floor: wsproto over trio, each text message sent back as it came."""
    import trio
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage

    async def handle(stream: trio.SocketStream) -> None:
        ws = WSConnection(ConnectionType.SERVER)
        parts: list[str] = []
        while True:
            data = await stream.receive_some(65536)
            if not data:
                return
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, Request):
                    await stream.send_all(ws.send(AcceptConnection(subprotocol="mcp")))
                elif isinstance(event, TextMessage):
                    parts.append(event.data)
                    if event.message_finished:
                        await stream.send_all(ws.send(TextMessage(data="".join(parts))))
                        parts = []
                elif isinstance(event, CloseConnection):
                    await stream.send_all(ws.send(event.response()))
                    return

    trio.run(lambda: trio.serve_tcp(handle, port, host="127.0.0.1"))


# Clients ------------------------------------------------------------------------------------


def _report(calls: int, seconds: float, size: int = 0) -> None:
    print(json.dumps({"calls": calls, "seconds": seconds, "bytes": size * calls}))


def _text(mode: str) -> str:
    return "x" * BIG if mode == "big" else TEXT


def _more(mode: str, amount: float) -> Callable[[int, float], bool]:
    """Whether a client calls again, after *calls* since *start*: *amount* calls, or for
    *amount* seconds (mode ``for``)."""
    if mode == "for":
        return lambda calls, start: time.perf_counter() - start < amount
    return lambda calls, start: calls < amount


async def _calls(client: Any, mode: str, amount: float) -> None:
    """The calls of one client, on whichever loop, and their report."""
    text = _text(mode)
    more = _more(mode, amount)
    await client.call_tool("echo", {"text": text})
    calls, start = 0, time.perf_counter()
    while more(calls, start):
        result = await client.call_tool("echo", {"text": text})
        assert not result.is_error
        calls += 1
    _report(calls, time.perf_counter() - start, len(text) if mode == "big" else 0)


def client_mcpws(url: str, mode: str, amount: float) -> None:
    import trio

    from mcpws.trio import connect

    async def main() -> None:
        async with connect(url) as client:
            await _calls(client, mode, amount)

    trio.run(main)


def client_asyncio(url: str, mode: str, amount: float) -> None:
    import asyncio

    from mcpws.asyncio import connect

    async def main() -> None:
        async with connect(url) as client:
            await _calls(client, mode, amount)

    asyncio.run(main())


def client_sdk2(url: str, mode: str, amount: float) -> None:
    """``mcp.Client`` (SDK 2.x) over ``mcpws.sdk.websocket_client``, on asyncio."""
    import asyncio

    import mcp

    from mcpws.sdk import websocket_client

    async def main() -> None:
        async with mcp.Client(websocket_client(url), mode="legacy") as client:
            await _calls(client, mode, amount)

    asyncio.run(main())


def client_sdk(url: str, mode: str, amount: float) -> None:  # pragma: no cover - SDK's env
    import _sdk130

    text = _text(mode)
    calls, seconds = _sdk130.client(url, text, _more(mode, amount))
    _report(calls, seconds, len(text) if mode == "big" else 0)


def client_floor(url: str, mode: str, amount: float) -> None:
    import trio
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, Request, TextMessage

    from mcpws.core import jsonrpc

    async def main() -> None:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        ws = WSConnection(ConnectionType.CLIENT)
        await stream.send_all(
            ws.send(Request(host="127.0.0.1", target="/mcp", subprotocols=["mcp"]))
        )
        text = "x" * BIG if mode == "big" else TEXT
        params = {"name": "echo", "arguments": {"text": text}}
        message = jsonrpc.encode(jsonrpc.Request(1, "tools/call", params))

        async def trip() -> None:
            await stream.send_all(ws.send(TextMessage(data=message)))
            while True:
                ws.receive_data(await stream.receive_some(65536))
                for event in ws.events():
                    if isinstance(event, TextMessage) and event.message_finished:
                        return

        while not any(isinstance(e, AcceptConnection) for e in ws.events()):
            ws.receive_data(await stream.receive_some(65536))
        await trip()
        calls, start = 0, time.perf_counter()
        while (calls < amount) if mode != "for" else (time.perf_counter() - start < amount):
            await trip()
            calls += 1
        _report(calls, time.perf_counter() - start, len(text) if mode == "big" else 0)

    trio.run(main)


ROLES: dict[str, Callable[..., None]] = {
    "server-mcpws": server_mcpws,
    "server-asyncio": server_asyncio,
    "server-sdk": server_sdk,
    "server-sdk-high": server_sdk_high,
    "server-sdk2-mcpws": server_sdk2,
    "server-floor": server_floor,
    "server-asgi-uvicorn": server_asgi_uvicorn,
    "server-asgi-hypercorn": server_asgi_hypercorn,
    "server-sdk-hypercorn": server_sdk_hypercorn,
    "client-mcpws": client_mcpws,
    "client-asyncio": client_asyncio,
    "client-sdk": client_sdk,
    "client-sdk-high": client_sdk,
    "client-sdk2-mcpws": client_sdk2,
    "client-floor": client_floor,
    "client-asgi-uvicorn": client_asyncio,
    "client-asgi-hypercorn": client_asyncio,
    "client-sdk-hypercorn": client_sdk,
}


# The orchestrator ---------------------------------------------------------------------------


def sdk_python() -> Path | None:
    """The Python of the SDK's environment, made when missing; ``None`` when impossible."""
    python = CACHE / "mcp-1.30.0" / "bin" / "python"
    check = (
        "import importlib.metadata as m, uvicorn, hypercorn; assert m.version('mcp') == '1.30.0'"
    )
    if python.exists() and subprocess.run([python, "-c", check], check=False).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", python.parent.parent], check=True)
    install = [str(python), "-m", "pip", "install", "-q", SDK, "uvicorn", "websockets", "hypercorn"]
    if subprocess.run(install, check=False).returncode != 0:
        return None
    return python


def _has_sdk2() -> bool:
    """Whether the SDK 2.x is installed here (``mcpws[sdk]``)."""
    try:
        import mcp.server  # noqa: F401
    except ImportError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of process *pid* so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spawn(python: Path, role: str, *args: object) -> subprocess.Popen[str]:
    command = [str(python), str(HERE), "--role", role, *map(str, args)]
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1] / "src")}
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)


def run_clients(
    python: Path, name: str, url: str, mode: str, amount: float, count: int
) -> dict[str, float]:
    clients = [spawn(python, f"client-{name}", url, mode, amount) for _ in range(count)]
    reports = [json.loads(client.communicate(timeout=600)[0]) for client in clients]
    return {
        "calls": sum(report["calls"] for report in reports),
        "seconds": max(report["seconds"] for report in reports),
        "bytes": sum(report["bytes"] for report in reports),
    }


def measure(name: str, python: Path, quick: bool) -> dict[str, float]:
    port = free_port()
    server = spawn(python, f"server-{name}", port)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        url = f"ws://127.0.0.1:{port}/mcp"
        client_python = python
        before = cpu_seconds(server.pid)
        sequential = run_clients(client_python, name, url, "seq", 500 if quick else 3000, 1)
        cpu = cpu_seconds(server.pid) - before
        crowd = run_clients(client_python, name, url, "for", 1.5 if quick else 4.0, CLIENTS)
        big = run_clients(client_python, name, url, "big", 3 if quick else 10, 1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "sequential calls/s": sequential["calls"] / sequential["seconds"],
        "8 clients calls/s": crowd["calls"] / crowd["seconds"],
        "server CPU µs/call": cpu / sequential["calls"] * 1e6,
        "1 MiB echo MB/s": 2 * big["bytes"] / big["seconds"] / 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--role", choices=ROLES, help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        role = ROLES[args.role]
        if args.role.startswith("server"):
            role(int(args.args[0]))
        else:
            role(args.args[0], args.args[1], float(args.args[2]))
        return 0
    contenders = {
        "mcpws": Path(sys.executable),
        "asyncio": Path(sys.executable),
        "floor": Path(sys.executable),
    }
    sdk = sdk_python()
    if sdk is not None:
        contenders["sdk"] = sdk
    if _has_sdk2():
        contenders["sdk2-mcpws"] = Path(sys.executable)
        if sdk is not None:
            contenders["sdk-high"] = sdk
    contenders["asgi-uvicorn"] = contenders["asgi-hypercorn"] = Path(sys.executable)
    if sdk is not None:
        contenders["sdk-hypercorn"] = sdk
    figures = {name: measure(name, python, args.quick) for name, python in contenders.items()}
    rows = list(next(iter(figures.values())))
    print(f"{'':<22}" + "".join(f"{name:>15}" for name in figures))
    for row in rows:
        print(f"{row:<22}" + "".join(f"{figures[name][row]:>15.1f}" for name in figures))
    for driver in ("mcpws", "asyncio"):
        for row, other, target in TARGETS:
            if other not in figures:
                print(f"{row} vs {other}: not measured")
                continue
            ratio = figures[driver][row] / figures[other][row]
            met = ratio <= target if "CPU" in row else ratio >= target
            sign = "<=" if "CPU" in row else ">="
            verdict = "met" if met else "NOT met"
            print(f"{row}: {driver}/{other} = {ratio:.2f} (target {sign} {target:.2f}: {verdict})")
    for row, target in SDK_TARGETS:
        if "sdk2-mcpws" not in figures or "sdk-high" not in figures:
            print(f"{row}: sdk2-mcpws/sdk-high not measured")
            continue
        ratio = figures["sdk2-mcpws"][row] / figures["sdk-high"][row]
        met = ratio <= target if "CPU" in row else ratio >= target
        sign = "<=" if "CPU" in row else ">="
        verdict = "met" if met else "NOT met"
        print(f"{row}: sdk2-mcpws/sdk-high = {ratio:.2f} (target {sign} {target:.2f}: {verdict})")
    for contender, other, row, target in ASGI_TARGETS:
        if other not in figures:
            print(f"{row}: {contender}/{other} not measured")
            continue
        ratio = figures[contender][row] / figures[other][row]
        verdict = "met" if ratio <= target else "NOT met"
        print(f"{row}: {contender}/{other} = {ratio:.2f} (target <= {target:.2f}: {verdict})")
    for row in rows:  # the asyncio driver against the trio driver, row by row
        ratio = figures["asyncio"][row] / figures["mcpws"][row]
        better = ratio <= 1 if "CPU" in row else ratio >= 1
        verdict = "at least as good" if better else "worse"
        print(f"{row}: asyncio/trio = {ratio:.2f} ({verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
