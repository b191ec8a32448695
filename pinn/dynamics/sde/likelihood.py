"""The Gaussian transition likelihood of a discretisation, as a trainer objective.

Over an observed step from ``x`` at ``t`` to ``x'`` at ``t + dt``, Euler-Maruyama says
``x' ~ N(x + f(x, t) dt, g(x, t)^2 dt)`` (diagonal noise). The loss is the mean over all observed steps
of the negative log-likelihood, less its constant ``0.5 d log(2 pi dt)``::

    0.5 * sum_i [ (x'_i - x_i - f_i dt)^2 / (g_i^2 dt) + log g_i^2 ]

With general noise (``g`` the matrix ``S``) the step is ``N(x + f dt, S S^T dt)``, a full covariance
(:mod:`pinn.dynamics.sde.covariance`). With ``scheme="local_linear"`` the drift is linearised about the step's start,
``f(y) ~ f(x) + f'(x) (y - x)``, with the diffusion frozen there (Shoji and Ozaki, 1998). For one state it
keeps their second-order (Ito) term too, ``f(X_s) ~ f(x) + f'(x) (X_s - x) + (g^2 / 2) f''(x) s``: the step
is then ``N(x + f dt phi(f' dt) + (g^2 / 2) f'' dt^2 psi(f' dt), g^2 dt phi(2 f' dt))`` with
``phi(z) = (e^z - 1) / z`` and ``psi(z) = (e^z - 1 - z) / z^2``. Without that term the learnt drift of a
curved one is biased by ``(g^2 / 4) f'' dt`` (the double well's ``x - x^3`` at ``dt = 0.1`` by ``-0.07 x``,
7e-2 in its stationary density's L1); with it, by ``O(dt^2)`` (8e-3 there). For several states it is the
matrix form of the linear part (matrix exponentials of the drift's Jacobian, Van Loan's covariance), without
the second-order term. It is the exact transition density of a linear drift with constant diffusion
(Ornstein-Uhlenbeck, also multivariate with general noise), and an approximation otherwise.

Euler-Maruyama's bias is the discretisation's: of order ``dt`` in the coefficients (for Ornstein-Uhlenbeck,
``theta dt / 2`` relative in theta and in sigma), which :mod:`pinn.dynamics.sde.references` computes
where it has a closed form. With ``batch_steps`` it draws that many steps at random (with replacement) every
``resample_every`` step from a seeded generator whose state is part of :meth:`TransitionLikelihood.state_dict`.

Across processes (:mod:`pinn.train.distributed`) every process draws the same batch and evaluates its
share of its steps (contiguous, in process order), summed and scaled by the number of processes over
the batch's size, so the processes' mean is the whole batch's mean; a batch smaller than the processes
is evaluated whole by each. The state is the whole run's: a checkpoint resumes with any number of
processes.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from pinn.dynamics.sde.fisher import StepMoments, fisher_system
from pinn.dynamics.sde.covariance import (diffusion_matrix, drift_jacobian, euler_step, gaussian_loss,
                                          local_linear_step)
from pinn.dynamics.sde.paths import transitions
from pinn.dynamics.trajectories import Trajectory
from pinn.dynamics.sde.model import SDEModel
from pinn.train import distributed
from pinn.train.objective import NormalEquations, Objective
from pinn.train.validate import one_of, whole


SCHEMES = ("euler", "local_linear")
GRADIENT_CHUNK = 65536  # observed steps per backward pass of the Levenberg-Marquardt gradient


@dataclass(frozen=True)
class Likelihood:
    """Which transition likelihood trains the SDE (``--set likelihood.scheme=local_linear``).

    Args:
        scheme: ``"euler"`` (Euler-Maruyama) or ``"local_linear"`` (exact for a linear drift with
            constant diffusion).
        batch_steps: observed steps drawn at random per batch, redrawn every step in phases that redraw
            (Adam); 0 for all of them. A phase that keeps one batch (L-BFGS) fits all the observed steps.
        curvature_steps: the observed steps (a fixed random subset) a Levenberg-Marquardt phase
            estimates the likelihood's Fisher information on; 0 for all of them. Its gradient and the loss
            that accepts a step always use all of them.
    """

    scheme: str = "euler"
    batch_steps: int = 0
    curvature_steps: int = 0

    def __post_init__(self) -> None:
        one_of("Likelihood", "scheme", self.scheme, SCHEMES)
        whole("Likelihood", "batch_steps", self.batch_steps)
        whole("Likelihood", "curvature_steps", self.curvature_steps)


class TransitionLikelihood(Objective):
    """Trains ``model`` on the steps of ``paths``.

    Args:
        model: the SDE whose drift and diffusion are learnt.
        paths: the observed sample paths.
        batch_steps: steps per batch (None: all of them, every step).
        seed: seeds the batches' generator.
        scheme: ``"euler"`` (Euler-Maruyama) or ``"local_linear"``.
        brownian_seed: the seed of the Brownian paths the checks simulate the learnt SDE with
            (kept in :meth:`state_dict`, so a resumed run checks with the same paths).
        curvature_steps: the steps (drawn once, from ``seed``) the Fisher information of
            :meth:`normal_equations` is estimated on; 0: all of them.
    """

    def __init__(self, model: SDEModel, paths: Sequence[Trajectory], batch_steps: int | None = None, seed: int = 0,
                 brownian_seed: int = 0, scheme: str = "euler", curvature_steps: int = 0) -> None:
        if scheme not in SCHEMES:
            raise ValueError(f"TransitionLikelihood scheme {scheme!r} is not one of {', '.join(SCHEMES)}")
        self.scheme = scheme
        # a full covariance: general noise, or the linearisation's coupling of several states
        self.full = model.noise_type == "general" or (scheme == "local_linear" and paths[0].states > 1)
        self.module = model
        parameter = next(iter(model.parameters()), None)
        self.dtype = parameter.dtype if parameter is not None else torch.float64
        self.device = parameter.device if parameter is not None else torch.device("cpu")
        before, after, t0, dt = transitions(paths)
        as_tensor = lambda a: torch.as_tensor(a, dtype=self.dtype, device=self.device)  # noqa: E731
        self.before, self.after = as_tensor(before), as_tensor(after)
        self.t0, self.dt = as_tensor(t0)[:, None], as_tensor(dt)[:, None]
        count = self.before.shape[0]
        if batch_steps is not None and not 1 <= batch_steps <= count:
            raise ValueError(f"TransitionLikelihood batch_steps must be from 1 to the {count} observed steps, "
                             f"got {batch_steps!r}")
        self.batch_steps = batch_steps
        self.resample_every = 1 if batch_steps is not None else 0
        self.generator = torch.Generator().manual_seed(seed)
        self.brownian_seed = int(brownian_seed)
        self.batch = self._draw()
        self.processes = distributed.world_size()
        self.moments = StepMoments(model, scheme)
        count_for_curvature = count if not curvature_steps else min(curvature_steps, count)
        chosen = torch.randperm(count, generator=torch.Generator().manual_seed(seed))[:count_for_curvature]
        self.curvature_index = chosen.sort().values.to(self.device)  # fixed by the seed: nothing to checkpoint
        self._check_diffusion()

    @property
    def model(self) -> SDEModel:
        """The learnt SDE, which the checks simulate."""
        return self.module

    def typical_step(self) -> float:
        """The median observed step, for the discretisation bias the checks report."""
        return float(np.median(self.dt.cpu().numpy()))

    def _draw(self) -> Tensor | None:
        if self.batch_steps is None:
            return None
        # with replacement: a permutation of millions of steps would cost more than the step itself
        return torch.randint(self.before.shape[0], (self.batch_steps,), generator=self.generator).to(self.device)

    def _check_diffusion(self) -> None:
        """A diffusion that is not positive at an observed point has no likelihood: say where."""
        with torch.no_grad():
            g = self.module.diffusion(self.before, self.t0)
        if g.dim() == 3:  # general noise: S S^T must be positive definite
            bad = torch.linalg.cholesky_ex(diffusion_matrix(g))[1] > 0
            bad = (bad | ~torch.isfinite(g).all(dim=(1, 2)))[:, None]
            if bool(bad.any()):
                row = int(bad.any(dim=1).nonzero()[0])
                raise ValueError(f"the diffusion matrix S must be non-singular (S S^T positive definite) where "
                                 f"paths are observed, but it is {g[row].tolist()} at x = {self.before[row].tolist()}, "
                                 f"t = {float(self.t0[row]):g}")
            return
        bad = ~(torch.isfinite(g) & (g > 0))
        if bool(bad.any()):
            row = int(bad.any(dim=1).nonzero()[0])
            raise ValueError(f"the diffusion must be positive where paths are observed, but it is "
                             f"{g[row].tolist()} at x = {self.before[row].tolist()}, t = {float(self.t0[row]):g} "
                             "(declare its coefficients positive=True, or a positive constant)")

    def negative_log_likelihood(self, index: Tensor | None = None) -> Tensor:
        """The loss over the steps ``index`` (all: None)."""
        return self._each_step(index).mean()

    def _each_step(self, index: Tensor | None) -> Tensor:
        """Each of the steps ``index``'s term of the loss (all steps: None)."""
        x, x1, t, dt = self.before, self.after, self.t0, self.dt
        if index is not None:
            x, x1, t, dt = x[index], x1[index], t[index], dt[index]
        if self.full:
            if self.scheme == "local_linear":
                x = x.detach().requires_grad_(True)
            f = self.module.drift(x, t)
            b = diffusion_matrix(self.module.diffusion(x, t))
            if self.scheme == "local_linear":
                mean, covariance = local_linear_step(x, f, drift_jacobian(f, x), b, dt)
            else:
                mean, covariance = euler_step(x, f, b, dt)
            return gaussian_loss(x1 - mean, covariance, dt)
        shift, variance = self.moments(x, t, dt)  # local_linear here: one state
        return 0.5 * ((x1 - x - shift).square() / variance + (variance / dt).log()).sum(dim=1)

    def normal_equations(self, weights: Mapping[str, float]) -> NormalEquations:
        """Fisher scoring for the Levenberg-Marquardt phase: half the Fisher information of the loss (its
        expected Hessian, on the ``curvature_steps``) and half its exact gradient (all the steps). With
        diagonal noise only; the full covariance of several states (or general noise) has none."""
        if self.full:
            raise NotImplementedError("the full-covariance likelihood gives no Fisher information")
        weight = float(weights.get("likelihood", 1.0))
        loss, gradient = self._loss_and_gradient(weight)
        index = self.curvature_index
        fisher = fisher_system(self.moments, self.before[index], self.t0[index], self.dt[index]) * weight
        finite = bool(torch.isfinite(fisher).all()) and bool(torch.isfinite(gradient).all()) and math.isfinite(loss)
        return NormalEquations(fisher / 2, gradient / 2, loss, self.before.numel(), finite)

    def _loss_and_gradient(self, weight: float) -> tuple[float, Tensor]:
        """The weighted loss of :meth:`terms` and its gradient (flat), a chunk of steps at a time: the
        graph of a million steps' derivatives would take gigabytes at once."""
        steps = self.before.shape[0] if self.batch is None else self.batch.numel()
        index = torch.arange(steps, device=self.device) if self.batch is None else self.batch
        share = distributed.share_of(steps)
        scale = weight / steps * (1 if share is None else self.processes)
        if share is not None:
            index = index[share]
        trainable = self.trainable()
        loss, gradient = 0.0, [torch.zeros_like(p) for p in trainable]
        for part in index.split(GRADIENT_CHUNK):
            value = self._each_step(part).sum() * scale
            for total, g in zip(gradient, torch.autograd.grad(value, trainable, allow_unused=True)):
                if g is not None:
                    total += g
            loss += float(value.detach())
        return loss, torch.cat([g.reshape(-1) for g in gradient])

    def terms(self) -> dict[str, Tensor]:
        steps = self.before.shape[0] if self.batch is None else self.batch.numel()
        share = distributed.share_of(steps)
        if share is None:
            return {"likelihood": self.negative_log_likelihood(self.batch)}
        mine = torch.arange(share.start, share.stop, device=self.device) if self.batch is None else self.batch[share]
        return {"likelihood": self._each_step(mine).sum() * (self.processes / steps)}

    def resample(self) -> None:
        self.batch = self._draw()

    def fix_batch(self) -> bool:
        """A phase that keeps one batch (L-BFGS) fits every observed step, not the last random batch."""
        changed = self.batch is not None
        self.batch = None
        return changed

    def reported(self) -> dict[str, float]:
        return self.module.coefficients()

    def summary(self) -> dict[str, Any]:
        return {"objective": "transition_likelihood", "scheme": self.scheme, "observed_steps": int(self.before.shape[0]),
                "batch_steps": self.batch_steps, "brownian_seed": self.brownian_seed}

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), "batch": self.batch, "brownian_seed": self.brownian_seed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.batch = state["batch"]
        self.brownian_seed = int(state["brownian_seed"])

