"""Viscous Burgers: u_t + u u_x = nu u_xx, nu = 0.01/pi, on [-1, 1] x [0, 1],
u(x, 0) = -sin(pi x), u(-1, t) = u(1, t) = 0. Reference: pinn.references.burgers (Cole-Hopf)."""
from math import pi
import torch
import pinn

NU = 0.01 / pi

space = pinn.Interval(-1.0, 1.0)
domain = space * pinn.TimeInterval(0.0, 1.0)


def burgers(f):
    return f.u_t + f.u * f.u_x - NU * f.u_xx


problem = pinn.Problem(
    name="burgers",
    inputs="x t",
    outputs="u",
    domain=domain,
    residuals={"burgers": burgers},
    conditions={
        "ends": pinn.Dirichlet(space.boundary, 0.0),
        "initial": pinn.Initial(lambda x: -torch.sin(pi * x)),
    },
    reference=pinn.references.burgers(nu=NU),
    tolerance={"u": 1e-3},
)
