"""How collocation points are drawn: counts, method and resampling."""
from __future__ import annotations

from dataclasses import dataclass

from pinn.geometry import SAMPLING_METHODS
from pinn.pde.causal import Causal


@dataclass(frozen=True)
class Sampling:
    """Collocation points.

    Args:
        interior: points where the PDE residuals are evaluated.
        boundary: points for each boundary condition (unless the condition sets ``points``).
        initial: points for each initial condition (unless the condition sets ``points``).
        method: ``uniform``, ``lhs`` (Latin hypercube), ``sobol`` or ``halton``.
        resample_every: draw fresh points every this many steps (0: keep the first draw).
        causal: time-causal weights of the interior residuals, a :class:`pinn.Causal` (evolution
            problems only; see :mod:`pinn.pde.causal`), or None for plain means.
    """

    interior: int = 2000
    boundary: int = 200
    initial: int = 200
    method: str = "sobol"
    resample_every: int = 0
    causal: Causal | None = None

    def __post_init__(self) -> None:
        for name in ("interior", "boundary", "initial"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Sampling {name} must be a whole number >= 1, got {value!r}")
        if self.method not in SAMPLING_METHODS:
            raise ValueError(f"Sampling method {self.method!r} is not one of {', '.join(SAMPLING_METHODS)}")
        if not isinstance(self.resample_every, int) or self.resample_every < 0:
            raise ValueError(f"Sampling resample_every must be a whole number >= 0, got {self.resample_every!r}")
        if self.causal is not None and not isinstance(self.causal, Causal):
            raise ValueError(f"Sampling causal must be a pinn.Causal or None, got {self.causal!r}")
