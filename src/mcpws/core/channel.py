"""MCP over text messages, whatever carries them: :class:`MessageChannel`, and the choice of
the WebSocket subprotocol, :func:`select_subprotocol`.

The channel owns the rules MCP sets for a transport of messages:

* every text message holds one JSON-RPC message (or, where
  :attr:`MessageChannel.allow_batches` is set, as a session does for revision 2025-03-26,
  one batch), decoded with :func:`mcpws.core.jsonrpc.decode`;
* a text message that is not valid JSON-RPC is answered with the right JSON-RPC error
  (-32700 or -32600, with the request's id when it could be read), and the channel goes on;
* a binary message fails the channel: over WebSocket, the connection closes with 1003;
* with a session (:mod:`mcpws.core.session`), the messages go to the session, whose events
  are reported in their place and whose texts are sent; a failed session fails the channel:
  over WebSocket, the connection closes with 1002.

A failure is reported once, as :class:`ChannelFailed`, after the events that led to it: the
framing then ends its transport, with the close code and the error the event carries. The
channel still takes messages until the framing calls :meth:`MessageChannel.receive_eof`, as a
WebSocket still reads while its close handshake runs.

The framings drive it: :class:`~mcpws.core.connection.ServerConnection` and
:class:`~mcpws.core.connection.ClientConnection` over WebSocket bytes,
:class:`~mcpws.core.stdio.StdioConnection` over lines, and an ASGI application directly, with
the text messages its server hands it. Sizes are the framing's to bound, since it counts bytes
before there is any text; the channel bounds the nesting of a message (*max_depth*).

The vocabulary is that of every core object, with texts in place of bytes:
``receive_text(text, now)``, ``receive_bytes(data, now)``, ``receive_eof()``,
``events_received()``, ``texts_to_send()``, ``next_deadline()``, ``handle_timeout(now)``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Final, TypeAlias

import attrs

from mcpws.core import jsonrpc
from mcpws.core.errors import InvalidMessage, LocalProtocolError, ProtocolError, RemoteProtocolError
from mcpws.core.session import ClientSession, ServerSession, SessionEvent, SessionFailed
from mcpws.core.versions import REVISIONS

__all__ = [
    "AUTH_PREFIX",
    "SUBPROTOCOL",
    "VERSION_PREFIX",
    "ChannelEvent",
    "ChannelFailed",
    "InvalidMessageAnswered",
    "MessageChannel",
    "MessageReceived",
    "SubprotocolChoice",
    "select_subprotocol",
    "spoken_subprotocols",
]

#: The WebSocket subprotocol of MCP.
SUBPROTOCOL: Final = "mcp"
#: SEP-1288: ``mcp.version.<revision>`` names the revision a client asks for.
VERSION_PREFIX: Final = "mcp.version."
#: SEP-1288: ``mcp.auth.<token>`` carries a bearer token; it is read, never selected.
AUTH_PREFIX: Final = "mcp.auth."

#: WebSocket close codes, repeated here so that this module needs no WebSocket layer.
_PROTOCOL_ERROR: Final = 1002
_UNSUPPORTED_DATA: Final = 1003
_BINARY: Final = "MCP messages are JSON text, not binary"


# Events ---------------------------------------------------------------------------------------


@attrs.frozen
class MessageReceived:
    """A JSON-RPC message, or a batch of them (each item a message, or the
    :class:`~mcpws.core.errors.InvalidMessage` that item deserves a reply for)."""

    message: jsonrpc.Message | list[jsonrpc.Message | InvalidMessage]


@attrs.frozen
class InvalidMessageAnswered:
    """A text message that was not valid JSON-RPC; ``reply`` has been sent (unless the
    channel sends no replies: then it is the one the message deserved)."""

    error: InvalidMessage
    reply: jsonrpc.ErrorResponse


@attrs.frozen
class ChannelFailed:
    """The channel cannot go on: the framing must end its transport. A WebSocket closes with
    ``close_code`` (1003 after a binary message, 1002 after a failed session) and
    ``error.message`` as its reason, ``error`` riding on its final close event."""

    close_code: int
    error: ProtocolError


#: What :meth:`MessageChannel.events_received` reports; without a session, no
#: :data:`~mcpws.core.session.SessionEvent` comes, and with one, no :class:`MessageReceived`.
ChannelEvent: TypeAlias = MessageReceived | InvalidMessageAnswered | ChannelFailed | SessionEvent


# The channel ----------------------------------------------------------------------------------


class MessageChannel:
    """MCP over text messages, with a session or none.

    Without a session, each valid message is reported as :class:`MessageReceived`; with one,
    it goes to the session. *max_depth* bounds the nesting of one message. With *reply*
    false, an invalid message is reported but not answered: for a bridge whose peer is a
    program's output, not a peer that sent a request.
    """

    def __init__(
        self,
        session: ClientSession | ServerSession | None = None,
        *,
        max_depth: int = jsonrpc.DEFAULT_MAX_DEPTH,
        reply: bool = True,
    ) -> None:
        self.session = session
        self._max_depth = max_depth
        self._reply = reply
        self._allow_batches = False
        self._events: list[ChannelEvent] = []
        self._texts: list[str] = []
        self._closed = False
        #: The :class:`ChannelFailed` the channel reported, once it has failed.
        self.failure: ChannelFailed | None = None

    @property
    def allow_batches(self) -> bool:
        """Whether a text message may hold a batch (revision 2025-03-26 only); a session
        decides it when there is one."""
        return self._allow_batches if self.session is None else self.session.allow_batches

    @allow_batches.setter
    def allow_batches(self, value: bool) -> None:
        self._allow_batches = value

    @property
    def closed(self) -> bool:
        """Whether :meth:`receive_eof` or :meth:`close` ended the channel."""
        return self._closed

    # Input ------------------------------------------------------------------------------------

    def receive_text(self, text: str | bytes, now: float) -> None:
        """Take one text message from the peer (as bytes, UTF-8 that is checked here)."""
        if self._closed:
            return
        session = self.session
        allow = self._allow_batches if session is None else session.allow_batches
        try:
            message = jsonrpc.decode(text, allow_batch=allow, max_depth=self._max_depth)
        except InvalidMessage as exc:
            self._answer(exc)
            return
        if session is None:
            self._events.append(MessageReceived(message))
        else:
            session.receive_message(message, now)

    def receive_bytes(self, data: bytes, now: float) -> None:
        """Take one binary message from the peer: MCP has none, so the channel fails."""
        if self._closed or self.failure is not None:
            return
        self._pull_events()
        self._fail(_UNSUPPORTED_DATA, RemoteProtocolError(_BINARY, close_code=_UNSUPPORTED_DATA))

    def receive_eof(self) -> None:
        """The transport is over (the peer closed it, a close handshake ended, it was lost or
        failed): the session is closed, and nothing more is read or sent. Its events so far
        are still reported; the texts it had not handed over are dropped."""
        if self._closed:
            return
        self._pull_events()
        self._closed = True
        if self.session is not None:
            self.session.close()

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline at or before *now*."""
        if self.session is not None and not self._closed:
            self.session.handle_timeout(now)

    # Commands ---------------------------------------------------------------------------------

    def encode(self, message: jsonrpc.Message | Sequence[jsonrpc.Message]) -> str:
        """The text of one JSON-RPC message, or of a batch (only where :attr:`allow_batches`
        is set; else :class:`~mcpws.core.errors.LocalProtocolError`)."""
        if isinstance(message, Sequence) and not self.allow_batches:
            raise LocalProtocolError("batches are only allowed in revision 2025-03-26")
        return jsonrpc.encode(message)

    def send(self, message: jsonrpc.Message | Sequence[jsonrpc.Message]) -> None:
        """Queue one JSON-RPC message, or a batch, after what the session queued before."""
        text = self.encode(message)
        self._pull_texts()
        self._texts.append(text)

    def close(self) -> None:
        """End the channel from this side: what the session queued is still handed over by
        :meth:`texts_to_send` and :meth:`events_received`, then as :meth:`receive_eof`."""
        if self._closed:
            return
        self._pull_texts()
        self._pull_events()
        self.receive_eof()

    # Output -----------------------------------------------------------------------------------

    def events_received(self) -> list[ChannelEvent]:
        """Return and forget the events so far."""
        session = self.session  # _pull_events, inlined on the path of every message
        if session is not None and not self._closed and (pulled := session.events_received()):
            self._take(pulled)
        events, self._events = self._events, []
        return events

    def texts_to_send(self) -> list[str]:
        """Return and forget the texts to send, one message each."""
        session = self.session
        if session is not None and not self._closed:
            texts = session.messages_to_send()
            if not self._texts:
                return texts  # the usual case: the session's own list, with no copy
            self._texts += texts
        texts, self._texts = self._texts, []
        return texts

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` must next be called, or ``None``."""
        if self.session is None or self._closed:
            return None
        return self.session.next_deadline()

    # Inside -----------------------------------------------------------------------------------

    def _answer(self, error: InvalidMessage) -> None:
        """Reply to an invalid text message, after what the session had queued."""
        self._pull_texts()
        self._pull_events()
        reply = jsonrpc.ErrorResponse(
            error.id, jsonrpc.ErrorObject(error.jsonrpc_code, error.message)
        )
        if self._reply:
            self._texts.append(jsonrpc.encode(reply))
        self._events.append(InvalidMessageAnswered(error, reply))

    def _pull_texts(self) -> None:
        if self.session is not None and not self._closed:
            self._texts += self.session.messages_to_send()

    def _pull_events(self) -> None:
        session = self.session
        if session is not None and not self._closed and (pulled := session.events_received()):
            self._take(pulled)

    def _take(self, events: list[SessionEvent]) -> None:
        """Report the session's *events*; a failed session fails the channel."""
        self._events += events
        if self.failure is None:
            for event in events:
                if isinstance(event, SessionFailed):
                    self._fail(_PROTOCOL_ERROR, event.error)
                    return

    def _fail(self, close_code: int, error: ProtocolError) -> None:
        self.failure = ChannelFailed(close_code, error)
        self._events.append(self.failure)


# The subprotocol ------------------------------------------------------------------------------


@attrs.frozen
class SubprotocolChoice:
    """What an MCP server makes of the subprotocols a WebSocket client offers.

    ``subprotocol`` is the one to select (``None``: none); ``revision`` the supported revision
    of an offered ``mcp.version.<revision>``; ``auth_token`` the token of an offered
    ``mcp.auth.<token>``; ``refusal`` why the upgrade is refused with 400, or ``None``.
    """

    subprotocol: str | None
    revision: str | None
    auth_token: str | None
    refusal: str | None


def spoken_subprotocols(revisions: Sequence[str] = REVISIONS) -> tuple[str, ...]:
    """The subprotocols an MCP server speaks: ``mcp``, then ``mcp.version.<revision>`` for
    each of *revisions*."""
    return _spoken(tuple(revisions))


@functools.lru_cache(maxsize=16)
def _spoken(revisions: tuple[str, ...]) -> tuple[str, ...]:
    """Made once for each set of revisions: every connection of a server shares them."""
    return (SUBPROTOCOL, *(f"{VERSION_PREFIX}{revision}" for revision in revisions))


def select_subprotocol(
    offered: Sequence[str], revisions: Sequence[str] = REVISIONS
) -> SubprotocolChoice:
    """Choose the subprotocol of an MCP server among those a client *offered*, in order.

    * The first offered ``mcp.version.<revision>`` whose revision is one of *revisions* is
      selected, and its revision reported; else ``mcp`` is selected when offered.
    * The token of the first offered ``mcp.auth.<token>`` is reported; such a subprotocol is
      never selected, since it carries a secret.
    * An offer that holds none of these subprotocols is refused (400); no offer at all is
      accepted without a subprotocol.
    """
    revision = next(
        (
            name.removeprefix(VERSION_PREFIX)
            for name in offered
            if name.startswith(VERSION_PREFIX) and name.removeprefix(VERSION_PREFIX) in revisions
        ),
        None,
    )
    token = next(
        (name.removeprefix(AUTH_PREFIX) for name in offered if name.startswith(AUTH_PREFIX)), None
    )
    if revision is not None:
        return SubprotocolChoice(f"{VERSION_PREFIX}{revision}", revision, token, None)
    if SUBPROTOCOL in offered:
        return SubprotocolChoice(SUBPROTOCOL, None, token, None)
    if not offered:
        return SubprotocolChoice(None, None, token, None)
    spoken = ", ".join(repr(name) for name in spoken_subprotocols(revisions))
    refusal = f"this endpoint speaks the WebSocket subprotocols {spoken} only"
    return SubprotocolChoice(None, None, token, refusal)
