"""1-D wave equation u_tt = 4 u_xx on [0, 1] x [0, 1] (PINNacle's Wave1d-C): fixed ends, two-mode
initial displacement, released at rest (initial velocity u_t = 0, a condition on a time derivative).

Exact solution: u = sin(pi x) cos(2 pi t) + 0.5 sin(4 pi x) cos(8 pi t).

Only the mathematics is declared: the network, sampling and training are the framework's defaults.
The ends and the initial displacement are imposed exactly (the default); the initial velocity is a
loss term on u_t (the default for a rate condition, which trained better than its exact form).
"""
from math import pi

import torch

import pinn

c = 2.0
space = pinn.Interval(0.0, 1.0)
domain = space * pinn.TimeInterval(0.0, 1.0)


def wave(f):
    return f.u_tt - c**2 * f.u_xx


def exact(x, t):
    return torch.sin(pi * x) * torch.cos(2 * pi * t) + 0.5 * torch.sin(4 * pi * x) * torch.cos(8 * pi * t)


problem = pinn.Problem(
    name="wave1d",
    inputs="x t",
    outputs="u",
    domain=domain,
    residuals={"wave": wave},
    conditions={
        "ends": pinn.Dirichlet(space.boundary, 0.0),
        "initial": pinn.Initial(lambda x: exact(x, torch.zeros_like(x))),
        "velocity": pinn.Initial(0.0, derivative=1),
    },
    reference=pinn.references.analytic(exact, resolution={"x": 101, "t": 101}),
    tolerance={"u": 1e-3},
    description="1-D wave equation, fixed ends, released at rest (PINNacle Wave1d-C)",
)
