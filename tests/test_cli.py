"""The ``mcpws`` command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mcpws.__main__ import main


def test_demo_prints_a_transcript_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert '"method":"tools/call"' in out
    assert "CallToolRequestParams(name='get_weather'" in out
    replies = [
        line.split("answered", 1)[1].strip() for line in out.splitlines() if "answered" in line
    ]
    codes = [json.loads(reply)["error"]["code"] for reply in replies]
    assert codes == [-32700, -32600, -32602]


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc_info:
        main([])
    assert exc_info.value.code == 2


def test_python_dash_m_runs_the_demo() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mcpws", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "server -> client" in done.stdout
