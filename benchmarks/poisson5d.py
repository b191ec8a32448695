"""5-D Poisson equation (PINNacle PNd).

    -sum_i u_{x_i x_i} = (pi^2 / 4) sum_i sin(pi x_i / 2)   on [0, 1]^5
    u = sum_i sin(pi x_i / 2) on the boundary;  exact u = sum_i sin(pi x_i / 2)

Reference: the closed form (PINNacle's own, ``PoissonND.ref_sol`` in src/pde/poisson.py of
i207M/PINNacle), checked on an 11^5 grid. The domain is the 5-D axis-aligned box; pinn exports
boxes of 1 to 3 dimensions by name, and builds this one from the class they share,
``pinn.geometry.box.AxisAlignedBox``.

Source: Hao et al., "PINNacle: A comprehensive benchmark of physics-informed neural networks for
solving PDEs" (NeurIPS 2024), task PNd (high dimension).
"""
from math import pi

import torch

import pinn
from pinn.geometry.box import AxisAlignedBox

dim = 5
space = AxisAlignedBox([0.0] * dim, [1.0] * dim)
names = [f"x{i}" for i in range(1, dim + 1)]


def exact(*xs):
    return sum(torch.sin(pi * x / 2) for x in xs)


def poisson(f):
    coordinates = [getattr(f, n) for n in names]
    return -pinn.laplacian(f, "u") - pi**2 / 4 * exact(*coordinates)


problem = pinn.Problem(
    name="poisson5d",
    inputs=" ".join(names),
    outputs="u",
    domain=space,
    residuals={"poisson": poisson},
    conditions={"walls": pinn.Dirichlet(space.boundary, exact)},
    reference=pinn.references.analytic(exact, resolution=11),
    tolerance={"u": 1e-3},
)
