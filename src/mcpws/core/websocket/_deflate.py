"""permessage-deflate (RFC 7692): the parameters both roles offer and agree on, with small
windows and memory by default; the messages sent compressed at the configured level, small
ones as they are; what one message may inflate to bounded."""

from __future__ import annotations

import zlib
from typing import Any, Final

from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import CloseReason, Opcode, RsvBits

__all__ = ["COMPRESSION_THRESHOLD"]

#: Messages shorter than this many bytes are sent uncompressed, even with permessage-deflate.
COMPRESSION_THRESHOLD: Final = 1024

_NO_CONTEXT = ("server_no_context_takeover", "client_no_context_takeover")
_WINDOWS = ("server_max_window_bits", "client_max_window_bits")
#: The window bits zlib can deflate with: a peer that allows only 8 gets nothing compressed.
_SMALLEST_DEFLATE_WINDOW: Final = 9


def _parameters(extension: str, *, offer: bool) -> dict[str, int | None]:
    """The parameters of one permessage-deflate offer or answer, each once, checked as RFC
    7692 section 7.1 says (a window of 8 to 15 bits; ``client_max_window_bits`` without a
    value only in an offer); :class:`ValueError` otherwise."""
    found: dict[str, int | None] = {}
    for part in extension.split(";")[1:]:
        name, equals, value = (piece.strip() for piece in part.partition("="))
        value = value.removeprefix('"').removesuffix('"') if len(value) > 1 else value
        if name in found:
            raise ValueError(f"permessage-deflate has {name} twice")
        valueless = name in _NO_CONTEXT or (offer and name == "client_max_window_bits")
        if valueless and not equals:
            found[name] = None
        elif name in _WINDOWS and value.isdigit() and value.isascii() and 8 <= int(value) <= 15:
            found[name] = int(value)
        else:
            raise ValueError(f"permessage-deflate has an invalid parameter {part.strip()!r}")
    return found


class _BoundedDeflate(PerMessageDeflate):
    """permessage-deflate that negotiates as RFC 7692 lets each role, compresses in a small
    window with little memory, and never inflates more than ``limit`` bytes of one message.

    *window_bits* is the largest window this side compresses with and asks the peer to
    compress with, where the peer lets it; *memory_level* is zlib's for the compressor. Where
    the peer does not let it ask, the peer's window is what the peer says, or 15 bits.

    wsproto inflates a frame whole; a few kilobytes can inflate to gigabytes. This inflates
    at most one byte past the limit and then fails the connection with 1009.
    """

    def __init__(self, limit: int | None, level: int, window_bits: int, memory_level: int) -> None:
        super().__init__()
        self._limit = limit
        self._level = level
        self._window_bits = window_bits
        self._memory_level = memory_level
        self._send_bits = window_bits  # the window this side compresses with: agreed below
        self._inflated = 0

    # Negotiation (wsproto calls offer and finalize for a client, accept for a server) ---------

    def offer(self) -> str:
        """A client's offer: the server may choose the window the client compresses with."""
        return "client_max_window_bits"

    def finalize(self, offer: str) -> None:
        """A client takes the server's answer; :class:`ValueError` if it is not valid."""
        answer = _parameters(offer, offer=False)
        self.client_no_context_takeover = "client_no_context_takeover" in answer
        self.server_no_context_takeover = "server_no_context_takeover" in answer
        allowed = answer.get("client_max_window_bits") or 15
        self._send_bits = min(self._window_bits, allowed)
        self.server_max_window_bits = max(
            _SMALLEST_DEFLATE_WINDOW, answer.get("server_max_window_bits") or 15
        )
        self._enabled = True

    def accept(self, offer: str) -> str | None:
        """A server's answer to one offer, ``None`` to decline it: the first valid offer of
        a request is taken. The server compresses in at most its window (and tells the
        client), and asks the client for the same where the offer lets it."""
        if self._enabled:
            return None
        try:
            asked = _parameters(offer, offer=True)
        except ValueError:
            return None
        answer = [name for name in _NO_CONTEXT if name in asked]
        self.server_no_context_takeover = "server_no_context_takeover" in asked
        self.client_no_context_takeover = "client_no_context_takeover" in asked
        self._send_bits = min(self._window_bits, asked.get("server_max_window_bits") or 15)
        answer.append(f"server_max_window_bits={self._send_bits}")
        if "client_max_window_bits" in asked:
            client_bits = min(self._window_bits, asked["client_max_window_bits"] or 15)
            answer.append(f"client_max_window_bits={client_bits}")
        else:
            client_bits = 15  # the client's to choose, and it chose nothing smaller
        self.client_max_window_bits = max(_SMALLEST_DEFLATE_WINDOW, client_bits)
        self._enabled = True
        return "; ".join(answer)

    # Messages ---------------------------------------------------------------------------------

    def frame_outbound(
        self, proto: Any, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
    ) -> tuple[RsvBits, bytes]:
        if opcode not in (Opcode.TEXT, Opcode.BINARY) or not fin:
            return super().frame_outbound(proto, opcode, rsv, data, fin)
        # A small message goes out as it is: deflating it costs more than it saves, and
        # RFC 7692 compresses message by message.
        if not self.compresses(len(data)):
            return (rsv, data)
        return (RsvBits(True, rsv.rsv2, rsv.rsv3), self.deflate(data, client=proto.client))

    def compresses(self, size: int) -> bool:
        """Whether a message of *size* bytes goes out compressed: not one under
        :data:`COMPRESSION_THRESHOLD`, nor any where the peer allows a window of 8 bits,
        which zlib cannot deflate in (RFC 7692 lets a message go uncompressed)."""
        return size >= COMPRESSION_THRESHOLD and self._send_bits >= _SMALLEST_DEFLATE_WINDOW

    def deflate(self, data: bytes, *, client: bool) -> bytes:
        """The payload of one whole message compressed (RFC 7692, section 7.2.1), at our
        level and memory level, in the window agreed on."""
        if self._compressor is None:
            self._compressor = zlib.compressobj(
                self._level, zlib.DEFLATED, -self._send_bits, self._memory_level
            )
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
