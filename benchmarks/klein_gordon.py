"""Nonlinear Klein-Gordon equation with a manufactured solution (Wang, Teng & Perdikaris 2021).

    u_tt - u_xx + u^3 = f(x, t),   x in [0, 1],   t in [0, 1]
    u = x cos(5 pi t) + (x t)^3,   so  f = -25 pi^2 x cos(5 pi t) + 6 x^3 t - 6 x t^3 + u^3
    u(x, 0) = x,   u_t(x, 0) = 0,   u(0, t) = 0,   u(1, t) = cos(5 pi t) + t^3

The case of "Understanding and mitigating gradient pathologies in physics-informed neural networks"
(SIAM J. Sci. Comput. 43, 2021), Klein_Gordon.py of its code (alpha = -1, beta = 0, gamma = 1,
k = 3). Second order in time: the initial velocity is a condition of its own
(``pinn.Initial(value, derivative=1)``). Reference: the closed form.
"""
from math import pi

import torch

import pinn

space = pinn.Interval(0.0, 1.0)
domain = space * pinn.TimeInterval(0.0, 1.0)


def exact(x, t):
    return x * torch.cos(5 * pi * t) + (x * t) ** 3


def source(x, t):
    u = exact(x, t)
    u_tt = -25 * pi**2 * x * torch.cos(5 * pi * t) + 6 * x**3 * t
    u_xx = 6 * x * t**3
    return u_tt - u_xx + u**3


def klein_gordon(f):
    return f.u_tt - f.u_xx + f.u**3 - source(f.x, f.t)


problem = pinn.Problem(
    name="klein_gordon",
    inputs="x t",
    outputs="u",
    domain=domain,
    residuals={"klein_gordon": klein_gordon},
    conditions={
        "ends": pinn.Dirichlet(space.boundary, exact),
        "initial": pinn.Initial(lambda x: x),
        "initial_velocity": pinn.Initial(0.0, derivative=1),
    },
    reference=pinn.references.analytic(exact, resolution=101),
    tolerance={"u": 1e-3},
)
