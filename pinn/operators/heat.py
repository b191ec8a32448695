"""2-D heat: the initial temperature to the temperature at ``t_end``, zero walls on the unit square.

``u_t = diffusivity (u_xx + u_yy)`` with ``u0`` a Gaussian random field vanishing on the walls (a sine
series), solved by :func:`pinn.references.heat_fd_solver.heat_fd` (Crank-Nicolson, second order, with
Richardson extrapolation) on the nodes of each resolution.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pinn.operators.grf import GaussianRandomField
from pinn.operators.task import Task
from pinn.references.heat_fd_solver import heat_fd
from pinn.train.validate import positive, whole


@dataclass(frozen=True)
class Heat(Task):
    """2-D heat with zero walls, initial value to the solution at ``t_end``.

    Args:
        field: the initial values' field (2-D, Dirichlet: zero on the walls).
        diffusivity: the constant diffusivity. t_end: the final time.
        solver_steps: Crank-Nicolson steps (a multiple of 4).
    """

    field: GaussianRandomField = field(default_factory=lambda: GaussianRandomField(
        dim=2, alpha=2.5, tau=3.0, boundary="dirichlet", modes=24))
    diffusivity: float = 0.01
    t_end: float = 1.0
    solver_steps: int = 40

    kind = "heat"
    inputs = ("u0",)
    outputs = ("u",)
    periodic = False
    symmetric = True  # constant coefficients and forcing, the same walls all round: the square's symmetries hold

    def __post_init__(self) -> None:
        if not isinstance(self.field, GaussianRandomField) or self.field.dim != 2 or self.field.boundary != "dirichlet":
            raise ValueError("Heat field must be a 2-D pinn.operators.GaussianRandomField with boundary 'dirichlet'")
        positive("Heat", "diffusivity", self.diffusivity)
        positive("Heat", "t_end", self.t_end)
        whole("Heat", "solver_steps", self.solver_steps, 4)
        if self.solver_steps % 4:
            raise ValueError(f"Heat solver_steps must be a multiple of 4, got {self.solver_steps}")

    def solve(self, coefficients, resolution):
        self.check_resolution(resolution)
        axis = self.axis(resolution)
        u0 = self.field.evaluate(coefficients, axis)
        finals = []
        for each in coefficients:
            def initial(x, y, c=each):
                return self.field.evaluate(c[None], (x[:, 0], y[0, :]))[0]
            ref = heat_fd(lower=(0, 0), upper=(1, 1), t_end=self.t_end, diffusivity=self.diffusivity, initial=initial,
                          cells=2 * (resolution - 1), steps=self.solver_steps, output_times=2, output_stride=2,
                          estimate_error=False, extrapolate=True)
            finals.append(ref.fields["u"][..., -1])
        return u0[:, None], np.stack(finals)[:, None]

    def description(self, resolution):
        return (f"finite differences, Crank-Nicolson with Richardson extrapolation ({2 * (resolution - 1)} cells, "
                f"{self.solver_steps} steps), on the {resolution} x {resolution} nodes")
