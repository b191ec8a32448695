"""A physics-informed problem as an objective of the shared trainer.

:class:`PinnObjective` builds what a :class:`pinn.Problem` declares: the model (network, exact
conditions, unknowns), the collocation points and condition batches (redrawn every
``sampling.resample_every`` steps), the causal weights of the interior points (updated every
``sampling.causal.update_every`` steps, :mod:`pinn.pde.causal`), and the loss (mean squared residuals and weighted condition
terms, :mod:`pinn.pde.losses`) with its residual vector and Jacobian for Levenberg-Marquardt
(:mod:`pinn.pde.jacobian`). :func:`pinn_trainer` puts it together with a
:class:`~pinn.validation.GridCheck` against the problem's reference grid.

Across processes (:mod:`pinn.train.distributed`) every process draws the same points from the same
seed and keeps its share (contiguous, in process order; a periodic condition's pairs stay pairs), so
together they hold exactly the points one process would. Each term is its share's mean times
``n_share * processes / n_all``, so the mean of the processes' terms is the global term even where
the shares differ by a point. Adaptive sampling and causal weights gather the residuals of all shares.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from pinn.pde.build import build_model, loss_conditions
from pinn.pde.conditions import Batch, Periodic
from pinn.pde.jacobian import ResidualJacobian
from pinn.pde.observations import Data
from pinn.references.grid import GridReference
from pinn.train import distributed
from pinn.train.generator import generator_state, restore_generator
from pinn.train.objective import Objective
from pinn.train.settings import Numerics, Training
from pinn.train.trainer import Trainer, resolve_device
from pinn.pde.losses import RESIDUALS, LossFunction, Points, draw_points
from pinn.validation import GridCheck

if TYPE_CHECKING:
    from pinn.pde.problem import Problem


class PinnObjective(Objective):
    """The loss of ``problem``'s model at its collocation points.

    Args:
        problem: the declaration.
        numerics: dtype, seed (network initialisation and every point drawn), derivative engine, compile.
        device: where to compute.
        expected_calls: about how many loss evaluations the run makes (whether compiling pays).
    """

    def __init__(self, problem: Problem, numerics: Numerics, device: torch.device, expected_calls: int = 0) -> None:
        self.problem = problem
        self.dtype = getattr(torch, numerics.dtype)
        self.device = device
        self.rng = np.random.default_rng(numerics.seed)
        self.model = self.module = build_model(problem, self.dtype, device, numerics.seed)
        self.rank, self.processes = distributed.rank(), distributed.world_size()
        self._factors: dict[str, float] = {}  # each term's share factor, where shares differ (else empty)
        self._set_points(draw_points(problem, self.rng, self.dtype, device))
        self.loss = LossFunction(problem, self.model, numerics.derivatives, numerics.compile, expected_calls)
        self.jacobian = ResidualJacobian(self.loss)
        self.causal = problem.sampling.causal
        self.slab_weights: Tensor | None = None  # causal training: each time slab's weight
        self._calls = 0  # calls of resample(), each every `resample_every` steps
        # The trainer's one hook for a new loss (new points, new causal weights): called every gcd of the two.
        every = problem.sampling.resample_every
        self.resample_every = every if self.causal is None else math.gcd(every, self.causal.update_every)
        if self.causal is not None:
            self.update_causal_weights()

    def terms(self) -> dict[str, Tensor]:
        return self._scaled(self.loss(self.points))

    def backward(self, weights: Mapping[str, float]) -> dict[str, Tensor]:
        return self._scaled(self.loss.backward(self.points, self._weights(weights)))

    def residuals_and_jacobian(self, weights: Mapping[str, float]) -> tuple[Tensor, Tensor]:
        return self.jacobian(self.points, self._weights(weights))

    def noise_floors(self) -> dict[str, tuple[float, int]]:
        floors = {name: c.noise_floor() for name, c in loss_conditions(self.problem).items() if isinstance(c, Data)}
        return {name: floor for name, floor in floors.items() if floor is not None}

    # ------------------------------------------------ shares across processes
    def _set_points(self, points: Points) -> None:
        """All the run's points (``all_points``, what a checkpoint keeps) and this process's share of them."""
        self.all_points = points
        if self.processes == 1:
            self.points = points
            return
        counts = {RESIDUALS: points.interior.shape[0], **{n: b.coordinates.shape[0] for n, b in points.conditions.items()}}
        few = {name: n for name, n in counts.items() if n < self.processes * (2 if self._paired(name) else 1)}
        if few:
            listed = ", ".join(f"{'the interior' if k == RESIDUALS else repr(k)} ({n})" for k, n in few.items())
            raise ValueError(f"{self.processes} processes cannot share the points of {listed}: each process needs at "
                             "least one; start fewer processes (torchrun --nproc-per-node) or sample more points")
        conditions = {name: self._share_batch(b, self._paired(name)) for name, b in points.conditions.items()}
        self.points = Points(self._share(points.interior), conditions, self._share(points.interior_weights))
        mine = {RESIDUALS: self.points.interior.shape[0], **{n: b.coordinates.shape[0] for n, b in conditions.items()}}
        factors = {site: mine[site] * self.processes / counts[site] for site in counts}
        self._factors = {} if all(f == 1.0 for f in factors.values()) else {
            **{name: factors[RESIDUALS] for name in self.problem.residuals},
            **{name: factors[name] for name in loss_conditions(self.problem)}}

    def _paired(self, condition: str) -> bool:
        return isinstance(self.problem.conditions.get(condition), Periodic)  # rows i and n/2 + i go together

    def _share_batch(self, batch: Batch, paired: bool) -> Batch:
        n = batch.coordinates.shape[0]
        return Batch(*(t if t is None or t.dim() == 0 or t.shape[0] != n else self._share(t, paired)
                       for t in (batch.coordinates, batch.normals, batch.target)))

    def _share(self, rows: Tensor | None, paired: bool = False) -> Tensor | None:
        """This process's contiguous part of ``rows`` (of a periodic batch: of each half, rejoined)."""
        if rows is None:
            return rows
        if paired:
            half = rows.shape[0] // 2
            return torch.cat([self._share(rows[:half]), self._share(rows[half:])])
        return torch.tensor_split(rows, self.processes)[self.rank]

    def _scaled(self, terms: dict[str, Tensor]) -> dict[str, Tensor]:
        return {k: v * self._factors[k] for k, v in terms.items()} if self._factors else terms

    def _weights(self, weights: Mapping[str, float]) -> Mapping[str, float]:
        if not self._factors:
            return weights
        return {k: weights.get(k, 1.0) * f for k, f in self._factors.items()}

    def _squared_residuals(self) -> Tensor:
        """Every interior point's squared residuals (all processes' points, in order)."""
        squares = self.loss.squared_residuals(self.points)
        if self.processes == 1:
            return squares
        counts = [t.shape[0] for t in torch.tensor_split(self.all_points.interior, self.processes)]
        return distributed.gather_rows(squares, counts)

    def resample(self) -> None:
        """Fresh collocation points (conditions on fixed points, data, keep theirs), when due: with
        ``sampling.adaptive="r3"``, the interior points whose squared residual exceeds the mean stay.
        With causal training, new causal weights when due."""
        self._calls += 1
        done = self._calls * self.resample_every  # about the steps taken
        every = self.problem.sampling.resample_every
        if every and done % every == 0:
            kept = None
            if self.problem.sampling.adaptive == "r3":
                squares = self._squared_residuals()
                kept = self.all_points.interior[squares > squares.mean()].detach()
            self._set_points(draw_points(self.problem, self.rng, self.dtype, self.device, self.all_points, kept))
            if self.causal is not None:
                self._weigh_points()
        if self.causal is not None and done % self.causal.update_every == 0:
            self.update_causal_weights()

    def update_causal_weights(self) -> None:
        """The slab weights from the current residuals (:mod:`pinn.pde.causal`), put on the points."""
        slab = self._slabs()
        losses = self.causal.slab_losses(self._squared_residuals(), slab)
        self.slab_weights = self.causal.weights(losses)
        self._weigh_points(slab)

    def _slabs(self) -> Tensor:
        time = self.problem.domain.time
        return self.causal.slab_of(self.all_points.interior[:, -1], time.t0, time.t1)

    def _weigh_points(self, slab: Tensor | None = None) -> None:
        slab = self._slabs() if slab is None else slab
        self._set_points(dataclasses.replace(self.all_points, interior_weights=self.slab_weights[slab]))

    def reported(self) -> dict[str, float]:
        return self.model.unknowns.as_floats()

    def summary(self) -> dict[str, Any]:
        summary = {"derivatives": self.loss.engine.summary, "compile": self.loss.compile_status}
        if self.slab_weights is not None:
            summary["causal_weights"] = [float(w) for w in self.slab_weights]
        return summary

    def state_dict(self) -> dict[str, Any]:
        state = {"rng": generator_state(self.rng), "points": self.all_points.state_dict(), "loss": self.loss.state_dict()}
        if self.causal is not None:
            state["causal"] = {"slab_weights": self.slab_weights, "calls": self._calls}
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        restore_generator(self.rng, state["rng"])
        self._set_points(Points.from_state_dict(state["points"], self.device))
        self.loss.load_state_dict(state["loss"])
        if self.causal is not None:
            if "causal" not in state or self.points.interior_weights is None:
                raise ValueError("it was saved without causal weights (sampling.causal), which this run has")
            self.slab_weights = state["causal"]["slab_weights"].to(self.device)
            self._calls = int(state["causal"]["calls"])
        elif self.points.interior_weights is not None:
            raise ValueError("it was saved with causal weights (sampling.causal), which this run has not")


def pinn_trainer(problem: Problem, reference: GridReference | None = None,
                 training: Training | None = None) -> Trainer:
    """A trainer of ``problem`` (with ``training``, default the problem's own), checked against ``reference``."""
    training = training or problem.training
    objective = PinnObjective(problem, training.numerics, resolve_device(training.numerics.device), training.steps)
    check = None if reference is None else GridCheck(objective.model, reference, problem.tolerance)
    return Trainer(objective, training, check)
