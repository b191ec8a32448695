"""Causal training of evolution problems: later times are fitted only once earlier times are.

Wang, Sankaran & Perdikaris (2022), "Respecting causality is all you need for training
physics-informed neural networks": the interior points are split by time into ``M`` slabs of equal
length, and the residual loss of slab ``i`` is weighted by

    w_i = exp(-epsilon * sum_{k < i} L_k)

where ``L_k`` is the mean squared residual (all residuals summed) in slab ``k``. Slab 0 has weight 1;
a slab gets weight only once every slab before it fits. Each interior point carries its slab's
weight, so a residual's term is ``mean_p w_p r_p^2``, and Levenberg-Marquardt's residual vector
carries ``sqrt(w_p) r_p`` (both minimise the same loss).

The weights are held fixed between updates (every ``update_every`` steps, and whenever the points
are redrawn), so that an L-BFGS line search sees one loss; at each update the optimisers drop what
belongs to the old loss, as after a redraw of the points. They are saved with the points in
checkpoints, so a resumed run continues exactly. The loss terms a run reports are the weighted ones.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from pinn.train.validate import whole


@dataclass(frozen=True)
class Causal:
    """Time-causal weights of the interior residuals (``pinn.Sampling(causal=pinn.Causal())``).

    Args:
        slabs: the number ``M`` of time slabs (at least 2).
        epsilon: how strongly an unfitted earlier slab holds back the later ones (> 0): slab ``i``'s
            weight is ``exp(-epsilon * sum_{k < i} L_k)``.
        update_every: steps between updates of the weights (an L-BFGS phase starts its curvature
            history afresh at each update, so keep this well above its 10 iterations per call).

    On the command line: ``--set sampling.causal=16,1.0`` (slabs, epsilon[, update_every]) or
    ``--set sampling.causal=none``.
    """

    slabs: int = 16
    epsilon: float = 1.0
    update_every: int = 100

    def __post_init__(self) -> None:
        whole("Causal", "slabs", self.slabs, 2)
        value = self.epsilon
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise ValueError(f"Causal epsilon must be a positive number, got {value!r}")
        whole("Causal", "update_every", self.update_every, 1)

    @classmethod
    def parse(cls, text: str) -> "Causal":
        """``"slabs,epsilon[,update_every]"`` (the ``--set`` form)."""
        parts = [p for p in text.replace(" ", "").split(",") if p]
        if not 1 <= len(parts) <= 3:
            raise ValueError("expected slabs,epsilon[,update_every]")
        kinds = (int, float, int)
        return cls(*(kind(p) for kind, p in zip(kinds, parts)))

    def slab_of(self, times: Tensor, t0: float, t1: float) -> Tensor:
        """Each time's slab index, 0 to ``slabs - 1`` (long tensor)."""
        index = torch.floor((times - t0) / (t1 - t0) * self.slabs).long()
        return index.clamp_(0, self.slabs - 1)

    def weights(self, slab_losses: Tensor) -> Tensor:
        """The slab weights ``exp(-epsilon * sum_{k < i} L_k)`` from the slab losses ``L_k``."""
        before = torch.cumsum(slab_losses, dim=0) - slab_losses
        return torch.exp(-self.epsilon * before)

    def slab_losses(self, squared: Tensor, slab: Tensor) -> Tensor:
        """The mean of ``squared`` (per point) over each slab's points (0 for an empty slab)."""
        sums = squared.new_zeros(self.slabs).index_add_(0, slab, squared)
        counts = squared.new_zeros(self.slabs).index_add_(0, slab, torch.ones_like(squared))
        return sums / counts.clamp(min=1)
