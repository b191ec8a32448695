"""1-D heat equation u_t = alpha u_xx on [0, 1] x [0, 1], zero ends, two-mode initial profile.

Exact solution: u = exp(-alpha pi^2 t) sin(pi x) + 0.5 exp(-9 alpha pi^2 t) sin(3 pi x).
"""
from math import pi

import torch

import pinn

alpha = 0.1
space = pinn.Interval(0.0, 1.0)
domain = space * pinn.TimeInterval(0.0, 1.0)


def heat(f):
    return f.u_t - alpha * f.u_xx


def exact(x, t):
    return (torch.exp(-alpha * pi**2 * t) * torch.sin(pi * x)
            + 0.5 * torch.exp(-9 * alpha * pi**2 * t) * torch.sin(3 * pi * x))


problem = pinn.Problem(
    name="heat1d",
    inputs="x t",
    outputs="u",
    domain=domain,
    residuals={"heat": heat},
    conditions={
        "ends": pinn.Dirichlet(space.boundary, 0.0, exact=True),
        "initial": pinn.Initial(lambda x: exact(x, torch.zeros_like(x)), exact=True),
    },
    reference=pinn.references.analytic(exact, resolution={"x": 101, "t": 101}),
    tolerance={"u": 5e-5},
    net=pinn.MLP(width=32, depth=3),
    sampling=pinn.Sampling(interior=1000, method="sobol"),
    training=pinn.Training([pinn.Adam(300, learning_rate=3e-3), pinn.LBFGS(3700)]),
)
