"""WebSocket frame headers (RFC 6455, section 5.2), read and written for the common case, and
the close codes (section 7.4.1).

The connection reads every frame's header itself to know where frames begin and end. A whole,
unfragmented, uncompressed text frame is read here, and so is a ping or a pong in the shortest
form (see :func:`bare_control`); every other frame goes to wsproto, which checks it to the
letter and reports what is wrong. Text messages, compressed or not, pings and pongs are framed
here too. :func:`encode_frame` builds any frame, valid or not, for tests and fuzzing.
"""

from __future__ import annotations

import os
from typing import Final, NamedTuple

__all__ = [
    "ABNORMAL",
    "FIN_PING",
    "FIN_PONG",
    "FIN_TEXT",
    "GOING_AWAY",
    "INTERNAL_ERROR",
    "INVALID_PAYLOAD",
    "MESSAGE_TOO_BIG",
    "NORMAL",
    "POLICY_VIOLATION",
    "PROTOCOL_ERROR",
    "RSV1",
    "UNSUPPORTED_DATA",
    "Header",
    "bare_control",
    "encode_frame",
    "frame",
    "mask",
    "minimal",
    "read_header",
]

# Close codes (RFC 6455, section 7.4.1).
NORMAL: Final = 1000
GOING_AWAY: Final = 1001
PROTOCOL_ERROR: Final = 1002
UNSUPPORTED_DATA: Final = 1003
ABNORMAL: Final = 1006
INVALID_PAYLOAD: Final = 1007
POLICY_VIOLATION: Final = 1008
MESSAGE_TOO_BIG: Final = 1009
INTERNAL_ERROR: Final = 1011

#: The first byte of a whole text message: FIN, no RSV bits, opcode 1.
FIN_TEXT: Final = 0x81
#: The first bytes of a ping and of a pong: FIN, no RSV bits, opcodes 9 and 10.
FIN_PING: Final = 0x89
FIN_PONG: Final = 0x8A
#: The bit of a frame's first byte that marks a compressed message (RFC 7692).
RSV1: Final = 0x40
_MASKED: Final = 0x80


class Header(NamedTuple):
    """A frame's first byte, the size of its header (with the masking key) and of its payload."""

    first: int
    size: int
    length: int
    masked: bool


def read_header(buffer: bytes | bytearray, offset: int) -> Header | None:
    """The header of the frame at *offset*, or ``None`` while it is incomplete. A length in more
    bytes than it needs is read as it is (see :func:`minimal`)."""
    available = len(buffer) - offset
    if available < 2:
        return None
    second = buffer[offset + 1]
    length = second & 0x7F
    size = 2
    if length == 126:
        size = 4
        if available < size:
            return None
        length = int.from_bytes(buffer[offset + 2 : offset + 4], "big")
    elif length == 127:
        size = 10
        if available < size:
            return None
        length = int.from_bytes(buffer[offset + 2 : offset + 10], "big")
    masked = bool(second & _MASKED)
    if masked:
        size += 4
    return Header(buffer[offset], size, length, masked) if available >= size else None


def minimal(header: Header) -> bool:
    """Whether the header gives its payload length in as few bytes as possible."""
    encoded = header.size - (6 if header.masked else 2)
    if header.length < 126:
        return encoded == 0
    return encoded == (2 if header.length < 65536 else 8)


def bare_control(header: Header, masked: bool) -> bool:
    """Whether the frame is a valid ping or pong with its length in the header's first length
    field (at most 125 bytes, as RFC 6455 asks of a control frame), masked as *masked* says.

    A header of 2 bytes, or 6 with the masking key, gives its length in 7 bits, less than 126;
    one that is 6 bytes long is masked (an unmasked header has 2, 4 or 10 bytes)."""
    return (header.first == FIN_PING or header.first == FIN_PONG) and header.size == (
        6 if masked else 2
    )


def mask(key: bytes | bytearray, payload: bytes | bytearray) -> bytes:
    """*payload* XORed with the 4-byte *key*, repeated (masking and unmasking alike)."""
    size = len(payload)
    if not size:
        return b""
    repeated = (bytes(key) * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(
        size, "little"
    )


def frame(first: int, payload: bytes, *, masked: bool) -> bytes:
    """A frame with first byte *first* carrying *payload*, masked with a fresh random key when
    *masked* (a client's frames)."""
    size = len(payload)
    bit = _MASKED if masked else 0
    if size < 126:
        header = bytes((first, size | bit))
    elif size < 65536:
        header = bytes((first, 126 | bit)) + size.to_bytes(2, "big")
    else:
        header = bytes((first, 127 | bit)) + size.to_bytes(8, "big")
    if not masked:
        return header + payload
    key = os.urandom(4)
    return header + key + mask(key, payload)


def encode_frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    masking_key: bytes | None = None,
) -> bytes:
    """One frame as it goes on the wire, with its length in as few bytes as it needs: masked
    with the 4-byte *masking_key*, as a client's frames must be, or not, as a server's.

    It builds what it is asked, valid or not (a reserved *opcode*, *rsv* bits no extension
    negotiated, a control frame that is fragmented or too long), so that tests and fuzzers
    can hand a core any frame; it raises :class:`ValueError` only for what a header cannot
    hold: an *opcode* outside 0-15, *rsv* outside 0-7, a key that is not 4 bytes."""
    if not 0 <= opcode <= 0x0F:
        raise ValueError(f"an opcode is 4 bits: 0 to 15, not {opcode}")
    if not 0 <= rsv <= 7:
        raise ValueError(f"the RSV bits are 3: 0 to 7, not {rsv}")
    if masking_key is not None and len(masking_key) != 4:
        raise ValueError(f"a masking key is 4 bytes, not {len(masking_key)}")
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    plain = frame(first, bytes(payload), masked=False)
    if masking_key is None:
        return plain
    header = plain[: len(plain) - len(payload)]
    key = bytes(masking_key)
    return bytes((first, header[1] | _MASKED)) + header[2:] + key + mask(key, payload)
