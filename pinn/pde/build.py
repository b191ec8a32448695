"""What a run builds from a problem's declaration: its model, its condition batches, how many points each gets.

A :class:`pinn.Problem` only declares (and checks) a problem; these functions read it and make
what training and evaluation need from it. None of them changes the problem. ``condition``
arguments are conditions *of the problem*, as bound to it: values of ``problem.conditions``
(or :func:`loss_conditions`), never the objects the user passed in, which know nothing of the
problem's inputs, outputs or run settings.

- :func:`build_model`: a freshly initialised model (network, exact conditions, known parts,
  derived quantities, unknowns);
- :func:`loss_conditions`: the conditions imposed through the loss;
- :func:`points_for`: how many points a condition gets each time points are drawn;
- :func:`condition_batch`: a condition's points (and normals), and its prescribed values there;
- :func:`condition_target`: a condition's prescribed values at given points.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from pinn.pde.conditions import Batch, Condition, Initial
from pinn.pde.exact import OutputTransform
from pinn.pde.derived_quantities import DerivedModel
from pinn.pde.model import Model
from pinn.nets import Net

if TYPE_CHECKING:
    from pinn.pde.problem import Problem


def build_model(problem: Problem, dtype: torch.dtype, device: torch.device, seed: int,
                net: Net | None = None) -> Model:
    """A freshly initialised model of ``problem`` in ``dtype`` on ``device``.

    The weights are drawn from a generator seeded with ``seed`` (the same seed, the same weights,
    on any device); ``net`` replaces the problem's own network settings (``problem.net``). The
    model imposes the problem's exact conditions and known parts through its output, and computes
    its derived quantities and unknowns. The network has one output per field, and one more per
    singular corner term (:mod:`pinn.pde.exact`).
    """
    lower, upper = (torch.tensor(np.asarray(b, dtype=np.float64), dtype=dtype) for b in problem.domain.bbox)
    generator = torch.Generator().manual_seed(seed)
    transform = (OutputTransform(problem.domain, problem.inputs, problem.outputs, problem.time, problem.exact_outputs)
                 if problem.exact_outputs else None)
    extra = 0 if transform is None else transform.extra_outputs  # one raw column per singular corner term
    module = (net or problem.net).build(len(problem.inputs), len(problem.outputs) + extra, lower, upper, generator)
    model = (functools.partial(DerivedModel, derived=problem.derived) if problem.derived else Model)(
        module, transform, problem.inputs, problem.outputs, problem.time, tuple(problem.unknowns))
    return model.to(device=device, dtype=dtype)


def loss_conditions(problem: Problem) -> dict[str, Condition]:
    """The conditions imposed through the loss, by name: every one not imposed exactly (by the output's
    form, or, for a Periodic condition, by a network periodic in its axis)."""
    met = getattr(problem, "periodic_exact", frozenset())
    return {name: condition for name, condition in problem.conditions.items()
            if not condition.exact and name not in met}


def points_for(problem: Problem, condition: Condition) -> int:
    """How many points ``condition`` gets per draw: its own ``points``, else the problem's sampling
    setting for its kind (``sampling.initial`` for an initial condition, ``sampling.boundary`` otherwise)."""
    if condition.points is not None:
        return condition.points
    return problem.sampling.initial if isinstance(condition, Initial) else problem.sampling.boundary


def condition_target(problem: Problem, condition: Condition, points: Tensor) -> Tensor | None:
    """``condition``'s prescribed values at ``points`` (N, number of inputs), in their dtype and on
    their device; None for a condition that prescribes no value (periodicity)."""
    return condition.target(points, problem.inputs, problem.time)


def condition_batch(problem: Problem, condition: Condition, n: int, method: str, rng: np.random.Generator,
                    dtype: torch.dtype, device: torch.device) -> Batch:
    """``n`` points of ``condition`` drawn by ``method`` (a :class:`pinn.Sampling` method) from ``rng``,
    with their outward normals where the condition uses them and its prescribed values there, as
    tensors of ``dtype`` on ``device``. A condition on fixed points (observed data) returns those
    points whatever ``n``, ``method`` and ``rng``."""
    points, normals = condition.sample(problem.domain, n, method, rng)
    points_t = torch.as_tensor(points, dtype=dtype, device=device)
    normals_t = None if normals is None else torch.as_tensor(normals, dtype=dtype, device=device)
    return Batch(points_t, normals_t, condition_target(problem, condition, points_t))
