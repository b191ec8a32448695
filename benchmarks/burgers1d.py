"""Viscous Burgers equation with a sine initial profile (PINNacle Burgers1d-C; Raissi et al. 2019).

    u_t + u u_x = (0.01 / pi) u_xx,   x in [-1, 1],   t in [0, 1]
    u(x, 0) = -sin(pi x),   u(-1, t) = u(1, t) = 0

A front of width ~0.01 forms at x = 0 from t ~ 0.3 (steepest slope -152.005 at t = 1.6037/pi).
Reference: the Cole-Hopf closed form evaluated by 120-node Gauss-Hermite quadrature
(``pinn.references.burgers``, see pinn/references/cole_hopf.py; verified in tests/test_burgers_reference.py against an independent
quadrature, a pseudo-spectral solve and Basdevant et al.'s 1986 figure), on Raissi's 256 x 100 grid
of x in [-1, 1], t in [0, 1] (here 256 x 101, t = 0 included).

Source: Raissi, Perdikaris & Karniadakis, J. Comput. Phys. 378 (2019), section 3.1.1 (relative L2
error 6.7e-4); Hao et al., PINNacle (NeurIPS 2024), task Burgers1d-C.
"""
from math import pi

import torch

import pinn

nu = 0.01 / pi
space = pinn.Interval(-1.0, 1.0)
domain = space * pinn.TimeInterval(0.0, 1.0)


def burgers(f):
    return f.u_t + f.u * f.u_x - nu * f.u_xx


problem = pinn.Problem(
    name="burgers1d",
    inputs="x t",
    outputs="u",
    domain=domain,
    residuals={"burgers": burgers},
    conditions={
        "ends": pinn.Dirichlet(space.boundary, 0.0),
        "initial": pinn.Initial(lambda x: -torch.sin(pi * x)),
    },
    reference=pinn.references.burgers(nu=nu, points=256, times=101),
    tolerance={"u": 1e-3},
)
