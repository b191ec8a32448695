"""The evidence lower bound of a latent SDE, as a trainer objective (Li et al. 2020, section 5).

Each path's observations ``y_i`` at its own times ``t_i`` are read as ``y_i = z(t_i) + e_i``,
``e_i ~ N(0, s^2)``, of a path of the prior SDE ``dZ = f dt + g dW`` (the declaration's terms). With a
posterior SDE ``dZ = h dt + g dW`` (:mod:`pinn.dynamics.sde.posterior`) and ``u = (h - f) / g``::

    ELBO = E_q[ sum_i log N(y_i; z(t_i), s^2) ] - KL(q(z_0) || p(z_0)) - E_q[ 0.5 int |u|^2 dt ]

The posterior paths are simulated by Euler-Maruyama on each path's own grid
(:mod:`pinn.dynamics.sde.grid`), so every observation time is a grid point. The path's KL divergence
is summed along it, step by step, as the exact KL divergence between the posterior's Gaussian step and
the prior's Euler-Maruyama step ``N(z + f dt, g^2 dt)``: ``0.5 (|u|^2 dt + rho - 1 - log rho)``, with
``rho`` the ratio of the posterior step's variance to ``g^2 dt`` (the bridge's, which tends to 1 as
``dt -> 0``, leaving ``0.5 |u|^2 dt``). The bound is then exactly that of the prior's Euler-Maruyama
chain at ``step``, whose bias in the coefficients is Euler-Maruyama's at that step (for
Ornstein-Uhlenbeck about ``theta step / 2``, relative). The loss terms are the negative bound's three parts
(``likelihood``, ``kl_start``, ``kl_path``), each divided by the number of observations in the batch.

Every step of a phase that redraws (Adam) draws new Brownian increments (and, with ``batch_paths``, new
paths); a phase that keeps one batch (L-BFGS) fits all paths with one fixed draw (a deterministic
loss). The increments come from a seed drawn from a generator whose state is in :meth:`ELBO.state_dict`.
Across processes every process evaluates the whole batch (the same numbers): correct, not faster.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from pinn.dynamics.sde.grid import grids, longest_step
from pinn.dynamics.sde.latent import LatentSDE
from pinn.dynamics.sde.model import SDEModel
from pinn.dynamics.sde.posterior import LatentModel
from pinn.dynamics.trajectories import Trajectory
from pinn.train.objective import Objective

LOG_TWO_PI = 1.8378770664093453


class ELBO(Objective):
    """Trains ``module`` (its :attr:`~LatentModel.prior` is the learnt SDE) on noisy observations ``paths``.

    Args:
        module: the prior, posterior and noise.
        paths: the observed paths, each with its own times.
        settings: the bound's settings.
        seed: seeds the batches and the Brownian increments.
        brownian_seed: the seed of the Brownian paths the checks simulate the learnt SDE with.
    """

    scheme = "euler"  # the prior's discretisation, for the discretisation bias the checks report

    def __init__(self, module: LatentModel, paths: Sequence[Trajectory], settings: LatentSDE, seed: int = 0,
                 brownian_seed: int = 0) -> None:
        if module.prior.noise_type != "diagonal":
            raise ValueError("the latent-SDE objective takes diagonal noise only")
        if settings.batch_paths > len(paths):
            raise ValueError(f"LatentSDE batch_paths {settings.batch_paths} exceeds the {len(paths)} paths")
        self.module, self.settings = module, settings
        self.dtype, self.device = module.centre.dtype, module.centre.device
        self.grids = grids(paths, settings.step, self.dtype, self.device)
        self.step = longest_step(paths, settings.step)
        self.resample_every = 1
        self.generator = torch.Generator().manual_seed(seed)
        self.brownian_seed = int(brownian_seed)
        self.batch: Tensor | None = None
        self.increments_seed = 0
        self.resample()
        self._check_diffusion()

    @property
    def model(self) -> SDEModel:
        """The learnt SDE (the prior), which the checks simulate."""
        return self.module.prior

    def typical_step(self) -> float:
        """The discretisation step of the prior, for its computed bias."""
        return self.step

    def _check_diffusion(self) -> None:
        """A diffusion that is not positive where paths are observed has no posterior: say where."""
        values = self.grids.values[self.grids.observed]
        times = self.grids.times[self.grids.observed][:, None]
        with torch.no_grad():
            g = self.model.diffusion(values, times)
        bad = ~(torch.isfinite(g) & (g > 0))
        if bool(bad.any()):
            row = int(bad.any(dim=1).nonzero()[0])
            raise ValueError(f"the diffusion must be positive where paths are observed, but it is {g[row].tolist()} "
                             f"at x = {values[row].tolist()}, t = {float(times[row]):g} (declare its coefficients "
                             "positive=True, or a positive constant)")

    def terms(self) -> dict[str, Tensor]:
        return self.bound(self.batch, self.increments_seed)

    def bound(self, index: Tensor | None, increments_seed: int) -> dict[str, Tensor]:
        """The negative bound's parts on the paths ``index`` (all: None) with the increments of
        ``increments_seed``."""
        grid = self.grids.select(index)
        module, samples = self.module, self.settings.samples
        repeat = lambda x: x.repeat_interleave(samples, dim=0)  # noqa: E731 (path k's samples side by side)
        contexts = module.contexts(grid)
        mean, spread = module.start_posterior(grid, contexts)
        prior_spread = module.start_log_std.exp()
        kl_start = (module.start_log_std - spread.log() + (spread.square() + (mean - module.start_mean).square())
                    / (2 * prior_spread.square()) - 0.5).sum()
        noise = torch.randn((grid.steps.shape[1] + 1, grid.steps.shape[0] * samples, grid.values.shape[2]),
                            generator=torch.Generator().manual_seed(self.increments_seed), dtype=self.dtype)
        noise = noise.to(self.device)
        z = repeat(mean) + repeat(spread) * noise[0]
        t = repeat(grid.start)[:, None]
        steps = repeat(grid.steps)[..., None]
        # at each step, the observation it heads for: its value, its time and the context from it on;
        # unbound once: a slice per step of a tensor that needs a gradient costs a full-size gradient each
        ahead = lambda x: repeat(_at_steps(x, grid.target))  # noqa: E731
        ahead_values, ahead_times = ahead(grid.values).unbind(1), ahead(grid.times).unbind(1)
        features = ahead(module.context_features(contexts)).unbind(1)
        states, kl_path = [z], torch.zeros((), dtype=self.dtype, device=self.device)
        for j, dt in enumerate(steps.unbind(1)):
            f, g = module.prior.drift(z, t), module.prior.diffusion(z, t)
            remaining = (ahead_times[j][:, None] - t).clamp(min=0)
            difference, ratio = module.step(z, g, ahead_values[j], remaining, features[j], dt)  # h - f
            # the KL divergence of the posterior's Gaussian step from the prior's
            kl_path = kl_path + 0.5 * ((difference / g).square() * dt + ratio - 1 - ratio.log()).sum()
            z = z + (f + difference) * dt + g * dt.sqrt() * ratio.sqrt() * noise[j + 1]  # no sqrt(0) gradient
            t = t + dt
            states.append(z)
        path = torch.stack(states, dim=1)  # (paths * samples, M + 1, d)
        at = repeat(grid.at)
        observed_states = path.gather(1, at[..., None].expand(-1, -1, path.shape[2]))
        variance = module.noise.square()
        log_density = -0.5 * ((repeat(grid.values) - observed_states).square() / variance + variance.log() + LOG_TWO_PI)
        mask = repeat(grid.observed)[..., None]
        count = grid.observed.sum() * samples
        likelihood = -(log_density * mask).sum()
        return {"likelihood": likelihood / count, "kl_start": kl_start * samples / count, "kl_path": kl_path / count}

    def resample(self) -> None:
        """New Brownian increments and, with ``batch_paths``, new paths."""
        self.increments_seed = int(torch.randint(2**62, (1,), generator=self.generator))
        count = self.settings.batch_paths
        if count:
            total = self.grids.steps.shape[0]
            self.batch = torch.randperm(total, generator=self.generator)[:count].to(self.device)

    def fix_batch(self) -> bool:
        """A phase that keeps one batch (L-BFGS) fits every path with the last increments."""
        changed = self.batch is not None
        self.batch = None
        return changed

    def reported(self) -> dict[str, float]:
        found = self.model.coefficients()
        if isinstance(self.module.log_noise, torch.nn.Parameter):
            found["observation_noise"] = float(self.module.noise.detach())
        return found

    def summary(self) -> dict[str, Any]:
        return {"objective": "elbo", "step": self.step, "observations": int(self.grids.observed.sum()),
                "paths": int(self.grids.steps.shape[0]), "batch_paths": self.settings.batch_paths,
                "samples": self.settings.samples, "observation_noise": float(self.module.noise.detach()),
                "learn_noise": self.settings.learn_noise, "brownian_seed": self.brownian_seed}

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), "batch": self.batch, "increments_seed": self.increments_seed,
                "brownian_seed": self.brownian_seed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.batch = state["batch"]
        self.increments_seed = int(state["increments_seed"])
        self.brownian_seed = int(state["brownian_seed"])


def _at_steps(x: Tensor, target: Tensor) -> Tensor:
    """Per observation ``x`` (P, K, ...) picked at each step's ``target`` observation (P, M): (P, M, ...)."""
    index = target.reshape(*target.shape, *[1] * (x.dim() - 2)).expand(*target.shape, *x.shape[2:])
    return x.gather(1, index)
