"""Taylor-Green vortex: unsteady incompressible Navier-Stokes, periodic on [0, 2 pi]^2, t in [0, 1].

    u_t + u u_x + v u_y + p_x - (u_xx + u_yy) / Re = 0
    v_t + u v_x + v v_y + p_y - (v_xx + v_yy) / Re = 0
    u_x + v_y = 0

    u = -cos x sin y F(t),  v = sin x cos y F(t),  p = -(cos 2x + cos 2y) F(t)^2 / 4,
    F(t) = exp(-2 t / Re)                                        (Taylor & Green 1937)

At Re = 10 the vortices lose 18 % of their speed by t = 1. The initial velocity is imposed exactly
(through the network's output, u = u0 + t N); periodicity in x and y, declared as ``Periodic``
conditions, exactly too, by the network's periodic input embedding (x, y enter only through cos and
sin of their phase over the domain), so u, v, p and all their derivatives match on opposite sides.
Declared as conditions, the periodicity stays with the problem when the network is left to the
framework, whose automatic network is then periodic too. (Imposed as loss terms instead, through a
network that is not periodic, the default run reached 1.7e-3 in 270 s, and was slower.) The
pressure, defined up to a function of time, is fixed by p(pi/4, pi/4, t) = 0, which the closed
form satisfies.
"""
from math import pi

import numpy as np
import torch

import pinn

Re = 10.0
space = pinn.Rectangle((0.0, 0.0), (2 * pi, 2 * pi))
domain = space * pinn.TimeInterval(0.0, 1.0)


def decay(t):
    return torch.exp(-2 * t / Re)


def u_exact(x, y, t):
    return -torch.cos(x) * torch.sin(y) * decay(t)


def v_exact(x, y, t):
    return torch.sin(x) * torch.cos(y) * decay(t)


def p_exact(x, y, t):
    return -0.25 * (torch.cos(2 * x) + torch.cos(2 * y)) * decay(t) ** 2


gauge_times = np.linspace(0.0, 1.0, 21)
gauge_points = np.stack([np.full_like(gauge_times, pi / 4), np.full_like(gauge_times, pi / 4), gauge_times], axis=1)

problem = pinn.Problem(
    name="taylor_green",
    inputs="x y t",
    outputs="u v p",
    domain=domain,
    residuals=pinn.navier_stokes(Re=Re),  # unsteady: the problem has a time input
    conditions={
        "u_initial": pinn.Initial(lambda x, y: u_exact(x, y, 0 * x), field="u", exact=True),
        "v_initial": pinn.Initial(lambda x, y: v_exact(x, y, 0 * x), field="v", exact=True),
        "pressure_gauge": pinn.Data(gauge_points, {"p": np.zeros(len(gauge_times))}),
        # u, v and p periodic in x and y: met exactly by the network's periodic embedding (no loss
        # terms), which the automatic network also chooses from these conditions
        "periodic_x": pinn.Periodic("x"),
        "periodic_y": pinn.Periodic("y"),
    },
    reference=pinn.references.analytic(
        lambda x, y, t: {"u": u_exact(x, y, t), "v": v_exact(x, y, t), "p": p_exact(x, y, t)},
        resolution={"x": 41, "y": 41, "t": 11}),
    tolerance={"u": 1e-3, "v": 1e-3, "p": 1e-2},
    plots=[pinn.flow_plots()],
    net=pinn.MLP(width=48, depth=4, periodic=(0, 1)),  # exactly periodic in x and y
    sampling=pinn.Sampling(interior=3000, boundary=200, method="sobol"),
    training=pinn.Training([pinn.Adam(1000, learning_rate=3e-3), pinn.LBFGS(4000)]),
)
