"""The ``mcpws`` command line (also ``python -m mcpws``).

* ``mcpws demo``: serve the demo server on a free loopback port, connect to it, use every
  part of it, and print the transcript.
* ``mcpws serve [module:attribute]``: serve an :class:`mcpws.Server` (the demo server by
  default), or an ``mcp`` ``Server`` or ``MCPServer`` or a ``fastmcp.FastMCP``, until
  stopped. The module is imported from the current folder first, then from
  ``sys.path``; an attribute that is not a server but can be called is called for one.
* ``mcpws serve --stdio [module:attribute]``: serve an :class:`mcpws.Server` on standard
  input and output instead, for a client that launches its servers.
* ``mcpws expose [serve options] -- COMMAND [ARGS ...]``: serve a stdio MCP server over
  WebSocket, one child process per connection.
* ``mcpws stdio URL``: relay a client that only launches commands (newline-delimited
  JSON-RPC on standard input and output) to a server over WebSocket; logs go to standard
  error only. It exits 0 once its input ends and every request has its answer, 3 when the
  server cannot be reached or the connection drops (unless ``--reconnect`` brings it back).
* ``mcpws call URL METHOD [PARAMS_JSON]``, ``mcpws tools URL``, ``mcpws tool URL NAME
  key=value ...``: one request to a server, its result printed as JSON. ``call`` sends any
  method, one that MCP does not define (a vendor's ``x/...``) as it is.

``--loop trio`` (the default) or ``--loop asyncio`` chooses the driver. ``--timeout`` bounds
the whole of a request command: connecting, the opening handshakes, the request.

Stopping a server: SIGINT (Ctrl-C) or SIGTERM drains it. It stops accepting connections,
gives the requests in flight up to ``--shutdown-timeout`` seconds to finish and send their
answers, closes each connection with 1001 and exits with status 0. A second SIGINT or SIGTERM
during the drain stops it at once, dropping the connections; the exit status is then 128 plus
the number of the signal that stopped it (130 for SIGINT, 143 for SIGTERM). With
``--workers N``, a supervisor (:mod:`mcpws._supervisor`) binds the sockets, runs N servers on
them and drains them all the same way; with ``--bus URL``, each server is on a Redis
notification bus (:mod:`mcpws.redis`) that tells the clients of every process of each
change; with ``--metrics PORT``, Prometheus metrics (:mod:`mcpws.metrics`) are served on
that port, summed over the workers.

Exit status, for every command:

* 0: success;
* 1: the server answered with an error: a JSON-RPC error reply, or a tool result with
  ``isError`` (printed all the same);
* 2: a bad command line: argparse's own errors, a request that mcpws will not send as given
  (params that do not fit the method, a capability the server did not declare), an app
  that cannot be imported;
* 3: the server could not be reached or used: the connection refused, the upgrade refused,
  the timeout passed, the connection lost; for ``serve``, the address cannot be listened on;
* 130: interrupted by Ctrl-C; for ``serve``, 128 plus the number of a second signal.

Errors are one line on standard error, ``mcpws: ...``; an exception raised while the app's
own module is imported is shown with its traceback. A server's warnings and errors (out of
file descriptors, a connection that failed) go there too, ``mcpws: WARNING: ...``, unless
the app configured logging itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import functools
import importlib
import inspect
import json
import logging
import math
import os
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import urlsplit

import attrs

from mcpws._supervisor import Supervisor, bind, worker_sockets
from mcpws._version import __version__
from mcpws.app import Client, McpError, Reconnect, Server, SharedStdioServer, StdioServer
from mcpws.app._hosting import Host, hosted
from mcpws.app._proxies import LOCAL_PROXIES, Proxies
from mcpws.app._pumping import url_of
from mcpws.app._sockets import given_socket
from mcpws.core.errors import LocalProtocolError, McpwsError
from mcpws.core.mcp import CallToolResult, Model, is_extension
from mcpws.core.session import ServerSessionConfig
from mcpws.core.versions import REVISIONS
from mcpws.core.websocket import DEFAULT_ORIGINS, LOOPBACK_HOSTS, WebSocketConfig
from mcpws.lowlevel import DRIVERS, connect_options, is_loopback, serve_options

__all__ = ["main"]

#: serve()'s own default, repeated for the help.
_SHUTDOWN_TIMEOUT = 10.0
#: The core's defaults of the limits the command line sets.
_MAX_CONCURRENT = inspect.signature(serve_options).parameters["max_concurrent_requests"].default
_MAX_PENDING = attrs.fields(ServerSessionConfig).max_pending_requests.default
#: The signals that drain a server, and a second time stop it at once.
_STOPPING = (signal.SIGINT, signal.SIGTERM)

_EXIT_STATUS = """\
exit status:
  0      success
  1      the server answered with an error: a JSON-RPC error reply, or a tool result
         with isError (still printed)
  2      a bad command line, a request mcpws will not send as given (params that do not
         fit the method, a capability the server did not declare), an app that cannot be
         imported
  3      the server could not be reached or used: the connection refused, the upgrade
         refused, the timeout passed, the connection lost; for serve, the address cannot
         be listened on
  130    interrupted by Ctrl-C (but for serve, which drains: see mcpws serve --help)
"""

_STOPPING_HELP = f"""\
stopping:
  SIGINT (Ctrl-C) or SIGTERM drains the server: it stops accepting connections, gives the
  requests in flight up to --shutdown-timeout seconds to finish and send their answers,
  closes each connection with 1001, and exits with status 0. A second SIGINT or SIGTERM
  during the drain stops it at once, dropping the connections (exit status 128+N).

{_EXIT_STATUS}\
  128+N  stopped at once by a second signal N: 130 for SIGINT, 143 for SIGTERM (128 plus
         the number of the signal)
