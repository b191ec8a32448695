"""Rejection sampling that keeps low-discrepancy structure, and proportional splitting."""
from __future__ import annotations

from typing import Callable

import numpy as np

# A draw this large that accepts under this fraction means the target is (nearly) empty. The
# fraction is small, and the draw large enough to see it: a genuine part can be tiny (the inlet
# of a long thin channel), and only costs a larger draw.
_VERDICT_DRAW = 1_000_000
_MIN_RATE = 1e-5
_MAX_DRAW = 20_000_000
_MAX_ROUNDS = 12

Draw = Callable[[int], tuple[tuple[np.ndarray, ...], np.ndarray]]


def first_accepted(n: int, draw: Draw, what: str, error: type[Exception] = ValueError) -> tuple[np.ndarray, ...]:
    """Return the first ``n`` accepted rows of a single draw.

    ``draw(m)`` returns ``(arrays, mask)``: ``m`` candidate rows in each array and which
    are accepted. Rows come from one draw (redrawn larger when too few pass) so that a
    Sobol or Halton sample keeps its order and evenness. ``what`` describes the target in
    the error raised when almost nothing is accepted.
    """
    m = n
    for _ in range(_MAX_ROUNDS):
        arrays, mask = draw(m)
        idx = np.flatnonzero(mask)
        if idx.size >= n:
            return tuple(a[idx[:n]] for a in arrays)
        rate = idx.size / m
        if m >= _VERDICT_DRAW and rate < _MIN_RATE:
            break
        if idx.size == 0:
            m = min(max(16 * m, 1024), _VERDICT_DRAW)
        else:
            m = int(np.ceil(1.25 * n / rate)) + 16
        if m > _MAX_DRAW:
            break
    raise error(
        f"{what}: only {idx.size} of {len(mask)} candidate points were accepted, "
        f"too few to collect {n} points"
    )


def proportional_counts(n: int, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Split ``n`` into integer counts proportional to ``weights``.

    Each count is the floor of its share plus at most one, the leftover units going to
    parts chosen at random in proportion to their fractional remainders (unbiased).
    """
    share = n * np.asarray(weights, dtype=float) / np.sum(weights)
    counts = np.floor(share).astype(int)
    left = n - int(counts.sum())
    if left > 0:
        rest = share - counts
        picks = rng.choice(len(counts), size=left, replace=False, p=rest / rest.sum())
        counts[picks] += 1
    return counts
