#!/usr/bin/env python3
"""Fuzz mcpws.core.channel.MessageChannel with atheris: whatever messages a transport hands it.

The first byte of the input chooses the channel: without a session, batches allowed or not
(bits 0-1 = 0 or 1), or with a server session, fresh or initialized at 2025-03-26, whose
batches the session allows (bits 0-1 = 2 or 3). The rest is records separated by NUL bytes,
each a kind byte and its body, so that a seed is plain text:

* ``t``: a text message given as bytes (its UTF-8 is checked by the channel);
* ``s``: a text message given as a string, an invalid byte becoming a lone surrogate;
* ``b``: a binary message; ``T``: the clock jumps a minute; ``n``: the application sends a
  notification, and ``N`` a batch of two (until the channel ends: what is sent after is the
  framing's to drop); ``c``: the channel is closed; ``e``: the transport ends.

The invariant: no method raises but ``send``'s documented ``LocalProtocolError`` (a batch
where none is allowed); every event is a :data:`~mcpws.core.channel.ChannelEvent`;
``ChannelFailed`` comes at most once, with close code 1002 or 1003; each invalid message's
reply is an error of code -32700 or -32600 with the id it reported, and without a session
each text message gives exactly one event, the message or its reply; every text to send is
JSON-RPC (:func:`fuzzing.jsonrpc_items`); once ended, the channel reports and sends nothing.

Run it (pytest does not collect this file: its name does not start with ``test_``)::

    python tests/fuzz/fuzz_channel.py -max_total_time=60
"""

from __future__ import annotations

import typing

import atheris
from fuzzing import Snapshot, jsonrpc_items, run

with atheris.instrument_imports(include=["mcpws"]):
    from mcpws.core import jsonrpc
    from mcpws.core.channel import (
        ChannelEvent,
        ChannelFailed,
        InvalidMessageAnswered,
        MessageChannel,
        MessageReceived,
    )
    from mcpws.core.errors import LocalProtocolError
    from mcpws.core.session import ServerSession

#: libFuzzer's options for this harness, before those of the command line.
FLAGS = ("-max_len=512", "-timeout=10")
EVENT_TYPES = typing.get_args(ChannelEvent)
#: Records an input holds at most.
MOVES = 16
_CODES = (jsonrpc.PARSE_ERROR, jsonrpc.INVALID_REQUEST)


def _initialized() -> ServerSession:
    session = ServerSession()
    params = {
        "protocolVersion": "2025-03-26",
        "capabilities": {},
        "clientInfo": {"name": "fuzz", "version": "1"},
    }
    session.receive_message(jsonrpc.Request(0, "initialize", params), 0.0)
    session.receive_message(jsonrpc.Notification("notifications/initialized"), 0.0)
    session.messages_to_send()
    session.events_received()
    return session


_SESSIONS = (Snapshot(ServerSession()), Snapshot(_initialized()))
_NOTIFICATION = jsonrpc.Notification("notifications/message", {"level": "info", "data": "x"})


class Checked:
    """The channel, and what it reported so far."""

    def __init__(self, channel: MessageChannel) -> None:
        self.channel = channel
        self.failed = False
        self.ended = False

    def events(self) -> list[object]:
        """The events since the last call, checked."""
        events: list[object] = list(self.channel.events_received())
        for event in events:
            if not isinstance(event, EVENT_TYPES):
                raise AssertionError(f"undocumented event {event!r}")
            if isinstance(event, ChannelFailed):
                if self.failed or event.close_code not in (1002, 1003):
                    raise AssertionError(f"{event!r} after a failure, or with a wrong code")
                self.failed = True
            if isinstance(event, InvalidMessageAnswered):
                error, reply = event.error, event.reply
                if error.jsonrpc_code not in _CODES or reply.error.code != error.jsonrpc_code:
                    raise AssertionError(f"an invalid message answered with {event!r}")
                if reply.id != error.id or (
                    error.id is not None and not jsonrpc.is_request_id(error.id)
                ):
                    raise AssertionError(f"the reply does not carry the id reported: {event!r}")
        return events

    def texts(self) -> None:
        """The texts to send, checked."""
        texts = self.channel.texts_to_send()
        if self.ended and texts:
            raise AssertionError(f"an ended channel sends {texts!r}")
        for text in texts:
            jsonrpc_items(text)


def fuzz_one_input(data: bytes) -> None:
    if not data:
        return
    flags = data[0] & 3
    if flags < 2:
        channel = MessageChannel()
        channel.allow_batches = bool(flags)
    else:
        channel = MessageChannel(_SESSIONS[flags - 2].copy())
    checked = Checked(channel)
    now = 0.0
    for record in data[1:].split(b"\0")[:MOVES]:
        kind, body = record[:1], record[1:]
        if kind in (b"t", b"s"):
            text = body if kind == b"t" else body.decode("utf-8", "surrogateescape")
            channel.receive_text(text, now)
            checked.texts()
            events = checked.events()
            if channel.session is None and not checked.ended:
                kinds = [type(event) for event in events]
                if kinds not in ([MessageReceived], [InvalidMessageAnswered]):
                    raise AssertionError(f"a text message gave {events!r}")
        elif kind == b"b":
            channel.receive_bytes(body, now)
        elif kind == b"T":
            now += 61.0
            channel.handle_timeout(now)
        elif kind in (b"n", b"N") and not checked.ended:  # once ended, the framing sends nothing
            try:
                channel.send(_NOTIFICATION if kind == b"n" else [_NOTIFICATION, _NOTIFICATION])
            except LocalProtocolError:
                if kind == b"n" or channel.allow_batches:
                    raise
        elif kind == b"c":
            channel.close()
        elif kind == b"e":
            channel.receive_eof()
        checked.texts()
        events = checked.events()
        if checked.ended and events:
            raise AssertionError(f"an ended channel reports {events!r}")
        checked.ended = channel.closed
    channel.receive_eof()
    checked.texts()
    checked.events()
    checked.ended = True
    channel.receive_text(b'{"jsonrpc":"2.0","id":1,"method":"ping"}', now)
    checked.texts()
    if checked.events():
        raise AssertionError("an ended channel reads on")


if __name__ == "__main__":
    run(fuzz_one_input, FLAGS)
