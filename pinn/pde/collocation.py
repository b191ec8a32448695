"""How collocation points are drawn: counts, method and resampling."""
from __future__ import annotations

from dataclasses import dataclass

from pinn.geometry import SAMPLING_METHODS
from pinn.pde.causal import Causal


ADAPTIVE = ("off", "r3")


@dataclass(frozen=True)
class Sampling:
    """Collocation points.

    Args:
        interior: points where the PDE residuals are evaluated (None: chosen from the problem,
            see :mod:`pinn.pde.automatic`).
        boundary: points for each boundary condition (unless the condition sets ``points``; None: chosen).
        initial: points for each initial condition (unless the condition sets ``points``; None: chosen).
        method: ``uniform``, ``lhs`` (Latin hypercube), ``sobol`` or ``halton``.
        resample_every: draw fresh points every this many steps (0: keep the first draw), in
            phases that take small steps (Adam): L-BFGS and Levenberg-Marquardt keep their points,
            as their curvature belongs to one loss.
        adaptive: how the interior points are redrawn: ``off`` (all fresh), or ``r3``, the
            retain-resample-release scheme of Daw et al. (ICML 2023): the points whose squared
            residual exceeds the mean are kept and the rest are replaced by fresh ones, so that
            points gather where the equations are not yet met (a front, a layer) without a
            density estimate; the points are part of the checkpoint. None (the default): ``r3``
            every 100 Adam steps (or every ``resample_every``) when the problem trains with the
            automatic schedule, where it halved to thirded the error (Burgers, Helmholtz; see
            :mod:`pinn.pde.automatic`), else ``off``.
        causal: time-causal weights of the interior residuals, a :class:`pinn.Causal` (evolution
            problems only; see :mod:`pinn.pde.causal`), or None for plain means.
    """

    interior: int | None = None
    boundary: int | None = None
    initial: int | None = None
    method: str = "sobol"
    resample_every: int = 0
    adaptive: str | None = None
    causal: Causal | None = None

    def __post_init__(self) -> None:
        for name in ("interior", "boundary", "initial"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"Sampling {name} must be a whole number >= 1, got {value!r}")
        if self.method not in SAMPLING_METHODS:
            raise ValueError(f"Sampling method {self.method!r} is not one of {', '.join(SAMPLING_METHODS)}")
        if not isinstance(self.resample_every, int) or self.resample_every < 0:
            raise ValueError(f"Sampling resample_every must be a whole number >= 0, got {self.resample_every!r}")
        if self.adaptive is not None and self.adaptive not in ADAPTIVE:
            raise ValueError(f"Sampling adaptive {self.adaptive!r} is not one of {', '.join(ADAPTIVE)}")
        if self.adaptive not in (None, "off") and not self.resample_every:
            raise ValueError(f"Sampling adaptive={self.adaptive!r} redraws points: it needs resample_every >= 1")
        if self.causal is not None and not isinstance(self.causal, Causal):
            raise ValueError(f"Sampling causal must be a pinn.Causal or None, got {self.causal!r}")
