"""Hostile peers against ``mcpws serve`` on each driver and the ``websockets`` 17 MCP
responder, each case against all three in the same run.

Run ``python benchmarks/bench_hostile.py`` for every case (a few minutes), or
``--case NAME`` (repeatable) for some:

* ``non-readers``: 10 clients pipeline ``tools/call`` requests for 256 KiB answers
  (``--requests`` each at most, 600 by default) and never read, for ``--seconds`` (8);
* ``fragments``: a 1 MiB message in 1-byte fragments;
* ``continuations``: a message of 1,000,000 empty continuation frames;
* ``ping-flood``: pings as fast as the server takes them, their pongs read, for ``--seconds``;
* ``control-flood``: unsolicited pongs and pings, never read, for ``--seconds``;
* ``slowloris``: 1,000 upgrades sent a byte a second and 200 silent sockets, for
  ``--slowloris-seconds`` (15): how many were cut, when, and with what;
* ``big-message``: one 17 MiB message;
* ``deflate-bomb``: permessage-deflate negotiated, a message of ~1 MiB inflating to 1 GiB;
* ``disconnects``: ``--disconnects`` upgraded connections (2,000) reset at once, and how
  long until a fresh client is answered and the server is idle again;
* ``pipelined``: ``--pipelined`` ``tools/list`` requests (3,000) in one write, and how many
  were refused with -32005.

Each case starts a fresh server. Printed for each server: its resident memory's growth over
the case (at the case's end) and its peak growth, its peak, its CPU seconds, what the hostile
peer got (a close code, an HTTP status, the end of the stream), and the latency a
well-behaved client (a process of its own calling ``echo`` every 50 ms) saw meanwhile and for
half a second after, p50 and max; then the ratios of the drivers' figures to the
reference's. The hostile peers frame by hand (``_wire.py``). Loopback only, bounded in count
and time; every process started is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import struct
import time
import zlib
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from _servers import (
    PeakSampler,
    Piped,
    Running,
    beside_reference,
    mib,
    percentile,
    print_machine,
    raise_file_limit,
    ratio,
    run_main,
    servers_named,
    serving,
    stop_on_sigterm,
)
from _wire import (
    CONTINUATION,
    PING,
    PONG,
    TEXT,
    Closed,
    Peer,
    frame,
    status_of,
    text_frame,
    upgrade_request,
)
from bench_disconnects import _open as open_upgraded

SERVERS = ("trio", "asyncio", "reference")

#: Seconds any one hostile message gets to be refused or answered.
VERDICT = 30.0

#: Seconds the well-behaved client goes on calling after a case, to see its aftermath.
TAIL = 0.5


# The well-behaved client and what is watched ------------------------------------------------


class Probe(Piped):
    """The well-behaved client of ``_wire.py probe``, in a process of its own."""

    def __init__(self, port: int) -> None:
        super().__init__(["_wire.py", "probe", str(port)])
        if self.line(30) != "ready":
            raise RuntimeError("the probe did not start")

    def mark(self) -> None:
        """The latencies from now on only."""
        self.say("mark")

    def report(self) -> tuple[list[float], list[str]]:
        """The latencies in ms since the mark, sorted, and why calls failed."""
        self.say("stop")
        report = json.loads(self.line(60))
        return sorted(report["latencies_ms"]), report["failed"]


class Watch:
    """What a case is measured by: the server's readings when it begins and when it ends
    (at the end of the case unless the case says so earlier)."""

    def __init__(self, server: Running, probe: Probe, sampler: PeakSampler) -> None:
        self.server, self.probe, self.sampler = server, probe, sampler
        self.rss, self.cpu = 0, 0.0
        self.ended: tuple[int, float] | None = None

    def begin(self) -> None:
        """From now on: after the case's preparations."""
        self.rss, self.cpu = self.server.rss(), self.server.cpu()
        self.sampler.peak = self.rss
        self.probe.mark()

    def end(self) -> None:
        """The end readings, now, if not yet taken."""
        if self.ended is None:
            self.ended = (self.server.rss(), self.server.cpu())


@dataclass
class Row:
    """One case against one server."""

    growth: int
    peak_growth: int
    peak: int
    cpu: float
    peer: str
    note: str
    latencies: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    died: bool = False


