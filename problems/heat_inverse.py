"""Inverse 2-D heat problem: recover the diffusivity of problems/heat.py from 200 noisy observations.

    u_t = div(kappa s(x, y) grad u) + q(x, y)   on the unit square, t in [0, 1]
    s = 1 + 0.5 cos(pi x) cos(pi y) known, kappa unknown (truth 0.1), u = 0 on the walls, u(x, y, 0) given

The forward problem of problems/heat.py with its diffusivity scale kappa unknown: the network and
kappa are trained together from the equation and 200 observations of u, drawn at random in space
and time from the finite-difference reference made with kappa = 0.1, with 1% Gaussian noise
(seeded by the run's seed). The run still validates u against that reference, and reports kappa
against its true value.
"""
from math import pi

import torch

import pinn

space = pinn.Rectangle((0.0, 0.0), (1.0, 1.0))
domain = space * pinn.TimeInterval(0.0, 1.0)
kappa_true = 0.1  # only the reference (the "experiment") knows it


def shape(x, y):
    return 1 + 0.5 * torch.cos(pi * x) * torch.cos(pi * y)


def source(x, y, t):
    return torch.sin(pi * x) * torch.sin(2 * pi * y) + 0 * t


def initial(x, y):
    return torch.sin(pi * x) * torch.sin(pi * y)


def heat(f):
    return f.u_t - pinn.div(f, f.kappa * shape(f.x, f.y)[:, None] * pinn.grad(f, "u")) - source(f.x, f.y, f.t)


truth = pinn.references.heat_fd(
    lower=(0.0, 0.0), upper=(1.0, 1.0), t_end=1.0,
    diffusivity=lambda x, y: kappa_true * shape(x, y), source=source, initial=initial,
    cells=64, steps=80, extrapolate=True, output_stride=2, output_times=21,
)

problem = pinn.Problem(
    name="heat_inverse",
    inputs="x y t",
    outputs="u",
    domain=domain,
    residuals={"heat": heat},
    unknowns=[pinn.Unknown("kappa", initial=0.05, positive=True, true_value=kappa_true)],
    conditions={
        "walls": pinn.Dirichlet(space.boundary, 0.0, exact=True),
        "initial": pinn.Initial(initial, exact=True),
        "observed": pinn.observe(truth, points=200, fields="u", noise=0.01),
    },
    reference=truth,
    tolerance={"u": 1e-2, "kappa": 1e-2},
    net=pinn.MLP(width=32, depth=3),
    sampling=pinn.Sampling(interior=2000, method="sobol"),
    training=pinn.Training([pinn.Adam(500, learning_rate=3e-3), pinn.LBFGS(3000)]),
)
