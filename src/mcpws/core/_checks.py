"""The validators every configuration of the core shares, so that a setting means the same
wherever it is given: a number of seconds is positive, finite or not but never NaN, and never
a bool; a count is a positive ``int``, never a bool."""

from __future__ import annotations

from typing import Any

import attrs


def is_duration(value: object) -> bool:
    """Tell whether *value* is a number of seconds: positive, not a bool, not NaN."""
    return type(value) in (int, float) and value > 0  # type: ignore[operator]


def positive_or_none(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """An attrs validator: a number of seconds, or ``None`` for off."""
    if value is not None and not is_duration(value):
        raise ValueError(f"{attribute.name} must be a positive number or None, not {value!r}")


def positive_int(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """An attrs validator: a count of at least one."""
    if type(value) is not int or value < 1:
        raise ValueError(f"{attribute.name} must be a positive integer, not {value!r}")
