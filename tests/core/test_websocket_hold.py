"""Holding messages (``hold``, ``held``, ``holding``, ``resume``) and the limit on control
frames, in both roles of the WebSocket core."""

from __future__ import annotations

import struct

import pytest

from helpers.wspair import (
    BINARY,
    CLOSE,
    CONTINUATION,
    PING,
    PONG,
    TEXT,
    close_payload,
    frame,
    open_pair,
)
from mcpws.core.errors import RemoteProtocolError
from mcpws.core.websocket import (
    BytesReceived,
    Closing,
    ConnectionClosed,
    PingReceived,
    PongReceived,
    TextReceived,
    WebSocketClient,
    WebSocketConfig,
    WebSocketEvent,
    WebSocketServer,
)


def held_server(config: WebSocketConfig | None = None) -> WebSocketServer:
    server = open_pair(config=config).server
    server.hold = True
    return server


def frames_of(data: list[bytes]) -> list[tuple[int, bytes]]:
    """The (opcode, payload) of each unmasked frame in *data*; ``b""`` is left out."""
    stream, frames = b"".join(data), []
    while stream:
        length, start = stream[1] & 0x7F, 2
        if length == 126:
            (length,), start = struct.unpack("!H", stream[2:4]), 4
        frames.append((stream[0] & 0x0F, stream[start : start + length]))
        stream = stream[start + length :]
    return frames


def resume_all(core: WebSocketServer | WebSocketClient) -> list[WebSocketEvent]:
    """Resume until nothing is held; every event, in order."""
    events = []
    while core.resume(0.0):
        events += core.events_received()
    return events


def test_held_messages_wait_for_resume_one_at_a_time_in_order() -> None:
    server = held_server()
    server.receive_data(frame(TEXT, b"one") + frame(TEXT, b"two") + frame(BINARY, b"3"), 0.0)
    assert server.events_received() == []
    assert (server.held, server.holding) == (7, True)
    assert server.resume(0.0)
    assert server.events_received() == [TextReceived("one")]
    assert server.resume(0.0)
    assert server.events_received() == [TextReceived("two")]
    assert server.held == 1
    assert server.resume(0.0)
    assert server.events_received() == [BytesReceived(b"3")]
    assert (server.held, server.holding) == (0, False)
    assert not server.resume(0.0)


def test_a_fragmented_message_is_held_once_whole() -> None:
    server = held_server()
    server.receive_data(frame(TEXT, b"a", fin=False) + frame(CONTINUATION, b"bc"), 0.0)
    assert server.events_received() == []
    assert server.held == 3
    assert resume_all(server) == [TextReceived("abc")]


def test_pings_and_pongs_behind_held_messages_are_acted_on_at_once() -> None:
    server = held_server(WebSocketConfig(ping_interval=1, ping_timeout=1))
    server.handle_timeout(1.0)
    assert frames_of(server.data_to_send()) == [(PING, (1).to_bytes(4, "big"))]
    server.receive_data(frame(TEXT, b"held") + frame(PING, b"p") + frame(PONG, b"\0\0\0\1"), 1.5)
    assert server.events_received() == [PingReceived(b"p"), PongReceived(b"\0\0\0\1")]
    assert frames_of(server.data_to_send()) == [(PONG, b"p")]
    assert server.next_deadline() == 2.5  # the next ping, no longer the pong's timeout
    assert resume_all(server) == [TextReceived("held")]


def test_a_close_frame_waits_for_the_messages_before_it() -> None:
    """The application answers the last message before the close is read, as it was sent."""
    server = held_server()
    server.receive_data(frame(TEXT, b"last words") + frame(CLOSE, close_payload(1000)), 0.0)
    server.receive_data(frame(TEXT, b"after the close"), 0.0)
    assert server.events_received() == []
    assert server.held > len("last words")  # what came behind, unread, counts too
    assert server.resume(0.0)
    assert server.events_received() == [TextReceived("last words")]
    assert server.holding
    server.send_text("an answer")
    assert server.resume(0.0)
    closing, closed = server.events_received()
    assert closing == Closing(1000, "", True)
    assert isinstance(closed, ConnectionClosed)
    assert closed.clean
    assert [op for op, _ in frames_of(server.data_to_send())] == [TEXT, CLOSE]
    assert (server.holding, server.held, server.resume(0.0)) == (False, 0, False)


def test_the_end_of_the_stream_waits_for_the_messages_before_it() -> None:
    server = held_server()
    server.receive_data(frame(TEXT, b"one"), 0.0)
    server.receive_eof(0.0)
    assert server.events_received() == []
    assert server.next_deadline() is not None  # not closed yet
    message, closed = resume_all(server)
    assert message == TextReceived("one")
    assert isinstance(closed, ConnectionClosed)
    assert closed.code == 1006
    assert not server.holding


def test_the_end_of_the_stream_with_nothing_held_ends_at_once() -> None:
    server = held_server()
    server.receive_eof(0.0)
    (closed,) = server.events_received()
    assert isinstance(closed, ConnectionClosed)
    assert closed.code == 1006


