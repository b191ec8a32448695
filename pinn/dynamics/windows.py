"""Which pieces of the trajectories a training step fits: windows of consecutive observations, drawn at random,
growing until they span whole trajectories.

Fitting a long trajectory from its first state at once is hard (a small error in the field grows along the
way and the loss landscape is rugged): short windows, each integrated from its own first observation, learn
the local field first; growing them teaches the long-time behaviour. Phases that keep one batch (L-BFGS)
fit the whole trajectories, or every window of the final length where ``final`` is set.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Windows:
    """How the observations are batched.

    Args:
        length: observations per window at the start (None: whole trajectories throughout).
        batch: windows per step (None: every window, of every trajectory).
        grow_every: steps between doublings of the length (0: it stays); a length past a trajectory's own length
            fits the whole trajectory.
        final: the length that phases keeping one batch (L-BFGS) fit, as every window of that length (None: whole
            trajectories).
        resample_every: steps between draws of a new batch (while Adam runs).
        stride: the observations between the starts of the windows that ``final`` makes.
    """

    length: int | None = None
    batch: int | None = None
    grow_every: int = 0
    final: int | None = None
    resample_every: int = 1
    stride: int = 1

    def __post_init__(self) -> None:
        for name in ("length", "batch", "final"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < (
                    1 if name == "batch" else 2)):
                raise ValueError(f"Windows {name} must be a whole number >= {1 if name == 'batch' else 2} or None, "
                                 f"got {value!r}")
        for name, least in (("grow_every", 0), ("resample_every", 0), ("stride", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"Windows {name} must be a whole number >= {least}, got {value!r}")

    def length_at(self, step: int) -> int | None:
        """The window length at training step ``step`` (None: whole trajectories)."""
        if self.length is None:
            return None
        if self.grow_every:
            return self.length * 2 ** (step // self.grow_every)
        return self.length
