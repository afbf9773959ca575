"""``--workers N`` of ``mcpws serve`` and ``mcpws expose``: a supervisor process that binds
the listening sockets, runs N workers (the same command, each in a process and process
group of its own) that accept connections on them, starts another worker when one dies, and
drains them all when stopped.

A worker learns its sockets from the environment variable :data:`WORKER` (taken out of its
environment as it starts, so that what it runs does not inherit it): the descriptor it
watches, whose end of file means the supervisor is gone and the worker drains, then the
descriptors of the listening sockets."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence

import attrs

from mcpws.app._sockets import given_socket, tcp_sockets, unix_socket

__all__ = ["WORKER", "Supervisor", "worker_sockets"]

#: The environment variable that makes a process a worker, and tells it its descriptors.
WORKER = "MCPWS_WORKER_FDS"
#: A worker that dies sooner than this after it started counts as a crash loop...
STEADY = 1.0
#: ... and the next one starts after a delay doubling from FIRST_DELAY up to LAST_DELAY.
FIRST_DELAY = 0.1
LAST_DELAY = 5.0
#: How long past the shutdown timeout a draining worker may take before it is killed.
KILL_AFTER = 5.0
#: The exit status of a worker that cannot start as configured: it is not started again.
BAD_CONFIGURATION = 2
_STOPPING = (signal.SIGINT, signal.SIGTERM)
#: Sent how long to wait (``None``: as long as it takes), yields the stopping signals received.
_Signals = Generator[list[int], float | None, None]


def worker_sockets() -> list[socket.socket] | None:
    """In a worker, its listening sockets, once the supervisor is watched (its going away
    drains this process as SIGTERM does); ``None`` in any other process."""
    given = os.environ.pop(WORKER, None)
    if given is None:
        return None
    watched, *descriptors = (int(one) for one in given.split())
    threading.Thread(target=_drain_when_gone, args=(watched,), daemon=True).start()
    return [given_socket(socket.socket(fileno=one)) for one in descriptors]


def _drain_when_gone(watched: int) -> None:
    """Wait for the end of *watched*, which only the supervisor writes to (never): then it
    is gone, and this worker drains."""
    with contextlib.suppress(OSError):
        while os.read(watched, 1):
            pass
    os.kill(os.getpid(), signal.SIGTERM)


def bind(host: str, port: int, *, uds: str | None, reuse_port: bool) -> list[socket.socket]:
    """The supervisor's listening sockets, as a server given the same options binds them."""
    if uds is not None:
        return [unix_socket(uds)]
    found = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    return tcp_sockets(host, found, reuse_port=reuse_port)


def exited(status: int) -> str:
    """How a worker with exit *status* (``Popen.returncode``) ended."""
    if status < 0:
        return f"was killed by {signal.Signals(-status).name}"
    return f"exited with status {status}"


