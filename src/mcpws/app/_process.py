"""A child process, as a driver's pump starts it for a bridge (:meth:`Kernel.open_process`):
the :class:`Process` protocol every driver's child speaks, and :func:`command_name` for logs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["Process", "command_name"]


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
