"""The server side: :class:`WebSocketServer`.

It parses the HTTP request itself (with h11), so that it can answer what is not a WebSocket
upgrade with a complete HTTP response. A request that passes the :class:`ServerPolicy`
becomes an :class:`UpgradeRequested` event, and the application accepts or rejects it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Final

import h11
from wsproto import ConnectionType, WSConnection, events as ws
from wsproto.extensions import PerMessageDeflate
from wsproto.utilities import ProtocolError as WsprotoProtocolError

from mcpws.core.errors import LocalProtocolError, RemoteProtocolError
from mcpws.core.websocket._base import _State, _WebSocket
from mcpws.core.websocket._config import WebSocketConfig
from mcpws.core.websocket._events import HandshakeRequest, HttpAnswered, UpgradeRequested
from mcpws.core.websocket._policy import ServerPolicy, _select

__all__ = ["WebSocketServer", "refusal"]

_TEXT_PLAIN: Final = ("content-type", "text/plain; charset=utf-8")
_KEY: Final = re.compile(r"^[A-Za-z0-9+/]{22}==$")


#: The header of a readiness probe's 503: ask again in a second.
_RETRY = (("retry-after", "1"),)


class WebSocketServer(_WebSocket):
    """The server side of one WebSocket connection, from the first byte of the request on.

    ``principal`` is whatever the application passed to :meth:`accept`: the identity that an
    authentication hook established.
    """

    __slots__ = (
        "_early",
        "_h11",
        "_method",
        "_raw_headers",
        "_received",
        "_request",
        "_selected",
        "policy",
        "principal",
        "ready",
    )

    _MASKED_IN = True
    _MASK_OUT = False

    def __init__(
        self,
        now: float,
        *,
        config: WebSocketConfig | None = None,
        policy: ServerPolicy | None = None,
    ) -> None:
        super().__init__(config or WebSocketConfig(), now)
        self.policy = policy or ServerPolicy()
        self.principal: object = None
        #: Whether the server takes new connections: its readiness path answers 503 if not.
        self.ready = True
        #: The request's reader, which also writes a refusal; let go once the upgrade is done.
        self._h11: h11.Connection | None = h11.Connection(
            h11.SERVER, max_incomplete_event_size=self.config.max_handshake_size
        )
        self._request: HandshakeRequest | None = None
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self._early = b""
        self._received = 0  # bytes of the request so far, to measure a head h11 read whole
        self._selected: str | None = None  # the subprotocol the policy chose
        self._method = b""

    def receive_data(self, data: bytes, now: float) -> None:
        """Take bytes from the client."""
        if not data:
            return  # not the end of the stream: that is receive_eof
        if self._state is _State.HANDSHAKE:
            self._receive_request(bytes(data))
        elif self._state is _State.UPGRADE_PENDING:
            self._early += data
            if len(self._early) > self.config.max_handshake_size:
                self._answer(400, "the client sent too much before the upgrade was accepted")
        elif self._state is not _State.CLOSED:
            self._receive_frames(bytes(data), now)

    def accept(
        self,
        *,
        now: float,
        subprotocol: str | None = None,
        extra_headers: Sequence[tuple[str, str]] = (),
        principal: object = None,
    ) -> None:
        """Complete the upgrade asked for by the :class:`UpgradeRequested` event.

        *subprotocol* defaults to the one the policy selected; it must be one the client
        offered.
        """
        if self._state is not _State.UPGRADE_PENDING or self._request is None:
            raise LocalProtocolError(f"no upgrade to accept while {self._state.value}")
        offered = self._request.subprotocols
        chosen = subprotocol if subprotocol is not None else self._selected
        if chosen is not None and chosen not in offered:
            raise LocalProtocolError(f"the client did not offer the subprotocol {chosen!r}")
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra_headers]
        connection, extensions, data = self._upgrade(self._request.target, chosen, headers)
        assert connection.connection is not None
        self._queue(data)
        self.principal = principal
        self._opened(now, chosen, [e for e in extensions if e.enabled()], connection.connection)
        self._h11, self._raw_headers = None, []
        early, self._early = self._early, b""
        if early:
            self._receive_frames(early, now)

    def reject(
        self,
        status_code: int = 403,
        body: str = "",
        *,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Refuse the upgrade asked for by the :class:`UpgradeRequested` event, with an HTTP
        response (401 should carry a ``WWW-Authenticate`` header)."""
        if self._state is not _State.UPGRADE_PENDING:
            raise LocalProtocolError(f"no upgrade to reject while {self._state.value}")
        try:
            self._answer(
                status_code,
                body or _reason(status_code) or "Error",
                headers=headers,
                blame_client=False,
            )
        except h11.LocalProtocolError as exc:  # raised by h11.Response(): nothing was sent
            raise LocalProtocolError(f"cannot answer with that response: {exc}") from None

    # The request ------------------------------------------------------------------------------

    def _receive_request(self, data: bytes) -> None:
        reader = self._h11
        assert reader is not None
        reader.receive_data(data)
        self._received += len(data)
        try:
            event = reader.next_event()
        except h11.RemoteProtocolError as exc:
            self._answer(exc.error_status_hint, f"bad HTTP request: {exc}")
            return
        if event is h11.NEED_DATA:
            return
        assert isinstance(event, h11.Request)
        limit = self.config.max_handshake_size
        if self._received - len(reader.trailing_data[0]) > limit:
            # h11 limits only a head that is still incomplete; this one arrived whole.
            self._answer(431, f"the request head is larger than {limit} bytes")
            return
        target = event.target.decode("ascii", "replace")
        path = target.partition("?")[0]
        self._raw_headers = list(event.headers)
        self._method = event.method
        headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers
        )
        offered = tuple(
            token.strip()
            for name, value in headers
            if name == "sec-websocket-protocol"
            for token in value.split(",")
            if token.strip()
        )
        request = HandshakeRequest(target, path, headers, offered)
        self._request = request
        refusal = self._check(event.method, event.http_version, request)
        if refusal is not None:
            status, reason, extra = refusal
            self._answer(status, reason, target=target, headers=extra)
            return
        self._selected, _ = _select(self.policy, offered)
        self._early = reader.trailing_data[0]
        self._state = _State.UPGRADE_PENDING
        self._events.append(UpgradeRequested(request, self._selected))

    def _check(
        self, method: bytes, version: bytes, request: HandshakeRequest
    ) -> tuple[int, str, tuple[tuple[str, str], ...]] | None:
        """Return why the request may not upgrade (status, reason, headers), or ``None``."""
        policy = self.policy
        if method in (b"GET", b"HEAD"):
            probed = policy.probe(request.path, request.header("host") or "", ready=self.ready)
            if probed is not None:
                return (*probed, _RETRY if probed[0] == 503 else ())
        if policy.path is not None and request.path != policy.path:
            return 404, f"nothing is served at {request.path}", ()
        if method != b"GET":
            return 405, "a WebSocket upgrade must be a GET request", (("allow", "GET"),)
        if version != b"1.1":  # RFC 6455, section 4.1
            return 505, "a WebSocket upgrade is an HTTP/1.1 request", ()
        connection = (request.header("connection") or "").lower()
        upgrade = (request.header("upgrade") or "").lower()
        if "upgrade" not in {t.strip() for t in connection.split(",")} or upgrade != "websocket":
            return 426, "this endpoint speaks WebSocket only", (("upgrade", "websocket"),)
        if request.header("sec-websocket-version") != "13":
            return 426, "WebSocket version 13 is required", (("sec-websocket-version", "13"),)
        if not _KEY.match(request.header("sec-websocket-key") or ""):
            return 400, "the Sec-WebSocket-Key header is missing or malformed", ()
        host = request.header("host") or ""  # h11 refuses HTTP/1.1 without one
        refused = policy.refusal(host, request.header("origin"), request.subprotocols)
        if refused is not None:
            return (*refused, ())
        chosen, _ = _select(policy, request.subprotocols)
        try:  # wsproto reads the request again, more strictly: IDNA hosts, ASCII tokens, ...
            self._upgrade(request.target, chosen, [])
        except (WsprotoProtocolError, ValueError) as exc:  # UnicodeError is a ValueError
            return 400, f"not a valid WebSocket upgrade request: {exc}", ()
        return None

    def _upgrade(
        self, target: str, subprotocol: str | None, headers: list[tuple[bytes, bytes]]
    ) -> tuple[WSConnection, list[PerMessageDeflate], bytes]:
        """Answer the request with wsproto: its connection, extensions and ``101`` response."""
        extensions = self._extensions()
        connection = WSConnection(ConnectionType.SERVER)
        connection.initiate_upgrade_connection(self._raw_headers, target)
        for _ in connection.events():
            pass  # the Request this server has already checked
        data = connection.send(
            ws.AcceptConnection(
                subprotocol=subprotocol, extensions=list(extensions), extra_headers=headers
            )
        )
        return connection, extensions, data

    def _answer(
        self,
        status: int,
        reason: str,
        *,
        target: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
        blame_client: bool = True,
    ) -> None:
        """Answer with a complete HTTP response and close the connection.

        An error status is the client's fault, and so the cause of the close, unless
        *blame_client* is false (the application refused, or the server ran out of time)."""
        response, body = _response(status, reason, headers)
        # h11 answers in every state, even before or after a bad request.
        writer = self._h11
        assert writer is not None  # an answer is never written once the upgrade is done
        data = writer.send(response) or b""
        if self._method != b"HEAD" and status not in (204, 304):  # these have no body
            data += writer.send(h11.Data(data=body)) or b""
        data += writer.send(h11.EndOfMessage()) or b""
        self._queue(data)
        request_target = (
            target if target is not None else self._request.target if self._request else ""
        )
        self._events.append(HttpAnswered(status, request_target, reason))
        fault = blame_client and status >= 400
        self._finish(
            None, reason, False, RemoteProtocolError(reason, http_status=status) if fault else None
        )

    def _handshake_timed_out(self) -> None:
        if self._state is _State.HANDSHAKE:
            self._answer(408, "the request did not arrive in time")
        else:
            self._answer(503, "the server did not accept the upgrade in time", blame_client=False)


