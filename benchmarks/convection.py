"""1-D convection at a high speed, periodic in x: the "failure mode" case of Krishnapriyan et al. (2021).

    u_t + beta u_x = 0,   beta = 30,   x in [0, 2 pi],   t in [0, 1]
    u(x, 0) = sin x,   u periodic in x;   exact u = sin(x - beta t)

Plain PINNs fail at beta = 30 (the solution wraps almost five times around the domain over t);
Krishnapriyan, Gholami, Zhe, Kirby & Mahoney, "Characterizing possible failure modes in
physics-informed neural networks" (NeurIPS 2021), section 3.1. Reference: the closed form.
"""
import torch

import pinn

beta = 30.0
space = pinn.Interval(0.0, 2 * torch.pi)
domain = space * pinn.TimeInterval(0.0, 1.0)


def exact(x, t):
    return torch.sin(x - beta * t)


def convection(f):
    return f.u_t + beta * f.u_x


problem = pinn.Problem(
    name="convection",
    inputs="x t",
    outputs="u",
    domain=domain,
    residuals={"convection": convection},
    conditions={
        "initial": pinn.Initial(lambda x: torch.sin(x)),
        "periodic": pinn.Periodic("x", derivatives=0),
    },
    reference=pinn.references.analytic(exact, resolution={"x": 257, "t": 101}),
    tolerance={"u": 1e-2},
)
