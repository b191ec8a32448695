"""What training a dynamics problem minimises: the misfit of integrated trajectories to the observations.

Each term's squared differences are divided by the variance of each state over all observations, so that
states of different sizes count alike and the loss reads as a fraction of the data's own spread.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from pinn.dynamics.integrate import Integration, integrate
from pinn.dynamics.model import VectorField
from pinn.dynamics.trajectories import Trajectory
from pinn.dynamics.windows import Windows
from pinn.train.generator import generator_state, restore_generator
from pinn.train.objective import Objective

Piece = tuple[int, int, int]  # (trajectory, first observation, one past the last)


class TrajectoryObjective(Objective):
    """The data misfit of ``field`` integrated over windows of ``trajectories`` (``data``, one term)."""

    def __init__(self, field: VectorField, trajectories: tuple[Trajectory, ...], windows: Windows,
                 integration: Integration, dtype: torch.dtype, device: torch.device, seed: int) -> None:
        self.module = field
        self.windows = windows
        self.integration = integration
        self.resample_every = windows.resample_every if (windows.length, windows.batch) != (None, None) else 0
        self.times = [torch.tensor(t.times, dtype=dtype, device=device) for t in trajectories]
        self.values = [torch.tensor(t.values, dtype=dtype, device=device) for t in trajectories]
        spread = np.concatenate([t.values for t in trajectories]).std(axis=0)
        self.inverse_variance = torch.as_tensor(1.0 / np.where(spread > 0, spread, 1.0) ** 2, dtype=dtype,
                                                device=device)
        self.rng = np.random.default_rng(seed)
        self.draws = 0  # batches drawn: the windows' growth follows it
        self.pieces = self._draw()

    # ------------------------------------------------------------------ batches
    def _every(self, length: int | None) -> list[Piece]:
        if length is None:
            return [(i, 0, len(t)) for i, t in enumerate(self.times)]
        pieces = []
        for i, t in enumerate(self.times):
            if len(t) <= length:
                pieces.append((i, 0, len(t)))
            else:
                pieces.extend((i, a, a + length) for a in range(len(t) - length + 1))
        return pieces

    def _draw(self) -> list[Piece]:
        length = self.windows.length_at(self.draws * max(self.resample_every, 1))
        every = [p for p in self._every(length) if p[2] - p[1] >= 2]
        if self.windows.batch is None or self.windows.batch >= len(every):
            return every
        chosen = self.rng.choice(len(every), size=self.windows.batch, replace=False)
        return [every[k] for k in np.sort(chosen)]

    def resample(self) -> None:
        self.draws += 1
        self.pieces = self._draw()

    def fix_batch(self) -> bool:
        pieces = [p for p in self._every(self.windows.final) if p[2] - p[1] >= 2]
        changed = pieces != self.pieces
        self.pieces = pieces
        return changed

    # ------------------------------------------------------------------ loss
    def terms(self) -> dict[str, Tensor]:
        initial = torch.stack([self.values[i][a] for i, a, _ in self.pieces])
        times = [self.times[i][a:b] for i, a, b in self.pieces]
        predicted = integrate(self.module, initial, times, self.integration)
        squared = sum(((p[1:] - self.values[i][a + 1:b]) ** 2 * self.inverse_variance).sum()
                      for p, (i, a, b) in zip(predicted, self.pieces))
        count = sum(b - a - 1 for _, a, b in self.pieces) * len(self.inverse_variance)
        return {"data": squared / count}

    def reported(self) -> dict[str, float]:
        return self.module.unknowns.as_floats()

    def summary(self) -> dict[str, Any]:
        return {"integration": {"method": self.integration.method, "adjoint": self.integration.adjoint}}

    def state_dict(self) -> dict[str, Any]:
        return {"rng": generator_state(self.rng), "draws": self.draws,
                "pieces": torch.tensor(self.pieces, dtype=torch.int64)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        restore_generator(self.rng, state["rng"])
        self.draws = int(state["draws"])
        self.pieces = [tuple(int(v) for v in row) for row in state["pieces"].tolist()]
