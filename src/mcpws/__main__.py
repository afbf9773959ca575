"""The ``mcpws`` command line (also ``python -m mcpws``).

* ``mcpws demo``: serve the demo server on a free loopback port, connect to it, use every
  part of it, and print the transcript.
* ``mcpws serve [module:attribute]``: serve an :class:`mcpws.Server` (the demo server by
  default) until interrupted.
* ``mcpws call URL METHOD [PARAMS_JSON]``, ``mcpws tools URL``, ``mcpws tool URL NAME
  key=value ...``: one request to a server, its result printed as JSON.

``--loop trio`` (the default) or ``--loop asyncio`` chooses the driver. Errors print one line on
standard error and exit with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib
import json
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from mcpws._version import __version__
from mcpws.app import Client, McpError, Server
from mcpws.core.errors import McpwsError
from mcpws.core.mcp import Model
from mcpws.core.versions import REVISIONS

__all__ = ["main"]


def _revisions(value: str | None) -> dict[str, Any]:
    return {} if value is None else {"revisions": (value,)}


def _headers(values: Sequence[str]) -> list[tuple[str, str]]:
    headers = []
    for value in values:
        name, colon, content = value.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"a header is NAME: VALUE, not {value!r}")
        headers.append((name.strip(), content.strip()))
    return headers


def _argument(text: str) -> tuple[str, Any]:
    """``key=value``, where the value is JSON when it parses as JSON, else a string."""
    key, equals, raw = text.partition("=")
    if not equals or not key:
        raise ValueError(f"a tool argument is key=value, not {text!r}")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


def _load(spec: str | None) -> Server:
    """The server named by ``module:attribute``, or the demo server."""
    if spec is None:
        from mcpws._demo import demo_server

        return demo_server()
    module_name, colon, attribute = spec.partition(":")
    if not colon:
        raise ValueError(f"name the server as module:attribute, not {spec!r}")
    app = getattr(importlib.import_module(module_name), attribute)
    if callable(app) and not isinstance(app, Server):
        app = app()
    if not isinstance(app, Server):
        raise ValueError(f"{spec} is not an mcpws.Server")
    return app


def _print_json(value: Any, write: Callable[[str], object]) -> None:
    if isinstance(value, Model):
        value = value.to_json()
    elif isinstance(value, list):
        value = [item.to_json() if isinstance(item, Model) else item for item in value]
    write(json.dumps(value, indent=2, ensure_ascii=False))


@asynccontextmanager
async def _serving_trio(app: Server, host: str, port: int, **options: Any) -> AsyncIterator[int]:
    """Serve *app* with trio while in the block; yields the port it listens on."""
    import trio

    from mcpws.trio import serve

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(serve, app, host, port, **options))
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel()


class _Started:
    """A ``task_status`` for asyncio: a future of the value ``started`` reports."""

    def __init__(self) -> None:
        self.value: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def started(self, value: Any = None) -> None:
        self.value.set_result(value)


@asynccontextmanager
async def _serving_asyncio(app: Server, host: str, port: int, **options: Any) -> AsyncIterator[int]:
    """Serve *app* with asyncio while in the block; yields the port it listens on."""
    from mcpws.asyncio import serve

    status = _Started()
    task = asyncio.create_task(serve(app, host, port, task_status=status, **options))
    try:
        await asyncio.wait([status.value, task], return_when=asyncio.FIRST_COMPLETED)
        if not status.value.done():
            task.result()  # serving failed before it listened: raise why
        yield status.value.result()[0].getsockname()[1]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _forever(loop: str) -> None:
    if loop == "trio":
        import trio

        await trio.sleep_forever()
    else:
        await asyncio.Event().wait()


def _serving(loop: str) -> Callable[..., AbstractAsyncContextManager[int]]:
    return _serving_trio if loop == "trio" else _serving_asyncio


async def _demo(args: argparse.Namespace, write: Callable[[str], object]) -> None:
    from mcpws._demo import demo_server, run_demo

    connect = importlib.import_module(f"mcpws.{args.loop}").connect
    async with _serving(args.loop)(demo_server(), "127.0.0.1", 0) as port:
        url = f"ws://127.0.0.1:{port}/mcp"
        write(f"mcpws {__version__} demo: the demo server listens on {url} ({args.loop})")
        async with connect(url, **_revisions(args.revision)) as client:
            await run_demo(client, write)
    write("done")


async def _serve(args: argparse.Namespace, write: Callable[[str], object]) -> None:
    app = _load(args.app)
    options: dict[str, Any] = {"path": args.path}
    if args.allow_origin:
        options["allowed_origins"] = args.allow_origin
    if args.allow_host:
        options["allowed_hosts"] = args.allow_host
    async with _serving(args.loop)(app, args.host, args.port, **options) as port:
        write(f"serving {app.info.name} on ws://{args.host}:{port}{args.path} (Ctrl-C stops)")
        await _forever(args.loop)


async def _request(args: argparse.Namespace, write: Callable[[str], object]) -> None:
    connect = importlib.import_module(f"mcpws.{args.loop}").connect
    options = _revisions(args.revision)
    async with connect(args.url, headers=_headers(args.header), **options) as client:
        write_result = await _one_request(client, args)
        _print_json(write_result, write)


async def _one_request(client: Client, args: argparse.Namespace) -> Any:
    timeout = args.timeout
    if args.command == "tools":
        return await client.list_tools()
    if args.command == "tool":
        arguments = dict(_argument(text) for text in args.arguments)
        return await client.call_tool(args.name, arguments, timeout=timeout)
    params = json.loads(args.params) if args.params else None
    if params is not None and not isinstance(params, dict):
        raise ValueError("PARAMS_JSON must be a JSON object")
    return await client.request(args.method, params, timeout=timeout)


#: The ``--loop`` option: the driver a command runs on.
_LOOP: dict[str, Any] = {
    "choices": ("trio", "asyncio"),
    "default": "trio",
    "help": "the event loop and driver to run on (default: trio)",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcpws", description="MCP over WebSocket.")
    parser.add_argument("--version", action="version", version=f"mcpws {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the demo server and a client against it")
    demo.add_argument("--revision", choices=REVISIONS, help="the one revision the client speaks")
    demo.add_argument("--loop", **_LOOP)
    serve = commands.add_parser("serve", help="serve an mcpws.Server until interrupted")
    serve.add_argument("app", nargs="?", help="module:attribute (default: the demo server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--path", default="/mcp")
    serve.add_argument("--allow-origin", action="append", metavar="PATTERN", default=[])
    serve.add_argument("--allow-host", action="append", metavar="PATTERN", default=[])
    serve.add_argument("--loop", **_LOOP)
    for name, text in (
        ("call", "send one request and print its result"),
        ("tools", "list a server's tools"),
        ("tool", "call one tool with key=value arguments"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("url", help="ws:// or wss:// URL of the server")
        if name == "call":
            command.add_argument("method")
            command.add_argument("params", nargs="?", metavar="PARAMS_JSON")
        elif name == "tool":
            command.add_argument("name")
            command.add_argument("arguments", nargs="*", metavar="key=value")
        command.add_argument("--header", action="append", default=[], metavar="NAME: VALUE")
        command.add_argument("--timeout", type=float, default=None, help="seconds")
        command.add_argument("--revision", choices=REVISIONS)
        command.add_argument("--loop", **_LOOP)
    return parser


def _run(args: argparse.Namespace, write: Callable[[str], object]) -> None:
    """Run a command under its loop; an interrupted ``serve`` stops after its graceful
    shutdown. An exception group from a nursery is reported by its first error."""
    command = {"demo": _demo, "serve": _serve}.get(args.command, _request)
    try:
        try:
            if args.loop == "trio":
                import trio

                trio.run(command, args, write)
            else:
                asyncio.run(command(args, write))
        except BaseExceptionGroup as group:
            leaf: BaseException = group
            while isinstance(leaf, BaseExceptionGroup):
                leaf = leaf.exceptions[0]
            raise leaf from None
    except KeyboardInterrupt:
        if args.command != "serve":
            raise
        write("stopped")


def main(argv: Sequence[str] | None = None, write: Callable[[str], object] = print) -> int:
    """Run the ``mcpws`` command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        _run(args, write)
    except McpError as exc:
        print(f"mcpws: the server answered {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except (McpwsError, OSError, ValueError, TimeoutError) as exc:
        print(f"mcpws: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
