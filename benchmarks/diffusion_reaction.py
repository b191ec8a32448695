"""Diffusion-reaction equation with a multi-frequency source (DeepXDE's "diffusion-reaction" example).

    u_t = u_xx + e^{-t} (3/2 sin 2x + 8/3 sin 3x + 15/4 sin 4x + 63/8 sin 8x),   x in [-pi, pi],  t in [0, 1]
    u(x, 0) = sin x + sin 2x / 2 + sin 3x / 3 + sin 4x / 4 + sin 8x / 8,   u(-pi, t) = u(pi, t) = 0

Exact: u = e^{-t} (sin x + sin 2x / 2 + sin 3x / 3 + sin 4x / 4 + sin 8x / 8): each mode
sin(kx)/k gives u_t - u_xx = e^{-t} (k - 1/k) sin(kx), which is the source term by term (checked
symbolically in tests/test_benchmarks.py). Reference: the closed form.

Source: DeepXDE documentation, examples/pinn_forward/diffusion_reaction.py (Lu et al., SIAM Rev. 63, 2021).
"""
from math import pi

import torch

import pinn

space = pinn.Interval(-pi, pi)
domain = space * pinn.TimeInterval(0.0, 1.0)
modes = (1, 2, 3, 4, 8)


def exact(x, t):
    return torch.exp(-t) * sum(torch.sin(k * x) / k for k in modes)


def source(x, t):
    return torch.exp(-t) * sum((k - 1 / k) * torch.sin(k * x) for k in modes)


def diffusion_reaction(f):
    return f.u_t - f.u_xx - source(f.x, f.t)


problem = pinn.Problem(
    name="diffusion_reaction",
    inputs="x t",
    outputs="u",
    domain=domain,
    residuals={"diffusion_reaction": diffusion_reaction},
    conditions={
        "ends": pinn.Dirichlet(space.boundary, 0.0),
        "initial": pinn.Initial(lambda x: exact(x, torch.zeros_like(x))),
    },
    reference=pinn.references.analytic(exact, resolution={"x": 201, "t": 101}),
    tolerance={"u": 1e-3},
)
