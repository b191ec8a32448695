"""Poisson equation on a square with four circular holes, manufactured solution, Dirichlet everywhere.

    -(u_xx + u_yy) = q(x, y)   on  [-0.5, 0.5]^2 minus four disks of radius 0.1 at (+-0.3, +-0.3)
    u = sin(2 pi x) cos(2 pi y) + x^2 - y   (so q = 8 pi^2 sin(2 pi x) cos(2 pi y) - 2),
    u given on the square's sides and on the four circles

The geometry is PINNacle's Poisson2d-C (``Poisson2D_Classic``, src/pde/poisson.py of
i207M/PINNacle); its data (a Laplace problem solved by COMSOL) is replaced by a closed form here,
so PINNacle's figure is for another solution and is not compared. Reference: the closed form,
validated at the grid points inside the domain.
"""
from math import pi

import torch

import pinn

holes = [(0.3, 0.3), (-0.3, 0.3), (0.3, -0.3), (-0.3, -0.3)]
space = pinn.Rectangle((-0.5, -0.5), (0.5, 0.5))
for centre in holes:
    space = space - pinn.Disk(centre, 0.1)


def exact(x, y):
    return torch.sin(2 * pi * x) * torch.cos(2 * pi * y) + x**2 - y


def poisson(f):
    q = 8 * pi**2 * torch.sin(2 * pi * f.x) * torch.cos(2 * pi * f.y) - 2
    return -(f.u_xx + f.u_yy) - q


problem = pinn.Problem(
    name="poisson_holes",
    inputs="x y",
    outputs="u",
    domain=space,
    residuals={"poisson": poisson},
    conditions={"boundary": pinn.Dirichlet(space.boundary, exact)},
    reference=pinn.references.analytic(exact, resolution=101),
    tolerance={"u": 1e-3},
)
