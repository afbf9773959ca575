"""The validators every configuration of the core shares, so that a setting means the same
wherever it is given, and a wrong one is refused with a ``ValueError`` worded the same way.

* A number of seconds is an ``int`` or a ``float``, positive, never NaN and never a bool; an
  infinite one is allowed and means "never", as ``None`` does where ``None`` switches it off.
* A count or a size in bytes is an ``int``, never a bool, a ``float`` (not even ``16.0``) or
  an infinity.

Every validator here checks the type exactly (``type(value) is int``): ``True`` is an ``int``
to Python, but never a number to a configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import attrs

__all__ = [
    "int_between",
    "is_duration",
    "non_negative_int",
    "positive_int",
    "positive_int_or_none",
    "positive_or_none",
]

#: The signature of an attrs validator.
_Validator: TypeAlias = Callable[[object, "attrs.Attribute[Any]", object], None]


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


def positive_int_or_none(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """An attrs validator: a size of at least one, or ``None`` for no limit."""
    if value is not None and (type(value) is not int or value < 1):
        raise ValueError(f"{attribute.name} must be a positive integer or None, not {value!r}")


def non_negative_int(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """An attrs validator: a count that may be zero."""
    if type(value) is not int or value < 0:
        raise ValueError(f"{attribute.name} must be a non-negative integer, not {value!r}")


def int_between(low: int, high: int) -> _Validator:
    """An attrs validator: an integer from *low* to *high*, both included."""

    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if type(value) is not int or not low <= value <= high:
            raise ValueError(
                f"{attribute.name} must be an integer from {low} to {high}, not {value!r}"
            )

    return check
