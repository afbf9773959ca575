"""What a server tells of its connections and requests: the :class:`Hooks` an application
adds to instrument it, the records they are given (:class:`ConnectionInfo`,
:class:`ConnectionEnded`, :class:`RequestDone`), and the log records every server writes.

A server's :class:`Watch` holds its hooks and the logging ones, which write one record per
connection opened and one per connection closed on the ``mcpws.connection`` logger (at
INFO), and, at DEBUG on ``mcpws.request``, one per request answered. Each record carries
its figures as the ``mcpws`` attribute (a dict), for a structured formatter.

The cost when nothing listens is one check per connection: a connection is watched only when
a hook is added or ``mcpws.connection`` logs at INFO, and its requests are timed only when a
hook overrides :meth:`Hooks.request_done` or ``mcpws.request`` logs at DEBUG, as it stands
when the connection opens.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from mcpws.app._driving import Answer, Handler
from mcpws.app._errors import McpError
from mcpws.core.connection import Traffic
from mcpws.core.jsonrpc import INTERNAL_ERROR, RequestId
from mcpws.core.mcp import Model
from mcpws.core.session import RequestReceived

if TYPE_CHECKING:
    import socket

__all__ = ["ConnectionEnded", "ConnectionInfo", "Hooks", "Outcome", "RequestDone", "Watch"]

_connections = logging.getLogger("mcpws.connection")
_requests = logging.getLogger("mcpws.request")

#: How a request ended: its handler gave a result, raised (an error answered), or was
#: cancelled (by the client, or by the end of the connection or of the server).
Outcome = Literal["result", "error", "cancelled"]


@attrs.frozen
class ConnectionInfo:
    """A connection a server took, once its upgrade is accepted.

    ``peer`` is the client's address (``host:port``; ``None`` where unknown, as for the peer
    of a unix socket), ``path`` the path it asked for, ``subprotocol`` the one accepted,
    ``revision`` the revision it named (``mcp.version.<revision>``; else the session decides
    it later), ``principal`` what the ``authenticate`` hook returned, ``opened`` when, on the
    loop's clock, and ``scheme`` the client's (``ws`` or ``wss``). Behind a trusted proxy
    (see ``serve()``'s *proxy_headers*), ``peer`` and ``scheme`` are the client's that the
    proxy reports."""

    peer: str | None
    path: str | None
    subprotocol: str | None
    revision: str | None
    principal: object
    opened: float
    scheme: str = "ws"


@attrs.frozen
class ConnectionEnded:
    """How a connection ended: the WebSocket close ``code`` and ``reason`` (``None``: the
    stream ended without a close frame), the ``revision`` its session spoke in the end (if
    any), how long it lasted, and what it carried each way."""

    code: int | None
    reason: str
    revision: str | None
    duration: float
    traffic: Traffic


@attrs.frozen
class RequestDone:
    """A client's request whose handler is done: its ``method`` and ``id``, how long the
    handler took (on the loop's clock), its :data:`Outcome`, and the JSON-RPC error code
    answered when it raised."""

    method: str
    id: RequestId
    duration: float
    outcome: Outcome
    code: int | None


class Hooks:
    """Instrumentation of a server: subclass it, override what you need, and pass
    instances as ``serve(..., hooks=[...])``. The methods run on the server's loop, in the
    connection's own turn: they must not block, and what they raise is logged and
    dropped."""

    def connection_opened(self, connection: ConnectionInfo) -> None:
        """A connection's upgrade was accepted."""

    def connection_closed(self, connection: ConnectionInfo, ended: ConnectionEnded) -> None:
        """A connection opened earlier is over."""

    def request_done(self, connection: ConnectionInfo, request: RequestDone) -> None:
        """A handler of the connection's client is done."""


def _overrides(hooks: Hooks, name: str) -> bool:
    return getattr(type(hooks), name) is not getattr(Hooks, name)


def principal_name(principal: object) -> str | None:
    """What to call a principal in a log: itself if a string, else its ``name``, if any."""
    if principal is None or isinstance(principal, str):
        return principal
    name = getattr(principal, "name", None)
    return name if isinstance(name, str) else None


def peer_name(sock: socket.socket | Any) -> str | None:
    """The address of the peer of a connected socket, as a log shows it."""
    try:
        address = sock.getpeername()
    except (OSError, AttributeError):
        return None
    return address_name(address)


def address_name(address: object) -> str | None:
    """``host:port`` (``[host]:port`` for IPv6) of a socket address, or a unix socket's path."""
    if isinstance(address, tuple | list) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    if isinstance(address, bytes):
        address = address.decode(errors="replace")
    return address if isinstance(address, str) and address else None


class _LogHooks(Hooks):
    """The records every server writes (see the module's docstring)."""

    def connection_opened(self, connection: ConnectionInfo) -> None:
        fields = {
            "event": "opened",
            "peer": connection.peer,
            "path": connection.path,
            "subprotocol": connection.subprotocol,
            "revision": connection.revision,
            "principal": principal_name(connection.principal),
            "scheme": connection.scheme,
        }
        _connections.info(
            "connection opened: %s %s, subprotocol %s%s%s",
            connection.peer or "-",
            connection.path or "-",
            connection.subprotocol or "-",
            f", revision {connection.revision}" if connection.revision else "",
            f", principal {fields['principal']}" if fields["principal"] else "",
            extra={"mcpws": fields},
        )

    def connection_closed(self, connection: ConnectionInfo, ended: ConnectionEnded) -> None:
        traffic = ended.traffic
        fields = {
            "event": "closed",
            "peer": connection.peer,
            "path": connection.path,
            "code": ended.code,
            "reason": ended.reason,
            "revision": ended.revision,
            "duration": round(ended.duration, 6),
            **attrs.asdict(traffic),
        }
        _connections.info(
            "connection closed: %s %s, code %s%s, %.3f s; in %d messages, %d bytes; "
            "out %d messages, %d bytes",
            connection.peer or "-",
            connection.path or "-",
            "-" if ended.code is None else ended.code,
            f" ({ended.reason})" if ended.reason else "",
            ended.duration,
            traffic.messages_received,
            traffic.bytes_received,
            traffic.messages_sent,
            traffic.bytes_sent,
            extra={"mcpws": fields},
        )

    def request_done(self, connection: ConnectionInfo, request: RequestDone) -> None:
        if not _requests.isEnabledFor(logging.DEBUG):
            return
        fields = {
            "event": "request",
            "peer": connection.peer,
            "method": request.method,
            "id": request.id,
            "duration": round(request.duration, 6),
            "outcome": request.outcome,
            "code": request.code,
        }
        _requests.debug(
            "request %s (id %r) from %s: %s%s in %.6f s",
            request.method,
            request.id,
            connection.peer or "-",
            request.outcome,
            "" if request.code is None else f" {request.code}",
            request.duration,
            extra={"mcpws": fields},
        )


_LOG = _LogHooks()


@attrs.define
class _Watched:
    """One connection's watch: what its hooks were told, and how it closed."""

    info: ConnectionInfo | None = None
    code: int | None = None
    reason: str = ""


class Watch:
    """A server's hooks (*hooks*, and the logging ones), told of its connections."""

    __slots__ = ("_hooks", "_timing")

    def __init__(self, hooks: Sequence[Hooks] = ()) -> None:
        for hook in hooks:
            if not isinstance(hook, Hooks):
                raise TypeError(f"a hook is an mcpws.app.Hooks, not {hook!r}")
        self._hooks = (*hooks, _LOG)
        self._timing = any(_overrides(hook, "request_done") for hook in hooks)

    def watching(self) -> bool:
        """Whether a new connection is to be watched at all."""
        return len(self._hooks) > 1 or _connections.isEnabledFor(logging.INFO)

    def timing(self) -> bool:
        """Whether a new connection's requests are to be timed."""
        return self._timing or _requests.isEnabledFor(logging.DEBUG)

    def start(self) -> _Watched:
        """The watch of a new connection."""
        return _Watched()

    def opened(self, watched: _Watched, info: ConnectionInfo) -> None:
        watched.info = info
        self._tell("connection_opened", info)

    def closing(self, watched: _Watched, code: int | None, reason: str) -> None:
        """The connection's close code and reason, once known."""
        watched.code, watched.reason = code, reason

    def closed(self, watched: _Watched, now: float, revision: str | None, traffic: Traffic) -> None:
        """The connection is over: tell of it, if it was opened."""
        info = watched.info
        if info is None:
            return
        watched.info = None
        revision = revision or info.revision
        ended = ConnectionEnded(watched.code, watched.reason, revision, now - info.opened, traffic)
        self._tell("connection_closed", info, ended)

    def timed(self, watched: _Watched, handler: Handler, clock: Callable[[], float]) -> Handler:
        """*handler*, telling the hooks of each request it is done with."""

        def done(
            request: RequestReceived, start: float, outcome: Outcome, code: int | None
        ) -> None:
            info = watched.info
            if info is not None:
                report = RequestDone(
                    request.method, request.request_id, clock() - start, outcome, code
                )
                self._tell("request_done", info, report)

        def handle(request: RequestReceived, link: Any) -> Answer:
            start = clock()
            try:
                result = handler(request, link)
            except Exception as exc:
                done(request, start, *_failed(exc))
                raise
            if isinstance(result, Model):
                done(request, start, "result", None)
                return result
            return _timed_later(result, request, start, done)

        return handle

    def _tell(self, name: str, *args: Any) -> None:
        for hook in self._hooks:
            try:
                getattr(hook, name)(*args)
            except Exception:
                logging.getLogger("mcpws").exception("a hook's %s failed", name)


async def _timed_later(
    result: Awaitable[Model],
    request: RequestReceived,
    start: float,
    done: Callable[[RequestReceived, float, Outcome, int | None], None],
) -> Model:
    try:
        model = await result
    except BaseException as exc:
        done(request, start, *_failed(exc))
        raise
    done(request, start, "result", None)
    return model


def _failed(exc: BaseException) -> tuple[Outcome, int | None]:
    """The outcome of a handler that raised *exc*, and the JSON-RPC code answered."""
    if isinstance(exc, McpError):
        return "error", exc.code
    if isinstance(exc, Exception):
        return "error", INTERNAL_ERROR
    return "cancelled", None