"""


class _Failure(Exception):
    """A failure reported as one line, with its exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _say(text: str) -> None:
    """Print a line at once, as it happens, even to a pipe (a service's log)."""
    print(text, flush=True)


# Reading the command line ---------------------------------------------------------------


def _revisions(value: str | None) -> dict[str, Any]:
    return {} if value is None else {"revisions": (value,)}


def _header(value: str) -> tuple[str, str]:
    name, colon, content = value.partition(":")
    if not colon or not name.strip():
        raise argparse.ArgumentTypeError(f"a header is NAME: VALUE, not {value!r}")
    return name.strip(), content.strip()


def _argument(text: str) -> tuple[str, Any]:
    """``key=value``, where the value is JSON when it parses as JSON, else a string."""
    key, equals, raw = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"a tool argument is key=value, not {text!r}")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


def _params(text: str) -> dict[str, Any]:
    try:
        params = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"PARAMS_JSON is not JSON: {exc}") from None
    if not isinstance(params, dict):
        raise argparse.ArgumentTypeError("PARAMS_JSON must be a JSON object")
    return params


def _url(text: str) -> str:
    wrong = argparse.ArgumentTypeError(f"not a ws:// or wss:// URL: {text!r}")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises for a port out of range)
    except ValueError:
        raise wrong from None
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise wrong
    return text


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 0 to 65535, not {text!r}")
    return port


def _path(text: str) -> str:
    if not text.startswith("/") or any(c in text for c in "?# ") or not text.isprintable():
        raise argparse.ArgumentTypeError(f"a path starts with / and has no ?, # or space: {text!r}")
    return text


def _metrics_address(text: str) -> tuple[str, int]:
    """``--metrics``: ``[HOST:]PORT``, on 127.0.0.1 unless a host is given."""
    host, _, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]") or "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        number = 0
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"the metrics are served on [HOST:]PORT, not {text!r}")
    return host, number


def _count(text: str) -> int:
    """A whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a count is a whole number from 1, not {text!r}")
    return value


def _seconds(*, zero: bool) -> Callable[[str], float]:
    """A number of seconds, finite and positive (or zero too)."""
    what = "a positive number of seconds, or 0" if zero else "a positive number of seconds"

    def seconds(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
            raise argparse.ArgumentTypeError(f"{what}, not {text!r}")
        return value

    return seconds


def _app_spec(text: str) -> str:
    module, colon, attribute = text.partition(":")
    if not colon or not module or not attribute:
        raise argparse.ArgumentTypeError(f"name the server as module:attribute, not {text!r}")
    return text


# Serving --------------------------------------------------------------------------------


def _load(spec: str | None) -> Server | Host:
    """The server named by ``module:attribute`` (an :class:`mcpws.Server`, a server of a
    library mcpws hosts, or a function that makes one), imported from the current folder
    first as ``python -m`` does, or the demo server."""
    if spec is None:
        from mcpws._demo import demo_server

        return demo_server()
    module_name, _, attribute = spec.partition(":")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module_name + ".").startswith(exc.name + "."):
            raise _Failure(_broken(f"importing {module_name}"), 2) from exc  # one it imports
        where = f"no module named {exc.name} in the current folder or on sys.path"
        raise _Failure(f"cannot import {module_name}: {where}", 2) from None
    except Exception as exc:
        raise _Failure(_broken(f"importing {module_name}"), 2) from exc
    app: object = module
    for name in attribute.split("."):
        try:
            app = getattr(app, name)
        except AttributeError:
            raise _Failure(f"{module_name} has no attribute {attribute!r}", 2) from None
    if callable(app) and not isinstance(app, Server):
        try:
            app = app()
        except Exception as exc:
            raise _Failure(_broken(f"calling {spec}"), 2) from exc
    try:
        return hosted(app)
    except TypeError:
        raise _Failure(
            f"{spec} is a {type(app).__name__}, not an mcpws.Server"
            " (nor an mcp Server, MCPServer or FastMCP)",
            2,
        ) from None


def _broken(doing: str) -> str:
    """Show the traceback of the exception being handled, raised by the app's own code while
    *doing*; the line that goes with it."""
    traceback.print_exc()
    return f"{doing} failed (the traceback is above)"


def _policy(args: argparse.Namespace) -> dict[str, Any]:
    """serve()'s ``allowed_origins`` and ``allowed_hosts``: the patterns given, added to
    the loopback ones (the hosts only when bound to a loopback address)."""
    options: dict[str, Any] = {}
    if args.allow_origin:
        options["allowed_origins"] = (*DEFAULT_ORIGINS, *args.allow_origin)
    if args.allow_host:
        loopback = LOOPBACK_HOSTS if is_loopback(args.host) else ()
        options["allowed_hosts"] = (*loopback, *args.allow_host)
    return options


def _draining(signum: int, timeout: float) -> str:
    name = signal.Signals(signum).name
    return (
        f"{name}: draining; the requests in flight get up to {timeout:g} s to finish"
        " (Ctrl-C or SIGTERM again stops at once)"
    )


def _stopped_at_once(signum: int) -> str:
    return f"{signal.Signals(signum).name} again: stopped at once"


def _cannot_serve(args: argparse.Namespace, exc: OSError) -> _Failure:
    if args.uds is not None:
        where = f"the unix socket {args.uds}"
    elif args.fd:
        where = f"file descriptor {', '.join(map(str, args.fd))}"
    else:
        where = f"{args.host}:{args.port}"
    return _Failure(f"cannot serve on {where}: {exc.strerror or exc}", 3)


def _supervise(
    args: argparse.Namespace, argv: Sequence[str], write: Callable[[str], object]
) -> int:
    """``--workers``: bind the sockets, run the workers on them until stopped."""
    if getattr(args, "stdio", False) or args.dial is not None:
        raise _Failure("--workers is for listening: not with --stdio or --dial", 2)
    tls = _ssl_context(args) is not None  # bad TLS files: a bad command line, found now
    if args.uds is not None and args.fd:
        raise _Failure("--uds and --fd: a server listens on one of them", 2)
    if getattr(args, "bus", None) is not None:
        _redis_bus(args.bus)  # a bad URL, or no coredis: said once, not by every worker
    try:
        fds = [_inherited(one) for one in args.fd or ()]
        sockets = fds or bind(args.host, args.port, uds=args.uds, reuse_port=args.reuse_port)
    except OSError as exc:
        raise _cannot_serve(args, exc) from None
    try:
        address = sockets[0].getsockname()
        host = str(address[0]) if fds and isinstance(address, tuple) else args.host
        url = url_of(address, host, args.path, tls=tls)
        with _metrics_served(args, write, workers=True) as told:
            how = f"{args.workers} workers ({args.loop}; Ctrl-C or SIGTERM stops)"
            told(f"serving on {url} with {how}")
            supervisor = Supervisor(argv, args.workers, sockets, args.shutdown_timeout, write)
            if args.metrics is not None:
                folder = os.environ[_metrics().FOLDER_VARIABLE]
                supervisor.ended = functools.partial(_metrics().process_ended, folder=folder)
            status = supervisor.run()
    finally:
        for one in sockets:
            one.close()
        if args.uds is not None:
            with contextlib.suppress(OSError):
                os.unlink(args.uds)
    if status == 0:
        write("stopped")
    return status


def _as_worker(write: Callable[[str], object], line: str) -> object:
    """*write* a worker's *line*, which says which worker it is."""
    return write(f"worker {os.getpid()}: {line}")


