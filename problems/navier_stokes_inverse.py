"""Inverse Kovasznay flow: recover the viscosity from noisy velocity observations, and the pressure
with no pressure data at all.

    u u_x + v u_y + p_x - nu (u_xx + u_yy) = 0
    u v_x + v v_y + p_y - nu (v_xx + v_yy) = 0
    u_x + v_y = 0                               on [-0.5, 1] x [-0.5, 1.5],  nu unknown (truth 1/20)

The forward problem of problems/kovasznay.py with its viscosity unknown: the velocity is held on
the walls exactly (the transfinite interpolation of its boundary values, as there), 200
observations of u and v inside, with 1% Gaussian noise (seeded by the run's seed), come from the
closed form; nothing is known of the pressure, which the momentum equations determine up to a
constant. The run validates u and v against the closed form and reports nu against 1/20;
``scripts/inverse.py`` also reports the pressure error once that constant is removed.
"""
from math import pi, sqrt

import torch

import pinn

nu_true = 1 / 20  # Re = 20: only the "experiment" knows it
lam = 1 / (2 * nu_true) - sqrt(1 / (4 * nu_true**2) + 4 * pi**2)
space = pinn.Rectangle((-0.5, -0.5), (1.0, 1.5))


def u_exact(x, y):
    return 1 - torch.exp(lam * x) * torch.cos(2 * pi * y)


def v_exact(x, y):
    return lam / (2 * pi) * torch.exp(lam * x) * torch.sin(2 * pi * y)


def p_exact(x, y):
    return 0.5 * (1 - torch.exp(2 * lam * x)) + 0 * y


velocity = pinn.references.analytic(lambda x, y: {"u": u_exact(x, y), "v": v_exact(x, y)}, resolution=101)

problem = pinn.Problem(
    name="navier_stokes_inverse",
    inputs="x y",
    outputs="u v p",
    domain=space,
    residuals=pinn.navier_stokes(nu="nu"),  # the viscosity is the unknown nu
    unknowns=[pinn.Unknown("nu", initial=0.1, positive=True, true_value=nu_true)],
    conditions={
        "u_walls": pinn.Dirichlet(space.boundary, space.extend_boundary_values(u_exact), field="u", exact=True),
        "v_walls": pinn.Dirichlet(space.boundary, space.extend_boundary_values(v_exact), field="v", exact=True),
        "observed": pinn.observe(velocity, points=200, fields="u v", noise=0.01),
    },
    reference=velocity,
    tolerance={"u": 2e-3, "v": 2e-3, "nu": 2e-2},
    plots=[pinn.flow_plots()],
    net=pinn.MLP(width=32, depth=3),
    sampling=pinn.Sampling(interior=2000, boundary=200, method="sobol"),
    training=pinn.Training([pinn.Adam(1000, learning_rate=3e-3), pinn.LBFGS(4000)]),
)