CaseRun = Callable[[int, Watch, argparse.Namespace], Coroutine[Any, Any, tuple[str, str]]]


@dataclass(frozen=True)
class Case:
    name: str
    summary: str
    run: CaseRun


CASES: dict[str, Case] = {}


def case(name: str, summary: str) -> Callable[[CaseRun], CaseRun]:
    def register(run: CaseRun) -> CaseRun:
        CASES[name] = Case(name, summary, run)
        return run

    return register


# What the hostile peers send ----------------------------------------------------------------


def request(ident: int, method: str, params: dict[str, object] | None = None) -> bytes:
    message: dict[str, object] = {"jsonrpc": "2.0", "id": ident, "method": method}
    if params is not None:
        message["params"] = params
    return text_frame(message)


def padded_call(size: int) -> bytes:
    """A ``tools/call`` of ``echo`` exactly *size* bytes long."""
    head = b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo",'
    head += b'"arguments":{"text":"'
    tail = b'"}}}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


def one_byte_fragments(message: bytes) -> bytes:
    """*message* as a text frame and continuations of one byte each, masked."""
    key, count = os.urandom(4), len(message)
    frames = bytearray(7 * count)
    frames[0::7] = bytes([CONTINUATION]) * count
    frames[1::7] = b"\x81" * count
    for i in range(4):
        frames[2 + i :: 7] = key[i : i + 1] * count
    frames[6::7] = message.translate(bytes(byte ^ key[0] for byte in range(256)))
    frames[0] = TEXT
    frames[-7] |= 0x80
    return bytes(frames)


