"""Checks of settings values, each error naming the object and the setting at fault."""
from __future__ import annotations

from collections.abc import Sequence


def whole(owner: str, name: str, value: object, least: int = 0) -> None:
    """A ValueError unless ``value`` is a whole number >= ``least`` (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"{owner} {name} must be a whole number >= {least}, got {value!r}")


def positive(owner: str, name: str, value: object) -> None:
    """A ValueError unless ``value`` is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValueError(f"{owner} {name} must be a positive number, got {value!r}")


def one_of(owner: str, name: str, value: object, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{owner} {name} {value!r} is not one of {', '.join(allowed)}")
