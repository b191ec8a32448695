"""The trainable SDE ``dX = f(X, t) dt + g(X, t) dW`` (Ito; diagonal or general noise) and its torchsde view."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from pinn.dynamics.sde.terms import Term, TermModule


class SDEModel(nn.Module):
    """Drift and diffusion made trainable: every parameter (nets and unknowns' raw numbers) is here.

    Args:
        drift: the declared drift term.
        diffusion: the declared diffusion term.
        dimension: the number of states.
        lower: the lowest observed value of each state, then of time (input normalisation of nets).
        upper: the highest observed value of each state, then of time.
        generator: initialises the nets.
        noise: ``"diagonal"`` (``g`` (N, d), one Brownian motion per state) or ``"general"`` (``g`` the
            (N, d, d) matrix ``S``).
    """

    sde_type = "ito"  # what torchsde reads, with noise_type

    def __init__(self, drift: Term, diffusion: Term, dimension: int, lower: Tensor, upper: Tensor,
                 generator: torch.Generator, noise: str = "diagonal") -> None:
        super().__init__()
        self.noise_type = noise
        self.drift = TermModule(drift, "drift", dimension, lower, upper, generator)
        self.diffusion = TermModule(diffusion, "diffusion", dimension, lower, upper, generator, noise)

    def coefficients(self) -> dict[str, float]:
        """The current value of every unknown, by name."""
        return {**self.drift.unknowns.as_floats(), **self.diffusion.unknowns.as_floats()}

    # torchsde's interface: t is a 0-d tensor, y is (paths, d)
    def f(self, t: Tensor, y: Tensor) -> Tensor:
        return self.drift(y, t.to(y.dtype).expand(y.shape[0], 1))

    def g(self, t: Tensor, y: Tensor) -> Tensor:
        return self.diffusion(y, t.to(y.dtype).expand(y.shape[0], 1))
