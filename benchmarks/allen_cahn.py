"""Allen-Cahn equation, periodic in x (Raissi et al. 2019; Wang, Sankaran & Perdikaris 2022/2023).

    u_t = 1e-4 u_xx - 5 u^3 + 5 u,   x in [-1, 1],   t in [0, 1]
    u(x, 0) = x^2 cos(pi x),   u and u_x periodic in x

Stiff reaction with sharp interior layers that form and merge (metastable states at u = -1, 1).
Reference: Fourier pseudo-spectral collocation with 1024 modes and ETDRK4 time steps
(``pinn.references.periodic_spectral``), own error estimate ~2e-5 (against 512 modes), verified by
refinement in tests/test_spectral_reference.py (4e-6 against 2048 modes).

Source: Raissi, Perdikaris & Karniadakis, J. Comput. Phys. 378 (2019), section 4.1.2 (the same
equation and data, solved there by the discrete-time model).
"""
from math import pi

import torch

import pinn

eps = 1e-4
space = pinn.Interval(-1.0, 1.0)
domain = space * pinn.TimeInterval(0.0, 1.0)


def initial(x):
    return x**2 * torch.cos(pi * x)


def reaction(u, u_x, x, t):
    return 5 * u - 5 * u**3


def allen_cahn(f):
    return f.u_t - eps * f.u_xx - reaction(f.u, None, f.x, f.t)


problem = pinn.Problem(
    name="allen_cahn",
    inputs="x t",
    outputs="u",
    domain=domain,
    residuals={"allen_cahn": allen_cahn},
    conditions={
        "initial": pinn.Initial(initial),
        "periodic": pinn.Periodic("x", derivatives=1),
    },
    reference=pinn.references.periodic_spectral(
        lower=-1.0, upper=1.0, t_end=1.0, diffusivity=eps, reaction=reaction, initial=initial,
        modes=1024, steps=600, output_times=101, output_stride=4,
    ),
    tolerance={"u": 1e-2},
)
