"""Kovasznay flow: steady incompressible Navier-Stokes at Re = 20 behind a grid, with a closed form.

    u u_x + v u_y + p_x - (u_xx + u_yy) / Re = 0
    u v_x + v v_y + p_y - (v_xx + v_yy) / Re = 0
    u_x + v_y = 0                                  on [-0.5, 1] x [-0.5, 1.5]

    u = 1 - exp(lam x) cos(2 pi y),  v = lam / (2 pi) exp(lam x) sin(2 pi y),  p = (1 - exp(2 lam x)) / 2
    with lam = Re / 2 - sqrt(Re^2 / 4 + 4 pi^2)    (Kovasznay 1948)

The velocity is prescribed on the whole boundary, exactly, through the network's output
``u = g + D N``: ``g`` is the transfinite interpolation of the boundary values (not the closed form
inside, which would hand the network the answer), ``D`` vanishes on the boundary. The pressure,
defined up to a constant, is fixed on the outflow x = 1.
"""
from math import pi, sqrt

import torch

import pinn

Re = 20.0
lam = Re / 2 - sqrt(Re**2 / 4 + 4 * pi**2)
space = pinn.Rectangle((-0.5, -0.5), (1.0, 1.5))


def u_exact(x, y):
    return 1 - torch.exp(lam * x) * torch.cos(2 * pi * y)


def v_exact(x, y):
    return lam / (2 * pi) * torch.exp(lam * x) * torch.sin(2 * pi * y)


def p_exact(x, y):
    return 0.5 * (1 - torch.exp(2 * lam * x)) + 0 * y


problem = pinn.Problem(
    name="kovasznay",
    inputs="x y",
    outputs="u v p",
    domain=space,
    residuals=pinn.navier_stokes(Re=Re),
    conditions={
        "u_walls": pinn.Dirichlet(space.boundary, space.extend_boundary_values(u_exact), field="u", exact=True),
        "v_walls": pinn.Dirichlet(space.boundary, space.extend_boundary_values(v_exact), field="v", exact=True),
        "outflow_pressure": pinn.Dirichlet(space.side(0, "upper"), p_exact, field="p"),
    },
    reference=pinn.references.analytic(lambda x, y: {"u": u_exact(x, y), "v": v_exact(x, y), "p": p_exact(x, y)},
                                       resolution=101),
    tolerance={"u": 1e-4, "v": 1e-4, "p": 1e-3},
    plots=[pinn.flow_plots()],
    net=pinn.MLP(width=32, depth=3),
    sampling=pinn.Sampling(interior=2000, boundary=200, method="sobol"),
    # L-BFGS stalls (loss ~1e-5 after 4000 steps, v ~5e-4); Levenberg-Marquardt carries on to ~1e-7
    training=pinn.Training([pinn.Adam(1000, learning_rate=3e-3), pinn.LBFGS(1000), pinn.LevenbergMarquardt(200)]),
)
