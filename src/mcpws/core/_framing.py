"""What the framings of MCP messages over a transport that is not mcpws's WebSocket share:
:class:`Framing`, the base of :class:`~mcpws.core.stdio.StdioConnection` (lines of a byte
stream) and :class:`~mcpws.core.messages.MessageConnection` (whole messages framed
elsewhere), and :class:`StreamEnded`, the end of either.

A framing owns a :class:`~mcpws.core.channel.MessageChannel` (with the session, if any), the
events to report, the bytes to send (each message's UTF-8 followed by the framing's
terminator; ``b""`` once the transport is to end) and the end, which a fault, a failed
session, the peer or this side causes, once."""

from __future__ import annotations

from typing import Any, TypeAlias

import attrs

from mcpws.core import jsonrpc
from mcpws.core.channel import (
    ChannelFailed,
    InvalidMessageAnswered,
    MessageChannel,
    MessageReceived,
)
from mcpws.core.errors import ProtocolError
from mcpws.core.session import ClientSession, ServerSession, SessionEvent

__all__ = ["Framing", "FramingEvent", "StreamEnded", "Traffic"]


@attrs.frozen
class Traffic:
    """What a connection has carried so far, each way: messages, and bytes (on the wire,
    handshakes and framing included; over a transport framed elsewhere, the messages'
    UTF-8)."""

    messages_received: int = 0
    messages_sent: int = 0
    bytes_received: int = 0
    bytes_sent: int = 0


@attrs.frozen
class StreamEnded:
    """The stream is over: the peer's end of file, :meth:`StdioConnection.close`, or a fault
    (``cause``). ``data_to_send()`` ends with ``b""``: close the output."""

    cause: ProtocolError | None = None


FramingEvent: TypeAlias = SessionEvent | MessageReceived | InvalidMessageAnswered | StreamEnded


class Framing:
    """A session (or none) carried over messages a subclass frames: it feeds the channel
    and says what ends a message it sends (:attr:`TERMINATOR`)."""

    #: What follows each message sent.
    TERMINATOR = b""

    def __init__(
        self,
        session: ClientSession | ServerSession | None,
        now: float,
        *,
        max_depth: int,
        reply: bool,
    ) -> None:
        self.session = session
        self._channel = MessageChannel(session, max_depth=max_depth, reply=reply)
        self._events: list[FramingEvent] = []
        self._outgoing: list[bytes] = []
        self.closed = False
        self._messages_in = self._bytes_in = self._messages_out = self._bytes_out = 0
        if isinstance(session, ClientSession):
            session.start(now)

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before *now*."""
        if not self.closed:
            self._channel.handle_timeout(now)
            self._pull()

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` must next be called, or ``None``."""
        return None if self.closed else self._channel.next_deadline()

    def events_received(self) -> list[FramingEvent]:
        """Return and forget the events so far."""
        self._pull()
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> list[bytes]:
        """Return and forget the bytes to write, one message each; ``b""`` means end the
        transport."""
        self._pull()
        data, self._outgoing = self._outgoing, []
        for chunk in data:
            if chunk:
                self._messages_out += 1
                self._bytes_out += len(chunk)
        return data

    @property
    def traffic(self) -> Traffic:
        """What the connection has carried so far (sent: handed to :meth:`data_to_send`)."""
        return Traffic(self._messages_in, self._messages_out, self._bytes_in, self._bytes_out)

    def send(self, message: jsonrpc.Message) -> None:
        """Send one JSON-RPC message, after what was sent before."""
        self.send_text(self._channel.encode(message))

    def send_text(self, text: str) -> None:
        """Send one message as JSON text that the caller encoded and vouches for (JSON text
        has no raw newline), after what was sent before."""
        self._pull()
        if not self.closed:
            self._outgoing.append(text.encode() + self.TERMINATOR)

    @property
    def is_open(self) -> bool:
        """Whether messages may be sent: the transport is not over."""
        return not self.closed

    @property
    def buffered_amount(self) -> int:
        """Bytes waiting in :meth:`data_to_send`."""
        self._pull()
        return sum(map(len, self._outgoing))

    def close(self, code: int = 1000, reason: str = "", *, now: float | None = None) -> None:
        """End the transport from this side, with *code* and *reason* where it has a place
        for them (a WebSocket framed elsewhere; not a byte stream)."""
        if not self.closed:
            self._pull()
            if not self.closed:  # else a failure the session had not yet reported ended it
                self._end(None, code, reason)

    def _pull(self) -> None:
        """Move the channel's texts and events into the framing's, in order; a failed
        channel ends the transport."""
        if self.closed:
            return
        channel = self._channel
        terminator = self.TERMINATOR
        self._outgoing.extend(text.encode() + terminator for text in channel.texts_to_send())
        # Typed Any, not cast at a call's cost: without a failure, every event is one of ours.
        events: list[Any] = channel.events_received()
        failure = channel.failure
        if failure is None:
            self._events += events
            return
        self._events += [e for e in events if not isinstance(e, ChannelFailed | MessageReceived)]
        self._end(failure.error, failure.close_code, failure.error.message)

    def _end(self, cause: ProtocolError | None, code: int | None = None, reason: str = "") -> None:
        """The transport is over, for *cause* (``None``: no fault), to be closed with *code*
        and *reason* where they have a place (``None``: the peer ended it)."""
        self.closed = True
        self._channel.receive_eof()
        self._outgoing.append(b"")
        self._events.append(StreamEnded(cause))
