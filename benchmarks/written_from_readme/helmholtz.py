"""Helmholtz: lap u + k^2 u = f on [-1, 1]^2, k = 1, exact u = sin(pi x) sin(4 pi y),
f = (k^2 - 17 pi^2) u, u = exact on the boundary. Reference: the closed form."""
from math import pi
import torch
import pinn

K = 1.0

space = pinn.Rectangle((-1.0, -1.0), (1.0, 1.0))


def exact(x, y):
    return torch.sin(pi * x) * torch.sin(4 * pi * y)


def source(x, y):
    return (K**2 - 17 * pi**2) * exact(x, y)


def helmholtz(f):
    return pinn.laplacian(f, "u") + K**2 * f.u - source(f.x, f.y)


problem = pinn.Problem(
    name="helmholtz",
    inputs="x y",
    outputs="u",
    domain=space,
    residuals={"helmholtz": helmholtz},
    conditions={"boundary": pinn.Dirichlet(space.boundary, 0.0)},  # exact u vanishes on the boundary of [-1, 1]^2
    reference=pinn.references.analytic(exact, resolution=101),
    tolerance={"u": 1e-3},
)
