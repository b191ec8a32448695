"""Points in the unit cube: plain random, Latin hypercube, Sobol or Halton."""
from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import qmc

from ._checks import check_count, check_rng

SAMPLING_METHODS = ("uniform", "lhs", "sobol", "halton")
"""The names accepted by every ``method`` argument in :mod:`pinn.geometry`."""


def check_method(method: str) -> str:
    """Return ``method`` if it is one of :data:`SAMPLING_METHODS`, else raise ValueError."""
    if method not in SAMPLING_METHODS:
        raise ValueError(f"method must be one of {', '.join(SAMPLING_METHODS)}; got {method!r}")
    return method


def unit_samples(n: int, d: int, method: str, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` points in the unit cube ``[0, 1)^d`` as an ``(n, d)`` float64 array.

    Args:
        n: number of points (positive).
        d: dimension (positive).
        method: ``"uniform"`` (independent uniform draws), ``"lhs"`` (Latin hypercube),
            ``"sobol"`` or ``"halton"`` (scrambled low-discrepancy sequences). The
            low-discrepancy methods cover the cube more evenly than random draws; the
            first ``k`` rows of a Sobol or Halton sample are themselves evenly spread.
        rng: the generator all randomness (including scrambling) is drawn from, so the
            same seed gives the same points.

    Sobol points are best balanced when ``n`` is a power of two, but any ``n`` works.
    """
    n = check_count(n, "n")
    d = check_count(d, "d")
    check_method(method)
    check_rng(rng)
    if method == "uniform":
        return rng.random((n, d))
    if method == "lhs":
        engine = qmc.LatinHypercube(d, rng=rng)
    elif method == "sobol":
        engine = qmc.Sobol(d, scramble=True, rng=rng)
    else:
        engine = qmc.Halton(d, scramble=True, rng=rng)
    with warnings.catch_warnings():
        # Sobol with n not a power of two is still a good sample; the warning only alarms users.
        warnings.filterwarnings("ignore", message="The balance properties of Sobol", category=UserWarning)
        return engine.random(n)
