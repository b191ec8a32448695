"""Levenberg-Marquardt (damped Gauss-Newton) steps on the objective's vector of residuals.

The loss is a sum of squares, ``L = sum_i r_i^2``, where the objective scales each residual by the
square root of its term's weight over its count (:meth:`pinn.train.objective.Objective.residuals_and_jacobian`). With
``J = dr/dtheta`` (one row per residual value, one column per weight), a step solves

    (J^T J + mu diag(J^T J)) delta = -J^T r

and is taken only if it lowers the loss; ``mu`` then shrinks (by 3), else it grows (by 4) and the
step is solved again with the same ``J``. Curvature that L-BFGS only estimates from a few past
steps is used exactly, which is what carries a small network past the flat region where L-BFGS
stalls (at a loss of ~1e-7 on the problems here). A step costs one Jacobian, one ``P x P`` product
and Cholesky factorisation (``P`` weights): meant for small networks (up to a few thousand weights).
It needs more residual values than weights: with fewer, it can fit every residual exactly while
the error between them grows (on ``heat.py``, 2000 points for 2273 weights took the loss down and
the error up; an :class:`UnderdeterminedWarning` says so). When no damping lowers the loss the
phase has converged and ends.

An objective whose loss is not a sum of squares gives the system directly
(:meth:`pinn.train.objective.Objective.normal_equations`): the transition likelihood of an SDE gives its
Fisher information with the exact gradient (Fisher scoring), the step taken only if it lowers that loss.

Across processes each process's residuals are those of its share of the points, scaled so that its
``r @ r`` is its share of the loss; ``J^T J``, ``J^T r`` and ``r @ r`` are averaged over the processes
(one all-reduce), which gives the global system, and every process solves it alike.
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import torch
from torch import Tensor

from pinn.train import distributed
from pinn.train.guard import StepDiverged
from pinn.train.objective import NormalEquations
from pinn.train.phases.base import Phase, PhaseRun
from pinn.train.validate import positive, whole

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from pinn.train.trainer import Trainer

GROW, SHRINK = 4.0, 3.0  # the damping's factors after a rejected and an accepted step
MIN_DAMPING, MAX_DAMPING = 1e-12, 1e10  # beyond MAX_DAMPING no step lowers the loss: converged


class UnderdeterminedWarning(UserWarning):
    """Fewer residual values than weights: Gauss-Newton fits the points, not the equations between them."""


@dataclass(frozen=True)
class LevenbergMarquardt(Phase):
    """Levenberg-Marquardt steps (for networks of up to a few thousand weights; the objective must
    give its residual vector and Jacobian). If the phase before it ends early, this one starts at once.

    Args:
        steps: Levenberg-Marquardt steps.
        damping: the initial damping ``mu``, relative to the diagonal of ``J^T J``.
        max_weights: skip the phase (with a logged reason) when the model has more trainable
            weights than this, as a step's cost grows with their cube; None: always run.
        min_rows_per_weight: end the phase at its first step (logged) when the residual vector has
            fewer values than this many per weight, where Gauss-Newton would fit the points rather than
            the equations between them; 0: always step (warning below one per weight).
        check_every: steps between measurements of the error: every 10th, as a step costs
            hundreds of first-order steps (the progress bar shows this phase's own error).
        stall: see :class:`~pinn.train.phases.base.Phase`.
        name: see :class:`~pinn.train.phases.base.Phase`.
        time_share: see :class:`~pinn.train.phases.base.Phase`.
    """

    steps: int = 100
    check_every: int | None = 10
    damping: float = 1e-3
    max_weights: int | None = None
    min_rows_per_weight: float = 0.0

    kind: ClassVar[str] = "levenberg_marquardt"
    rate_name: ClassVar[str] = "damping"

    def __post_init__(self) -> None:
        super().__post_init__()
        positive("LevenbergMarquardt", "damping", self.damping)
        if self.max_weights is not None:
            whole("LevenbergMarquardt", "max_weights", self.max_weights, 1)
        rows = self.min_rows_per_weight
        if isinstance(rows, bool) or not isinstance(rows, (int, float)) or not 0 <= rows < float("inf"):
            raise ValueError(f"LevenbergMarquardt min_rows_per_weight must be a number >= 0, got {rows!r}")

    def skip_reason(self, weights: int) -> str | None:
        if self.max_weights is not None and weights > self.max_weights:
            return (f"the model has {weights} weights, more than max_weights={self.max_weights} "
                    "(a step's cost grows with their cube)")
        return None

    def start(self, parameters: list[Tensor]) -> "LevenbergMarquardtRun":
        return LevenbergMarquardtRun(self, parameters)


class LevenbergMarquardtRun(PhaseRun):
    def __init__(self, phase: LevenbergMarquardt, parameters: list[Tensor]) -> None:
        self.damping = float(phase.damping)
        self.min_rows_per_weight = float(phase.min_rows_per_weight)
        self._warned = False

    def step(self, trainer: "Trainer", remaining: int) -> tuple[dict[str, float], float, int]:
        trainer.remember(None)
        damping = self.damping
        terms = self.solve(trainer)
        return terms, damping, 1

    def solve(self, trainer: "Trainer") -> dict[str, float]:
        """One Jacobian of the objective's residuals (weighted by the trainer's loss weights) and as many
        damped solves as it takes to lower the trainer's total loss. Returns the terms where it ends;
        sets :attr:`converged` when no damping lowers the loss."""
        objective, evaluate = trainer.objective, trainer.evaluate
        try:
            system = objective.normal_equations(trainer.balance.weights)
        except NotImplementedError:
            raise TypeError(f"{type(objective).__name__} gives no residual vector: the Levenberg-Marquardt phase "
                            "cannot train it; remove that phase from the schedule") from None
        if distributed.active():
            system = _global_system(system)
        normal, gradient, start, rows, finite = (system.normal, system.gradient, system.loss, system.rows,
                                                 system.finite)
        weights = normal.shape[0]
        if rows < self.min_rows_per_weight * weights:
            logger.info("levenberg_marquardt ends at once: %d residual values for %d weights, fewer than "
                        "min_rows_per_weight=%g per weight (sample more points to use it)", rows, weights,
                        self.min_rows_per_weight)
            self.converged = True
            return evaluate()[1]
        if rows < weights and not self._warned:
            self._warned = True
            warnings.warn(
                f"Gauss-Newton has {rows} residual values for {weights} weights: it can fit them "
                "exactly while the error between the points grows; sample more points than the network has weights "
                "(sampling.interior)", UnderdeterminedWarning, stacklevel=2)
        if not finite:
            raise StepDiverged(trainer.gradient_culprit("the residuals or their Jacobian became NaN or infinite"))
        scale = normal.diagonal().clone()
        floor = 1e-12 * float(scale.mean()) + torch.finfo(normal.dtype).tiny  # weights without any effect
        parameters = objective.trainable()
        theta = torch.cat([p.detach().reshape(-1) for p in parameters])
        terms: dict[str, float] = {}
        while self.damping <= MAX_DAMPING:
            system = normal.clone()  # the damping on the diagonal, in place: no dense diagonal matrix per trial
            system.diagonal().add_(self.damping * scale + floor)
            factor, info = torch.linalg.cholesky_ex(system)
            if int(info) == 0:
                delta = torch.cholesky_solve(-gradient[:, None], factor)[:, 0]
                _assign(parameters, theta + delta)
                try:
                    total, terms = evaluate()
                except StepDiverged:  # NaN or infinite there: a step too long, like any that fails
                    total = None
                if total is not None and float(total.detach()) < start:
                    self.damping = max(self.damping / SHRINK, MIN_DAMPING)
                    return terms
            self.damping *= GROW
        _assign(parameters, theta)
        self.converged = True
        return evaluate()[1]

    def rate(self) -> float:
        return self.damping

    def soften(self, old: float, factor: float) -> float:
        self.damping = old / factor  # a gentler Gauss-Newton step is a larger damping
        return self.damping

    def state_dict(self) -> dict:
        return {"damping": self.damping, "converged": self.converged}

    def load_state_dict(self, state: dict) -> None:
        self.damping = float(state["damping"])
        self.converged = bool(state["converged"])


def _global_system(system: NormalEquations) -> NormalEquations:
    """The processes' systems averaged (``J^T J``, ``J^T r``, the loss), the residual values of all of them,
    and whether every process's were finite: one all-reduce."""
    normal, gradient = system.normal, system.gradient
    n = normal.shape[0]
    packed = torch.cat([normal.reshape(-1), gradient, gradient.new_tensor([system.loss, system.rows,
                                                                           0.0 if system.finite else 1.0])])
    distributed.average_([packed])
    world = distributed.world_size()
    return NormalEquations(packed[:n * n].view(n, n), packed[n * n:n * n + n], float(packed[n * n + n]),
                           round(float(packed[-2]) * world), float(packed[-1]) == 0.0)


def _assign(parameters: list[Tensor], flat: Tensor) -> None:
    with torch.no_grad():
        offset = 0
        for p in parameters:
            p.copy_(flat[offset:offset + p.numel()].view_as(p))
            offset += p.numel()
