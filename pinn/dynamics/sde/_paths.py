"""Observed sample paths of an SDE, each with its own time points (a minimal, private container).

The lead's ``pinn.dynamics.trajectories`` will replace it; until then only :func:`paths_from_arrays`
and :meth:`SamplePaths.transitions` are used by the rest of the package, so the swap touches one file.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SamplePaths:
    """Paths ``values[k]`` of shape (points_k, dimension) observed at ``times[k]`` (strictly increasing).

    Build with :func:`paths_from_arrays`, which checks every path.
    """

    times: tuple[np.ndarray, ...]
    values: tuple[np.ndarray, ...]

    def __post_init__(self) -> None:
        if len(self.times) != len(self.values) or not self.times:
            raise ValueError(f"SamplePaths: needs as many time arrays as value arrays, and at least one path; got "
                             f"{len(self.times)} time arrays and {len(self.values)} value arrays")
        dimension = self.values[0].shape[1]
        for k, (t, x) in enumerate(zip(self.times, self.values)):
            where = f"SamplePaths: path {k}"
            if t.ndim != 1 or t.size < 2:
                raise ValueError(f"{where}: times must be one-dimensional with at least 2 points, got shape {t.shape}")
            if x.ndim != 2 or x.shape[0] != t.size:
                raise ValueError(f"{where}: values must have shape ({t.size}, dimension) to match its times, "
                                 f"got {x.shape}")
            if x.shape[1] != dimension:
                raise ValueError(f"{where}: has dimension {x.shape[1]}, path 0 has {dimension}; "
                                 "every path must observe the same states")
            if not np.all(np.isfinite(t)):
                raise ValueError(f"{where}: times contain NaN or infinite values (first at index "
                                 f"{int(np.flatnonzero(~np.isfinite(t))[0])})")
            if not np.all(np.isfinite(x)):
                raise ValueError(f"{where}: values contain NaN or infinite values (first at time index "
                                 f"{int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])})")
            steps = np.diff(t)
            if not np.all(steps > 0):
                bad = int(np.flatnonzero(steps <= 0)[0])
                raise ValueError(f"{where}: times must be strictly increasing, but t[{bad + 1}] = {t[bad + 1]:g} "
                                 f"follows t[{bad}] = {t[bad]:g}")

    @property
    def dimension(self) -> int:
        return int(self.values[0].shape[1])

    @property
    def count(self) -> int:
        return len(self.times)

    def transitions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every observed step, flattened over paths: ``(x_before, x_after, t_before, dt, path_index)``
        with shapes (N, d), (N, d), (N,), (N,), (N,)."""
        before = np.concatenate([x[:-1] for x in self.values])
        after = np.concatenate([x[1:] for x in self.values])
        t0 = np.concatenate([t[:-1] for t in self.times])
        dt = np.concatenate([np.diff(t) for t in self.times])
        index = np.concatenate([np.full(t.size - 1, k) for k, t in enumerate(self.times)])
        return before, after, t0, dt, index

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The smallest and largest observed value of each state (for input normalisation)."""
        stacked = np.concatenate(self.values)
        return stacked.min(axis=0), stacked.max(axis=0)


def paths_from_arrays(times: np.ndarray | Sequence[np.ndarray], values: np.ndarray | Sequence[np.ndarray]) -> SamplePaths:
    """Paths from arrays: ``times`` (points,) shared by all, or (paths, points), or one array per path;
    ``values`` (paths, points), (paths, points, dimension) or one array per path ((points,) or (points, d))."""
    if isinstance(values, np.ndarray) or not isinstance(values, Sequence):
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 2:
            values = values[..., None]
        if values.ndim != 3:
            raise ValueError(f"SamplePaths: values must have shape (paths, points) or (paths, points, dimension), "
                             f"got {values.shape}")
        values = list(values)
    values = [np.asarray(v, dtype=np.float64) for v in values]
    values = [v[:, None] if v.ndim == 1 else v for v in values]
    if isinstance(times, np.ndarray) or not isinstance(times, Sequence):
        times = np.asarray(times, dtype=np.float64)
        times = [times] * len(values) if times.ndim == 1 else list(times)
    times = [np.asarray(t, dtype=np.float64) for t in times]
    return SamplePaths(tuple(times), tuple(values))
