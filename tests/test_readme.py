"""README.rst tells the truth: its examples run, and CI runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.rst").read_text(encoding="utf-8")


def _python_blocks(text: str) -> list[str]:
    blocks = re.findall(r"^\.\. code-block:: python\n\n((?:(?: {4}.*)?\n)+)", text, re.MULTILINE)
    return [re.sub(r"^ {4}", "", block, flags=re.MULTILINE) for block in blocks]


def _commands(text: str) -> list[str]:
    return re.findall(r"::\n\n {4}(.+)\n", text)


def test_readme_has_examples() -> None:
    assert len(_python_blocks(README)) >= 3


def test_every_readme_example_runs() -> None:
    namespace: dict[str, object] = {}
    for block in _python_blocks(README):
        exec(compile(block, "README.rst", "exec"), namespace)


def test_ci_runs_the_readme_test_command() -> None:
    install_and_demo, install_and_test = _commands(README)[:2]
    assert install_and_demo.endswith("mcpws demo")
    assert install_and_test.endswith("python -m pytest")
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert install_and_test in ci_lines
    assert "set -euo pipefail" in ci_lines


@pytest.mark.parametrize("block", _python_blocks(README))
def test_readme_examples_are_complete_statements(block: str) -> None:
    compile(block, "README.rst", "exec")
