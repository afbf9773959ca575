"""WebSocket on the wire, written by hand for the load and hostile benchmarks: the upgrade
request, masked frames and a parser of the frames a server sends, and ``Peer``, a
well-behaved MCP client on asyncio streams built from them (nothing of mcpws).

The same file runs the well-behaved clients the benchmarks start as processes of their own,
so that their work does not share an interpreter with the peers being measured:

* ``python _wire.py load PORT CONNECTIONS SECONDS mcp|plain``: that many connections, each
  calling ``tools/call`` (the ``echo`` tool) one call after another for SECONDS once a line
  arrives on standard input; it prints ``ready`` once connected, then one JSON report;
* ``python _wire.py probe PORT``: one connection calling ``echo`` every 50 ms until told to
  stop on standard input (see :func:`probe`), then one JSON report of its latencies;
* ``python _wire.py hold PORT CONNECTIONS plain|deflate``: that many MCP sessions opened and
  left idle (see :func:`hold`); it prints ``ready``, then one JSON report when a line arrives.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import struct
import sys
import time
import zlib
from collections import deque
from collections.abc import Iterable
from typing import Any, NamedTuple

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

#: The revision the clients here open their sessions with (one of the initialize era).
REVISION = "2025-11-25"

#: The text each ``tools/call`` of the load and the probe sends to ``echo``.
TEXT_ARGUMENT = "The quick brown fox jumps over the lazy dog. " * 4

#: Seconds a well-behaved client waits for any one answer before it counts an error.
PATIENCE = 30.0


def upgrade_request(port: int, *, path: str = "/mcp", extensions: str | None = None) -> bytes:
    """The HTTP/1.1 upgrade a client sends, offering the ``mcp`` subprotocol."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: mcp",
    ]
    if extensions is not None:
        lines.append(f"Sec-WebSocket-Extensions: {extensions}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(answer: bytes) -> int | None:
    """The status code of an HTTP answer's first line, ``None`` if there is none."""
    parts = answer.split(b"\r\n", 1)[0].split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


def masked(payload: bytes, key: bytes) -> bytes:
    """*payload* masked (or unmasked) with the 4-byte *key*."""
    if not payload:
        return b""
    size = len(payload)
    keys = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(keys, "big")).to_bytes(size, "big")


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv1: bool = False,
    key: bytes | None = None,
) -> bytes:
    """One frame as a client sends it: masked, with *key* or a random one."""
    key = os.urandom(4) if key is None else key
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", first, 0x80 | size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", first, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, size)
    return header + key + masked(payload, key)


def text_frame(message: object) -> bytes:
    """A JSON-RPC message as one text frame."""
    return frame(TEXT, json.dumps(message, separators=(",", ":")).encode())


class Frame(NamedTuple):
    fin: bool
    opcode: int
    payload: bytes
    rsv1: bool = False


class FrameParser:
    """The frames in a byte stream fed piece by piece, masked or not."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames, offset, buffer = [], 0, self._buffer
        while len(buffer) - offset >= 2:
            first, second = buffer[offset], buffer[offset + 1]
            size, start = second & 0x7F, offset + 2
            if size == 126:
                if len(buffer) - start < 2:
                    break
                (size,) = struct.unpack_from("!H", buffer, start)
                start += 2
            elif size == 127:
                if len(buffer) - start < 8:
                    break
                (size,) = struct.unpack_from("!Q", buffer, start)
                start += 8
            key = b""
            if second & 0x80:
                key, start = bytes(buffer[start : start + 4]), start + 4
            if len(buffer) - start < size:
                break
            payload = bytes(buffer[start : start + size])
            payload = masked(payload, key) if key else payload
            frames.append(Frame(bool(first & 0x80), first & 0x0F, payload, bool(first & 0x40)))
            offset = start + size
        del buffer[:offset]
        return frames


def close_code(payload: bytes) -> int | None:
    """The code a close frame's payload carries, ``None`` for an empty one."""
    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None


class Closed(Exception):
    """The server closed the connection: *how* says with what (a close code, ``EOF``,
    ``reset``) or, before the upgrade, with which HTTP status."""

    def __init__(self, how: str) -> None:
        super().__init__(how)
        self.how = how


