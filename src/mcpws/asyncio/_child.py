"""A child process on asyncio, for a bridge: :func:`open_child`."""

from __future__ import annotations

import asyncio
import asyncio.subprocess
import contextlib
from collections.abc import Mapping, Sequence

__all__ = ["AsyncioChild", "open_child"]

#: Bytes read from a child's output at a time.
_CHUNK = 65536


class AsyncioChild:
    """A :class:`~mcpws.lowlevel.Process` over an asyncio subprocess with piped streams."""

    def __init__(
        self, transport: asyncio.SubprocessTransport, process: asyncio.subprocess.Process
    ) -> None:
        self._transport = transport
        self._process = process
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        self._stdin = process.stdin
        self._stdout = process.stdout
        self._stderr = process.stderr
        self._ending: asyncio.Future[int] | None = None

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    async def send(self, data: bytes) -> None:
        if self._stdin.is_closing():
            raise BrokenPipeError("the child's input is closed")
        self._stdin.write(data)
        await self._stdin.drain()

    async def close_input(self) -> None:
        self._stdin.close()
        with contextlib.suppress(OSError):
            await self._stdin.wait_closed()

    async def receive(self) -> bytes:
        return await self._stdout.read(_CHUNK)

    async def receive_error(self) -> bytes:
        return await self._stderr.read(_CHUNK)

    async def end(self, grace: float) -> int:
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end(grace))
        try:
            return await asyncio.shield(self._ending)
        except asyncio.CancelledError:
            # Cancelled, the caller still waits for the end (bounded by the grace), so that
            # whoever waits for the caller knows the child is gone.
            while not self._ending.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(self._ending)
            raise

    async def _end(self, grace: float) -> int:
        process = self._process
        try:
            self._stdin.close()
            for stop in (None, process.terminate, process.kill):
                if stop is not None and process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        stop()
                with contextlib.suppress(TimeoutError):
                    timeout = None if stop is process.kill else grace
                    await asyncio.wait_for(process.wait(), timeout)
                if process.returncode is not None:
                    break
            with contextlib.suppress(OSError):
                await self._stdin.wait_closed()
            return process.returncode if process.returncode is not None else await process.wait()
        finally:
            # Its pipes too, whatever the child left unread in them; cancelled (the loop
            # closing), the transport kills a child still running.
            self._transport.close()


async def open_child(
    command: Sequence[str], *, env: Mapping[str, str] | None, cwd: str | None
) -> AsyncioChild:
    """Start *command* with its standard streams piped; ``OSError`` when it cannot start."""
    loop = asyncio.get_running_loop()

    def protocol() -> asyncio.subprocess.SubprocessStreamProtocol:
        return asyncio.subprocess.SubprocessStreamProtocol(limit=_CHUNK, loop=loop)

    # As asyncio.create_subprocess_exec() does, keeping the transport, to close it at the end.
    transport, streams = await loop.subprocess_exec(
        protocol,
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=None if env is None else dict(env),
        cwd=cwd,
    )
    return AsyncioChild(transport, asyncio.subprocess.Process(transport, streams, loop))
