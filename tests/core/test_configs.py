"""Every configuration of the core validates its settings with the same checks: a duration, a
count or a size is refused (or accepted) the same way, with the same words, whichever
configuration it is given to."""

from __future__ import annotations

from typing import Any

import pytest

from mcpws.core.session import ClientSessionConfig, ServerSessionConfig
from mcpws.core.websocket import WebSocketConfig

#: Every setting in seconds, ``None`` switching it off: (configuration, field).
DURATIONS: list[tuple[type, str]] = [
    (WebSocketConfig, "ping_interval"),
    (WebSocketConfig, "ping_timeout"),
    (WebSocketConfig, "handshake_timeout"),
    (WebSocketConfig, "close_timeout"),
    (ClientSessionConfig, "request_timeout"),
    (ClientSessionConfig, "max_request_time"),
    (ClientSessionConfig, "probe_timeout"),
    (ServerSessionConfig, "request_timeout"),
    (ServerSessionConfig, "max_request_time"),
]
#: Every count or size of at least one.
COUNTS: list[tuple[type, str]] = [
    (WebSocketConfig, "max_handshake_size"),
    (ClientSessionConfig, "max_pending_requests"),
    (ServerSessionConfig, "max_pending_requests"),
]
#: Every size of at least one, ``None`` for no limit.
OPTIONAL_SIZES: list[tuple[type, str]] = [
    (WebSocketConfig, "max_message_size"),
    (WebSocketConfig, "max_fragments"),
]

NAN = float("nan")
INF = float("inf")

#: Values that are no number of seconds, and those that are.
BAD_DURATIONS: list[object] = [NAN, -INF, 0, 0.0, -0.0, -1, -0.5, True, False, "20", b"1", [1]]
GOOD_DURATIONS: list[object] = [None, 1, 0.001, 20.0, 1e9, INF]
#: Values that are no count, and those that are (with ``None``, for the optional sizes).
BAD_COUNTS: list[object] = [NAN, INF, -INF, 0, -1, 1.5, 16.0, True, False, "1024", None]
GOOD_COUNTS: list[object] = [1, 2, 1024, 1 << 62]


def ids(cases: list[tuple[type, str]]) -> list[str]:
    return [f"{kind.__name__}.{field}" for kind, field in cases]


def refusal(kind: type, field: str, value: object) -> str | None:
    """The message *kind* refuses ``field=value`` with, or ``None`` if it accepts it."""
    try:
        kind(**{field: value})
    except ValueError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize(("kind", "field"), DURATIONS, ids=ids(DURATIONS))
@pytest.mark.parametrize("value", BAD_DURATIONS, ids=repr)
def test_a_duration_that_is_no_positive_number_is_refused(
    kind: type, field: str, value: object
) -> None:
    assert refusal(kind, field, value) == (
        f"{field} must be a positive number or None, not {value!r}"
    )


@pytest.mark.parametrize(("kind", "field"), DURATIONS, ids=ids(DURATIONS))
@pytest.mark.parametrize("value", GOOD_DURATIONS, ids=repr)
def test_a_positive_duration_or_none_is_taken(kind: type, field: str, value: object) -> None:
    assert getattr(kind(**{field: value}), field) == value


@pytest.mark.parametrize(("kind", "field"), COUNTS, ids=ids(COUNTS))
@pytest.mark.parametrize("value", BAD_COUNTS, ids=repr)
def test_a_count_that_is_no_positive_integer_is_refused(
    kind: type, field: str, value: object
) -> None:
    assert refusal(kind, field, value) == f"{field} must be a positive integer, not {value!r}"


@pytest.mark.parametrize(("kind", "field"), OPTIONAL_SIZES, ids=ids(OPTIONAL_SIZES))
@pytest.mark.parametrize("value", [v for v in BAD_COUNTS if v is not None], ids=repr)
def test_a_size_that_is_no_positive_integer_is_refused(
    kind: type, field: str, value: object
) -> None:
    assert refusal(kind, field, value) == (
        f"{field} must be a positive integer or None, not {value!r}"
    )


@pytest.mark.parametrize(
    ("kind", "field"), COUNTS + OPTIONAL_SIZES, ids=ids(COUNTS + OPTIONAL_SIZES)
)
@pytest.mark.parametrize("value", GOOD_COUNTS, ids=repr)
def test_a_positive_integer_is_taken_as_a_count(kind: type, field: str, value: int) -> None:
    assert getattr(kind(**{field: value}), field) == value


def test_no_limit_is_none_for_the_optional_sizes() -> None:
    assert WebSocketConfig(max_message_size=None).max_message_size is None


@pytest.mark.parametrize(
    ("cases", "values"),
    [
        pytest.param(DURATIONS, BAD_DURATIONS + GOOD_DURATIONS, id="durations"),
        pytest.param(COUNTS, BAD_COUNTS + GOOD_COUNTS, id="counts"),
    ],
)
def test_the_websocket_and_the_session_configs_agree(
    cases: list[tuple[type, str]], values: list[object]
) -> None:
    """The same values go through each configuration's fields of one kind: each is refused by
    all of them, in the same words (but for the field's name), or taken by all of them."""
    assert {kind for kind, _ in cases} >= {WebSocketConfig, ClientSessionConfig}
    for value in values:
        verdicts = {
            (message or "").removeprefix(field) or None
            for kind, field in cases
            for message in [refusal(kind, field, value)]
        }
        assert len(verdicts) == 1, (value, verdicts)


@pytest.mark.parametrize("value", [-1, 10, 1.0, True, False, "1", None, NAN])
def test_the_compression_level_is_one_of_zlibs(value: object) -> None:
    assert refusal(WebSocketConfig, "compression_level", value) == (
        f"compression_level must be an integer from 0 to 9, not {value!r}"
    )


@pytest.mark.parametrize("value", range(10))
def test_every_level_of_zlib_is_taken(value: int) -> None:
    assert WebSocketConfig(compression_level=value).compression_level == value


@pytest.mark.parametrize("value", [-1, 1.5, 0.0, True, False, NAN, INF, "0", None])
def test_the_discover_ttl_is_a_non_negative_integer(value: Any) -> None:
    assert refusal(ServerSessionConfig, "discover_ttl_ms", value) == (
        f"discover_ttl_ms must be a non-negative integer, not {value!r}"
    )


@pytest.mark.parametrize("value", [0, 1, 60_000])
def test_a_discover_ttl_of_zero_or_more_is_taken(value: int) -> None:
    assert ServerSessionConfig(discover_ttl_ms=value).discover_ttl_ms == value


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [("compression_window_bits", 9, 15), ("compression_memory_level", 1, 9)],
)
def test_the_window_and_memory_level_are_zlibs(field: str, low: int, high: int) -> None:
    for value in (low - 1, high + 1, float(low), True, "12", None, NAN):
        assert refusal(WebSocketConfig, field, value) == (
            f"{field} must be an integer from {low} to {high}, not {value!r}"
        )
    for value in range(low, high + 1):
        assert refusal(WebSocketConfig, field, value) is None
