"""A transport for a pump over something other than a socket: :class:`QueuedTransport`, what
the stdio transport's pipes and an ASGI server's WebSocket share. What the pump writes is
queued for a writer task of the subclass's, with the write-buffer limits a socket has (the
pump is told to pause and to resume writing); a reader task of the subclass's waits while
the pump does not want to read; closing waits for what is queued to go out."""

from __future__ import annotations

import asyncio
from typing import Any

from mcpws.asyncio._pump import Pump

__all__ = ["QueuedTransport"]


class QueuedTransport(asyncio.Transport):
    """The queue, the flow control and the closing of a transport whose subclass reads
    (:meth:`_read`) and writes (:meth:`_write`) in tasks of its own, started once it is
    made, before it is handed to *pump*."""

    def __init__(self, pump: Pump) -> None:
        super().__init__()
        self._pump = pump
        self._outgoing: list[bytes] = []
        self._size = 0
        self._high = 1 << 16
        self._paused_writing = False
        self._closing = False
        self._wake = asyncio.Event()
        self._readable = asyncio.Event()
        self._readable.set()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read()), loop.create_task(self._write())]
        pump.connection_made(self)

    async def _read(self) -> None:
        raise NotImplementedError

    async def _write(self) -> None:
        raise NotImplementedError

    async def _queued(self) -> list[bytes] | None:
        """What was written and not taken yet, once there is some; ``None`` once the
        transport is closing and nothing is left."""
        while not self._outgoing:
            if self._closing:
                return None
            self._wake.clear()
            await self._wake.wait()
        chunks, self._outgoing = self._outgoing, []
        return chunks

    def _gone_out(self, size: int) -> None:
        """*size* bytes of what was written have gone out: the pump may write again once
        little is left."""
        self._size -= size
        if self._paused_writing and self._size <= self._high // 4:
            self._paused_writing = False
            self._pump.resume_writing()

    def _ended(self) -> None:
        """The writer is done: nothing more is read, and the pump hears the transport is
        lost."""
        self._tasks[0].cancel()
        self._closing = True
        self._pump.connection_lost(None)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            return
        self._outgoing.append(bytes(data))
        self._size += len(data)
        self._wake.set()
        if not self._paused_writing and self._size > self._high:
            self._paused_writing = True
            self._pump.pause_writing()

    def get_write_buffer_size(self) -> int:
        return self._size

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._high = high if high is not None else self._high

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        """Close once what is written has gone out."""
        self._closing = True
        self._wake.set()

    def abort(self) -> None:
        self._outgoing = []
        self._size = 0
        self.close()

    def can_write_eof(self) -> bool:
        return False

    def pause_reading(self) -> None:
        self._readable.clear()

    def resume_reading(self) -> None:
        self._readable.set()

    def is_reading(self) -> bool:
        return self._readable.is_set()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default
