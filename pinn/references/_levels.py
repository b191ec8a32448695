"""What the finite-difference references share: the ladder of grids halved for Richardson
extrapolation and error estimates, thinning onto output nodes, and relative L2 differences."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def grid_levels(cells: Sequence[int], stride: Sequence[int], extrapolate: bool, estimate_error: bool) -> int:
    """How many grids to solve (each halving the last), after checking that ``cells`` and the output
    ``stride`` allow it; raises ValueError naming the setting at fault."""
    levels = 1 + bool(extrapolate) + bool(estimate_error)
    coarsest = 2 ** (levels - 1)
    for n, s in zip(cells, stride):
        if n % s:
            raise ValueError(f"output_stride {s} must divide cells {n}")
        if n % coarsest or n // coarsest < 2:
            raise ValueError(f"cells {n} must be divisible by {coarsest} into at least 2 cells "
                             f"(estimate_error={estimate_error}, extrapolate={extrapolate})")
        if extrapolate and s % 2:
            raise ValueError(f"output_stride must be even with extrapolate=True, got {s}")
    return levels


def thin(values: np.ndarray, stride: Sequence[int]) -> np.ndarray:
    """Every ``stride``-th node along each trailing axis of a ``(leading, *space)`` array."""
    return values[(slice(None),) + tuple(slice(None, None, s) for s in stride)]


def relative(difference: np.ndarray, reference: np.ndarray) -> float:
    """Relative L2 norm of ``difference`` over the finite entries (NaN marks points left out)."""
    keep = np.isfinite(difference) & np.isfinite(reference)
    scale, size = np.linalg.norm(reference[keep]), np.linalg.norm(difference[keep])
    if scale == 0.0:
        return 0.0 if size == 0.0 else math.inf
    return float(size / scale)
