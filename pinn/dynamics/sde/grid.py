"""Each observed path's own Euler-Maruyama grid, which holds every one of its observation times.

The gap between two observations is cut into ``ceil(gap / step)`` equal steps, so an observation is a
grid point (no interpolation between grid points, whose error would be of the order of the noise's
``g sqrt(step)``). Paths have grids of different lengths; they are padded to the longest with steps of length 0 (which
change nothing), so that all paths of a batch advance together.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from pinn.dynamics.trajectories import Trajectory


@dataclass(frozen=True)
class Grids:
    """The grids of P paths, padded: M steps, K observations at most, d states.

    Attributes:
        start: (P,) each path's first observation time, where its latent path starts.
        steps: (P, M) each step's length (0 where padded).
        target: (P, M) the index of the observation each step heads for (the next one).
        lengths: (P,) each path's count of steps.
        values: (P, K, d) the observed values (0 where padded).
        times: (P, K) the observation times (the last one repeated where padded).
        at: (P, K) the grid point of each observation (0 where padded).
        observed: (P, K) true where an observation is real, not padding.
    """

    start: Tensor
    steps: Tensor
    target: Tensor
    lengths: Tensor
    values: Tensor
    times: Tensor
    at: Tensor
    observed: Tensor

    def select(self, index: Tensor | None) -> "Grids":
        """The grids of the paths ``index`` (all: None), cut to the longest of them."""
        if index is None:
            return self
        lengths = self.lengths[index]
        steps = int(lengths.max())
        count = int(self.observed[index].sum(dim=1).max())
        return Grids(self.start[index], self.steps[index, :steps], self.target[index, :steps], lengths,
                     self.values[index, :count], self.times[index, :count], self.at[index, :count],
                     self.observed[index, :count])


def gap_steps(gap: float, step: float) -> np.ndarray:
    """The equal steps, no longer than ``step``, that cut one ``gap`` between observations."""
    count = max(int(math.ceil(gap / step - 1e-9)), 1)
    return np.full(count, gap / count)


def grids(paths: Sequence[Trajectory], step: float, dtype: torch.dtype, device: torch.device) -> Grids:
    """The padded grids of ``paths`` with steps no longer than ``step``."""
    count, most = len(paths), max(len(p) for p in paths)
    pieces = [[gap_steps(gap, step) for gap in np.diff(p.times)] for p in paths]
    cuts = [np.array([len(piece) for piece in path], dtype=np.int64) for path in pieces]
    longest = max(int(c.sum()) for c in cuts)
    states = paths[0].states
    steps = np.zeros((count, longest))
    target = np.zeros((count, longest), dtype=np.int64)
    values = np.zeros((count, most, states))
    times = np.zeros((count, most))
    at = np.zeros((count, most), dtype=np.int64)
    observed = np.zeros((count, most), dtype=bool)
    for k, (path, cut) in enumerate(zip(paths, cuts)):
        n = len(path)
        values[k, :n], times[k, :n], times[k, n:], observed[k, :n] = path.values, path.times, path.times[-1], True
        at[k, 1:n] = np.cumsum(cut)
        steps[k, :at[k, n - 1]] = np.concatenate(pieces[k])
        target[k, :at[k, n - 1]] = np.repeat(np.arange(1, n), cut)
        target[k, at[k, n - 1]:] = n - 1
    as_float = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    as_index = lambda a: torch.as_tensor(a, device=device)  # noqa: E731
    return Grids(as_float(times[:, 0]), as_float(steps), as_index(target), as_index(at.max(axis=1)),
                 as_float(values), as_float(times), as_index(at), as_index(observed))


def longest_step(paths: Sequence[Trajectory], step: float) -> float:
    """The longest step of any path's grid (at most ``step``)."""
    return max(float(gap_steps(gap, step)[0]) for p in paths for gap in np.diff(p.times))