async def read_answer(reader: asyncio.StreamReader, limit: int = 1 << 16) -> tuple[bytes, bytes]:
    """An HTTP answer's head and what came after it, once the head has arrived."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        try:
            data = await reader.read(4096)
        except ConnectionError as exc:
            raise Closed("reset") from exc
        if not data:
            raise Closed(f"HTTP {status_of(answer)}" if answer else "EOF")
        answer += data
        if len(answer) > limit:
            raise Closed("an endless HTTP answer")
    head, rest = answer.split(b"\r\n\r\n", 1)
    return head, rest


class Peer:
    """A client of a WebSocket server on loopback, framing by hand; as an MCP client it
    sends one request at a time and waits for its answer, answering pings meanwhile."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes
    ) -> None:
        self.reader, self.writer, self.head = reader, writer, head
        self.parser = FrameParser()
        self.frames: deque[Frame] = deque()
        self.next_id = 1
        self._inflater: Any = None  # for the server's compressed messages, made on the first

    def inflate(self, payload: bytes) -> bytes:
        """A compressed message of the server's, inflated in the context of those before."""
        if self._inflater is None:
            self._inflater = zlib.decompressobj(-15)
        inflated: bytes = self._inflater.decompress(payload + b"\x00\x00\xff\xff")
        return inflated

    @classmethod
    async def open(cls, port: int, *, extensions: str | None = None) -> Peer:
        """A connection upgraded on *port*; :class:`Closed` with the status if refused."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(upgrade_request(port, extensions=extensions))
        head, rest = await read_answer(reader)
        if status_of(head) != 101:
            writer.close()
            raise Closed(f"HTTP {status_of(head)}")
        peer = cls(reader, writer, head)
        peer.frames.extend(peer.parser.feed(rest))
        return peer

    def header(self, name: str) -> str | None:
        """A header of the server's upgrade answer."""
        for line in self.head.decode("latin-1").split("\r\n")[1:]:
            field, _, value = line.partition(":")
            if field.strip().lower() == name.lower():
                return value.strip()
        return None

    async def send(self, data: bytes) -> None:
        try:
            self.writer.write(data)
            await self.writer.drain()
        except ConnectionError as exc:
            raise Closed("reset") from exc

    async def frame(self) -> Frame:
        """The next frame; :class:`Closed` at a close frame or the end of the stream."""
        while not self.frames:
            try:
                data = await self.reader.read(1 << 16)
            except ConnectionError as exc:
                raise Closed("reset") from exc
            if not data:
                raise Closed("EOF")
            self.frames.extend(self.parser.feed(data))
        got = self.frames.popleft()
        if got.opcode == CLOSE:
            raise Closed(f"close {close_code(got.payload)}")
        return got

    async def message(self) -> bytes:
        """The next data message, its fragments joined and inflated if compressed; pings are
        answered meanwhile."""
        parts: list[bytes] = []
        compressed = None
        while True:
            got = await self.frame()
            if got.opcode == PING:
                await self.send(frame(PONG, got.payload))
            elif got.opcode in (TEXT, BINARY, CONTINUATION):
                compressed = got.rsv1 if compressed is None else compressed
                parts.append(got.payload)
                if got.fin:
                    whole = b"".join(parts)
                    return self.inflate(whole) if compressed else whole

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """The answer (a JSON object) to one request; any other message is skipped."""
        ident, self.next_id = self.next_id, self.next_id + 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": ident, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(text_frame(message))
        while True:
            answer = json.loads(await self.message())
            if isinstance(answer, dict) and answer.get("id") == ident:
                return answer

    async def initialize(self) -> None:
        """The MCP handshake: ``initialize``, then ``notifications/initialized``."""
        params = {
            "protocolVersion": REVISION,
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "1"},
        }
        answer = await self.request("initialize", params)
        if "result" not in answer:
            raise Closed(f"initialize refused: {answer}")
        notice = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        await self.send(text_frame(notice))

    async def call_compressed(self, size: int = 2048) -> bool:
        """One ``tools/call`` of ``echo`` with *size* bytes of text, deflated (the connection
        must have negotiated permessage-deflate): whether the answer came compressed too."""
        ident, self.next_id = self.next_id, self.next_id + 1
        params = {"name": "echo", "arguments": {"text": "x" * size}}
        message = {"jsonrpc": "2.0", "id": ident, "method": "tools/call", "params": params}
        deflater = zlib.compressobj(1, zlib.DEFLATED, -9, 1)  # the smallest any peer accepts
        text = json.dumps(message).encode()
        payload = deflater.compress(text) + deflater.flush(zlib.Z_SYNC_FLUSH)
        await self.send(frame(TEXT, payload[:-4], rsv1=True))
        while True:
            got = await self.frame()
            if got.opcode == PING:
                await self.send(frame(PONG, got.payload))
            elif got.opcode == TEXT and got.fin:
                answer = json.loads(self.inflate(got.payload) if got.rsv1 else got.payload)
                if answer.get("id") == ident:
                    return got.rsv1

    async def call_echo(self) -> bool:
        """One ``tools/call`` of ``echo``: whether it was answered without error."""
        params = {"name": "echo", "arguments": {"text": TEXT_ARGUMENT}}
        async with asyncio.timeout(PATIENCE):  # not wait_for: it can swallow a cancellation
            answer = await self.request("tools/call", params)
        return "error" not in answer and not answer.get("result", {}).get("isError", False)

    async def ending(self, timeout: float) -> str:
        """How the server ends this connection, reading (and dropping) whatever comes: a
        close code (``close 1009``), ``EOF`` or ``reset``; ``answered`` once a data message
        has come whole; ``open`` after *timeout* seconds."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    got = await self.frame()
                    if got.fin and got.opcode in (TEXT, BINARY, CONTINUATION):
                        return "answered"
        except Closed as closed:
            return closed.how
        except TimeoutError:
            return "open"

    def state(self) -> str:
        """``closed`` if the connection has ended (without reading what is buffered),
        ``open`` otherwise."""
        return "closed" if self.writer.transport.is_closing() else "open"

    def abort(self) -> None:
        """The connection dropped at once, without a close handshake."""
        self.writer.transport.abort()


def cpu_seconds() -> float:
    """The CPU seconds this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _line_from_stdin() -> str:
    return await asyncio.to_thread(sys.stdin.readline)


