"""Allen-Cahn u_t = 1e-4 u_xx - 5 u^3 + 5 u on [-1, 1] x [0, 1], periodic in x,
u(x, 0) = x^2 cos(pi x). Reference: pinn.references.periodic_spectral (Fourier + ETDRK4)."""
from math import pi
import torch
import pinn

D = 1e-4

space = pinn.Interval(-1.0, 1.0)
domain = space * pinn.TimeInterval(0.0, 1.0)


def initial(x):
    return x**2 * torch.cos(pi * x)


def reaction(u, u_x, x, t):
    return 5 * u - 5 * u**3


def allen_cahn(f):
    return f.u_t - D * f.u_xx - reaction(f.u, f.u_x, f.x, f.t)


problem = pinn.Problem(
    name="allen_cahn",
    inputs="x t",
    outputs="u",
    domain=domain,
    residuals={"allen_cahn": allen_cahn},
    conditions={
        "periodic": pinn.Periodic("x"),
        "initial": pinn.Initial(initial),
    },
    reference=pinn.references.periodic_spectral(
        lower=-1.0, upper=1.0, t_end=1.0, diffusivity=D,
        reaction=reaction, initial=initial, modes=1024, steps=2000,
    ),
    tolerance={"u": 1e-2},
)
