"""Argument checks shared by the geometry classes; each error names the argument at fault."""
from __future__ import annotations

from typing import Any

import numpy as np


def check_count(value: Any, name: str) -> int:
    """Return ``value`` as a positive int, or raise ValueError naming ``name``."""
    # bool is an int subclass, but ``True`` points is always a mistake.
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_rng(rng: Any) -> np.random.Generator:
    """Require an explicit numpy Generator so that one seed fixes a whole run."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            "rng must be a numpy.random.Generator, e.g. rng=np.random.default_rng(seed); "
            f"got {rng!r}"
        )
    return rng


def as_scalar(value: Any, name: str) -> float:
    """Return ``value`` as a finite float, or raise ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number, got {value!r}") from None
    if arr.ndim != 0 or not np.isfinite(arr):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(arr)


def as_vector(value: Any, name: str, dim: int) -> np.ndarray:
    """Return ``value`` as a read-only float64 array of shape ``(dim,)`` with finite entries."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be {dim} finite numbers, got {value!r}")
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {dim} finite numbers, got {value!r}") from None
    if arr.shape != (dim,):
        raise ValueError(f"{name} must be {dim} finite numbers (shape ({dim},)), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    arr.flags.writeable = False
    return arr


def as_points(x: Any, dim: int, name: str = "x") -> np.ndarray:
    """Return ``x`` as a float64 array of shape ``(N, dim)``, or raise ValueError."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"{name} must have shape (N, {dim}), got shape {arr.shape}")
    return arr


def fmt(value: float) -> str:
    """Format a number for a repr that reads like the constructor call."""
    return repr(float(value))


def fmt_vector(values: np.ndarray) -> str:
    return "(" + ", ".join(fmt(v) for v in values) + ")"
