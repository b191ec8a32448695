"""The time span of an evolution problem."""
from __future__ import annotations

from ._checks import as_scalar, fmt


class TimeInterval:
    """The closed time span ``[t0, t1]``; ``space * TimeInterval(t0, t1)`` is a :class:`SpaceTime`."""

    def __init__(self, t0: float, t1: float) -> None:
        self.t0 = as_scalar(t0, "t0")
        self.t1 = as_scalar(t1, "t1")
        if not self.t0 < self.t1:
            raise ValueError(f"TimeInterval needs t0 < t1, got t0={self.t0!r}, t1={self.t1!r}")

    @property
    def length(self) -> float:
        return self.t1 - self.t0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimeInterval) and (self.t0, self.t1) == (other.t0, other.t1)

    def __hash__(self) -> int:
        return hash((TimeInterval, self.t0, self.t1))

    def __repr__(self) -> str:
        return f"TimeInterval({fmt(self.t0)}, {fmt(self.t1)})"