async def _serve_trio(
    app: Server | Host, args: argparse.Namespace, write: Callable[[str], object]
) -> int:
    import trio

    serve = _server_task(app, args)
    with trio.open_signal_receiver(*_STOPPING) as signals:
        serving = trio.CancelScope()
        async with trio.open_nursery() as nursery:

            async def run(task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
                with serving:
                    await serve(task_status=task_status)
                nursery.cancel_scope.cancel()  # drained: stop waiting for signals

            try:
                listening = await nursery.start(run)
            except OSError as exc:
                raise _cannot_serve(args, exc) from None
            write(_serving_line(app, args, listening))
            async for signum in signals:
                if serving.cancel_called:
                    # trio's serve() shields its graceful shutdown: nothing but leaving
                    # the process ends it sooner.
                    write(_stopped_at_once(signum))
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(128 + signum)
                write(_draining(signum, args.shutdown_timeout))
                serving.cancel()
    write("stopped")
    return 0


async def _serve_asyncio(
    app: Server | Host, args: argparse.Namespace, write: Callable[[str], object]
) -> int:
    from mcpws.asyncio import TaskStatus

    serve = _server_task(app, args)
    loop = asyncio.get_running_loop()
    signals: asyncio.Queue[int] = asyncio.Queue()
    for stopping in _STOPPING:
        loop.add_signal_handler(stopping, signals.put_nowait, stopping)
    try:
        status = TaskStatus()
        task = asyncio.create_task(serve(task_status=status))
        try:
            listening = await _started(status, task)
        except OSError as exc:
            await asyncio.gather(task, return_exceptions=True)  # ended, with the same error
            raise _cannot_serve(args, exc) from None
        if listening is _ENDED:
            task.result()  # it ended by itself before it started: raise why
            return 0
        write(_serving_line(app, args, listening))
        signum = await _signal_or_end(signals, task)
        if signum is None:
            task.result()  # it ended by itself: raise why
            return 0
        write(_draining(signum, args.shutdown_timeout))
        task.cancel()
        again = await _signal_or_end(signals, task)
        if again is not None:
            task.cancel()  # cancelled again, serve() drops every connection at once
            write(_stopped_at_once(again))
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        for stopping in _STOPPING:
            loop.remove_signal_handler(stopping)
    if again is not None:
        return 128 + again
    write("stopped")
    return 0


async def _signal_or_end(signals: asyncio.Queue[int], task: asyncio.Task[None]) -> int | None:
    """The next signal, or ``None`` when *task* ends first."""
    received = asyncio.ensure_future(signals.get())
    await asyncio.wait([received, task], return_when=asyncio.FIRST_COMPLETED)
    if received.done():
        return received.result()
    received.cancel()
    return None


#: What :func:`_started` returns for a task that ended before it reported.
_ENDED = object()


async def _started(status: Any, task: asyncio.Task[None]) -> Any:
    """What *task* reported to *status*, or :data:`_ENDED` when it ended first (a dialing
    server gives up before its first connection opens)."""
    reported = asyncio.ensure_future(status.wait())
    await asyncio.wait([reported, task], return_when=asyncio.FIRST_COMPLETED)
    if reported.done():
        return reported.result()
    reported.cancel()
    return _ENDED


def _server_task(app: Server | Host, args: argparse.Namespace) -> Callable[..., Any]:
    """``serve()``, or ``dial()`` with ``--dial``, of the driver, with the options given;
    it takes ``task_status=``."""
    driver = DRIVERS[args.loop].load()
    options: dict[str, Any] = {"shutdown_timeout": args.shutdown_timeout, **_limits(args, app)}
    if args.dial is not None:
        _ssl_context(args)  # refuses TLS files with --dial
        if args.uds is not None or args.fd or args.reuse_port:
            raise _Failure("--dial listens on nothing: no --uds, --fd or --reuse-port", 2)
        for flag in ("bus", "metrics"):
            if getattr(args, flag, None) is not None:
                raise _Failure(f"--{flag} is for listening servers: not with --dial", 2)
        return functools.partial(driver.dial, app, args.dial, headers=_headers(args), **options)
    options.update(path=args.path, ssl_context=_ssl_context(args), **_policy(args))
    options.update(_listening(args))
    if args.proxy_headers:
        trusted = [one.strip() for one in args.forwarded_allow_ips.split(",") if one.strip()]
        try:
            Proxies(trusted)
        except ValueError as exc:
            raise _Failure(f"--forwarded-allow-ips: {exc}", 2) from None
        options.update(proxy_headers=True, forwarded_allow_ips=trusted)
    if getattr(args, "max_children", None) is not None:  # expose: one child a connection
        options["max_connections"] = args.max_children
    if getattr(args, "max_connections", None) is not None:
        options["max_connections"] = args.max_connections
    if getattr(args, "bus", None) is not None:
        options["bus"] = _bus(app, args.bus)
    if args.metrics is not None:
        options["hooks"] = [_metrics().Metrics()]
    return functools.partial(driver.serve, app, args.host, args.port, **options)


def _metrics() -> Any:
    """:mod:`mcpws.metrics`, or the command line's error without its extra."""
    try:
        import mcpws.metrics
    except ImportError as exc:
        raise _Failure(f"--metrics: {exc}", 2) from None
    return mcpws.metrics


@contextlib.contextmanager
def _metrics_served(
    args: argparse.Namespace, write: Callable[[str], object], *, workers: bool = False
) -> Iterator[Callable[[str], object]]:
    """For the block, ``--metrics``'s ``/metrics``, unless this is a worker (whose
    supervisor serves them): this process's series, or the sum of the *workers*' series,
    which they write in a folder made for them (``PROMETHEUS_MULTIPROC_DIR``, unless it
    is set already, as when several supervisors share it). The block gets *write*, which
    says where the metrics are once it has written the line that says where the server
    is."""
    if args.metrics is None or args.sockets is not None:
        yield write
        return
    metrics = _metrics()
    folder = os.environ.get(metrics.FOLDER_VARIABLE)
    made = None
    if workers and folder is None:
        made = folder = tempfile.mkdtemp(prefix="mcpws-metrics-")
        os.environ[metrics.FOLDER_VARIABLE] = folder  # the workers inherit it
    host, port = args.metrics
    try:
        try:
            server = metrics.start_server(host, port, multiprocess_folder=folder)
        except OSError as exc:
            why = exc.strerror or exc
            raise _Failure(f"cannot serve the metrics on {host}:{port}: {why}", 3) from None
        shown = f"[{host}]" if ":" in host else host
        where = [f"metrics on http://{shown}:{port}/metrics"]

        def then_where(line: str) -> object:
            written = write(line)
            if where:
                write(where.pop())
            return written

        try:
            yield then_where
        finally:
            server.shutdown()
            server.server_close()
    finally:
        if made is not None:
            os.environ.pop(metrics.FOLDER_VARIABLE, None)
            shutil.rmtree(made, ignore_errors=True)


def _bus(app: Server | Host, url: str) -> Any:
    """The Redis bus of ``--bus`` *url*, for the mcpws.Server *app*."""
    if not isinstance(app, Server):
        raise _Failure(
            f"--bus: {app.name} notifies its clients itself; a bus is for an mcpws.Server", 2
        )
    return _redis_bus(url)


def _redis_bus(url: str) -> Any:
    """The Redis bus at *url*, or the command line's error."""
    try:
        from mcpws.redis import RedisBus
    except ImportError as exc:
        raise _Failure(f"--bus: {exc}", 2) from None
    try:
        return RedisBus(url)
    except ValueError as exc:
        raise _Failure(f"--bus: {exc}", 2) from None


def _listening(args: argparse.Namespace) -> dict[str, Any]:
    """serve()'s options of where to listen besides --host and --port: a worker's sockets,
    --uds, --fd (each descriptor checked now: a bad one is a bad command line) and
    --reuse-port."""
    if args.sockets is not None:
        return {"sock": args.sockets}
    options: dict[str, Any] = {"reuse_port": args.reuse_port}
    if args.uds is not None and args.fd:
        raise _Failure("--uds and --fd: a server listens on one of them", 2)
    if args.uds is not None:
        options["uds"] = args.uds
    if args.fd:
        options["sock"] = [_inherited(one) for one in args.fd]
    return options


def _inherited(descriptor: int) -> socket.socket:
    """The listening socket of ``--fd`` *descriptor*."""
    try:
        return given_socket(socket.socket(fileno=descriptor))
    except (OSError, ValueError) as exc:
        raise _Failure(f"--fd {descriptor}: not a listening stream socket ({exc})", 2) from None


def _serving_line(app: Server | Host, args: argparse.Namespace, listening: Any) -> str:
    name = app.name if isinstance(app, Host) else app.info.name
    if args.dial is not None:
        return f"serving {name} to {args.dial}, dialed out ({args.loop}; Ctrl-C or SIGTERM stops)"
    return f"serving {name} on {listening.url} ({args.loop}; Ctrl-C or SIGTERM stops)"


def _log_to_stderr(args: argparse.Namespace) -> None:
    """Show what mcpws logs at ``--log-level`` and above (WARNING where a command has no
    such option) on standard error, one line each (``--log-format``: text, with a traceback
    under an error, or one JSON object), unless the app configured logging itself: an
    operator must see a server run out of file descriptors."""
    level = getattr(logging, getattr(args, "log_level", "warning").upper())
    logger = logging.getLogger("mcpws")
    configured = [h for h in logger.handlers if not isinstance(h, logging.NullHandler)]
    if configured or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    worker = getattr(args, "sockets", None) is not None
    if getattr(args, "log_format", "text") == "json":
        handler.setFormatter(_JsonLines(worker=worker))
    else:
        who = "mcpws[%(process)d]" if worker else "mcpws"
        handler.setFormatter(logging.Formatter(f"{who}: %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > level:
        logger.setLevel(level)


class _JsonLines(logging.Formatter):
    """A log record as one line of JSON: its time (UTC, ISO 8601), level, logger and
    message, the process id in a *worker*, the figures mcpws gives it (``mcpws``), and its
    traceback, if any."""

    def __init__(self, *, worker: bool = False) -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
        line: dict[str, Any] = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.worker:
            line["pid"] = record.process
        fields = getattr(record, "mcpws", None)
        if isinstance(fields, dict):
            line.update((key, value) for key, value in fields.items() if key not in line)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=repr)


async def _expose(args: argparse.Namespace, write: Callable[[str], object]) -> int:
    child = args.child[1:] if args.child[:1] == ["--"] else args.child
    if not child:
        raise _Failure("name the stdio server's command after --, as in: expose -- COMMAND", 2)
    kind = SharedStdioServer if args.shared else StdioServer
    environment = {**os.environ, **dict(args.env)}
    app = kind(child, env=environment, cwd=args.cwd, idle_timeout=args.idle_timeout)
    _log_to_stderr(args)
    serve = _serve_trio if DRIVERS[args.loop].loop == "trio" else _serve_asyncio
    with _metrics_served(args, write) as told:
        return await serve(app, args, told)


def _headers(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The headers to send with an upgrade: ``--header``, and the bearer token of
    ``--bearer-env``."""
    headers = list(args.header)
    if args.bearer_env is not None:
        token = os.environ.get(args.bearer_env)
        if not token:
            raise _Failure(f"--bearer-env: the variable {args.bearer_env} is not set", 2)
        headers.append(("Authorization", f"Bearer {token}"))
    return headers


async def _serve_stdio(app: Server | Host, args: argparse.Namespace) -> int:
    """Serve *app* on standard input and output, which are the protocol's: nothing else is
    written there."""
    if args.dial is not None:
        raise _Failure("--stdio and --dial: a server is served one way at a time", 2)
    for flag in ("bus", "metrics"):
        if getattr(args, flag) is not None:
            raise _Failure(f"--{flag} is for listening servers: not with --stdio", 2)
    if not isinstance(app, Server):
        raise _Failure(f"--stdio serves an mcpws.Server; {app.name} has a stdio of its own", 2)
    serve_stdio = DRIVERS[args.loop].load().serve_stdio
    await serve_stdio(app, shutdown_timeout=args.shutdown_timeout)
    return 0


async def _stdio(args: argparse.Namespace, write: Callable[[str], object]) -> int:
    """Relay this process's standard input and output to the server at ``args.url``; the
    output is the protocol's, so nothing but its messages is written there."""
    import attrs

    from mcpws.trio._relay import relay_stdio

    headers = _headers(args)
    reconnect = None
    if args.reconnect:
        reconnect = Reconnect(max_attempts=args.reconnect_attempts, max_delay=args.reconnect_delay)
    dialing = connect_options(
        args.url, headers=headers, open_timeout=args.open_timeout, reconnect=reconnect
    )
    _log_to_stderr(args)
    await relay_stdio(attrs.evolve(dialing, session=None))
    return 0


async def _serve(args: argparse.Namespace, write: Callable[[str], object]) -> int:
    app = _load(args.app)
    _log_to_stderr(args)
    if args.stdio:
        return await _serve_stdio(app, args)
    serve = _serve_trio if DRIVERS[args.loop].loop == "trio" else _serve_asyncio
    with _metrics_served(args, write) as told:
        return await serve(app, args, told)


# The demo -------------------------------------------------------------------------------


async def _demo(args: argparse.Namespace, write: Callable[[str], object]) -> int:
    from mcpws._demo import DEMO_CAPABILITIES, demo_server, run_demo

    driver = DRIVERS[args.loop].load()
    async with driver.serving(demo_server()) as listening:
        url = listening.url
        write(f"mcpws {__version__} demo: the demo server listens on {url} ({args.loop})")
        options = _revisions(args.revision)
        async with driver.connect(url, capabilities=DEMO_CAPABILITIES, **options) as client:
            await run_demo(client, write, DRIVERS[args.loop])
    write("done")
    return 0


# Requests -------------------------------------------------------------------------------


def _deadline(loop: str, timeout: float | None) -> AbstractAsyncContextManager[object]:
    """Give the block *timeout* seconds (``None``: no limit), then raise ``TimeoutError``."""
    if timeout is None:
        return contextlib.nullcontext()
    return DRIVERS[loop].fail_after(timeout)


async def _request(args: argparse.Namespace, write: Callable[[str], object]) -> int:
    connect = DRIVERS[args.loop].load().connect
    options = _revisions(args.revision)
    if args.timeout is not None:  # the one deadline: no request times out sooner by itself
        options.update(open_timeout=args.timeout, request_timeout=None)
    doing = f"connecting to {args.url}"
    try:
        async with (
            _deadline(args.loop, args.timeout),
            connect(args.url, headers=args.header, **options) as client,
        ):
            method = {"tools": "tools/list", "tool": "tools/call"}.get(args.command) or args.method
            doing = f"waiting for the answer to {method}"
            result = await _one_request(client, args)
    except TimeoutError:
        if args.timeout is None:
            raise
        raise _Failure(f"timed out after {args.timeout:g} s {doing}", 3) from None
    _print_json(result, write)
    if isinstance(result, CallToolResult) and result.is_error:
        name = args.name if args.command == "tool" else (args.params or {}).get("name")
        raise _Failure(f"the tool {name} answered with an error (isError)", 1)
    return 0


async def _one_request(client: Client, args: argparse.Namespace) -> Any:
    if args.command == "tools":
        return await client.list_tools()
    if args.command == "tool":
        return await client.call_tool(args.name, dict(args.arguments))
    return await client.request(args.method, args.params, extension=is_extension(args.method))


def _print_json(value: Any, write: Callable[[str], object]) -> None:
    if isinstance(value, Model):
        value = value.to_json()
    elif isinstance(value, list):
        value = [item.to_json() if isinstance(item, Model) else item for item in value]
    write(json.dumps(value, indent=2, ensure_ascii=False))


# The parser -----------------------------------------------------------------------------


class _Help(argparse.RawDescriptionHelpFormatter):
    """The options as argparse lays them out; the description and epilog as written."""


def _loop_option() -> dict[str, Any]:
    """The ``--loop`` option: the driver a command runs on, one of those registered."""
    return {
        "choices": tuple(DRIVERS),
        "default": "trio",
        "help": "the event loop and driver to run on (default: trio)",
    }


_ORIGIN_HELP = (
    "also accept WebSocket upgrades from browser pages of this origin; repeatable. A pattern "
    "is scheme://host:port, where the scheme or the port may be * and the host may start "
    "with *. for its subdomains (a port left out is the scheme's default); '*' allows any "
    "origin. Always accepted: pages of localhost, 127.0.0.1 and [::1] (any scheme and port), "
    "and clients that send no Origin (not browsers)"
)
_HOST_HELP = (
    "also accept this Host header; repeatable. A pattern is host[:port], where the port may "
    "be * and the host may start with *. for its subdomains (a host alone matches a Host "
    "header without a port, as a proxy on port 80 or 443 sends); '*' allows any. Bound to a "
    "loopback address, the server accepts localhost, 127.0.0.1 and [::1] on any port (which "
    "defeats DNS rebinding) and these as well; bound elsewhere, any host unless this is "
    "given, and then only these"
)


def _serving_options(serve: argparse.ArgumentParser) -> None:
    """The options of ``serve`` and ``expose``: where to listen, and the policy."""
    serve.add_argument("--host", default="127.0.0.1", help="the address (default: 127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, default=8000, help="0 to 65535, 0 for any free one (default: 8000)"
    )
    serve.add_argument(
        "--path", type=_path, default="/mcp", help="the endpoint's path (default: /mcp)"
    )
    serve.add_argument(
        "--allow-origin", action="append", metavar="PATTERN", default=[], help=_ORIGIN_HELP
    )
    serve.add_argument(
        "--allow-host", action="append", metavar="PATTERN", default=[], help=_HOST_HELP
    )
    serve.add_argument(
        "--shutdown-timeout",
        type=_seconds(zero=True),
        default=_SHUTDOWN_TIMEOUT,
        metavar="SECONDS",
        help="how long the requests in flight get to finish once stopping (default: "
        f"{_SHUTDOWN_TIMEOUT:g} s)",
    )
    serve.add_argument(
        "--dial",
        type=_url,
        metavar="URL",
        help="do not listen: connect out to a client waiting at this ws:// or wss:// URL and "
        "serve it, connecting again (0.5 s, then up to 30 s apart) whenever the connection "
        "drops or cannot open; --host, --port, --path and the allow-lists do not apply",
    )
    where = serve.add_argument_group("sockets (in place of --host and --port)")
    where.add_argument(
        "--uds",
        metavar="PATH",
        help="listen on a unix socket made at PATH (a stale socket file there is replaced; "
        "the file is removed on exit); any Host header is taken unless --allow-host is given",
    )
    where.add_argument(
        "--fd",
        type=int,
        action="append",
        metavar="N",
        help="listen on the socket inherited as file descriptor N, already bound and "
        "listening (systemd's socket activation passes 3, then 4 ...); repeatable",
    )
    serve.add_argument(
        "--workers",
        type=_count,
        metavar="N",
        help="run N worker processes accepting connections on the same sockets, bound once "
        "by a supervisor that starts another worker when one dies and drains them all when "
        "stopped (default: one process, no supervisor)",
    )
    serve.set_defaults(sockets=None)  # a worker's, from its supervisor
    serve.add_argument(
        "--metrics",
        type=_metrics_address,
        metavar="[HOST:]PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics (HOST: 127.0.0.1 unless "
        "given), the sum of every worker's with --workers (needs mcpws[metrics]; default: "
        "none)",
    )
    serve.add_argument(
        "--proxy-headers",
        action="store_true",
        help="behind a reverse proxy: log the client's address and scheme that a trusted proxy "
        "reports in Forwarded or X-Forwarded-For and X-Forwarded-Proto (ignored from any "
        "other peer)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="LIST",
        default=",".join(LOCAL_PROXIES),
        help="the proxies trusted with --proxy-headers: addresses and networks, comma-"
        f"separated, or * for any peer (default: {','.join(LOCAL_PROXIES)}; a unix socket's "
        "peer counts as local)",
    )
    serve.add_argument(
        "--reuse-port",
        action="store_true",
        help="let other processes listen on the same port (SO_REUSEPORT): the system spreads "
        "the connections among them",
    )
    _upgrade_options(serve, when=" (with --dial)")
    _limit_options(serve)
    tls = serve.add_argument_group("TLS (when listening)")
    tls.add_argument(
        "--certfile",
        metavar="FILE",
        help="serve wss:// with this certificate chain (PEM; the key may follow in it)",
    )
    tls.add_argument("--keyfile", metavar="FILE", help="the certificate's private key (PEM)")
    tls.add_argument(
        "--ca-certs",
        metavar="FILE",
        help="require a client certificate issued by one of these authorities (PEM), and "
        "refuse the TLS handshake of a client without one",
    )
    _log_options(serve)
    serve.add_argument("--loop", **_loop_option())


def _log_options(command: argparse.ArgumentParser, default: str = "info") -> None:
    """``--log-level`` and ``--log-format``: what a command logs on standard error."""
    logs = command.add_argument_group("logging")
    logs.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default=default,
        help="the least severe records shown: info shows each connection opened and closed, "
        f"debug each request too (default: {default})",
    )
    logs.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="text: one line a record; json: one JSON object a line, with its figures as "
        "members (default: text)",
    )


def _limit_options(serve: argparse.ArgumentParser) -> None:
    """The limits and timers of every connection, with the core's defaults."""
    limits = serve.add_argument_group("limits and timers (0: none, where a limit may be off)")
    config = WebSocketConfig()

    def add(flag: str, kind: Callable[[str], Any], metavar: str, text: str, default: Any) -> None:
        shown = (
            "none" if default is None else f"{default:g}" if isinstance(default, float) else default
        )
        limits.add_argument(flag, type=kind, metavar=metavar, help=f"{text} (default: {shown})")

    add(
        "--max-message-size",
        _bytes,
        "BYTES",
        "the bytes one message may hold, after "
        "decompression; a bigger one closes its connection with 1009",
        config.max_message_size,
    )
    add(
        "--max-concurrent-requests",
        _count,
        "N",
        "the requests of one connection handled at once; the next wait their turn",
        _MAX_CONCURRENT,
    )
    add(
        "--max-pending-requests",
        _count,
        "N",
        "the requests one connection may have in flight (an mcpws.Server's); beyond, -32005",
        _MAX_PENDING,
    )
    add(
        "--ping-interval",
        _seconds(zero=True),
        "SECONDS",
        "the keepalive: a ping after this long without a message from the peer",
        config.ping_interval,
    )
    add(
        "--ping-timeout",
        _seconds(zero=True),
        "SECONDS",
        "how long a pinged peer has to answer before its connection is dropped",
        config.ping_timeout,
    )
    add(
        "--open-timeout",
        _seconds(zero=True),
        "SECONDS",
        "how long the opening handshake may take",
        config.handshake_timeout,
    )
    add(
        "--close-timeout",
        _seconds(zero=True),
        "SECONDS",
        "how long the closing handshake may take",
        config.close_timeout,
    )


def _bytes(text: str) -> int:
    """A number of bytes, 0 for no limit."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"a size is a whole number of bytes, not {text!r}")
    return value


def _limits(args: argparse.Namespace, app: Server | Host) -> dict[str, Any]:
    """serve()'s and dial()'s options of the limits given: the WebSocket's ``config``, the
    handlers at once, and an mcpws.Server's session options."""
    options: dict[str, Any] = {}
    config: dict[str, Any] = {}
    for flag, field in (
        ("max_message_size", "max_message_size"),
        ("ping_interval", "ping_interval"),
        ("ping_timeout", "ping_timeout"),
        ("open_timeout", "handshake_timeout"),
        ("close_timeout", "close_timeout"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            config[field] = value or None  # 0: none
    if config:
        options["config"] = WebSocketConfig(**config)
    if args.max_concurrent_requests is not None:
        options["max_concurrent_requests"] = args.max_concurrent_requests
    if args.max_pending_requests is not None:
        if isinstance(app, Host):
            raise _Failure(f"--max-pending-requests is for an mcpws.Server, not {app.name}", 2)
        options["max_pending_requests"] = args.max_pending_requests
    return options


def _ssl_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    """The TLS context of ``--certfile``, ``--keyfile`` and ``--ca-certs``; ``None`` for
    plain ``ws://``."""
    if args.certfile is None:
        if args.keyfile is not None or args.ca_certs is not None:
            raise _Failure("--keyfile and --ca-certs go with --certfile", 2)
        return None
    if args.dial is not None:
        raise _Failure("--certfile is for listening: a server that dials out has no certificate", 2)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(args.certfile, args.keyfile)
        if args.ca_certs is not None:
            context.load_verify_locations(args.ca_certs)
            context.verify_mode = ssl.CERT_REQUIRED
    except (OSError, ssl.SSLError) as exc:
        raise _Failure(f"cannot use the TLS files given: {exc}", 2) from None
    return context


def _upgrade_options(parser: argparse.ArgumentParser, *, when: str = "") -> None:
    """``--header`` and ``--bearer-env``, what a connection this side opens sends."""
    parser.add_argument(
        "--header",
        action="append",
        type=_header,
        default=[],
        metavar="NAME: VALUE",
        help=f"a header to send with the upgrade request{when}; repeatable",
    )
    parser.add_argument(
        "--bearer-env",
        metavar="VARIABLE",
        help=f"send Authorization: Bearer{when} with the token this environment variable "
        "holds (a token on the command line would show in the process list)",
    )


def _variable(text: str) -> tuple[str, str]:
    """``NAME=VALUE``, for ``--env``."""
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"a variable is NAME=VALUE, not {text!r}")
    return name, value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcpws", description="MCP over WebSocket.", epilog=_EXIT_STATUS, formatter_class=_Help
    )
    parser.add_argument("--version", action="version", version=f"mcpws {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, text: str, epilog: str = _EXIT_STATUS) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, help=text, description=text[0].upper() + text[1:] + ".", epilog=epilog,
            formatter_class=_Help,
        )  # fmt: skip

    demo = command("demo", "run the demo server and a client against it")
    demo.add_argument("--revision", choices=REVISIONS, help="the one revision the client speaks")
    demo.add_argument("--loop", **_loop_option())
    serve = command("serve", "serve an mcpws.Server until stopped", _STOPPING_HELP)
    serve.add_argument(
        "app",
        nargs="?",
        type=_app_spec,
        help="module:attribute, imported from the current folder first; an attribute that is "
        "not a server is called for one (default: the demo server)",
    )
    serve.add_argument(
        "--stdio",
        action="store_true",
        help="do not listen: serve one client on standard input and output, MCP's stdio "
        "transport, until the input ends (for clients that launch their servers)",
    )
    _serving_options(serve)
    serve.add_argument(
        "--bus",
        metavar="URL",
        help="share the server's notifications (a list changed, a resource updated) with its "
        "replicas in other processes through the Redis server at URL: redis://HOST:PORT/DB, "
        "rediss:// for TLS or unix:///PATH (needs mcpws[redis]; default: each process tells "
        "its own clients only)",
    )
    serve.add_argument(
        "--max-connections",
        type=_count,
        metavar="N",
        help="connections open at once at most; beyond, an upgrade is answered 503 "
        "(default: no limit)",
    )
    expose = command(
        "expose",
        "serve a stdio MCP server over WebSocket, one child process per connection",
        _STOPPING_HELP,
    )
    expose.add_argument(
        "--env",
        action="append",
        type=_variable,
        default=[],
        metavar="NAME=VALUE",
        help="a variable added to the child's environment; repeatable",
    )
    expose.add_argument("--cwd", metavar="FOLDER", help="the child's working folder")
    expose.add_argument(
        "--shared",
        action="store_true",
        help="one child for every connection, its ids rewritten and its messages routed to "
        "the connection they belong to (default: a child of its own for each connection)",
    )
    expose.add_argument(
        "--max-children",
        type=_count,
        metavar="N",
        help="children running at once at most, one a connection; beyond, an upgrade is "
        "answered 503 (default: no limit)",
    )
    expose.add_argument(
        "--idle-timeout",
        type=_seconds(zero=False),
        metavar="SECONDS",
        help="close a connection (1001) that has carried no message either way for this long "
        "while none of its requests was in flight, ending its child (default: never)",
    )
    _serving_options(expose)
    expose.add_argument(
        "child",
        nargs=argparse.REMAINDER,
        metavar="-- COMMAND [ARGS ...]",
        help="the stdio server's command, after --",
    )
    stdio = command(
        "stdio",
        "relay a stdio MCP client to a server over WebSocket: newline-delimited JSON-RPC on "
        "standard input and output, logs on standard error",
    )
    stdio.add_argument("url", type=_url, help="ws:// or wss:// URL of the server")
    _upgrade_options(stdio)
    stdio.add_argument(
        "--reconnect",
        action="store_true",
        help="open the connection again when it drops; the session is opened again with the "
        "client's own initialize, and the requests in flight get a JSON-RPC error",
    )
    stdio.add_argument(
        "--reconnect-attempts",
        type=_count,
        metavar="N",
        help="attempts in a row before giving up (default: no limit)",
    )
    stdio.add_argument(
        "--reconnect-delay",
        type=_seconds(zero=False),
        default=30.0,
        metavar="SECONDS",
        help="the longest wait between attempts, which start at 0.5 s and double (default: 30)",
    )
    stdio.add_argument(
        "--open-timeout",
        type=_seconds(zero=False),
        default=30.0,
        metavar="SECONDS",
        help="how long connecting and the upgrade may take (default: 30)",
    )
    stdio.set_defaults(loop="trio")
    for name, text in (
        ("call", "send one request and print its result"),
        ("tools", "list a server's tools"),
        ("tool", "call one tool with key=value arguments"),
    ):
        request = command(name, text)
        request.add_argument("url", type=_url, help="ws:// or wss:// URL of the server")
        if name == "call":
            request.add_argument("method", help="any method, also one MCP does not define")
            request.add_argument(
                "params", nargs="?", type=_params, metavar="PARAMS_JSON", help="a JSON object"
            )
        elif name == "tool":
            request.add_argument("name")
            request.add_argument(
                "arguments",
                nargs="*",
                type=_argument,
                metavar="key=value",
                help="a value that parses as JSON is that JSON, else a string",
            )
        request.add_argument(
            "--header",
            action="append",
            type=_header,
            default=[],
            metavar="NAME: VALUE",
            help="a header to send with the upgrade request; repeatable",
        )
        request.add_argument(
            "--timeout",
            type=_seconds(zero=False),
            metavar="SECONDS",
            help="how long the whole command may take: connecting, the handshakes, the "
            "request (default: no limit of its own)",
        )
        request.add_argument("--revision", choices=REVISIONS, help="the one revision to speak")
        request.add_argument("--loop", **_loop_option())
    return parser


# Running --------------------------------------------------------------------------------


def _run(args: argparse.Namespace, write: Callable[[str], object]) -> int:
    """Run a command under its loop; its exit status. An exception group from a nursery is
    reported by its first error."""
    commands = {"demo": _demo, "serve": _serve, "expose": _expose, "stdio": _stdio}
    command = commands.get(args.command, _request)
    try:
        status: int = DRIVERS[args.loop].run(command, args, write)
    except BaseExceptionGroup as group:
        leaf: BaseException = group
        while isinstance(leaf, BaseExceptionGroup):
            leaf = leaf.exceptions[0]
        raise leaf from None
    return status


def main(argv: Sequence[str] | None = None, write: Callable[[str], object] = _say) -> int:
    """Run the ``mcpws`` command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        try:
            if getattr(args, "workers", None) is not None:
                args.sockets = worker_sockets()
                if args.sockets is None:
                    return _supervise(args, sys.argv[1:] if argv is None else argv, write)
                write = functools.partial(_as_worker, write)
            return _run(args, write)
        except McpError as exc:
            raise _Failure(f"the server answered {exc.code}: {exc.message}", 1) from None
        except LocalProtocolError as exc:
            raise _Failure(str(exc), 2) from None
        except (McpwsError, OSError, TimeoutError) as exc:
            raise _Failure(str(exc) or type(exc).__name__, 3) from None
        except KeyboardInterrupt:
            raise _Failure("interrupted", 130) from None
    except _Failure as failure:
        print(f"mcpws: {failure}", file=sys.stderr, flush=True)
        return failure.status


if __name__ == "__main__":
    sys.exit(main())
