"""README.rst tells the truth: its examples run, and CI runs its test command."""

from __future__ import annotations

import argparse
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


def _options_table(text: str) -> str:
    """The README's table of the options of ``mcpws serve``."""
    start = text.index("Every option of ``mcpws serve``")
    return text[start : text.index("What a server refuses by default", start)]


@pytest.mark.parametrize("command", ["serve", "expose"])
def test_every_serving_flag_is_in_the_options_table(command: str) -> None:
    from mcpws.__main__ import _parser

    commands = next(
        action for action in _parser()._actions if isinstance(action, argparse._SubParsersAction)
    )
    flags = {
        flag
        for action in commands.choices[command]._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag != "--help"
    }
    table = _options_table(README)
    own = {"--stdio", "--env", "--cwd", "--shared", "--max-children", "--idle-timeout"}
    missing = {flag for flag in flags - own if f"``{flag}``" not in table}
    assert not missing, f"not in README's options table: {sorted(missing)}"
