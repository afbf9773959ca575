"""The public frame builder, :func:`mcpws.core.websocket.encode_frame`: what it writes is
what RFC 6455 says, and what the cores read."""

from __future__ import annotations

import struct

import pytest

from helpers.wspair import open_pair
from mcpws.core.websocket import (
    ConnectionClosed,
    PingReceived,
    TextReceived,
    WebSocketConfig,
    encode_frame,
)
from mcpws.core.websocket._frames import mask

KEY = b"\x01\x02\x03\x04"


@pytest.mark.parametrize(
    ("size", "length"),
    [
        (0, b"\x00"),
        (125, b"\x7d"),
        (126, b"\x7e\x00\x7e"),
        (65535, b"\x7e\xff\xff"),
        (65536, b"\x7f" + struct.pack("!Q", 65536)),
    ],
)
def test_the_length_takes_as_few_bytes_as_it_needs(size: int, length: bytes) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    assert encode_frame(0x2, payload) == b"\x82" + length + payload
    masked = encode_frame(0x2, payload, masking_key=KEY)
    assert masked == b"\x82" + bytes((length[0] | 0x80,)) + length[1:] + KEY + mask(KEY, payload)


def test_fin_rsv_and_opcode_make_the_first_byte() -> None:
    assert encode_frame(0x1, b"a")[0] == 0x81
    assert encode_frame(0x0, b"a", fin=False)[0] == 0x00
    assert encode_frame(0xF, rsv=7)[0] == 0xFF
    assert encode_frame(0x1, b"a", rsv=4, fin=False)[0] == 0x41


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"opcode": 16}, "an opcode is 4 bits"),
        ({"opcode": -1}, "an opcode is 4 bits"),
        ({"opcode": 1, "rsv": 8}, "the RSV bits are 3"),
        ({"opcode": 1, "rsv": -1}, "the RSV bits are 3"),
        ({"opcode": 1, "masking_key": b"abc"}, "a masking key is 4 bytes"),
    ],
)
def test_what_a_header_cannot_hold_is_refused(arguments: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_frame(**arguments)  # type: ignore[arg-type]


def test_the_cores_read_what_it_builds() -> None:
    pair = open_pair(config=WebSocketConfig(compression=False))
    pair.server.receive_data(
        encode_frame(0x1, "é".encode(), fin=False, masking_key=KEY)
        + encode_frame(0x9, b"hi", masking_key=KEY)
        + encode_frame(0x0, b"!", masking_key=KEY),
        1.0,
    )
    assert pair.server.events_received() == [PingReceived(b"hi"), TextReceived("é!")]
    pair.client.receive_data(encode_frame(0x1, b"plain"), 1.0)
    assert pair.client.events_received() == [TextReceived("plain")]


def test_it_builds_invalid_frames_that_a_core_refuses() -> None:
    pair = open_pair(config=WebSocketConfig(compression=False))
    pair.server.receive_data(encode_frame(0x1, b"x", rsv=2, masking_key=KEY), 1.0)
    (closed,) = pair.server.events_received()
    assert isinstance(closed, ConnectionClosed)
    assert closed.code == 1002
