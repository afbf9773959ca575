"""The servers the load and hostile benchmarks compare, each in a process of its own, and what
is read from those processes: resident memory, its peak, CPU time.

* ``trio`` and ``asyncio``: ``mcpws serve _app:app`` on that driver, from the source tree
  beside this folder;
* ``reference``: the ``websockets`` MCP responder of ``_reference.py``;
* ``echo``: the ``websockets`` echo server of ``_reference.py``, the floor.

Every process started here, servers and clients alike, is killed when the benchmark leaves,
by an exception or Ctrl-C as well; on Linux the kernel kills them if it dies outright.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import math
import os
import re
import resource
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import IO, TypeVar

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "src"

SERVERS: dict[str, list[str]] = {
    "trio": ["-m", "mcpws", "serve", "_app:app", "--port", "0", "--loop", "trio"],
    "asyncio": ["-m", "mcpws", "serve", "_app:app", "--port", "0", "--loop", "asyncio"],
    "reference": [str(HERE / "_reference.py"), "mcp"],
    "echo": [str(HERE / "_reference.py"), "echo"],
}

#: Seconds a server gets to start listening.
STARTUP = 30.0

_children: set[subprocess.Popen[str]] = set()


def _die_with_parent() -> None:
    """In a child before it runs: killed when the benchmark's process dies (Linux)."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def spawn(
    arguments: Sequence[str],
    *,
    stdin: int | IO[str] | None = None,
    stdout: int | IO[str] | None = None,
    stderr: int | IO[str] | None = None,
) -> subprocess.Popen[str]:
    """A Python process of *arguments*, in this folder and on the source tree beside it,
    that is stopped when the benchmark leaves (or by :func:`stop` before)."""
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SOURCE), path]))}
    process = subprocess.Popen(
        [sys.executable, *arguments],
        cwd=HERE,
        env=env,
        text=True,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        preexec_fn=_die_with_parent,
    )
    _children.add(process)
    return process


def stop(process: subprocess.Popen[str]) -> None:
    """*process* killed, and waited for."""
    if process.poll() is None:
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(10)
    _children.discard(process)


@atexit.register
def stop_all() -> None:
    for process in list(_children):
        stop(process)


def stop_on_sigterm() -> None:
    """SIGTERM ends the benchmark as Ctrl-C does: its processes are stopped first."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def raise_file_limit(wanted: int) -> None:
    """At least *wanted* file descriptors for this process and those it starts, if allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, wanted), hard))


class Piped:
    """A process of *arguments* (see :func:`spawn`) spoken to in lines over its standard
    input and output."""

    def __init__(self, arguments: Sequence[str]) -> None:
        self.process = spawn(arguments, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._in, self._out = self.process.stdin, self.process.stdout

    def say(self, line: str) -> None:
        self._in.write(line + "\n")
        self._in.flush()

    def line(self, timeout: float) -> str:
        """The next line it prints, without its end; ``TimeoutError`` if none comes in
        time, ``EOFError`` if its output ends."""
        ready, _, _ = select.select([self._out], [], [], timeout)
        if not ready:
            raise TimeoutError(f"no line from {self.process.args!r} in time")
        line = self._out.readline()
        if not line:
            raise EOFError(f"{self.process.args!r} ended")
        return line.rstrip("\n")

    def stop(self) -> None:
        stop(self.process)


class Running:
    """A server being measured: its process, its port and the readings of ``/proc``."""

    def __init__(self, name: str, process: subprocess.Popen[str], port: int) -> None:
        self.name, self.process, self.port = name, process, port
        self.pid = process.pid

    def rss(self) -> int:
        """Resident bytes now (0 once the process has gone)."""
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) << 10
        return 0

    def cpu(self) -> float:
        """User plus system CPU seconds so far (NaN once the process has gone)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def alive(self) -> bool:
        return self.process.poll() is None


@contextlib.contextmanager
def serving(name: str) -> Iterator[Running]:
    """Server *name* (one of :data:`SERVERS`) listening on loopback until the block ends."""
    with tempfile.TemporaryFile("w+") as output:
        process = spawn(SERVERS[name], stdout=output, stderr=subprocess.STDOUT)
        try:
            port = _port_printed(process, output)
            yield Running(name, process, port)
        finally:
            stop(process)


def _port_printed(process: subprocess.Popen[str], output: IO[str]) -> int:
    ends = time.monotonic() + STARTUP
    while time.monotonic() < ends:
        output.seek(0)
        found = re.search(r"ws://127\.0\.0\.1:(\d+)", output.read())
        if found:
            return int(found.group(1))
        if process.poll() is not None:
            output.seek(0)
            raise RuntimeError(f"the server exited: {output.read()[-2000:]}")
        time.sleep(0.02)
    raise TimeoutError("the server did not listen in time")


class PeakSampler:
    """The largest resident size of a server while the block runs, sampled every few ms
    (``/proc``'s own peak, ``VmHWM``, also counts the start of the process)."""

    def __init__(self, server: Running, every: float = 0.01) -> None:
        self.server, self.every = server, every
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self.server.rss())
            self._done.wait(self.every)

    def __enter__(self) -> PeakSampler:
        self.peak = self.server.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()


def percentile(values: Sequence[float], share: float) -> float:
    """The value at *share* (0 to 1) of sorted *values*, by nearest rank; NaN for none."""
    if not values:
        return float("nan")
    rank = max(0, min(len(values) - 1, math.ceil(share * len(values)) - 1))
    return values[rank]


def mib(size: float) -> str:
    return f"{size / (1 << 20):.1f}"


def ratio(value: float, reference: float) -> str:
    """*value* over *reference*, or a dash when the reference is nothing to divide by."""
    if reference == 0 or reference != reference or value != value:
        return "-"
    return f"{value / reference:.2f}"


def print_machine() -> None:
    """The machine's cores and load, which every figure depends on."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{os.cpu_count()} cores, load average {load} (1, 5, 15 min)", flush=True)


def servers_named(parser: argparse.ArgumentParser, given: str, known: Collection[str]) -> list[str]:
    """The servers named in *given* (comma-separated), each one of *known*; a usage error
    through *parser* otherwise."""
    names = given.split(",")
    if unknown := [name for name in names if name not in known]:
        parser.error(f"unknown servers: {unknown}")
    return names


def run_main(main: Callable[[], int]) -> None:
    """Exit with what *main* returns; Ctrl-C stops the processes started on the way out."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)


Row = TypeVar("Row")


def beside_reference(rows: dict[str, Row]) -> Iterator[tuple[str, Row, Row]]:
    """Each mcpws driver's row with the reference's, where both were measured."""
    reference = rows.get("reference")
    if reference is None:
        return
    for name in (n for n in ("trio", "asyncio") if n in rows):
        yield name, rows[name], reference
