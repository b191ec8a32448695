"""The latent SDE's trainable parts: the prior SDE, the approximate posterior and the observation noise.

The posterior SDE ``dZ = h dt + g dW`` shares the prior's diffusion ``g``; its drift is the prior's plus
a correction ``h - f = g^2 (y - z) / (g^2 r + s^2) + c(z, t, context)``. The first part is the guided
proposal of a diffusion bridge (Delyon and Hu, 2006; Schauer, van der Meulen and van Zanten, 2017): the
drift that would bring a Brownian motion of noise ``g`` to the next observation ``y``, ``r`` time
ahead, observed with noise ``s``. The second, ``c``, a network of the state, the time to the next
observation and the context, is learnt, and starts at zero. A step of ``dt`` has the variance of that
bridge's step, ``g^2 dt (1 - g^2 dt / (g^2 r + s^2))``, which tends to the prior's ``g^2 dt`` as
``dt -> 0`` (the continuous-time posterior's): with the prior's variance instead, steps that are not
small beside ``r`` leave a gap in the bound that grows with ``g``, and the learnt diffusion comes out
too small (11% for the Ornstein-Uhlenbeck example). The context at each time is a GRU run
backwards in time over the observations still ahead (Li et al. 2020 read the observations the same
way), so the posterior of every time sees every later observation.

``q(z_0)`` is Gaussian about the first observation with a mean shift and a spread from the context of
all observations; ``p(z_0)`` is a Gaussian with a learnt mean and spread.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from pinn.dynamics.sde.grid import Grids
from pinn.dynamics.sde.model import SDEModel


class LatentModel(nn.Module):
    """Everything the evidence lower bound trains; :attr:`prior` is the learnt SDE.

    Args:
        prior: the SDE of the declaration, learnt.
        noise: the observation noise's standard deviation (initial value when ``learn_noise``).
        learn_noise: whether it is learnt.
        context: the encoder's context size.
        width: the correction network's width.
        centre: (d,) the middle of the observed values (inputs are normalised by it).
        scale: (d,) their half range.
        horizon: the longest observed time span (the time inputs are divided by it).
        generator: initialises every weight.
    """

    def __init__(self, prior: SDEModel, noise: float, learn_noise: bool, context: int, width: int, centre: Tensor,
                 scale: Tensor, horizon: float, generator: torch.Generator) -> None:
        super().__init__()
        self.prior = prior
        d = centre.numel()
        dtype = centre.dtype
        self.register_buffer("centre", centre)
        self.register_buffer("scale", scale)
        self.horizon = horizon
        log_noise = torch.tensor(math.log(noise), dtype=dtype)
        if learn_noise:
            self.log_noise = nn.Parameter(log_noise)
        else:
            self.register_buffer("log_noise", log_noise)
        self.start_mean = nn.Parameter(centre.clone())  # p(z_0)
        self.start_log_std = nn.Parameter(scale.log())
        self.encoder = nn.GRU(d + 1, context, batch_first=True, dtype=dtype)
        self.start = nn.Linear(context, 2 * d, dtype=dtype)  # q(z_0): mean shift and log spread
        # the correction's first layer, in two parts: the context's is computed once for every step
        self.correction_context = nn.Linear(context, width, bias=False, dtype=dtype)
        self.correction_state = nn.Linear(2 * d + 1, width, dtype=dtype)
        self.correction_hidden = nn.Linear(width, width, dtype=dtype)
        self.correction_out = nn.Linear(width, d, dtype=dtype)
        for name, parameter in self.named_parameters():
            if name.startswith(("encoder.", "correction")):
                bound = 1 / math.sqrt(parameter.shape[-1] if parameter.dim() > 1 else context)
                with torch.no_grad():
                    parameter.copy_((torch.rand(parameter.shape, generator=generator, dtype=dtype) * 2 - 1) * bound)
        for layer in (self.start, self.correction_out):  # q(z_0) about y_0, and no correction, to begin with
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    @property
    def noise(self) -> Tensor:
        return self.log_noise.exp()

    def contexts(self, grids: Grids) -> Tensor:
        """(P, K, context): at observation ``i``, the encoding of observations ``i`` to the last."""
        gaps = torch.diff(grids.times, dim=1, append=grids.times[:, -1:]) / self.horizon
        inputs = torch.cat([(grids.values - self.centre) / self.scale, gaps[..., None]], dim=2)
        counts = grids.observed.sum(dim=1, keepdim=True)
        position = torch.arange(grids.times.shape[1], device=counts.device).expand_as(grids.times)
        backwards = torch.where(position < counts, counts - 1 - position, position)  # padding stays last
        order = lambda x: x.gather(1, backwards[..., None].expand_as(x))  # noqa: E731 (its own inverse)
        encoded, _ = self.encoder(order(inputs))
        return order(encoded)

    def start_posterior(self, grids: Grids, contexts: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and standard deviation of ``q(z_0)``, (P, d) each."""
        shift, log_spread = self.start(contexts[:, 0]).chunk(2, dim=1)
        noise = self.noise.detach()
        return grids.values[:, 0] + noise * shift, noise * log_spread.exp()

    def context_features(self, contexts: Tensor) -> Tensor:
        """What the contexts (..., context) add to the correction's first layer (..., width)."""
        return self.correction_context(contexts)

    def step(self, z: Tensor, g: Tensor, ahead: Tensor, remaining: Tensor, features: Tensor,
             dt: Tensor) -> tuple[Tensor, Tensor]:
        """The posterior's step of ``dt`` (N, 1) from states ``z`` (N, d) with diffusion ``g``, the next
        observation ``ahead`` (N, d) ``remaining`` (N, 1) time away, and the :meth:`context_features`
        (N, width) of the observations from it on: ``h - f`` (N, d), and the ratio (N, d) of its variance
        to the prior's ``g^2 dt`` (the Brownian bridge's ``1 - g^2 dt / (g^2 r + s^2)``, 1 as dt -> 0)."""
        variance = g.square()
        spread = variance * remaining + self.noise.square()
        guide = variance * (ahead - z) / spread
        state = torch.cat([(z - self.centre) / self.scale, (z - ahead) / self.scale, remaining / self.horizon], dim=1)
        hidden = torch.tanh(self.correction_hidden(torch.tanh(self.correction_state(state) + features)))
        return guide + self.correction_out(hidden), 1 - variance * dt / spread