def refusal(status: int, reason: str, *, headers: Sequence[tuple[str, str]] = ()) -> bytes:
    """The bytes of a complete HTTP response that refuses a connection before its request is
    read: *status*, *reason* as a plain-text body, ``Connection: close`` and *headers*, as
    :meth:`WebSocketServer.reject` would answer. For a server that cannot afford the
    connection at all (it is out of file descriptors, say): it writes them and closes."""
    try:
        response, body = _response(status, reason, headers)
    except h11.LocalProtocolError as exc:
        raise LocalProtocolError(f"cannot answer with that response: {exc}") from None
    answering = h11.Connection(h11.SERVER)  # a server may answer before any request
    data = answering.send(response) or b""
    data += answering.send(h11.Data(data=body)) or b""
    return data + (answering.send(h11.EndOfMessage()) or b"")


def _response(
    status: int, reason: str, headers: Sequence[tuple[str, str]]
) -> tuple[h11.Response, bytes]:
    """The head and the body of an answer of *status*, closing the connection, with *reason*
    as its body (raises ``h11.LocalProtocolError`` for a status it cannot have)."""
    body = (reason + "\n").encode()
    head = [_TEXT_PLAIN, ("content-length", str(len(body))), ("connection", "close")]
    response = h11.Response(status_code=status, headers=[*head, *headers], reason=_reason(status))
    return response, body


def _reason(status: int) -> str:
    """The standard reason phrase of *status*, or ``""`` for a status the standard lacks."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
