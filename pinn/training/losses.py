"""Collocation points of a run and the loss terms evaluated on them."""
from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

if TYPE_CHECKING:
    from pinn.problem import Problem

from pinn.conditions import Batch
from pinn.model import Model


@dataclass
class Points:
    """The interior points where residuals are evaluated and each loss condition's batch."""

    interior: Tensor
    conditions: dict[str, Batch]

    def state_dict(self) -> dict:
        return {"interior": self.interior,
                "conditions": {k: {"points": b.points, "normals": b.normals, "target": b.target}
                               for k, b in self.conditions.items()}}

    @classmethod
    def from_state_dict(cls, state: dict, device: torch.device) -> "Points":
        move = (lambda t: None if t is None else t.to(device))
        return cls(move(state["interior"]),
                   {k: Batch(move(b["points"]), move(b["normals"]), move(b["target"]))
                    for k, b in state["conditions"].items()})


def draw_points(problem: Problem, rng: np.random.Generator, dtype: torch.dtype, device: torch.device,
                previous: Points | None = None) -> Points:
    """Fresh collocation points; conditions on fixed points (data) keep their previous batch."""
    method = problem.sampling.method
    interior = torch.as_tensor(problem.domain.sample_interior(problem.sampling.interior, method, rng),
                               dtype=dtype, device=device)
    batches = {}
    for name, condition in problem.loss_conditions.items():
        if previous is not None and not condition.resampled:
            batches[name] = previous.conditions[name]
        else:
            batches[name] = problem.condition_batch(condition, problem.points_for(condition), method, rng,
                                                    dtype, device)
    return Points(interior, batches)


def loss_terms(problem: Problem, model: Model, points: Points) -> dict[str, Tensor]:
    """Mean squared residual of every PDE residual and weighted mean square of every loss condition."""
    terms: dict[str, Tensor] = {}
    f = model.fields(points.interior)
    for name, residual in problem.residuals.items():
        terms[name] = residual(f).reshape(-1).square().mean()
    for name, condition in problem.loss_conditions.items():
        batch = points.conditions[name]
        fc = model.fields(batch.points, batch.normals)
        terms[name] = condition.weight * condition.residual(fc, batch).square().mean()
    return terms
