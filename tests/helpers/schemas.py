"""The official MCP schemas, for the tests that validate against them: where they are, and
a validator for any definition of any revision.

The schemas are read from ``../shared/mcp-schema/<revision>/schema.json``, beside the
repository; :func:`skip_unless_present` skips the calling test module, saying why, where they
are absent. Not a test module; imported as ``helpers.schemas``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Final

import pytest
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

SCHEMAS: Final = Path(__file__).resolve().parents[3] / "shared" / "mcp-schema"


def skip_unless_present() -> None:
    """Skip the calling module when the schemas are not beside the repository."""
    if not SCHEMAS.is_dir():
        pytest.skip(
            "the official MCP schemas are not beside the repository (../shared/mcp-schema)",
            allow_module_level=True,
        )


@functools.cache
def schema(revision: str) -> dict[str, Any]:
    """The whole schema of *revision*."""
    value: dict[str, Any] = json.loads(
        (SCHEMAS / revision / "schema.json").read_text(encoding="utf-8")
    )
    return value


def defs_key(revision: str) -> str:
    """Draft-07 schemas keep their definitions in ``definitions``, 2020-12 ones in ``$defs``."""
    return "$defs" if "$defs" in schema(revision) else "definitions"


def definitions(revision: str) -> dict[str, Any]:
    """The definitions of *revision*, by name."""
    found: dict[str, Any] = schema(revision)[defs_key(revision)]
    return found


@functools.cache
def validator(revision: str, name: str) -> Any:
    """A validator, of the draft *revision*'s schema declares, for its definition *name*."""
    root = schema(revision)
    key = defs_key(revision)
    assert name in root[key], f"MCP {revision} has no definition named {name}"
    document = {"$schema": root["$schema"], "$ref": f"#/{key}/{name}", key: root[key]}
    return validator_for(root)(document)


def violation(revision: str, name: str, instance: Any) -> str | None:
    """Why definition *name* of *revision* rejects *instance*, or ``None``."""
    error = best_match(validator(revision, name).iter_errors(instance))
    if error is None:
        return None
    return f"MCP {revision} {name} rejects the value at {error.json_path}: {error.message}"


@functools.cache
def method_definitions(revision: str, method: str) -> tuple[str, ...]:
    """The definitions of *revision* whose ``method`` member is the constant *method*."""
    return tuple(
        name
        for name, definition in definitions(revision).items()
        if definition.get("properties", {}).get("method", {}).get("const") == method
    )
