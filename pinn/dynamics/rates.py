"""Rates estimated from the observations, for a warm start: fitting the vector field to them is cheap (no
solver) and brings it close enough that training through the solver then converges, where from a random
field it often does not (a field that makes the states blow up, or a rugged landscape over long windows).

Two estimators:

* ``spline``: a smoothing spline through each state's observations (``scipy.interpolate.
  make_smoothing_spline``, its smoothing chosen by generalised cross-validation), differentiated at the
  observation times and half-way between them; for noisy or irregular observations. The states there are
  the spline's own (smoothed) values.
* ``differences``: central finite differences of the given order at interior observations; for dense,
  evenly spaced, nearly noise-free observations (order 8 is exact to about h^8).

The estimates only start training: the phases after the warm start fit the integrated trajectories to the
observations themselves.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pinn.dynamics.trajectories import Trajectory

METHODS = ("spline", "differences")
CENTRAL = {  # first-derivative weights of the offsets 1..order/2 (antisymmetric: -w at -k)
    2: (1 / 2,),
    4: (2 / 3, -1 / 12),
    6: (3 / 4, -3 / 20, 1 / 60),
    8: (4 / 5, -1 / 5, 4 / 105, -1 / 280),
}
SPLINE_MIN_POINTS = 5  # make_smoothing_spline needs at least this many observations


@dataclass(frozen=True)
class Rates:
    """How the rates of a warm start are estimated from the observations.

    Args:
        method: ``spline`` or ``differences`` (module documentation).
        order: the order of the central differences (2, 4, 6 or 8).
    """

    method: str = "spline"
    order: int = 8

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"Rates method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.order not in CENTRAL:
            raise ValueError(f"Rates order must be one of {', '.join(map(str, CENTRAL))}, got {self.order!r}")


def estimate(rates: Rates, trajectory: Trajectory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(times, states, rates)`` of one trajectory; empty when it has too few observations for the method."""
    if rates.method == "spline":
        return _spline(trajectory)
    return _differences(trajectory, rates.order)


def _spline(trajectory: Trajectory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from scipy.interpolate import make_smoothing_spline

    t = trajectory.times
    if len(t) < SPLINE_MIN_POINTS:
        return _empty(trajectory.states)
    at = np.sort(np.concatenate([t, (t[1:] + t[:-1]) / 2]))
    states, rates = [], []
    for k in range(trajectory.states):
        spline = make_smoothing_spline(t, trajectory.values[:, k])
        states.append(spline(at))
        rates.append(spline.derivative()(at))
    return at, np.stack(states, axis=1), np.stack(rates, axis=1)


def _differences(trajectory: Trajectory, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, y = trajectory.times, trajectory.values
    half = order // 2
    if len(t) < order + 1:
        return _empty(trajectory.states)
    steps = np.diff(t)
    h = steps.mean()
    if np.max(np.abs(steps - h)) > 1e-6 * h:
        raise ValueError(f"trajectory {trajectory.name!r}: Rates method 'differences' needs evenly spaced times (its "
                         f"steps range from {steps.min():g} to {steps.max():g}); use method 'spline'")
    inner = slice(half, len(t) - half)
    rate = np.zeros_like(y[inner])
    for k, weight in enumerate(CENTRAL[order], start=1):
        rate += weight * (y[half + k:len(t) - half + k] - y[half - k:len(t) - half - k])
    return t[inner], y[inner], rate / h


def _empty(states: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0), np.zeros((0, states)), np.zeros((0, states))
