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

from typing import Any, Final, TypeAlias

import attrs

from mcpws.core import jsonrpc
from mcpws.core.channel import (
    ChannelFailed,
    InvalidMessageAnswered,
    MessageChannel,
    MessageReceived,
)
from mcpws.core.errors import ProtocolError, RemoteProtocolError
from mcpws.core.session import ClientSession, ServerSession, SessionEvent

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "StdioConnection", "StdioEvent", "StreamEnded"]

#: Bytes one line may hold, newline excluded.
DEFAULT_MAX_MESSAGE_SIZE: Final = 16 * 1024 * 1024


@attrs.frozen
class StreamEnded:
    """The stream is over: the peer's end of file, :meth:`StdioConnection.close`, or a fault
    (``cause``). ``data_to_send()`` ends with ``b""``: close the output."""

    cause: ProtocolError | None = None


StdioEvent: TypeAlias = SessionEvent | MessageReceived | InvalidMessageAnswered | StreamEnded


class StdioConnection:
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

    def __init__(
        self,
        session: ClientSession | ServerSession | None,
        now: float,
        *,
        max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
        max_depth: int = jsonrpc.DEFAULT_MAX_DEPTH,
        reply: bool = True,
    ) -> None:
        self.session = session
        self._channel = MessageChannel(session, max_depth=max_depth, reply=reply)
        self._max_size = max_message_size
        self._buffer = bytearray()
        self._events: list[StdioEvent] = []
        self._outgoing: list[bytes] = []
        self.closed = False
        #: Whether lines wait for :meth:`resume`; where the complete ones end in the buffer,
        #: and whether the end of the stream waits behind them.
        self.hold = False
        self._complete = 0
        self._eof_held = False
        if isinstance(session, ClientSession):
            session.start(now)

    def receive_data(self, data: bytes, now: float) -> None:
        """Take bytes from the peer."""
        if self.closed:
            return
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

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before *now*."""
        if not self.closed:
            self._channel.handle_timeout(now)
            self._pull()

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` must next be called, or ``None``."""
        return None if self.closed else self._channel.next_deadline()

    def events_received(self) -> list[StdioEvent]:
        """Return and forget the events so far."""
        self._pull()
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> list[bytes]:
        """Return and forget the bytes to write; ``b""`` means close the output."""
        self._pull()
        data, self._outgoing = self._outgoing, []
        return data

    def send(self, message: jsonrpc.Message) -> None:
        """Write one JSON-RPC message, after what was written before."""
        self.send_text(self._channel.encode(message))

    def send_text(self, text: str) -> None:
        """Write one message as JSON text that the caller encoded and vouches for (on one
        line: JSON text has no raw newline), after what was written before."""
        self._pull()
        if not self.closed:
            self._outgoing.append(text.encode() + b"\n")

    @property
    def is_open(self) -> bool:
        """Whether messages may be sent: the stream is not over."""
        return not self.closed

    @property
    def buffered_amount(self) -> int:
        """Bytes waiting in :meth:`data_to_send`."""
        self._pull()
        return sum(map(len, self._outgoing))

    def close(self, code: int = 1000, reason: str = "", *, now: float | None = None) -> None:
        """End the stream from this side (*code* and *reason*, a WebSocket's, have no
        place on a byte stream: a driver of either speaks to both alike)."""
        if not self.closed:
            self._pull()
            if not self.closed:  # else a failure the session had not yet reported ended it
                self._end(None)

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
        self._channel.receive_text(line, now)
        self._pull()

    def _pull(self) -> None:
        """Move the channel's texts (as lines) and events into this stream's, in order; a
        failed channel ends the stream."""
        if self.closed:
            return
        channel = self._channel
        self._outgoing.extend(text.encode() + b"\n" for text in channel.texts_to_send())
        # Typed Any, not cast at a call's cost: without a failure, every event is one of ours.
        events: list[Any] = channel.events_received()
        failure = channel.failure
        if failure is None:
            self._events += events
            return
        self._events += [e for e in events if not isinstance(e, ChannelFailed | MessageReceived)]
        self._end(failure.error)

    def _end(self, cause: ProtocolError | None) -> None:
        self.closed = True
        self._channel.receive_eof()
        self._outgoing.append(b"")
        self._events.append(StreamEnded(cause))