async def _caller(peer: Peer, seconds: float, latencies: list[float], errors: list[str]) -> None:
    ends = time.perf_counter() + seconds
    while (start := time.perf_counter()) < ends:
        try:
            good = await peer.call_echo()
        except (Closed, TimeoutError, ValueError) as exc:
            errors.append(type(exc).__name__ + ": " + str(exc))
            return
        latencies.append((time.perf_counter() - start) * 1000)
        if not good:
            errors.append("an error answer")


async def load(port: int, connections: int, seconds: float, mcp: bool) -> dict[str, Any]:
    """The load of one client process: *connections* calling for *seconds*."""
    peers = await asyncio.gather(*(Peer.open(port) for _ in range(connections)))
    if mcp:
        await asyncio.gather(*(peer.initialize() for peer in peers))
    print("ready", flush=True)
    await _line_from_stdin()
    latencies: list[float] = []
    errors: list[str] = []
    cpu, wall = cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(_caller(peer, seconds, latencies, errors) for peer in peers))
    report = {
        "calls": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "latencies_ms": [round(value, 3) for value in latencies],
        "cpu": cpu_seconds() - cpu,
        "wall": time.perf_counter() - wall,
    }
    for peer in peers:
        peer.abort()
    return report


async def probe(port: int, every: float = 0.05) -> dict[str, Any]:
    """A well-behaved client calling ``echo`` every *every* seconds. A line ``mark`` on
    standard input forgets the latencies so far; any other line, or the end, stops it.
    A call still unanswered then counts with the time it has waited."""
    peer = await Peer.open(port)
    await peer.initialize()
    latencies: list[float] = []
    failed: list[str] = []

    async def calls() -> None:
        next_call = time.perf_counter()
        while True:
            start = time.perf_counter()
            try:
                good = await peer.call_echo()
            except (Closed, TimeoutError, ValueError) as exc:
                failed.append(type(exc).__name__ + ": " + str(exc))
                return
            finally:
                latencies.append((time.perf_counter() - start) * 1000)
            if not good:
                failed.append("an error answer")
            next_call = max(next_call + every, time.perf_counter())
            await asyncio.sleep(next_call - time.perf_counter())

    print("ready", flush=True)
    task = asyncio.create_task(calls())
    while (await _line_from_stdin()).strip() == "mark":
        latencies.clear()
        failed.clear()
    task.cancel()
    await asyncio.wait([task], timeout=1.0)
    peer.abort()
    return {"latencies_ms": [round(value, 3) for value in latencies], "failed": failed[:3]}


#: What a client offers for permessage-deflate: the window it compresses with is the server's
#: to choose.
DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"


async def hold(port: int, connections: int, deflate: bool, batch: int = 200) -> dict[str, Any]:
    """*connections* MCP sessions on *port*, opened *batch* at a time and left idle until a
    line arrives on standard input. With *deflate*, each offers permessage-deflate and, once
    open, makes one compressed call whose answer is compressed too, so that the server holds
    whatever compressing costs it."""
    peers: list[Peer] = []
    compressed = 0
    start = time.perf_counter()
    while len(peers) < connections:
        count = min(batch, connections - len(peers))
        offer = DEFLATE_OFFER if deflate else None
        opened = await asyncio.gather(*(Peer.open(port, extensions=offer) for _ in range(count)))
        await asyncio.gather(*(peer.initialize() for peer in opened))
        if deflate:
            compressed += sum(await asyncio.gather(*(peer.call_compressed() for peer in opened)))
        peers += opened
    seconds = time.perf_counter() - start
    report = {"opened": len(peers), "compressed": compressed, "seconds": seconds}
    print("ready", flush=True)
    await _line_from_stdin()
    for peer in peers:
        peer.abort()
    return report


def main(args: Iterable[str]) -> None:
    role, port, *rest = args
    if role == "load":
        connections, seconds, mode = rest
        report = asyncio.run(load(int(port), int(connections), float(seconds), mode == "mcp"))
    elif role == "hold":
        connections, mode = rest
        report = asyncio.run(hold(int(port), int(connections), mode == "deflate"))
    else:
        report = asyncio.run(probe(int(port)))
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
