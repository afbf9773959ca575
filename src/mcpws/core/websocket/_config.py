"""The configuration of a WebSocket connection, for either role: :class:`WebSocketConfig`,
validated on construction."""

from __future__ import annotations

from typing import Final

import attrs

from mcpws.core._checks import int_between, positive_int, positive_int_or_none, positive_or_none

__all__ = ["WebSocketConfig"]

_MIB: Final = 1 << 20


@attrs.frozen(kw_only=True)
class WebSocketConfig:
    """Limits and timers of a WebSocket connection, for either role. ``None`` switches one off.

    * ``max_message_size``: bytes of one reassembled (and inflated) message; over it, close
      1009. Enforced while the fragments arrive.
    * ``max_fragments``: frames one message may come in; over it, close 1009. No client that
      fragments to send a message reaches the default; a peer that sends a message a byte (or
      nothing) at a time to make the server work does.
    * ``max_control_frames``: pings, pongs and close frames the peer may send in a second;
      over it, close 1008. No keepalive comes near the default; a ping flood does.
    * ``compression``: negotiate permessage-deflate when the peer offers it (server) or offer
      it (client); messages under :data:`COMPRESSION_THRESHOLD` bytes still go uncompressed.
    * ``compression_level``: zlib's level for the messages sent, 0 (none) to 9 (smallest,
      slowest). The default, 1, deflates JSON 2 to 3 times as fast as zlib's default (6) for
      output up to 1.5 times as large, and base64 data, which hardly shrinks, 3 times as fast.
    * ``compression_window_bits``: the largest window, 9 to 15 bits, this side compresses in
      and asks its peer to compress in (a server asks where the client's offer lets it: every
      browser's, ``ws``'s and ``websockets``' do). Per connection the compressor holds four
      times 2**bits bytes and the decompressor 2**bits; the default, 12, as ``websockets``
      negotiates, holds 16 KiB where 15 holds 128 KiB, for output about a sixth larger on
      JSON that repeats from message to message (tool lists), the same on one message.
    * ``compression_memory_level``: zlib's memory level for the compressor, 1 to 9; the
      default, 5, uses 16 KiB for what zlib's own default (8) uses 128 KiB.
    * ``ping_interval``, ``ping_timeout``: seconds between keepalive pings, and how long to
      wait for the pong before failing the connection with 1011.
    * ``handshake_timeout``: seconds for the opening handshake to complete.
    * ``close_timeout``: seconds to wait for the peer's close frame after sending ours.
    * ``max_handshake_size``: bytes of the HTTP request or response head; over it, 431.
    """

    max_message_size: int | None = attrs.field(default=16 * _MIB, validator=positive_int_or_none)
    max_fragments: int | None = attrs.field(default=4096, validator=positive_int_or_none)
    max_control_frames: int | None = attrs.field(default=100, validator=positive_int_or_none)
    compression: bool = True
    compression_level: int = attrs.field(default=1, validator=int_between(0, 9))
    compression_window_bits: int = attrs.field(default=12, validator=int_between(9, 15))
    compression_memory_level: int = attrs.field(default=5, validator=int_between(1, 9))
    ping_interval: float | None = attrs.field(default=20.0, validator=positive_or_none)
    ping_timeout: float | None = attrs.field(default=20.0, validator=positive_or_none)
    handshake_timeout: float | None = attrs.field(default=10.0, validator=positive_or_none)
    close_timeout: float | None = attrs.field(default=10.0, validator=positive_or_none)
    max_handshake_size: int = attrs.field(default=16 * 1024, validator=positive_int)
