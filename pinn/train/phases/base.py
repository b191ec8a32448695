"""What a phase is: settings (a frozen value object) and, once a run starts, its state (a :class:`PhaseRun`).

A phase advances training by one or more steps per call of :meth:`PhaseRun.step`, which it makes
through the trainer's services only:

* ``trainer.differentiate()``: the loss terms as numbers (checked by the divergence guard), with the
  gradient of the (weighted) total in the parameters' ``.grad``;
* ``trainer.evaluate()``: the differentiable total and its terms as numbers, checked;
* ``trainer.check_gradients()``: raise :class:`~pinn.train.guard.StepDiverged` if a gradient is not finite;
* ``trainer.remember(optimizer_state)``: keep the current state as the last good one;
* ``trainer.objective``, ``trainer.parameters``, ``trainer.step``, ``trainer.balance``.

A new phase is one file: a frozen dataclass deriving from :class:`Phase` with a ``kind`` and a
``start`` that returns its :class:`PhaseRun`, exported from :mod:`pinn.train.phases`.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor

from pinn.train.validate import whole

if TYPE_CHECKING:
    from pinn.train.trainer import Trainer


@dataclass(frozen=True)
class Stall:
    """A stopping rule on the loss: the phase ends when its total loss has not fallen below its best
    by ``min_decrease`` times the best's magnitude for ``patience`` steps (a negative loss, such as a
    likelihood, stalls as a positive one does).

    Args:
        patience: steps without enough improvement before the phase ends.
        min_decrease: the relative decrease that counts as improvement.
    """

    patience: int = 200
    min_decrease: float = 1e-3

    def __post_init__(self) -> None:
        whole("Stall", "patience", self.patience, 1)
        value = self.min_decrease
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise ValueError(f"Stall min_decrease must be a number in [0, 1), got {value!r}")


@dataclass(frozen=True)
class Phase(abc.ABC):
    """One optimiser phase: how many steps, and when to stop sooner.

    Args:
        steps: the most steps this phase takes.
        stall: an optional :class:`Stall` rule that ends the phase sooner.
        name: how history.csv and ``--set`` name it (default: its kind, numbered if it repeats).
        time_share: under a time budget (``Training(time_budget=...)``), the fraction of it this
            phase may use, on top of what the phases before it left unused: the phase ends once
            the run has spent the shares of the phases up to it. None: only the budget itself ends it.
        terms: the objective's loss terms this phase minimises, where the objective offers a choice
            (a :class:`pinn.Dynamics` problem: ``("rates",)`` fits the field to the rates estimated from
            the data before ``("data",)`` fits the integrated trajectories); None: the objective's own.
        check_every: steps of this phase between measurements of the error against the reference;
            None: ``Checks.check_every``. The error is also measured when a phase ends, so each phase's
            last figure is in history.csv.
        stop_at_noise: end the phase once the loss is as low as the true solution's would be: every
            loss term fitting observations of declared noise (:class:`pinn.Data` with ``noise``,
            :func:`pinn.observe`) within ``1 + 2 sqrt(2 / n)`` of its noise's value (``n`` observed
            values; two standard deviations of a mean of ``n`` squared Gaussian errors), and the
            whole loss, residuals included, within the sum of those limits (the true solution's
            residuals are zero). Checked after each step, and before the phase begins: a phase after
            one that ended there does not start. Fitting further fits the noise (the discrepancy
            principle); without declared noise it never ends a phase.
    """

    steps: int
    stall: Stall | None = None
    name: str | None = None
    time_share: float | None = None
    terms: tuple[str, ...] | None = None
    check_every: int | None = None
    stop_at_noise: bool = False

    kind: ClassVar[str] = "phase"
    guards_jumps: ClassVar[bool] = False  # the guard checks the loss for jumps (small steps expected)
    balances: ClassVar[bool] = False  # loss weights are updated during this phase
    redraws_points: ClassVar[bool] = False  # the objective may redraw its batch (resample_every) in this phase
    rate_name: ClassVar[str] = "learning rate"  # what `PhaseRun.soften` makes gentler

    def __post_init__(self) -> None:
        label = type(self).__name__
        whole(label, "steps", self.steps)
        if self.stall is not None and not isinstance(self.stall, Stall):
            raise ValueError(f"{label} stall must be a pinn.Stall or None, got {type(self.stall).__name__}")
        if self.terms is not None:
            terms = (self.terms,) if isinstance(self.terms, str) else self.terms
            if not isinstance(terms, (tuple, list)) or not terms or not all(isinstance(t, str) and t for t in terms):
                raise ValueError(f"{label} terms must be loss-term names, e.g. ('rates',), or None, got {self.terms!r}")
            object.__setattr__(self, "terms", tuple(terms))
        if self.name is not None and (not isinstance(self.name, str) or not self.name.isidentifier()):
            raise ValueError(f"{label} name must be a simple identifier, got {self.name!r}")
        if self.check_every is not None:
            whole(label, "check_every", self.check_every, 1)
        if not isinstance(self.stop_at_noise, bool):
            raise ValueError(f"{label} stop_at_noise must be True or False, got {self.stop_at_noise!r}")
        share = self.time_share
        if share is not None and (isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1):
            raise ValueError(f"{label} time_share must be a number in (0, 1] or None, got {share!r}")

    def skip_reason(self, weights: int) -> str | None:
        """Why this phase should not run for a model of ``weights`` trainable weights (None: it runs)."""
        return None

    @abc.abstractmethod
    def start(self, parameters: list[Tensor]) -> "PhaseRun":
        """This phase's state for a run training ``parameters`` (made before training begins, so that
        a checkpoint holds every phase's state)."""


class PhaseRun(abc.ABC):
    """A phase's state during a run."""

    converged = False  # set when no step can lower the loss any more: the phase ends

    @abc.abstractmethod
    def step(self, trainer: "Trainer", remaining: int) -> tuple[dict[str, float], float, int]:
        """Advance by at most ``remaining`` steps; return the loss terms reached, the rate shown in the
        history (learning rate or damping) and the number of steps counted (at least 1)."""

    @abc.abstractmethod
    def rate(self) -> float:
        """The current learning rate (or what stands for it)."""

    @abc.abstractmethod
    def soften(self, old: float, factor: float) -> float:
        """After a diverged step: make the next one gentler than ``old`` by ``factor``; return the new rate."""

    def restore(self, snapshot: Any) -> None:
        """Back to the last good state, whose optimiser state (from ``trainer.remember``) is ``snapshot``."""

    def forget(self) -> None:
        """The objective drew a new batch: drop what belongs to the old one's loss."""

    @abc.abstractmethod
    def state_dict(self) -> dict: ...

    @abc.abstractmethod
    def load_state_dict(self, state: dict) -> None: ...


class OptimizerRun(PhaseRun):
    """A phase run by a ``torch.optim`` optimiser (``self.optimizer``) whose rate is its learning rate."""

    optimizer: "torch.optim.Optimizer"

    def rate(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def soften(self, old: float, factor: float) -> float:
        for group in self.optimizer.param_groups:
            group["lr"] = old * factor
        return self.rate()
