"""The load and hostile benchmarks keep working: the frames their peers write by hand, the
reference's answers, and one tiny run of each tool against real servers.

The runs are subprocesses with a hard timeout, as a user starts them; coverage does not
follow them (``mcpws.core`` is covered by its own tests).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from _reference import answer
from _wire import CONTINUATION, TEXT, Frame, FrameParser, frame
from bench_hostile import deflate_bomb, one_byte_fragments, padded_call

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

#: Seconds a tiny run may take before the test fails: far more than it takes.
HARD = 60.0


def _parsed(data: bytes, piece: int) -> list[Frame]:
    parser = FrameParser()
    return [got for at in range(0, len(data), piece) for got in parser.feed(data[at : at + piece])]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_a_masked_frame_parses_back_whatever_the_pieces(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    for piece in (1, 7, 1 << 20):
        assert _parsed(frame(TEXT, payload), piece) == [Frame(True, TEXT, payload)]


def test_one_byte_fragments_carry_the_message() -> None:
    message = padded_call(300)
    frames = _parsed(one_byte_fragments(message), 4096)
    assert [got.opcode for got in frames] == [TEXT] + [CONTINUATION] * 299
    assert [got.fin for got in frames] == [False] * 299 + [True]
    assert b"".join(got.payload for got in frames) == message
    assert json.loads(message)["params"]["name"] == "echo"


def test_the_deflate_bomb_inflates_to_its_size_within_the_smallest_window() -> None:
    bomb = deflate_bomb(8 << 20)
    inflater = zlib.decompressobj(-9)
    inflated = inflater.decompress(bomb + b"\x00\x00\xff\xff")
    assert inflated == b" " * (8 << 20)
    assert len(bomb) < 16 << 10


def test_the_reference_answers_as_an_mcp_server() -> None:
    opened = json.loads(answer('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}') or "")
    assert opened["result"]["capabilities"] == {"tools": {}}
    listed = json.loads(answer('{"jsonrpc":"2.0","id":2,"method":"tools/list"}') or "")
    assert [tool["name"] for tool in listed["result"]["tools"]] == ["echo", "blob"]
    params = '{"name":"blob","arguments":{"kib":2}}'
    call = '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":' + params + "}"
    assert json.loads(answer(call) or "")["result"]["content"][0]["text"] == "x" * 2048
    assert answer('{"jsonrpc":"2.0","method":"notifications/initialized"}') is None
    assert json.loads(answer("{") or "")["error"]["code"] == -32700


def _run(*args: str) -> str:
    env = {name: value for name, value in os.environ.items() if not name.startswith("COV")}
    done = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=HARD,
        env=env,
        cwd=BENCHMARKS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_tiny_load_run_against_trio_and_the_reference() -> None:
    out = _run(
        "bench_load.py",
        *("--clients", "2", "--processes", "1", "--seconds", "0.5"),
        *("--servers", "trio,reference"),
    )
    rows = {line[:24].strip(): line[24:].split() for line in out.splitlines()}
    assert [float(value) > 0 for value in rows["calls/s"]] == [True, True]
    assert rows["errors"] == ["0", "0"]
    assert "trio/reference: calls/s" in out


def test_a_hostile_case_against_asyncio() -> None:
    out = _run("bench_hostile.py", "--case", "big-message", "--servers", "asyncio")
    assert re.search(r"^asyncio .* close 1009 at ", out, re.MULTILINE), out


def test_a_tiny_connections_run_with_compression_against_asyncio_and_the_reference() -> None:
    out = _run(
        "bench_connections.py",
        *("--connections", "20", "--compression", "on", "--servers", "asyncio,reference"),
    )
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert float(rows["asyncio"][1]) > 0
    assert rows["reference"][-4:] == ["20", "answers", "came", "compressed"]
    assert "asyncio/reference: memory per connection" in out


def test_a_tiny_hooks_run_reports_each_contender() -> None:
    out = _run("bench_hooks.py", "--calls", "20", "--rounds", "1")
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:-1]}
    assert list(rows) == ["none", "hooks", "metrics", "info", "debug"]
    assert rows["none"][2:4] == ["1.000x", "1.000x"]
