"""What every driver's accept loop does when the system will not give its server another
connection: :class:`Shortage`, which says what to do (a :class:`Remedy`) and warns.

``accept()`` fails for want of file descriptors (``EMFILE`` for the process, ``ENFILE`` for
the whole system) or of kernel memory (``ENOBUFS``, ``ENOMEM``); the connection then waits in
the listening socket's queue, and its client hears nothing. A :class:`Shortage` keeps one
descriptor in reserve (of the null device). Out of descriptors, the driver waits for a
connection to be there (``accept()`` fails so whether or not one is), frees the reserve
(:meth:`Shortage.refusing`), takes the connection with it, writes :data:`REFUSAL` (503 with
``Retry-After``, as a server at its ``max_connections`` answers), gives the client up to
:data:`~mcpws.lowlevel.LINGER` seconds to read it and close, and closes it; the reserve is
taken again. Out of memory, or with no descriptor in reserve, the driver waits
:data:`PAUSE` seconds and accepts again. Either way a warning goes to the ``mcpws`` logger,
at most every :attr:`Shortage.warn_every` seconds: what ran out, how many connections are
open, what to raise.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import logging
import os
import sys
from collections.abc import Iterator
from typing import Final

from mcpws.app._driving import RETRY_AFTER
from mcpws.app._pumping import Serving
from mcpws.core.websocket import refusal

if sys.platform != "win32":  # imported now: once out of descriptors, no module can be read
    import resource

__all__ = ["PAUSE", "REFUSAL", "Remedy", "Shortage"]

_log = logging.getLogger("mcpws")

#: What a connection taken with the descriptor in reserve is answered before it is closed.
REFUSAL: Final = refusal(503, "the server is out of file descriptors", headers=[RETRY_AFTER])

#: Seconds an accept loop waits before it accepts again when it cannot refuse.
PAUSE: Final = 0.1

_NO_DESCRIPTOR: Final = frozenset({errno.EMFILE, errno.ENFILE})
_SHORT: Final = _NO_DESCRIPTOR | {errno.ENOBUFS, errno.ENOMEM}

#: What ``accept()`` may report of a connection that went wrong or went away before it was
#: taken (accept(2) asks that some be taken as "try again"): the next one is accepted.
_GONE: Final = frozenset(
    getattr(errno, name)
    for name in (
        "ECONNABORTED",
        "ECONNRESET",
        "EPERM",  # a firewall refused it
        "EPROTO",
        "ENOPROTOOPT",
        "EOPNOTSUPP",
        "ENETDOWN",
        "ENETUNREACH",
        "EHOSTDOWN",
        "EHOSTUNREACH",
        "ENONET",
        "ETIMEDOUT",
    )
    if hasattr(errno, name)
)


class Remedy(enum.Enum):
    """What an accept loop does once ``accept()`` failed."""

    #: The connection went before it was taken: accept the next at once.
    AGAIN = "again"
    #: Out of descriptors (which ``accept()`` says whether or not a connection waits): wait
    #: for one to wait; then, unless :meth:`Shortage.exhausted` says a descriptor was
    #: freed meanwhile, take it with the one in reserve within :meth:`Shortage.refusing`,
    #: answer it :data:`REFUSAL` and close it.
    REFUSE = "refuse"
    #: Wait :data:`PAUSE` seconds, then accept again.
    PAUSE = "pause"


class Shortage:
    """One ``serve()``'s descriptor in reserve and its warnings. Made when it starts to
    listen; leaving it as a context manager closes the reserve."""

    #: Seconds between two warnings at most: a flood of connections is one line in the log.
    warn_every: float = 10.0

    def __init__(self, serving: Serving) -> None:
        self._serving = serving
        self._reserve: int | None = None
        self._warned: float | None = None
        self._refused = 0
        self._cause = errno.EMFILE  # what the last refusal was for want of
        self._keep()

    def __enter__(self) -> Shortage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def refused(self) -> int:
        """How many connections were refused for want of descriptors so far."""
        return self._refused

    def accept_failed(self, exc: OSError, now: float) -> Remedy | None:
        """What to do once ``accept()`` raised *exc*, as of *now*; ``None`` when *exc* is no
        shortage, which the accept loop then raises."""
        if exc.errno in _GONE:
            return Remedy.AGAIN
        if exc.errno not in _SHORT:
            return None
        self._keep()
        if exc.errno in _NO_DESCRIPTOR and self._reserve is not None:
            self._cause = exc.errno
            return Remedy.REFUSE
        self._warn(exc.errno, refusing=False, now=now)
        return Remedy.PAUSE

    def exhausted(self) -> bool:
        """Whether the process still has no descriptor to spare but the one in reserve (a
        connection that closed may have freed one)."""
        try:
            spare = os.open(os.devnull, os.O_RDONLY)
        except OSError:
            return True
        os.close(spare)
        return False

    @contextlib.contextmanager
    def refusing(self, now: float) -> Iterator[None]:
        """Free the descriptor in reserve for the block, where a connection takes its number
        to be refused, and take one in reserve again after; count the refusal and warn,
        as of *now*."""
        self._refused += 1
        self._warn(self._cause, refusing=True, now=now)
        if self._reserve is not None:
            os.close(self._reserve)
            self._reserve = None
        try:
            yield
        finally:
            self._keep()

    def close(self) -> None:
        """Close the descriptor in reserve."""
        if self._reserve is not None:
            os.close(self._reserve)
            self._reserve = None

    def _keep(self) -> None:
        """Take a descriptor in reserve unless one is, or the system has none to give."""
        if self._reserve is None:
            with contextlib.suppress(OSError):
                self._reserve = os.open(os.devnull, os.O_RDONLY)

    def _warn(self, code: int, *, refusing: bool, now: float) -> None:
        if self._warned is not None and now < self._warned + self.warn_every:
            return
        self._warned = now
        _log.warning("%s", _warning(code, refusing, len(self._serving.pumps), self._refused))


def _warning(code: int, refusing: bool, connections: int, refused: int) -> str:
    """The warning of a shortage: *code* (an ``errno``), whether new connections are refused
    or left waiting, with how many *connections* open and how many *refused* so far."""
    what = f"{errno.errorcode[code]}: {os.strerror(code)}"
    if code not in _NO_DESCRIPTOR:
        return (
            f"the system is short of memory for connections ({what}) with {connections} "
            "connections open: new ones wait"
        )
    if refusing:
        doing = f": new ones are answered 503 until some close ({refused} so far)"
    else:
        doing = ", and none in reserve to answer new ones with: they wait"
    if code == errno.EMFILE:
        advice = f"raise the limit on open files{_nofile()}, or set max_connections below it"
    else:
        advice = "the whole system is out of them: raise its limit on open files"
    return f"out of file descriptors ({what}) with {connections} connections open{doing}; {advice}"


def _nofile() -> str:
    """`` (ulimit -n, now N)``: the process's limit on open files, where it has one."""
    if sys.platform == "win32":
        return ""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return "" if soft == resource.RLIM_INFINITY else f" (ulimit -n, now {soft})"