@cache
def deflate_bomb(size: int = 1 << 30) -> bytes:
    """A permessage-deflate payload inflating to *size* bytes of spaces. Each MiB is
    deflated alike after a full flush, so one MiB's output, repeated, is the whole; the
    smallest window (512 bytes) fits whatever the server negotiates."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -9)
    one = deflater.compress(b" " * (1 << 20)) + deflater.flush(zlib.Z_FULL_FLUSH)
    return (one * (size >> 20))[:-4]  # without the flush's 00 00 ff ff, as the RFC says


async def opened(port: int) -> Peer:
    """An upgraded connection with an MCP session."""
    peer = await Peer.open(port)
    await peer.initialize()
    return peer


async def sent_and_seen(peer: Peer, data: bytes, timeout: float) -> tuple[str, int]:
    """What the server did with *data* (see :meth:`Peer.ending`, with the time it took),
    and how many of its bytes it took first."""
    sent = 0
    start = time.perf_counter()

    async def send() -> None:
        nonlocal sent
        for offset in range(0, len(data), 1 << 16):
            await peer.send(data[offset : offset + (1 << 16)])
            sent = min(len(data), offset + (1 << 16))

    sending = asyncio.create_task(send())
    how = await peer.ending(timeout)
    took = time.perf_counter() - start
    sending.cancel()
    await asyncio.gather(sending, return_exceptions=True)
    return f"{how} at {took:.2f} s", sent


# The cases ----------------------------------------------------------------------------------


@case("non-readers", "10 clients pipelining tools/call for 256 KiB answers, never reading")
async def non_readers(port: int, watch: Watch, options: argparse.Namespace) -> tuple[str, str]:
    peers = [await opened(port) for _ in range(10)]
    watch.begin()
    ends = time.perf_counter() + options.seconds
    params: dict[str, object] = {"name": "blob", "arguments": {"kib": 256}}

    async def flood(peer: Peer) -> int:
        sent = 0
        while sent < options.requests and (left := ends - time.perf_counter()) > 0:
            batch = min(50, options.requests - sent)
            peer.writer.write(
                b"".join(request(peer.next_id + i, "tools/call", params) for i in range(batch))
            )
            peer.next_id += batch
            try:
                async with asyncio.timeout(left):
                    await peer.writer.drain()
            except (TimeoutError, ConnectionError):
                break
            sent += batch
        return sent

    sent = await asyncio.gather(*(flood(peer) for peer in peers))
    await asyncio.sleep(max(0.0, ends - time.perf_counter()))
    watch.end()
    states = Counter(peer.state() for peer in peers)
    for peer in peers:
        peer.abort()
    await asyncio.sleep(2.0)  # for the server to notice
    left = watch.server.rss() - watch.rss
    return (
        ", ".join(f"{count} {state}" for state, count in states.items()),
        f"{sum(sent)} requests taken by the sockets; RSS {mib(left)} MiB over the start "
        "2 s after the peers left",
    )


@case("fragments", "a 1 MiB message in 1-byte fragments")
async def fragments(port: int, watch: Watch, options: argparse.Namespace) -> tuple[str, str]:
    peer = await opened(port)
    data = one_byte_fragments(padded_call(1 << 20))
    watch.begin()
    how, sent = await sent_and_seen(peer, data, VERDICT)
    return how, f"{mib(sent)} of {mib(len(data))} MiB of frames taken"


@case("continuations", "a message of 1,000,000 empty continuation frames")
async def continuations(port: int, watch: Watch, options: argparse.Namespace) -> tuple[str, str]:
    peer = await opened(port)
    empty = frame(CONTINUATION, fin=False)
    data = (
        frame(TEXT, b'{"jsonrpc":"2.0","id":7,"method":"ping"', fin=False)
        + empty * 1_000_000
        + frame(CONTINUATION, b"}")
    )
    watch.begin()
    how, sent = await sent_and_seen(peer, data, VERDICT)
    return how, f"{mib(sent)} of {mib(len(data))} MiB of frames taken"


async def _flood(peer: Peer, batch: bytes, seconds: float, done: asyncio.Future[Any]) -> int:
    """*batch* written again and again for *seconds* or until *done*, each once the
    socket took the one before: how many times."""
    ends, count = time.perf_counter() + seconds, 0
    while not done.done() and (left := ends - time.perf_counter()) > 0:
        count += 1
        try:
            async with asyncio.timeout(left):
                await peer.send(batch)
        except (TimeoutError, Closed):
            break
    return count


@case("ping-flood", "pings as fast as the server takes them, the pongs read")
async def ping_flood(port: int, watch: Watch, options: argparse.Namespace) -> tuple[str, str]:
    peer = await opened(port)
    pongs = 0
    ending: list[str] = []

    async def read() -> None:
        nonlocal pongs
        try:
            while True:
                if (await peer.frame()).opcode == PONG:
                    pongs += 1
        except Closed as closed:
            ending.append(closed.how)

    watch.begin()
    reader = asyncio.create_task(read())
    batches = await _flood(peer, frame(PING, b"p" * 125) * 1000, options.seconds, reader)
    await asyncio.wait([reader], timeout=2.0)  # for the pongs on their way
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    cost = (watch.server.cpu() - watch.cpu) / max(pongs, 1) * 1e6
    return (
        (ending or ["open"])[0],
        f"{batches * 1000:,} pings sent, {pongs:,} pongs back, {cost:.1f} µs of CPU per pong",
    )


@case("control-flood", "unsolicited pongs and pings, never read")
async def control_flood(port: int, watch: Watch, options: argparse.Namespace) -> tuple[str, str]:
    peer = await opened(port)
    pair = frame(PONG, b"q" * 125) + frame(PING, b"p" * 125)
    watch.begin()
    never = asyncio.get_running_loop().create_future()
    batches = await _flood(peer, pair * 500, options.seconds, never)
    watch.end()
    how = await peer.ending(2.0)
    return how, f"{batches * 1000:,} control frames sent"


def _cut(outcomes: list[tuple[str, float]]) -> str:
    """Outcomes and their times, grouped: ``1000 HTTP 408 at 9.9-10.1 s``."""
    groups: dict[str, list[float]] = {}
    for how, when in outcomes:
        groups.setdefault(how, []).append(when)
    return ", ".join(
        f"{len(times)} {how}"
        + (f" at {min(times):.1f}-{max(times):.1f} s" if how != "open" else "")
        for how, times in sorted(groups.items(), key=lambda item: -len(item[1]))
    )


@case("slowloris", "1,000 upgrades at a byte a second and 200 silent sockets")
async def slowloris(port: int, watch: Watch, options: argparse.Namespace) -> tuple[str, str]:
    seconds, upgrade = options.slowloris_seconds, upgrade_request(port)
    turns = asyncio.Semaphore(64)

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter, float]:
        async with turns:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            return reader, writer, time.perf_counter()

    slow = await asyncio.gather(*(connect() for _ in range(1000)))
    silent = await asyncio.gather(*(connect() for _ in range(200)))
    watch.begin()
    ends = time.perf_counter() + seconds

    async def cut(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, since: float, trickle: bool
    ) -> tuple[str, float]:
        for index in range(len(upgrade)):
            if (left := ends - time.perf_counter()) <= 0:
                break
            if trickle:
                writer.write(upgrade[index : index + 1])
            try:
                async with asyncio.timeout(min(1.0, left) if trickle else left):
                    data = await reader.read(4096)
            except TimeoutError:
                continue
            except ConnectionError:
                return "reset", time.perf_counter() - since
            how = f"HTTP {status_of(data)}" if data else "EOF"
            return how, time.perf_counter() - since
        return "open", time.perf_counter() - since

    slow_cut, silent_cut = await asyncio.gather(
        asyncio.gather(*(cut(r, w, t, True) for r, w, t in slow)),
        asyncio.gather(*(cut(r, w, t, False) for r, w, t in silent)),
    )
    for _, writer, _ in slow + silent:
        writer.transport.abort()
    return f"slow: {_cut(slow_cut)}; silent: {_cut(silent_cut)}", f"in {seconds:g} s"


@case("big-message", "one 17 MiB message")
async def big_message(port: int, watch: Watch, options: argparse.Namespace) -> tuple[str, str]:
    peer = await opened(port)
    data = frame(TEXT, padded_call(17 << 20))
    watch.begin()
    how, sent = await sent_and_seen(peer, data, VERDICT)
    return how, f"{mib(sent)} of {mib(len(data))} MiB taken"


@case("deflate-bomb", "a message of ~1 MiB deflated, 1 GiB inflated")
async def bomb(port: int, watch: Watch, options: argparse.Namespace) -> tuple[str, str]:
    peer = await Peer.open(port, extensions="permessage-deflate")
    agreed = peer.header("Sec-WebSocket-Extensions") or ""
    if "permessage-deflate" not in agreed:
        return "permessage-deflate not negotiated", ""
    payload = deflate_bomb()
    data = frame(TEXT, payload, rsv1=True)
    watch.begin()
    how, sent = await sent_and_seen(peer, data, VERDICT)
    return how, f"{mib(sent)} of {mib(len(data))} MiB taken; agreed: {agreed}"


async def _idle_again(server: Running, limit: float = 30.0, tick: float = 0.1) -> float:
    """Seconds until the server spends under a fifth of a tick's time working in a tick."""
    start, cpu = time.perf_counter(), server.cpu()
    while (elapsed := time.perf_counter() - start) < limit:
        await asyncio.sleep(tick)
        now = server.cpu()
        used, cpu = now - cpu, now
        if used < 0.2 * tick:
            return elapsed
    return limit


