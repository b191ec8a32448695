"""Wave equation u_tt = 4 u_xx (c = 2) on [0, 1] x [0, 1], u(0, t) = u(1, t) = 0,
u(x, 0) = sin(pi x) + 0.5 sin(4 pi x), u_t(x, 0) = 0 (a condition on the rate, no extra output).
Reference: separation of variables,
u = sin(pi x) cos(2 pi t) + 0.5 sin(4 pi x) cos(8 pi t)."""
from math import pi
import torch
import pinn

C = 2.0

space = pinn.Interval(0.0, 1.0)
domain = space * pinn.TimeInterval(0.0, 1.0)


def initial(x):
    return torch.sin(pi * x) + 0.5 * torch.sin(4 * pi * x)


def exact(x, t):
    return (torch.sin(pi * x) * torch.cos(C * pi * t)
            + 0.5 * torch.sin(4 * pi * x) * torch.cos(4 * C * pi * t))


def wave(f):
    return f.u_tt - C**2 * f.u_xx


problem = pinn.Problem(
    name="wave",
    inputs="x t",
    outputs="u",
    domain=domain,
    residuals={"wave": wave},
    conditions={
        "ends": pinn.Dirichlet(space.boundary, 0.0),
        "initial": pinn.Initial(initial),
        "initial_velocity": pinn.Initial(0.0, derivative=1),
    },
    reference=pinn.references.analytic(exact, resolution=101),
    tolerance={"u": 1e-3},
)
