"""The settings of the latent-SDE objective: paths observed with noise, at irregular times, through a latent SDE.

``SDEProblem(latent=LatentSDE(observation_noise=0.05))`` reads each observed value as
``y_i = X(t_i) + e_i``, ``e_i ~ N(0, s^2)``, of an SDE ``dX = f dt + g dW`` (the declared drift and
diffusion: the *prior*), and trains it by the evidence lower bound of Li et al. (2020), "Scalable
gradients for stochastic differential equations" (:mod:`pinn.dynamics.sde.elbo`). Without ``latent``
the transition likelihood trains it, which reads the observations as exact values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from pinn.train.validate import positive, whole


@dataclass(frozen=True)
class LatentSDE:
    """The evidence lower bound's settings (``--set latent.step=0.01``).

    Args:
        observation_noise: the standard deviation ``s`` of the observation noise (> 0); with
            ``learn_noise`` its initial value.
        learn_noise: learn ``s`` with the SDE (else it is known).
        step: the longest Euler-Maruyama step: each gap between two observations of a path is cut into
            equal steps no longer than this, so every observation time is a point of its path's grid.
        batch_paths: observed paths per batch, drawn at random every step (0: all of them).
        samples: posterior paths simulated per observed path.
        context: the size of the encoder's context (a GRU run backwards over the observations).
        width: the width of the posterior drift's network (two hidden layers).
    """

    observation_noise: float
    learn_noise: bool = False
    step: float = 0.02
    batch_paths: int = 0
    samples: int = 1
    context: int = 16
    width: int = 32

    def __post_init__(self) -> None:
        noise = self.observation_noise
        if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 < noise < math.inf:
            raise ValueError(f"LatentSDE observation_noise must be a standard deviation > 0, got {noise!r} "
                             "(observations without noise: leave latent out, the transition likelihood reads them)")
        if not isinstance(self.learn_noise, bool):
            raise ValueError(f"LatentSDE learn_noise must be True or False, got {self.learn_noise!r}")
        positive("LatentSDE", "step", self.step)
        whole("LatentSDE", "batch_paths", self.batch_paths)
        whole("LatentSDE", "samples", self.samples, 1)
        whole("LatentSDE", "context", self.context, 1)
        whole("LatentSDE", "width", self.width, 1)
