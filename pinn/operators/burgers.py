"""Viscous Burgers: the initial value ``u0`` to the solution ``u(., t_end)``, periodic on [0, 1).

``u_t + u u_x = nu u_xx`` with ``u0`` a Gaussian random field of covariance ``625 (-laplacian + 25)^-2``
(Li et al. 2021, nu = 0.1, t = 1), solved by :func:`pinn.references.burgers_periodic.burgers_periodic`
(ETDRK4, Fourier pseudo-spectral with ``solver_modes`` points, sampled at the resolution asked).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pinn.operators.grf import GaussianRandomField
from pinn.operators.task import Task
from pinn.references.burgers_periodic import burgers_periodic
from pinn.train.validate import positive, whole


@dataclass(frozen=True)
class Burgers(Task):
    """Periodic viscous Burgers, initial value to the solution at ``t_end``.

    Args:
        field: the initial values' field (1-D, periodic).
        nu: viscosity. t_end: the final time.
        solver_modes: the spectral solver's collocation points (a multiple of every resolution asked).
        solver_steps: its ETDRK4 steps.
    """

    field: GaussianRandomField = field(default_factory=lambda: GaussianRandomField(
        dim=1, alpha=2.0, tau=5.0, sigma=25.0, boundary="periodic", modes=64))
    nu: float = 0.1
    t_end: float = 1.0
    solver_modes: int = 1024
    solver_steps: int = 100

    kind = "burgers"
    inputs = ("u0",)
    outputs = ("u",)
    periodic = True

    def __post_init__(self) -> None:
        if not isinstance(self.field, GaussianRandomField) or self.field.dim != 1 or self.field.boundary != "periodic":
            raise ValueError("Burgers field must be a 1-D periodic pinn.operators.GaussianRandomField")
        positive("Burgers", "nu", self.nu)
        positive("Burgers", "t_end", self.t_end)
        whole("Burgers", "solver_modes", self.solver_modes, 4)
        whole("Burgers", "solver_steps", self.solver_steps, 1)

    def check_resolution(self, resolution):
        super().check_resolution(resolution)
        if self.solver_modes % resolution:
            raise ValueError(f"Burgers resolution {resolution} must divide solver_modes ({self.solver_modes})")

    def solve(self, coefficients, resolution):
        self.check_resolution(resolution)
        u = burgers_periodic(lambda x: self.field.evaluate(coefficients, x), nu=self.nu, t_end=self.t_end,
                             points=resolution, modes=self.solver_modes, steps=self.solver_steps)
        u0 = self.field.evaluate(coefficients, self.axis(resolution))
        return u0[:, None], u.reshape(len(coefficients), 1, resolution)

    def description(self, resolution):
        return (f"Fourier pseudo-spectral ({self.solver_modes} modes, 2/3 dealiasing), ETDRK4 with "
                f"{self.solver_steps} steps, sampled at {resolution} points")
