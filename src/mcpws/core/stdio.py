"""MCP's stdio framing, sans-IO: :class:`StdioConnection` carries a session over a byte
stream as newline-delimited JSON, one JSON-RPC message (or batch) per line; or, without a
session, reports each message (:class:`~mcpws.core.channel.MessageReceived`) and sends the
messages it is given, for a bridge that carries them elsewhere.

It frames a :class:`~mcpws.core.channel.MessageChannel`, which owns the rules of MCP over
messages, and speaks the vocabulary of every core object: ``receive_data(data, now)``,
``receive_eof(now)``, ``events_received()``, ``data_to_send()``, ``next_deadline()``,
``handle_timeout(now)``. A line that is not valid JSON-RPC is answered with the right
JSON-RPC error and the stream goes on; a line over ``max_message_size`` bytes ends the
stream (:class:`StreamEnded` carries the cause), as does a failed session.
"""

from __future__ import annotations

from typing import Final, TypeAlias

from mcpws.core import jsonrpc
from mcpws.core._framing import Framing, FramingEvent, StreamEnded
from mcpws.core.errors import RemoteProtocolError
from mcpws.core.session import ClientSession, ServerSession

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "StdioConnection", "StdioEvent", "StreamEnded"]

#: Bytes one line may hold, newline excluded.
DEFAULT_MAX_MESSAGE_SIZE: Final = 16 * 1024 * 1024


#: What :meth:`StdioConnection.events_received` reports.
StdioEvent: TypeAlias = FramingEvent


class StdioConnection(Framing):
    """A session carried as newline-delimited JSON over a byte stream (a subprocess's
    stdin and stdout, a pipe, a socket).

    A client session is started at once. Without a session (``None``), each valid line is
    reported as :class:`~mcpws.core.channel.MessageReceived`, and :meth:`send` and
    :meth:`send_text` write messages. *max_message_size* bounds one line (``None``: no bound);
    *max_depth* bounds the nesting of one message. With *reply* false, an invalid line is
    reported but not answered (a bridge reading a program's output).

    With :attr:`hold` set, the lines read wait in order for :meth:`resume`, one at a time
    (the end of the stream waits behind them), as a WebSocket connection's messages do: a
    driver acts on the next one only when it has room for its answer.
    """

    TERMINATOR = b"\n"

    def __init__(
        self,
        session: ClientSession | ServerSession | None,
        now: float,
        *,
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
        max_depth: int = jsonrpc.DEFAULT_MAX_DEPTH,
        reply: bool = True,
    ) -> None:
        self._max_size = max_message_size
        self._buffer = bytearray()
        #: Whether lines wait for :meth:`resume`; where the complete ones end in the buffer,
        #: and whether the end of the stream waits behind them.
        self.hold = False
        self._complete = 0
        self._eof_held = False
        super().__init__(session, now, max_depth=max_depth, reply=reply)

    def receive_data(self, data: bytes, now: float) -> None:
        """Take bytes from the peer."""
        if self.closed:
            return
        self._bytes_in += len(data)
        start = len(self._buffer)
        self._buffer += data
        if self.hold:
            last = self._buffer.rfind(b"\n", start)
            if last != -1:
                self._complete = last + 1
        else:
            end = self._buffer.find(b"\n", start)
            while end != -1 and not self.closed:
                self._line(self._take(end), now)
                end = self._buffer.find(b"\n")
        if not self.closed and self._max_size is not None and self._too_long():
            self._end(RemoteProtocolError(f"a line is longer than {self._max_size} bytes"))

    def _take(self, end: int) -> bytes:
        """The line that ends at *end* (its newline), out of the buffer."""
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        self._complete = max(0, self._complete - end - 1)
        return line

    def _too_long(self) -> bool:
        """Whether the incomplete line in the buffer is over the limit already (a last
        ``\r`` may belong to the line ending, so it does not count)."""
        assert self._max_size is not None
        tail = len(self._buffer) - self._complete
        return tail - self._buffer.endswith(b"\r") > self._max_size

    def receive_eof(self, now: float) -> None:
        """The peer closed its output; a last line without a newline is still read."""
        if self.closed:
            return
        if self.holding:
            self._eof_held = True
            return
        if self._buffer.strip():
            line, self._buffer = bytes(self._buffer), bytearray()
            self._line(line, now)
        if not self.closed:
            self._end(None)

    @property
    def held(self) -> int:
        """The bytes of the complete lines that wait for :meth:`resume`."""
        return self._complete

    @property
    def holding(self) -> bool:
        """Whether :meth:`resume` has something to act on."""
        return not self.closed and (self._complete > 0 or self._eof_held)

    def resume(self, now: float) -> bool:
        """Act on the next held line (or, once none is left, on the end of the stream that
        waited behind them); whether there was anything."""
        if not self.holding:
            return False
        if self._complete:
            self._line(self._take(self._buffer.index(b"\n")), now)
        else:
            self._eof_held = False
            self.receive_eof(now)
        return True

    def _line(self, line: bytes, now: float) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        # Over the limit, even a blank line ends the stream, as it does when it comes in
        # pieces: the first that is over the limit is refused before the line ends.
        if self._max_size is not None and len(line) > self._max_size:
            self._end(RemoteProtocolError(f"a line is longer than {self._max_size} bytes"))
            return
        if not line.strip():
            return
        self._messages_in += 1
        self._channel.receive_text(line, now)
        self._pull()
