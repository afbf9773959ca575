"""Reading and writing a TCP connection's socket without trio's scheduling on every call.

A :class:`trio.SocketStream` yields to the scheduler after each successful ``send`` and
``recv``: two trips through the run loop per message that cost more than the message's own
work. :class:`DirectSocket` reads and writes the stream's socket by its file descriptor (no
duplicate: one descriptor per connection) and waits, with trio, only when the socket is not
ready. The stream stays the owner: it is what closes the connection, and what wakes a
waiting read or write when it does; a closed :class:`DirectSocket` touches the descriptor no
more, whose number the system may give to the next connection.
"""

from __future__ import annotations

import os
import sys

import trio

__all__ = ["DirectSocket", "direct"]


class DirectSocket:
    """The socket of a :class:`trio.SocketStream`, read and written directly.

    :meth:`receive_some` is always a checkpoint: it waits for the socket, or, when bytes
    were already there, yields once, so that a busy connection cannot starve the others.
    :meth:`send_all` waits only while the socket's buffer is full.
    """

    def __init__(self, stream: trio.SocketStream) -> None:
        self._waitable = stream.socket
        self._fd: int | None = stream.socket.fileno()  # non-blocking: trio made it so

    async def receive_some(self, max_bytes: int) -> bytes:
        """Up to *max_bytes* bytes; ``b""`` at the end of the stream."""
        waited = False
        while True:
            try:
                data = os.read(self._open(), max_bytes)
            except BlockingIOError:
                await trio.lowlevel.wait_readable(self._waitable)
                waited = True
                continue
            except OSError as exc:
                raise trio.BrokenResourceError(str(exc)) from exc
            if not waited:
                await trio.lowlevel.checkpoint()
            return data

    def send_now(self, data: bytes | memoryview) -> int:
        """Write what of *data* the socket takes without waiting; return how much it took."""
        try:
            return os.write(self._open(), data)
        except BlockingIOError:
            return 0
        except OSError as exc:
            raise trio.BrokenResourceError(str(exc)) from exc

    async def send_all(self, data: bytes) -> None:
        """Write all of *data*."""
        view = memoryview(data)
        while view:
            sent = self.send_now(view)
            if not sent:
                await trio.lowlevel.wait_writable(self._waitable)
            view = view[sent:]

    def _open(self) -> int:
        if self._fd is None:
            raise trio.ClosedResourceError("the socket is closed")
        return self._fd

    def close(self) -> None:
        """Touch the socket no more (the stream closes the connection)."""
        self._fd = None


def direct(stream: trio.abc.Stream) -> DirectSocket | None:
    """A :class:`DirectSocket` for *stream* when it is a plain TCP stream on a system whose
    sockets are file descriptors, else ``None``."""
    if isinstance(stream, trio.SocketStream) and sys.platform != "win32":
        return DirectSocket(stream)
    return None
