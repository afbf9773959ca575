"""The MCP protocol revisions mcpws speaks, the two eras they fall into, and negotiation.

A revision is named by its date, ``"YYYY-MM-DD"``, so revisions sort as strings.

* The *handshake era* (2024-11-05 to 2025-11-25): a session opens with ``initialize``, which
  fixes one revision for its whole life.
* The *stateless era* (2026-07-28 on): there is no handshake; every request names its revision
  and the client's capabilities in ``_meta``, and ``server/discover`` tells what a server
  supports.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Final

__all__ = [
    "HANDSHAKE_REVISIONS",
    "LATEST",
    "LATEST_HANDSHAKE",
    "REVISIONS",
    "STATELESS_REVISIONS",
    "Era",
    "allows_batches",
    "era",
    "is_supported",
    "negotiate",
    "newest_common",
]


class Era(enum.Enum):
    """How a revision opens a session."""

    #: ``initialize`` and ``notifications/initialized`` open a session with one revision.
    HANDSHAKE = "handshake"
    #: No handshake: each request carries its revision and capabilities in ``_meta``.
    STATELESS = "stateless"


#: Every revision mcpws speaks, oldest first.
REVISIONS: Final = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28")
HANDSHAKE_REVISIONS: Final = REVISIONS[:4]
STATELESS_REVISIONS: Final = REVISIONS[4:]
LATEST: Final = REVISIONS[-1]
LATEST_HANDSHAKE: Final = HANDSHAKE_REVISIONS[-1]

_FIRST_STATELESS: Final = STATELESS_REVISIONS[0]


def is_supported(revision: object) -> bool:
    """Tell whether *revision* is one mcpws speaks."""
    return revision in REVISIONS


def era(revision: str) -> Era:
    """Return the era of a supported revision; raise :class:`ValueError` for another."""
    if revision not in REVISIONS:
        raise ValueError(f"unknown MCP revision {revision!r}")
    return Era.STATELESS if revision >= _FIRST_STATELESS else Era.HANDSHAKE


def allows_batches(revision: str) -> bool:
    """Tell whether JSON-RPC batches are allowed: only revision 2025-03-26 has them."""
    return revision == "2025-03-26"


def negotiate(requested: object, supported: Iterable[str] = HANDSHAKE_REVISIONS) -> str:
    """Answer an ``initialize`` request, as a server does.

    Returns *requested* when it is one of *supported*, else the newest of *supported*; the
    client then decides whether it can speak that. *supported* must not be empty.
    """
    if isinstance(supported, str):
        raise TypeError("supported must be a collection of revisions, not one string")
    choices = sorted(supported)
    if not choices:
        raise ValueError("at least one revision must be supported")
    return requested if isinstance(requested, str) and requested in choices else choices[-1]


def newest_common(ours: Iterable[str], theirs: Iterable[object]) -> str | None:
    """Return the newest revision both sides support, or ``None`` when they share none."""
    common = set(ours).intersection(r for r in theirs if isinstance(r, str))
    return max(common) if common else None
