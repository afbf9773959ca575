"""A server module that fails to import, for the command line's tests: what is missing is
not the module named on the command line but one it imports."""

from __future__ import annotations

import no_such_dependency_of_broken_app  # type: ignore[import-not-found]  # noqa: F401

from mcpws import Server

app = Server("broken")