@case("disconnects", "upgraded connections all reset at once")
async def disconnects(port: int, watch: Watch, options: argparse.Namespace) -> tuple[str, str]:
    sockets = await asyncio.to_thread(open_upgraded, port, options.disconnects)
    for client in sockets:  # closed, each sends a reset
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    await asyncio.sleep(1.0)  # for the last upgrades to settle on the server
    watch.begin()
    idle = asyncio.create_task(_idle_again(watch.server))
    start = time.perf_counter()
    for client in sockets:
        client.close()
    peer = await opened(port)
    answered = await peer.call_echo()
    fresh = (time.perf_counter() - start) * 1000
    return (
        f"{len(sockets)} reset",
        f"a fresh client's first call {'answered' if answered else 'failed'} {fresh:.0f} ms "
        f"after the resets; the server idle again after {await idle:.1f} s",
    )


@case("pipelined", "tools/list requests pipelined in one write")
async def pipelined(port: int, watch: Watch, options: argparse.Namespace) -> tuple[str, str]:
    peer = await opened(port)
    count, first = options.pipelined, peer.next_id
    data = b"".join(request(first + i, "tools/list") for i in range(count))
    peer.next_id += count
    watch.begin()
    sending = asyncio.create_task(peer.send(data))
    answers: Counter[str] = Counter()
    seen: set[int] = set()
    how = "all answered"
    try:
        async with asyncio.timeout(VERDICT):
            while len(seen) < count:
                answer = json.loads(await peer.message())
                if answer.get("id") in range(first, first + count):
                    seen.add(answer["id"])
                    error = answer.get("error")
                    answers["result" if error is None else str(error.get("code"))] += 1
    except TimeoutError:
        how = f"{len(seen)} answered in {VERDICT:g} s"
    except Closed as closed:
        how = closed.how
    sending.cancel()
    await asyncio.gather(sending, return_exceptions=True)
    got = ", ".join(f"{number} {what}" for what, number in answers.most_common())
    return how, f"{count} sent: {got}"


