"""Reading and writing a TCP connection's socket without trio's scheduling on every call.

A :class:`trio.SocketStream` yields to the scheduler after each successful ``send`` and
``recv``: two trips through the run loop per message that cost more than the message's own
work. :class:`DirectSocket` reads and writes a duplicate of the stream's socket and waits,
with trio, only when the socket is not ready. The stream stays the owner: it is what closes
the connection, and what wakes a waiting read or write when it does.
"""

from __future__ import annotations

import socket

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
        family = stream.socket.family
        self._socket = socket.fromfd(stream.socket.fileno(), family, socket.SOCK_STREAM)
        self._socket.setblocking(False)

    async def receive_some(self, max_bytes: int) -> bytes:
        """Up to *max_bytes* bytes; ``b""`` at the end of the stream."""
        waited = False
        while True:
            try:
                data = self._socket.recv(max_bytes)
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
            return self._socket.send(data)
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

    def close(self) -> None:
        """Close the duplicate (the stream closes the connection)."""
        self._socket.close()


def direct(stream: trio.abc.Stream) -> DirectSocket | None:
    """A :class:`DirectSocket` for *stream* when it is a plain TCP stream, else ``None``."""
    return DirectSocket(stream) if isinstance(stream, trio.SocketStream) else None
