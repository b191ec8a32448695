"""2-D heat equation with very different diffusivities along x and y (PINNacle Heat2d-MS).

    u_t = u_xx / (500 pi)^2 + u_yy / pi^2,   (x, y) in [0, 1]^2,   t in [0, 5]
    u(x, y, 0) = sin(20 pi x) sin(pi y),   u = 0 on the boundary

Exact: u = sin(20 pi x) sin(pi y) exp(-((20 pi)^2 / (500 pi)^2 + 1) t) = ... exp(-1.0016 t): ten
periods in x, half of one in y, and a decay in t. Reference: the closed form (PINNacle's own,
``Heat2D_Multiscale.ref_sol`` in src/pde/heat.py of i207M/PINNacle).

Source: Hao et al., "PINNacle: A comprehensive benchmark of physics-informed neural networks for
solving PDEs" (NeurIPS 2024), task Heat2d-MS.
"""
from math import pi

import torch

import pinn

kx, ky = 1 / (500 * pi) ** 2, 1 / pi**2
wx, wy = 20 * pi, pi
space = pinn.Rectangle((0.0, 0.0), (1.0, 1.0))
domain = space * pinn.TimeInterval(0.0, 5.0)


def exact(x, y, t):
    return torch.sin(wx * x) * torch.sin(wy * y) * torch.exp(-(kx * wx**2 + ky * wy**2) * t)


def heat(f):
    return f.u_t - kx * f.u_xx - ky * f.u_yy


problem = pinn.Problem(
    name="heat_multiscale",
    inputs="x y t",
    outputs="u",
    domain=domain,
    residuals={"heat": heat},
    conditions={
        "walls": pinn.Dirichlet(space.boundary, 0.0),
        "initial": pinn.Initial(lambda x, y: exact(x, y, torch.zeros_like(x))),
    },
    reference=pinn.references.analytic(exact, resolution={"x": 201, "y": 33, "t": 51}),
    tolerance={"u": 1e-2},
)