# The run ------------------------------------------------------------------------------------


def measure(case: Case, name: str, options: argparse.Namespace) -> Row:
    """*case* against a fresh server *name*."""
    with serving(name) as server:
        probe = Probe(server.port)
        try:
            with PeakSampler(server) as sampler:
                watch = Watch(server, probe, sampler)
                watch.begin()
                peer, note = asyncio.run(case.run(server.port, watch, options))
                watch.end()
            time.sleep(TAIL)
            latencies, failed = probe.report()
        finally:
            probe.stop()
        assert watch.ended is not None
        rss, cpu = watch.ended
        return Row(
            growth=rss - watch.rss,
            peak_growth=sampler.peak - watch.rss,
            peak=sampler.peak,
            cpu=cpu - watch.cpu,
            peer=peer,
            note=note,
            latencies=latencies,
            failed=failed,
            died=not server.alive(),
        )


HEADINGS = f"{'':<10}{'RSS +MiB':>9}{'peak +':>9}{'peak':>8}{'CPU s':>8}{'p50 ms':>9}{'max ms':>9}"


def print_row(name: str, row: Row) -> None:
    p50, top = percentile(row.latencies, 0.5), percentile(row.latencies, 1.0)
    print(
        f"{name:<10}{mib(row.growth):>9}{mib(row.peak_growth):>9}{mib(row.peak):>8}"
        f"{row.cpu:>8.2f}{p50:>9.1f}{top:>9.1f}  {row.peer}",
        flush=True,
    )
    notes = [row.note] if row.note else []
    if row.failed:
        notes.append(f"the probe's calls failed: {row.failed}")
    if row.died:
        notes.append("THE SERVER DIED")
    for note in notes:
        print(f"{'':<12}{note}", flush=True)


def print_ratios(rows: dict[str, Row]) -> None:
    for name, row, reference in beside_reference(rows):
        ref_max = percentile(reference.latencies, 1.0)
        print(
            f"  {name}/reference: RSS growth {ratio(row.growth, reference.growth)}, "
            f"peak growth {ratio(row.peak_growth, reference.peak_growth)}, "
            f"CPU {ratio(row.cpu, reference.cpu)}, "
            f"probe max {ratio(percentile(row.latencies, 1.0), ref_max)}",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", choices=CASES, help="repeatable; all if none")
    parser.add_argument("--servers", default=",".join(SERVERS), help="comma-separated")
    parser.add_argument("--seconds", type=float, default=8.0, help="the timed cases' window")
    parser.add_argument("--slowloris-seconds", type=float, default=15.0)
    parser.add_argument("--requests", type=int, default=600, help="per non-reader")
    parser.add_argument("--disconnects", type=int, default=2000)
    parser.add_argument("--pipelined", type=int, default=3000)
    options = parser.parse_args()
    names = servers_named(parser, options.servers, SERVERS)
    stop_on_sigterm()
    raise_file_limit(2 * options.disconnects + 2 * 1200 + 256)
    print_machine()
    print(HEADINGS + "  the hostile peer got")
    for chosen in options.case or list(CASES):
        case_ = CASES[chosen]
        print(f"{case_.name}: {case_.summary}", flush=True)
        rows = {}
        for name in names:
            rows[name] = measure(case_, name, options)
            print_row(name, rows[name])
        print_ratios(rows)
    return 0


if __name__ == "__main__":
    run_main(main)
