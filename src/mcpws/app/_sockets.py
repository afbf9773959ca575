"""The listening sockets of a ``serve()``, as plain standard-library sockets that a driver
hands to its loop: TCP on every address of a host (:func:`tcp_sockets`, given the addresses
the loop resolved), a unix socket (:func:`unix_socket`), or a socket made elsewhere, an
inherited descriptor among them (:func:`given_socket`)."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from collections.abc import Iterable
from typing import Any

__all__ = ["BACKLOG", "given_socket", "is_unix", "tcp_sockets", "unix_socket"]

#: How many connections may wait to be accepted: as many as the system lets (Linux caps it
#: at ``net.core.somaxconn``). asyncio's own 100 overflows when a few hundred clients connect
#: at once, and those beyond it wait a second for their SYN again.
BACKLOG = 0xFFFF


def tcp_sockets(
    host: str, found: Iterable[tuple[Any, ...]], *, reuse_port: bool = False
) -> list[socket.socket]:
    """Sockets listening at each address *found* (``getaddrinfo()``'s answer for *host*),
    non-blocking; with *reuse_port*, other processes may listen on the same port
    (``SO_REUSEPORT``: the system spreads the connections among them)."""
    sockets: list[socket.socket] = []
    try:
        for family, kind, protocol, _, address in dict.fromkeys(found):
            try:
                listening = socket.socket(family, kind, protocol)
            except OSError:  # a family this system lacks
                continue
            sockets.append(listening)
            if os.name == "posix":
                listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:  # this address only, not IPv4's too
                listening.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            listening.bind(address)
            listening.listen(BACKLOG)
            listening.setblocking(False)
        if not sockets:
            raise OSError(f"no address of {host!r} can be listened on")
    except BaseException:
        for listening in sockets:
            listening.close()
        raise
    return sockets


def unix_socket(path: str) -> socket.socket:
    """A unix socket listening at *path*, non-blocking. A socket file left there by a server
    that is gone is replaced; any other file is an error (``FileExistsError``)."""
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise FileExistsError(f"{path} exists and is not a socket")
        os.unlink(path)
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listening.bind(path)
        listening.listen(BACKLOG)
        listening.setblocking(False)
    except BaseException:
        listening.close()
        raise
    return listening


def given_socket(listening: socket.socket) -> socket.socket:
    """*listening*, checked to be a stream socket that listens, made non-blocking (a
    descriptor passed by systemd's socket activation, say); ``ValueError`` otherwise."""
    if listening.type != socket.SOCK_STREAM:
        raise ValueError("a socket to serve on is a stream socket")
    if not listening.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        raise ValueError("a socket to serve on must be listening already")
    listening.setblocking(False)
    return listening


def is_unix(listening: socket.socket | Any) -> bool:
    """Whether *listening* is a unix socket."""
    return getattr(listening, "family", None) == getattr(socket, "AF_UNIX", object())
