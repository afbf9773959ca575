"""Behaviour of mcpws.core.versions: the MCP revisions, their eras and negotiation."""

from __future__ import annotations

import pytest

from mcpws.core.versions import (
    HANDSHAKE_REVISIONS,
    LATEST,
    LATEST_HANDSHAKE,
    REVISIONS,
    STATELESS_REVISIONS,
    Era,
    allows_batches,
    era,
    is_supported,
    negotiate,
    newest_common,
)


def test_revisions_are_dates_oldest_first() -> None:
    assert REVISIONS == ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28")
    assert list(REVISIONS) == sorted(REVISIONS)
    assert len(set(REVISIONS)) == len(REVISIONS)


def test_revisions_split_into_handshake_and_stateless_eras() -> None:
    assert HANDSHAKE_REVISIONS == ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
    assert STATELESS_REVISIONS == ("2026-07-28",)
    assert HANDSHAKE_REVISIONS + STATELESS_REVISIONS == REVISIONS
    assert LATEST == "2026-07-28"
    assert LATEST_HANDSHAKE == "2025-11-25"


@pytest.mark.parametrize("revision", REVISIONS)
def test_every_revision_is_supported(revision: str) -> None:
    assert is_supported(revision)


@pytest.mark.parametrize(
    "revision",
    ["2024-10-07", "2025-03-27", "2099-01-01", "", "latest", None, 20250326, ["2025-03-26"]],
)
def test_other_values_are_not_supported(revision: object) -> None:
    assert not is_supported(revision)


@pytest.mark.parametrize("revision", HANDSHAKE_REVISIONS)
def test_handshake_revisions_open_with_initialize(revision: str) -> None:
    assert era(revision) is Era.HANDSHAKE


@pytest.mark.parametrize("revision", STATELESS_REVISIONS)
def test_stateless_revisions_have_no_handshake(revision: str) -> None:
    assert era(revision) is Era.STATELESS


@pytest.mark.parametrize("revision", ["2099-01-01", "2026-07-29", "2024-01-01", "", "2025-3-26"])
def test_era_of_an_unknown_revision_is_a_value_error(revision: str) -> None:
    with pytest.raises(ValueError, match="unknown MCP revision"):
        era(revision)


def test_era_values() -> None:
    assert Era.HANDSHAKE.value == "handshake"
    assert Era.STATELESS.value == "stateless"


@pytest.mark.parametrize("revision", REVISIONS)
def test_only_2025_03_26_allows_batches(revision: str) -> None:
    assert allows_batches(revision) is (revision == "2025-03-26")


def test_unknown_revision_allows_no_batches() -> None:
    assert not allows_batches("2099-01-01")


@pytest.mark.parametrize("revision", HANDSHAKE_REVISIONS)
def test_negotiate_accepts_a_supported_request(revision: str) -> None:
    assert negotiate(revision) == revision
    assert negotiate(revision, REVISIONS) == revision


@pytest.mark.parametrize(
    "requested", ["2099-01-01", "2024-01-01", "2026-07-28", "", None, 1, ["2025-03-26"], {}]
)
def test_negotiate_offers_the_newest_supported_otherwise(requested: object) -> None:
    assert negotiate(requested) == LATEST_HANDSHAKE


def test_negotiate_uses_the_server_supported_list_in_any_order() -> None:
    supported = ["2025-06-18", "2024-11-05", "2025-03-26"]
    assert negotiate("2025-11-25", supported) == "2025-06-18"
    assert negotiate("2024-11-05", supported) == "2024-11-05"
    assert negotiate(object(), iter(supported)) == "2025-06-18"
    assert negotiate("2026-07-28", STATELESS_REVISIONS) == "2026-07-28"


def test_negotiate_needs_at_least_one_supported_revision() -> None:
    with pytest.raises(ValueError, match="at least one"):
        negotiate("2025-03-26", [])
    with pytest.raises(ValueError, match="at least one"):
        negotiate("2025-03-26", iter(()))


def test_newest_common_revision() -> None:
    assert newest_common(REVISIONS, REVISIONS) == LATEST
    assert newest_common(HANDSHAKE_REVISIONS, REVISIONS) == LATEST_HANDSHAKE
    assert newest_common(["2024-11-05", "2025-06-18"], ["2025-06-18", "2024-11-05"]) == (
        "2025-06-18"
    )
    assert newest_common(REVISIONS, ["2024-11-05", "2099-01-01", 7, None]) == "2024-11-05"
    assert newest_common(iter(REVISIONS), iter(["2025-03-26"])) == "2025-03-26"


def test_newest_common_is_none_when_nothing_is_shared() -> None:
    assert newest_common(REVISIONS, ["2099-01-01"]) is None
    assert newest_common(REVISIONS, []) is None
    assert newest_common([], REVISIONS) is None


def test_negotiate_refuses_a_single_string_for_the_supported_revisions() -> None:
    with pytest.raises(TypeError, match="not one string"):
        negotiate("x", "2025-03-26")


def test_newest_common_ignores_what_is_not_a_revision_string() -> None:
    theirs: list[object] = [["2025-03-26"], {"a": 1}, 7, "2025-03-26"]
    assert newest_common(REVISIONS, theirs) == "2025-03-26"
