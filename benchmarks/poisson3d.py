"""3-D Poisson equation with a smooth manufactured solution and non-zero boundary values.

    -(u_xx + u_yy + u_zz) = 6 pi^2 sin(pi x) sin(2 pi y) sin(pi z)   on [0, 1]^3
    u = sin(pi x) sin(2 pi y) sin(pi z) + x y z,   u = x y z on the boundary

(x y z is harmonic, so it adds boundary values and nothing to the source.) A textbook check of
the 3-D box and its boundary; there is no published PINN figure for this exact statement.
Reference: the closed form.
"""
from math import pi

import torch

import pinn

space = pinn.Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))


def exact(x, y, z):
    return torch.sin(pi * x) * torch.sin(2 * pi * y) * torch.sin(pi * z) + x * y * z


def poisson(f):
    source = 6 * pi**2 * torch.sin(pi * f.x) * torch.sin(2 * pi * f.y) * torch.sin(pi * f.z)
    return -pinn.laplacian(f, "u") - source


problem = pinn.Problem(
    name="poisson3d",
    inputs="x y z",
    outputs="u",
    domain=space,
    residuals={"poisson": poisson},
    conditions={"walls": pinn.Dirichlet(space.boundary, lambda x, y, z: x * y * z)},
    reference=pinn.references.analytic(exact, resolution=41),
    tolerance={"u": 1e-3},
)
