"""A child process, as a driver's pump starts it for a bridge (:meth:`Kernel.open_process`):
the :class:`Process` protocol every driver's child speaks, :func:`command_name` for logs,
and :func:`log_errors` for what the child writes to its standard error."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

__all__ = ["Process", "command_name", "log_errors"]

_log = logging.getLogger("mcpws")


class Process(Protocol):
    """A child with its standard streams piped, started by a driver."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    async def send(self, data: bytes) -> None:
        """Write *data* to the child's standard input; ``OSError`` once it is closed."""

    async def close_input(self) -> None:
        """Close the child's standard input (its end of file)."""

    async def receive(self) -> bytes:
        """What the child wrote next to its standard output; ``b""`` at its end."""

    async def receive_error(self) -> bytes:
        """What the child wrote next to its standard error; ``b""`` at its end."""

    async def end(self, grace: float) -> int:
        """End the child, whatever cancellation is under way: its standard input closed, then
        ``SIGTERM`` after *grace* seconds, then ``SIGKILL`` after *grace* more; its exit
        status."""


def command_name(command: Sequence[str]) -> str:
    """The program of *command*, for logs and close reasons."""
    return command[0].rsplit("/", 1)[-1] if command else "?"


async def log_errors(child: Process, tag: str) -> None:
    """Log what *child* writes to its standard error at INFO, a line at a time, each
    tagged with *tag*, until it closes it."""
    rest = b""
    while data := await child.receive_error():
        *lines, rest = (rest + data).split(b"\n")
        for line in lines:
            _log.info("%s: %s", tag, line.decode(errors="replace").rstrip())
    if rest:
        _log.info("%s: %s", tag, rest.decode(errors="replace").rstrip())
