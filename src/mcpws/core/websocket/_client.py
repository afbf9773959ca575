"""The client side: :class:`WebSocketClient`, which builds the request from a ``ws://`` or
``wss://`` URL and checks the answer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection, events as ws
from wsproto.utilities import ProtocolError as WsprotoProtocolError

from mcpws.core.errors import RemoteProtocolError
from mcpws.core.websocket._base import _State, _WebSocket
from mcpws.core.websocket._config import WebSocketConfig
from mcpws.core.websocket._events import ConnectionRejected

__all__ = ["WebSocketClient"]

#: The end of an HTTP head, as h11 finds it.
_BLANK_LINE: Final = re.compile(rb"\n\r?\n")

#: Bytes of a refusal's body that a ConnectionRejected event keeps.
_BODY_SNIPPET: Final = 4096


class WebSocketClient(_WebSocket):
    """The client side of one WebSocket connection, to a ``ws://`` or ``wss://`` URL.

    The request is queued in :meth:`data_to_send` at once. ``host``, ``port`` and ``secure``
    tell the driver where to connect and whether to wrap the transport in TLS.
    """

    __slots__ = (
        "_handshake",
        "_offered",
        "_rejection",
        "_rejection_body",
        "_tail",
        "host",
        "port",
        "secure",
        "target",
    )

    _MASKED_IN = False
    _MASK_OUT = True

    def __init__(
        self,
        url: str,
        now: float,
        *,
        config: WebSocketConfig | None = None,
        subprotocols: Sequence[str] = (),
        extra_headers: Sequence[tuple[str, str]] = (),
        origin: str | None = None,
    ) -> None:
        super().__init__(config or WebSocketConfig(), now)
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
        self.secure = parts.scheme == "wss"
        self.host = parts.hostname
        default_port = 443 if self.secure else 80
        self.port = parts.port or default_port
        name = f"[{self.host}]" if ":" in self.host else self.host
        authority = name if self.port == default_port else f"{name}:{self.port}"
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._offered = tuple(subprotocols)
        headers = [*extra_headers, *((("origin", origin),) if origin is not None else ())]
        #: wsproto's handshake, let go once it is over.
        self._handshake: WSConnection | None = WSConnection(ConnectionType.CLIENT)
        self._queue(
            self._handshake.send(
                ws.Request(
                    host=authority,
                    target=self.target,
                    subprotocols=list(self._offered),
                    extensions=list(self._extensions()),
                    extra_headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
                )
            )
        )
        self._rejection: tuple[int, tuple[tuple[str, str], ...]] | None = None
        self._tail = b""  # the end of the answer so far, where a blank line may begin
        self._rejection_body = b""

    def receive_data(self, data: bytes, now: float) -> None:
        """Take bytes from the server."""
        if not data:
            return  # not the end of the stream: that is receive_eof
        if self._state is _State.HANDSHAKE:
            self._receive_answer(bytes(data), now)
        elif self._state is not _State.CLOSED:
            self._receive_frames(bytes(data), now)

    def _receive_answer(self, data: bytes, now: float) -> None:
        """Give wsproto the answer one head at a time: the frames after a ``101`` are read as
        every frame is, and wsproto must not hold any of them."""
        while data and self._state is _State.HANDSHAKE:
            found = _BLANK_LINE.search(self._tail + data)
            if found is None:
                head, data = data, b""
                self._tail = (self._tail + head)[-2:]
            else:
                cut = found.end() - len(self._tail)
                head, data = data[:cut], data[cut:]
                self._tail = b""
            self._read_answer(head, now)
        if data and self._state is _State.OPEN:
            self._receive_frames(data, now)

    def _read_answer(self, data: bytes, now: float) -> None:
        handshake = self._handshake
        assert handshake is not None
        try:
            handshake.receive_data(data)
            events = handshake.events()
            for event in events:
                if isinstance(event, ws.AcceptConnection):
                    assert handshake.connection is not None
                    self._opened(now, event.subprotocol, event.extensions, handshake.connection)
                    self._handshake = None
                elif isinstance(event, ws.RejectConnection):
                    headers = tuple(
                        (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in event.headers
                    )
                    self._rejection = (event.status_code, headers)
                    if not event.has_body:
                        self._rejected()
                else:  # wsproto is given no frame before the 101 is read
                    assert isinstance(event, ws.RejectData)
                    self._rejection_body += event.data
                    if event.body_finished or len(self._rejection_body) >= _BODY_SNIPPET:
                        self._rejected()
                if self._state is _State.CLOSED:
                    return
        except (WsprotoProtocolError, ValueError) as exc:  # ValueError: bad header values
            reason = f"the server's answer is not a valid WebSocket upgrade: {exc}"
            self._finish(None, reason, False, RemoteProtocolError(reason))

    def _rejected(self) -> None:
        assert self._rejection is not None
        status, headers = self._rejection
        body = self._rejection_body[:_BODY_SNIPPET]
        self._events.append(ConnectionRejected(status, headers, body))
        snippet = body[:200].decode("utf-8", "replace")
        reason = f"the server refused the upgrade with HTTP {status}: {snippet!r}"
        self._finish(None, reason, False, RemoteProtocolError(reason, http_status=status))

    def _handshake_timed_out(self) -> None:
        reason = "the server did not complete the handshake in time"
        self._finish(None, reason, False, RemoteProtocolError(reason))
