"""Darcy flow: the permeability ``a`` (a thresholded Gaussian random field) to the pressure ``u``.

``-div(a grad u) = f`` on the unit square, ``u = 0`` on the walls, ``a = high`` where the field
(covariance ``(-laplacian + 9)^-2``, Neumann) is positive and ``low`` elsewhere: the benchmark of
Li et al. (2021), solved by :func:`pinn.references.darcy_fd.darcy_fd` at each resolution. Its
physics residual (the PINO loss) is that solver's own discrete equation on the output grid
(:func:`pinn.references.darcy_fd.darcy_residual`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from pinn.operators.grf import GaussianRandomField
from pinn.operators.task import Task
from pinn.references.darcy_fd import darcy_fd, darcy_residual
from pinn.train.validate import positive


@dataclass(frozen=True)
class Darcy(Task):
    """Darcy flow with a two-valued permeability.

    Args:
        field: the field thresholded at zero (2-D).
        high: the permeability where the field is positive.
        low: the permeability elsewhere.
        source: the constant forcing ``f``.
    """

    field: GaussianRandomField = field(default_factory=lambda: GaussianRandomField(
        dim=2, alpha=2.0, tau=3.0, boundary="neumann", modes=32))
    high: float = 12.0
    low: float = 3.0
    source: float = 1.0

    kind = "darcy"
    inputs = ("a",)
    outputs = ("u",)
    periodic = False
    symmetric = True  # constant coefficients and forcing, the same walls all round: the square's symmetries hold
    has_physics = True

    def __post_init__(self) -> None:
        if not isinstance(self.field, GaussianRandomField) or self.field.dim != 2:
            raise ValueError("Darcy field must be a 2-D pinn.operators.GaussianRandomField")
        positive("Darcy", "high", self.high)
        positive("Darcy", "low", self.low)
        if isinstance(self.source, bool) or not isinstance(self.source, (int, float)) or not np.isfinite(self.source):
            raise ValueError(f"Darcy source must be a finite number, got {self.source!r}")

    def solve(self, coefficients, resolution):
        self.check_resolution(resolution)
        values = self.field.evaluate(coefficients, self.axis(resolution))
        a = np.where(values > 0, self.high, self.low)
        u = np.stack([darcy_fd(each, self.source) for each in a])
        return a[:, None], u[:, None]

    def physics_residual(self, inputs: Tensor, outputs: Tensor) -> Tensor:
        """Each sample's ``||A u - f|| / ||f||`` over the interior nodes: ``A`` the solver's five-point scheme
        with harmonic face means of ``a`` (``inputs``), ``u`` the ``outputs`` with their wall values set to
        zero (the boundary condition, as the solver imposes it); 0 for the solver's own solution."""
        u = outputs[:, 0]
        walls = torch.zeros_like(u)
        walls[:, 1:-1, 1:-1] = 1
        residual = darcy_residual(u * walls, inputs[:, 0], self.source).flatten(1)
        scale = (abs(self.source) or 1.0) * residual.shape[1] ** 0.5
        return residual.norm(dim=1) / scale

    def description(self, resolution):
        return (f"finite differences (five-point, harmonic face means, scipy.sparse LU) on the "
                f"{resolution} x {resolution} nodes")
