"""Inverse Burgers problem: recover the viscosity from 2000 noisy observations (Raissi et al. 2019).

    u_t + u u_x = nu u_xx,   x in [-1, 1],   t in [0, 1],   u(x, 0) = -sin(pi x),   u(+-1, t) = 0
    nu unknown (truth 0.01 / pi = 0.0031831), first guess 0.01

The network and nu are trained together from the equation, the initial and boundary values, and
2000 observations of u drawn at random from the Cole-Hopf reference (``pinn.references.burgers``)
with 1 % Gaussian noise (seeded by the run's seed). Raissi et al. (J. Comput. Phys. 378, 2019,
section 4.1.1) identify nu (and the coefficient of u u_x) from 2000 points, clean or with 1 % noise,
without the initial and boundary values; this case keeps them and identifies nu alone.
"""
from math import pi

import torch

import pinn

nu_true = 0.01 / pi  # only the reference (the "experiment") knows it
space = pinn.Interval(-1.0, 1.0)
domain = space * pinn.TimeInterval(0.0, 1.0)


def burgers(f):
    return f.u_t + f.u * f.u_x - f.nu * f.u_xx


truth = pinn.references.burgers(nu=nu_true, points=256, times=101)

problem = pinn.Problem(
    name="inverse_burgers",
    inputs="x t",
    outputs="u",
    domain=domain,
    residuals={"burgers": burgers},
    unknowns=[pinn.Unknown("nu", initial=0.01, positive=True, true_value=nu_true)],
    conditions={
        "ends": pinn.Dirichlet(space.boundary, 0.0),
        "initial": pinn.Initial(lambda x: -torch.sin(pi * x)),
        "observed": pinn.observe(truth, points=2000, fields="u", noise=0.01),
    },
    reference=truth,
    tolerance={"u": 1e-2, "nu": 1e-2},
)
