"""The core is sans-IO: importing it pulls in no event loop, no sockets and no threads."""

from __future__ import annotations

import os
import subprocess
import sys

# threading is not listed: attrs imports it (through importlib.util). The core's own code may
# not use it; the ruff banned-api rule for src/mcpws/core enforces that.
FORBIDDEN = ("trio", "asyncio", "anyio", "socket", "selectors")


def _imported(code: str) -> str:
    """What *code* prints, run by a fresh interpreter that coverage does not measure (its
    measurement imports modules of its own)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("COV")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    return done.stdout.strip()


def test_importing_the_core_imports_no_io_module() -> None:
    code = (
        "import sys, mcpws.core, mcpws.core.jsonrpc, mcpws.core.mcp, mcpws.core.versions\n"
        "import mcpws.core.websocket, mcpws.core.connection, mcpws.core.session\n"
        "import mcpws.core.stdio\n"
        f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    )
    assert _imported(code) == ""


def test_importing_mcpws_imports_no_driver() -> None:
    code = (
        "import sys, mcpws, mcpws.app\n"
        "print(','.join(m for m in ('trio', 'asyncio', 'socket') if m in sys.modules))"
    )
    assert _imported(code) == ""


#: What only the extras may import: the official SDK, fastmcp, and pydantic under both.
EXTRAS = ("mcp", "mcp_types", "fastmcp", "pydantic")


def test_mcpws_and_its_drivers_import_no_sdk_and_no_pydantic() -> None:
    code = (
        "import sys, mcpws, mcpws.app, mcpws.lowlevel, mcpws.trio, mcpws.asyncio\n"
        "from mcpws import Server\n"
        "from mcpws.lowlevel import serve_options\n"
        "serve_options(Server('plain'))\n"
        f"print(','.join(m for m in {EXTRAS!r} if m in sys.modules))"
    )
    assert _imported(code) == ""


def test_serving_an_sdk_server_imports_the_adapter_then() -> None:
    code = (
        "import sys\n"
        "from mcp.server import MCPServer\n"
        "from mcpws.lowlevel import serve_options\n"
        "assert 'mcpws.sdk' not in sys.modules\n"
        "serving = serve_options(MCPServer('sdk'))\n"
        "print(type(serving.app).__module__, serving.name)"
    )
    assert _imported(code) == "mcpws.sdk._serving sdk"