@attrs.define
class Supervisor:
    """Runs *count* workers, ``python -m mcpws *argv``, on *sockets* until stopped.

    The first SIGINT or SIGTERM sends SIGTERM to every worker, which drains; a second sends
    that signal on, which stops them at once. A worker still running *shutdown_timeout* plus
    :data:`KILL_AFTER` seconds into the drain is killed. *write* tells what happens."""

    argv: Sequence[str]
    count: int
    sockets: Sequence[socket.socket]
    shutdown_timeout: float
    write: Callable[[str], object]
    workers: dict[int, subprocess.Popen[bytes]] = attrs.field(factory=dict)
    started: dict[int, float] = attrs.field(factory=dict)  # when each worker started
    second: int | None = None
    #: Called with the pid of each worker that ended.
    ended: Callable[[int], object] = lambda pid: None

    def run(self) -> int:
        """Supervise until every worker has ended; the exit status: 0 once all drained, 3
        when one failed to, 2 when a worker could not start as configured, 128 plus the
        number of a second signal."""
        watched, watching = os.pipe()
        try:
            with _signals() as signals:
                for _ in range(self.count):
                    self._start(watched)
                status = self._supervise(signals, watched)
        finally:
            os.close(watched)
            os.close(watching)  # any worker left now drains
        return status

    def _start(self, watched: int) -> None:
        descriptors = [one.fileno() for one in self.sockets]
        for one in self.sockets:
            one.set_inheritable(True)
        worker = subprocess.Popen(
            [sys.executable, "-m", "mcpws", *self.argv],
            stdin=subprocess.DEVNULL,
            env={**os.environ, WORKER: " ".join(map(str, (watched, *descriptors)))},
            pass_fds=(watched, *descriptors),
            process_group=0,  # a Ctrl-C reaches the supervisor only, which drains them
        )
        self.workers[worker.pid] = worker
        self.started[worker.pid] = time.monotonic()
        self.write(f"worker {worker.pid} started")

    def _supervise(self, signals: _Signals, watched: int) -> int:
        draining: float | None = None
        starting: list[float] = []  # when each worker due to start again may start
        crashes = 0
        status = 0
        while self.workers or (draining is None and starting):
            now = time.monotonic()
            if draining is None:
                while starting and starting[0] <= now:
                    starting.pop(0)
                    self._start(watched)
                wake = starting[0] if starting else None
            else:
                wake = draining + self.shutdown_timeout + KILL_AFTER
                if now >= wake:
                    self._kill_the_rest()
            for signum in signals.send(None if wake is None else max(0.0, wake - now)):
                if draining is None:
                    draining = time.monotonic()
                    starting.clear()
                    self.write(self._draining(signum))
                    self._send(signal.SIGTERM)
                elif self.second is None:
                    self.second = signum
                    self.write(f"{signal.Signals(signum).name} again: stopping the workers at once")
                    self._send(signum)
            for pid, worker in list(self.workers.items()):
                ended = worker.poll()
                if ended is None:
                    continue
                del self.workers[pid]
                self.ended(pid)
                lived = time.monotonic() - self.started.pop(pid)
                if draining is not None:
                    if ended != 0 and self.second is None and status == 0:
                        self.write(f"worker {pid} {exited(ended)} while draining")
                        status = 3
                    continue
                if ended == BAD_CONFIGURATION:
                    self.write(f"worker {pid} could not start as configured: stopping")
                    draining = time.monotonic()
                    self._send(signal.SIGTERM)
                    status = BAD_CONFIGURATION
                    continue
                crashes = crashes + 1 if lived < STEADY else 0
                delay = 0.0 if not crashes else min(LAST_DELAY, FIRST_DELAY * 2 ** (crashes - 1))
                when = f"in {delay:g} s" if delay else "now"
                self.write(f"worker {pid} {exited(ended)}; another starts {when}")
                starting.append(time.monotonic() + delay)
        if self.second is not None:
            return 128 + self.second
        return status

    def _draining(self, signum: int) -> str:
        return (
            f"{signal.Signals(signum).name}: draining {len(self.workers)} workers; the requests"
            f" in flight get up to {self.shutdown_timeout:g} s to finish (Ctrl-C or SIGTERM"
            " again stops them at once)"
        )

    def _send(self, signum: int) -> None:
        for worker in self.workers.values():
            with contextlib.suppress(ProcessLookupError):
                worker.send_signal(signum)

    def _kill_the_rest(self) -> None:
        for pid, worker in self.workers.items():
            if worker.poll() is None:
                self.write(f"worker {pid} still draining past the shutdown timeout: killed")
                worker.kill()


@contextlib.contextmanager
def _signals() -> Iterator[_Signals]:
    """The signals that stop the supervisor and those of its children ending, received on a
    pipe (``signal.set_wakeup_fd``) rather than masked, since children inherit a mask:
    a generator that, sent a timeout (``None``: none), waits that long for signals and yields
    the stopping ones received."""
    readable, writable = os.pipe()
    os.set_blocking(readable, False)
    os.set_blocking(writable, False)
    caught = (*_STOPPING, signal.SIGCHLD)
    before = {signum: signal.signal(signum, _noted) for signum in caught}
    woken = signal.set_wakeup_fd(writable, warn_on_full_buffer=False)

    def receive() -> _Signals:
        timeout: float | None = yield []
        while True:
            select.select([readable], [], [], timeout)
            received = b""
            with contextlib.suppress(BlockingIOError):
                while chunk := os.read(readable, 512):
                    received += chunk
            timeout = yield [signum for signum in received if signum in _STOPPING]

    try:
        signals = receive()
        next(signals)
        yield signals
    finally:
        signal.set_wakeup_fd(woken)
        for signum, handler in before.items():
            signal.signal(signum, handler)
        os.close(readable)
        os.close(writable)


def _noted(signum: int, frame: object) -> None:
    """A signal's handler: nothing but its byte on the wakeup pipe."""
