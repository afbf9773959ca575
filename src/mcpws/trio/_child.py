"""A child process on trio, for a bridge: :func:`open_child`."""

from __future__ import annotations

import contextlib
import math
import subprocess
from collections.abc import Mapping, Sequence

import trio

__all__ = ["TrioChild", "open_child"]

#: Bytes read from a child's output at a time.
_CHUNK = 65536


class TrioChild:
    """A :class:`~mcpws.lowlevel.Process` over a ``trio.Process`` with piped streams."""

    def __init__(self, process: trio.Process) -> None:
        self._process = process
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        self._stdin = process.stdin
        self._stdout = process.stdout
        self._stderr = process.stderr

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    async def send(self, data: bytes) -> None:
        try:
            await self._stdin.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise BrokenPipeError(f"the child's input is closed: {exc}") from exc

    async def close_input(self) -> None:
        await self._stdin.aclose()

    async def receive(self) -> bytes:
        return await _read(self._stdout)

    async def receive_error(self) -> bytes:
        return await _read(self._stderr)

    async def end(self, grace: float) -> int:
        process = self._process
        with trio.CancelScope(shield=True):
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await self._stdin.aclose()
            for stop in (None, process.terminate, process.kill):
                if stop is not None and process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        stop()
                with trio.move_on_after(grace if stop is not process.kill else math.inf):
                    await process.wait()
                if process.returncode is not None:
                    break
            await trio.aclose_forcefully(self._stdout)
            await trio.aclose_forcefully(self._stderr)
        code = process.returncode
        assert code is not None
        return code


async def _read(stream: trio.abc.ReceiveStream) -> bytes:
    try:
        return bytes(await stream.receive_some(_CHUNK))
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        return b""


async def open_child(
    command: Sequence[str], *, env: Mapping[str, str] | None, cwd: str | None
) -> TrioChild:
    """Start *command* with its standard streams piped; ``OSError`` when it cannot start."""
    process = await trio.lowlevel.open_process(
        list(command),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=None if env is None else dict(env),
        cwd=cwd,
    )
    return TrioChild(process)
