"""Sample paths of an SDE as :class:`pinn.dynamics.Trajectory` objects, and the steps the likelihood reads.

Each path is a ``Trajectory`` (its own times, strictly increasing; finite values; checked when made), read
from CSV or HDF5 by :func:`pinn.dynamics.read_trajectories` or made from arrays by :func:`paths_from_arrays`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pinn.dynamics.trajectories import Trajectory, check_states


def paths_from_arrays(times: np.ndarray | Sequence[np.ndarray],
                      values: np.ndarray | Sequence[np.ndarray]) -> tuple[Trajectory, ...]:
    """Paths from arrays: ``times`` (points,) shared by all, (paths, points), or one array per path;
    ``values`` (paths, points), (paths, points, states), or one array per path ((points,) or (points, states)).
    Path ``k`` is named ``"path k"`` in messages."""
    if isinstance(values, np.ndarray) or not isinstance(values, Sequence):
        values = np.asarray(values, dtype=np.float64)
        if values.ndim not in (2, 3):
            raise ValueError(f"sample paths: values must have shape (paths, points) or (paths, points, states), "
                             f"got {values.shape}")
        values = list(values)
    if isinstance(times, np.ndarray) or not isinstance(times, Sequence):
        times = np.asarray(times, dtype=np.float64)
        times = [times] * len(values) if times.ndim == 1 else list(times)
    if len(times) != len(values):
        raise ValueError(f"sample paths: {len(times)} time arrays for {len(values)} paths")
    return tuple(Trajectory(t, v, name=f"path {k}") for k, (t, v) in enumerate(zip(times, values)))


def check_paths(paths: Sequence[Trajectory], states: Sequence[str], where: str) -> tuple[Trajectory, ...]:
    """The paths as a tuple, once checked: at least one, each of at least two points, one value per state."""
    paths = tuple(paths) if isinstance(paths, Sequence) and not isinstance(paths, str) else ()
    if not paths:
        raise ValueError(f"{where}: paths must be a non-empty sequence of pinn.dynamics.Trajectory")
    check_states(paths, states, where)
    for path in paths:
        if len(path) < 2:
            raise ValueError(f"{where}: trajectory {path.name!r} has one point; a path needs two to make a step")
    return paths


def transitions(paths: Sequence[Trajectory]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every observed step, over all paths: ``(x_before, x_after, t_before, dt)`` of shapes
    (N, d), (N, d), (N,), (N,)."""
    before = np.concatenate([p.values[:-1] for p in paths])
    after = np.concatenate([p.values[1:] for p in paths])
    t0 = np.concatenate([p.times[:-1] for p in paths])
    dt = np.concatenate([np.diff(p.times) for p in paths])
    return before, after, t0, dt


def bounds(paths: Sequence[Trajectory]) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and largest observed value of each state, then of time."""
    stacked = np.concatenate([p.values for p in paths])
    lower = np.append(stacked.min(axis=0), min(float(p.times[0]) for p in paths))
    upper = np.append(stacked.max(axis=0), max(float(p.times[-1]) for p in paths))
    return lower, np.maximum(upper, lower + 1e-12)
