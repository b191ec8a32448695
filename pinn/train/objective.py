"""The seam between the trainer and a model family: what the trainer minimises.

An :class:`Objective` owns its trainable module, draws its batches and gives its named loss terms
(and their gradient) for the current batch; optionally its residual vector and Jacobian, or directly
the Gauss-Newton system they make (for the Levenberg-Marquardt phase); and its own state for
checkpoints. The trainer sees nothing else: a physics-informed problem
(:class:`pinn.pde.objective.PinnObjective`) is one implementation, and a new model family is another,
with the same trainer, guard, checkpoints, history and run folder.
"""
from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from pinn.train.weighting import weighted_total


@dataclass
class NormalEquations:
    """A Gauss-Newton system (:meth:`Objective.normal_equations`): ``normal`` (P, P), ``gradient`` (P,),
    the ``loss`` they were measured at, the number of residual ``rows`` behind them, and whether all of
    it is ``finite``."""

    normal: Tensor
    gradient: Tensor
    loss: float
    rows: int
    finite: bool = True


class Objective(abc.ABC):
    """What the trainer minimises: ``sum_k w_k L_k`` over named loss terms ``L_k`` on the current batch.

    Attributes:
        module: the module holding every parameter; its ``state_dict`` is the checkpoint's model.
        resample_every: the trainer calls :meth:`resample` every this many steps (0: one batch throughout).
        selectable_terms: the loss terms a phase may choose to minimise (``Phase.terms``, see :meth:`select`).
    """

    module: nn.Module
    resample_every: int = 0
    selectable_terms: tuple[str, ...] = ()  # the terms a phase may choose among (Phase.terms); () none

    def parameters(self) -> list[Tensor]:
        """Every parameter of the module, in order (the optimisers' parameters)."""
        return list(self.module.parameters())

    def trainable(self) -> list[Tensor]:
        """The parameters that are trained (``requires_grad``)."""
        return [p for p in self.module.parameters() if p.requires_grad]

    @abc.abstractmethod
    def terms(self) -> dict[str, Tensor]:
        """The loss terms on the current batch, differentiable with respect to the parameters."""

    def backward(self, weights: Mapping[str, float]) -> dict[str, Tensor]:
        """The loss terms (detached), after adding the gradient of ``sum_k w_k L_k`` (``w_k`` 1 where
        absent) to the parameters' ``.grad``. Override where a faster route exists (a compiled one)."""
        terms = self.terms()
        weighted_total(terms, weights).backward()
        return {name: term.detach() for name, term in terms.items()}

    def residuals_and_jacobian(self, weights: Mapping[str, float]) -> tuple[Tensor, Tensor]:
        """The residual vector ``r`` whose ``r @ r`` is the weighted loss, and ``J = dr/dtheta`` over the
        trainable parameters in order (for :class:`~pinn.train.phases.LevenbergMarquardt`)."""
        raise NotImplementedError

    def normal_equations(self, weights: Mapping[str, float]) -> NormalEquations:
        """What a Levenberg-Marquardt step solves: a Gauss-Newton matrix ``G`` (about half the Hessian of
        the weighted loss, positive semi-definite), half the loss's gradient ``b``, the loss itself, and
        how many residual values stand behind them; the step is ``(G + mu diag G) delta = -b``. By
        default from :meth:`residuals_and_jacobian`: ``G = J^T J``, ``b = J^T r``, the loss ``r @ r``. A
        loss that is not a sum of squares (a Gaussian negative log-likelihood) overrides this with its
        Fisher information (Fisher scoring)."""
        residuals, jacobian = self.residuals_and_jacobian(weights)
        finite = bool(torch.isfinite(residuals).all()) and bool(torch.isfinite(jacobian).all())
        return NormalEquations(jacobian.T @ jacobian, jacobian.T @ residuals, float(residuals @ residuals),
                               residuals.numel(), finite)

    def resample(self) -> None:
        """Draw a new batch."""

    def select(self, terms: tuple[str, ...] | None) -> bool:
        """A phase begins that minimises ``terms`` (its ``Phase.terms``, among :attr:`selectable_terms`; None:
        the objective's own choice): :meth:`terms` gives those from now on. Returns whether they changed."""
        return False

    def fix_batch(self) -> bool:
        """A phase that keeps one batch throughout (L-BFGS, Levenberg-Marquardt) begins, after one that redraws
        or at the start: choose the batch it keeps (for example all the data, where Adam drew windows of it).
        Returns whether the batch changed (default: it stays)."""
        return False

    def noise_floors(self) -> dict[str, tuple[float, int]]:
        """For each loss term that fits observations of declared noise: the value it is expected to have
        at the true solution (only the noise left) and how many values it averages, for the stopping
        rule ``Phase(stop_at_noise=True)``. Default: none."""
        return {}

    def reported(self) -> dict[str, float]:
        """Values logged with every step (history.csv ``param_<name>``), e.g. recovered coefficients."""
        return {}

    def summary(self) -> dict[str, Any]:
        """Facts about how it computed, for metrics.json."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """Its state besides the module's (batches, random generators) for an exact resume."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state_dict`."""
