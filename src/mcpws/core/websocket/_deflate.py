"""permessage-deflate (RFC 7692) that bounds what one message may inflate to, and compresses
the messages sent at the configured level, leaving small ones as they are."""

from __future__ import annotations

import zlib
from typing import Any, Final

from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import CloseReason, Opcode, RsvBits

__all__ = ["COMPRESSION_THRESHOLD"]

#: Messages shorter than this many bytes are sent uncompressed, even with permessage-deflate.
COMPRESSION_THRESHOLD: Final = 1024


class _BoundedDeflate(PerMessageDeflate):
    """permessage-deflate that never inflates more than ``limit`` bytes of one message.

    wsproto inflates a frame whole; a few kilobytes can inflate to gigabytes. This inflates
    at most one byte past the limit and then fails the connection with 1009.
    """

    def __init__(self, limit: int | None, level: int) -> None:
        super().__init__()
        self._limit = limit
        self._level = level
        self._inflated = 0

    def frame_outbound(
        self, proto: Any, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
    ) -> tuple[RsvBits, bytes]:
        if opcode not in (Opcode.TEXT, Opcode.BINARY) or not fin:
            return super().frame_outbound(proto, opcode, rsv, data, fin)
        # A small message goes out as it is: deflating it costs more than it saves, and
        # RFC 7692 compresses message by message.
        if len(data) < COMPRESSION_THRESHOLD:
            return (rsv, data)
        return (RsvBits(True, rsv.rsv2, rsv.rsv3), self.deflate(data, client=proto.client))

    def deflate(self, data: bytes, *, client: bool) -> bytes:
        """The payload of one whole message compressed (RFC 7692, section 7.2.1), at our
        level, in the window the peers agreed on."""
        if self._compressor is None:
            bits = self.client_max_window_bits if client else self.server_max_window_bits
            self._compressor = zlib.compressobj(self._level, zlib.DEFLATED, -bits)
        out = self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        if self.client_no_context_takeover if client else self.server_no_context_takeover:
            self._compressor = None
        return out[:-4]

    def frame_inbound_payload_data(self, proto: Any, data: bytes) -> bytes | CloseReason:
        if self._limit is None or not self._inbound_compressed or not self._inbound_is_compressible:
            return super().frame_inbound_payload_data(proto, data)
        return self._inflate(bytes(data))

    def frame_inbound_complete(self, proto: Any, fin: bool) -> bytes | CloseReason | None:
        if not self._inbound_is_compressible:
            # A control frame, perhaps between the fragments of a compressed message: it must
            # not end that message, only the state its own header began between messages.
            if not self._inbound_compressed:
                self._inbound_compressed = None
            return None
        if self._limit is None or not fin or not self._inbound_compressed:
            self._inflated = 0 if fin else self._inflated
            return super().frame_inbound_complete(proto, fin)
        tail = self._inflate(b"\x00\x00\xff\xff")
        self._inflated = 0
        if isinstance(tail, CloseReason):
            return tail
        if (proto.client and self.server_no_context_takeover) or (
            not proto.client and self.client_no_context_takeover
        ):
            self._decompressor = None
        self._inbound_compressed = None
        return tail

    def _inflate(self, data: bytes) -> bytes | CloseReason:
        assert self._decompressor is not None
        assert self._limit is not None
        try:
            out = self._decompressor.decompress(data, self._limit - self._inflated + 1)
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        self._inflated += len(out)
        if self._inflated > self._limit:
            return CloseReason.MESSAGE_TOO_BIG
        return out
