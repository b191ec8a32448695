"""Sample paths of a (learnt) SDE by torchsde's Euler-Maruyama, on seeded Brownian paths."""
from __future__ import annotations

import torch
import torchsde
from torch import Tensor, nn


def brownian(times: Tensor, start: Tensor, seed: int) -> torchsde.BrownianInterval:
    """The Brownian paths, one per row of ``start``, fixed by ``seed``: queried at any step size they
    are the same paths, so that runs at steps ``h`` and ``h / 2`` differ only by discretisation."""
    return torchsde.BrownianInterval(t0=float(times[0]), t1=float(times[-1]), size=tuple(start.shape),
                                     dtype=start.dtype, device=start.device, entropy=int(seed))


def simulate(sde: nn.Module, start: Tensor, times: Tensor, step: float, bm: torchsde.BrownianInterval) -> Tensor:
    """The paths at ``times`` (shape (len(times), paths, d)) from ``start`` (paths, d), Euler-Maruyama
    steps of ``step`` (Ito, diagonal noise), without gradients."""
    with torch.no_grad():
        return torchsde.sdeint(sde, start, times, bm=bm, dt=step, method="euler")