@pytest.mark.parametrize(
    "bad",
    [
        frame(TEXT, b"x", rsv1=True),  # no extension gives RSV1 a meaning
        frame(TEXT, b"\xff"),  # not UTF-8
        frame(TEXT, b"x" * 200),  # over max_message_size
        frame(PING, b"x" * 126),  # a control frame's payload is at most 125 bytes
    ],
    ids=["rsv1", "utf-8", "too-big", "long-ping"],
)
def test_a_protocol_error_waits_for_the_messages_before_it(bad: bytes) -> None:
    """The message before the bad frame is answered; then the connection fails, and nothing
    after the bad frame is read."""
    server = held_server(WebSocketConfig(max_message_size=100, compression=False))
    server.receive_data(frame(TEXT, b"fine") + bad + frame(PING, b"never read"), 0.0)
    server.receive_data(frame(TEXT, b"nor this"), 0.0)
    assert server.events_received() == []
    assert server.data_to_send() == []
    assert server.resume(0.0)
    assert server.events_received() == [TextReceived("fine")]
    server.send_text("answered")
    assert server.resume(0.0)
    (closed,) = server.events_received()
    assert isinstance(closed, ConnectionClosed)
    assert isinstance(closed.cause, RemoteProtocolError)
    sent = server.data_to_send()
    assert [op for op, _ in frames_of(sent)] == [TEXT, CLOSE]
    assert sent[-1] == b""
    assert not server.holding


def test_too_many_fragments_behind_a_held_message_fail_after_it() -> None:
    server = held_server(WebSocketConfig(max_fragments=2))
    fragments = frame(TEXT, b"a", fin=False) + frame(CONTINUATION, b"b", fin=False)
    server.receive_data(frame(TEXT, b"fine") + fragments, 0.0)
    events = resume_all(server)
    assert events[0] == TextReceived("fine")
    assert isinstance(events[-1], ConnectionClosed)
    assert events[-1].code == 1009


def test_a_keepalive_failure_drops_what_is_held() -> None:
    server = held_server(WebSocketConfig(ping_interval=1, ping_timeout=1))
    server.receive_data(frame(TEXT, b"held") + frame(CLOSE, close_payload(1000)), 0.0)
    server.receive_eof(0.0)
    server.handle_timeout(1.0)
    server.handle_timeout(2.0)
    (closed,) = server.events_received()
    assert isinstance(closed, ConnectionClosed)
    assert closed.code == 1011
    assert (server.holding, server.held, server.resume(2.0)) == (False, 0, False)


def test_a_client_holds_its_servers_messages_too() -> None:
    pair = open_pair()
    pair.client.hold = True
    pair.server.send_text("one")
    pair.server.send_text("two")
    pair.server.close(1000, now=0.0)
    pair.pump(0.0)
    assert pair.client.events_received() == []
    events = resume_all(pair.client)
    assert events[:2] == [TextReceived("one"), TextReceived("two")]
    assert isinstance(events[-1], ConnectionClosed)


def test_without_hold_messages_come_at_once() -> None:
    server = open_pair().server
    assert not server.hold
    server.receive_data(frame(TEXT, b"one") + frame(CLOSE, close_payload(1000)), 0.0)
    assert server.events_received()[0] == TextReceived("one")
    assert server.closed
    assert (server.held, server.holding) == (0, False)


# The limit on control frames ------------------------------------------------------------------


def test_more_control_frames_in_a_second_than_allowed_close_with_1008() -> None:
    server = open_pair(config=WebSocketConfig(max_control_frames=3)).server
    server.receive_data(frame(PING, b"1") + frame(PING, b"2") + frame(PONG, b"3"), 0.5)
    server.receive_data(frame(PING, b"4"), 1.4)
    *_, closed = server.events_received()
    assert isinstance(closed, ConnectionClosed)
    assert closed.code == 1008
    assert closed.reason == "too many control frames"
    assert isinstance(closed.cause, RemoteProtocolError)
    assert closed.cause.close_code == 1008
    assert frames_of(server.data_to_send())[-1] == (CLOSE, close_payload(1008, closed.reason))


def test_control_frames_are_counted_a_second_at_a_time() -> None:
    server = open_pair(config=WebSocketConfig(max_control_frames=2)).server
    for second in range(5):
        server.receive_data(frame(PING) + frame(PING), float(second))
    assert not server.closed
    assert len(server.events_received()) == 10


def test_the_control_frame_limit_can_be_switched_off() -> None:
    server = open_pair(config=WebSocketConfig(max_control_frames=None)).server
    server.receive_data(frame(PING) * 1000, 0.0)
    assert not server.closed


def test_the_control_frame_limit_waits_for_held_messages() -> None:
    server = held_server(WebSocketConfig(max_control_frames=1))
    server.receive_data(frame(TEXT, b"fine") + frame(PING) + frame(PING), 0.0)
    assert server.events_received() == [PingReceived(b"")]
    events = resume_all(server)
    assert events[0] == TextReceived("fine")
    assert isinstance(events[-1], ConnectionClosed)
    assert events[-1].code == 1008


def test_control_frames_wsproto_reads_count_too() -> None:
    """A close frame (read by wsproto, not the fast path) past the limit closes with 1008."""
    server = open_pair(config=WebSocketConfig(max_control_frames=1)).server
    server.receive_data(frame(PING) + frame(CLOSE, close_payload(1000)), 0.0)
    *_, closed = server.events_received()
    assert isinstance(closed, ConnectionClosed)
    assert closed.code == 1008


@pytest.mark.parametrize("opcode", [TEXT, BINARY])
def test_a_frame_that_says_it_is_over_the_limit_is_refused_before_its_payload(opcode: int) -> None:
    server = open_pair(config=WebSocketConfig(max_message_size=100)).server
    server.receive_data(frame(opcode, b"x" * 101)[:8], 0.0)  # the header, and a little
    *_, closed = server.events_received()
    assert isinstance(closed, ConnectionClosed)
    assert closed.code == 1009


def test_a_compressed_frame_over_the_limit_is_left_to_the_inflater() -> None:
    """Its size says nothing of the message's: the limit applies once inflated."""
    server = open_pair(config=WebSocketConfig(max_message_size=100)).server
    server.receive_data(frame(TEXT, b"x" * 101, rsv1=True)[:8], 0.0)
    assert not server.closed
