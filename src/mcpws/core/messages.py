"""MCP over whole messages that another program frames, sans-IO: :class:`MessageConnection`
carries a session over the text messages of a WebSocket whose framing is not mcpws's (an
ASGI server's, which hands its application each message whole and sends each one it is
given); or, without a session, reports each message and sends those it is given.

It frames a :class:`~mcpws.core.channel.MessageChannel`, which owns the rules of MCP over
messages, and speaks the vocabulary of every core object: ``receive_data(data, now)`` (one
whole text message, as UTF-8), ``receive_eof(now)``, ``events_received()``,
``data_to_send()`` (one message each, and ``b""`` once the connection is to close),
``next_deadline()``, ``handle_timeout(now)``; with ``receive_text()`` and ``receive_bytes()``
for the two kinds of message. A message that is not valid JSON-RPC is answered with the right
JSON-RPC error and the connection goes on; a message over ``max_message_size`` bytes ends
it with 1009, a binary message with 1003 and a failed session with 1002:
:attr:`MessageConnection.close_code` and :attr:`~MessageConnection.close_reason` are what the
framing closes the WebSocket with.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from mcpws.core import jsonrpc
from mcpws.core._framing import Framing
from mcpws.core.errors import ProtocolError, RemoteProtocolError
from mcpws.core.session import ClientSession, ServerSession
from mcpws.core.stdio import DEFAULT_MAX_MESSAGE_SIZE

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "MessageConnection"]

#: WebSocket close codes, repeated here so that this module needs no WebSocket layer.
_TOO_BIG: Final = 1009


class MessageConnection(Framing):
    """A session carried over whole text messages (the WebSocket of an ASGI server).

    A client session is started at once. Without a session (``None``), each valid message
    is reported as :class:`~mcpws.core.channel.MessageReceived`, and :meth:`send` and
    :meth:`send_text` send messages. *max_message_size* bounds one message, in bytes of
    UTF-8 (``None``: no bound); *max_depth* bounds its nesting. The end of the connection
    is reported as :class:`~mcpws.core.stdio.StreamEnded`, as on a stream.

    With :attr:`hold` set, the messages received wait in order for :meth:`resume`, one at
    a time (the end of the connection waits behind them), as a WebSocket connection's do.
    """

    def __init__(
        self,
        session: ClientSession | ServerSession | None,
        now: float,
        *,
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
        max_depth: int = jsonrpc.DEFAULT_MAX_DEPTH,
    ) -> None:
        self._max_size = max_message_size
        #: What to close the WebSocket with once the connection has ended from this side
        #: (``None``: the peer ended it, or is gone).
        self.close_code: int | None = None
        self.close_reason = ""
        #: The code the peer closed the WebSocket with, as its server reported it (the
        #: driver that reads the server's messages notes it; ``None``: not known).
        self.peer_close_code: int | None = None
        #: Whether messages wait for :meth:`resume`; those waiting, their size, and whether
        #: the end of the connection waits behind them.
        self.hold = False
        self._held: deque[str | bytes] = deque()
        self._held_size = 0
        self._eof_held = False
        super().__init__(session, now, max_depth=max_depth, reply=True)

    # Input ------------------------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> None:
        """Take one whole text message from the peer, as UTF-8 (checked here)."""
        self.receive_text(data, now)

    def receive_text(self, text: str | bytes, now: float) -> None:
        """Take one whole text message from the peer."""
        if self.closed:
            return
        self._messages_in += 1
        self._bytes_in += len(text) if not isinstance(text, str) or text.isascii() else _utf8(text)
        limit = self._max_size
        if limit is not None and len(text) * (4 if isinstance(text, str) else 1) > limit:
            size = len(text.encode()) if isinstance(text, str) else len(text)
            if size > limit:
                reason = f"a message is larger than {limit} bytes"
                self._end(RemoteProtocolError(reason, close_code=_TOO_BIG), _TOO_BIG, reason)
                return
        if self.hold:
            self._held.append(text)
            self._held_size += len(text)
            return
        self._channel.receive_text(text, now)
        self._pull()

    def receive_bytes(self, data: bytes, now: float) -> None:
        """Take one binary message from the peer: MCP has none, so the connection ends
        with 1003."""
        if not self.closed:
            self._messages_in += 1
            self._bytes_in += len(data)
            self._channel.receive_bytes(data, now)
            self._pull()

    def receive_eof(self, now: float) -> None:
        """The peer closed the connection, or is gone: nothing more can be sent to it."""
        if self.closed:
            return
        if self.holding:
            self._eof_held = True
            return
        self._end(None)

    @property
    def held(self) -> int:
        """The size of the messages that wait for :meth:`resume`."""
        return self._held_size

    @property
    def holding(self) -> bool:
        """Whether :meth:`resume` has something to act on."""
        return not self.closed and (bool(self._held) or self._eof_held)

    def resume(self, now: float) -> bool:
        """Act on the next held message (or, once none is left, on the end of the
        connection that waited behind them); whether there was anything."""
        if not self.holding:
            return False
        if self._held:
            text = self._held.popleft()
            self._held_size -= len(text)
            self._channel.receive_text(text, now)
            self._pull()
        else:
            self._eof_held = False
            self.receive_eof(now)
        return True

    # Inside -----------------------------------------------------------------------------------

    def _end(self, cause: ProtocolError | None, code: int | None = None, reason: str = "") -> None:
        self.close_code, self.close_reason = code, reason
        super()._end(cause, code, reason)


def _utf8(text: str) -> int:
    """The size of *text* in UTF-8."""
    return len(text.encode())
