"""2-D heat equation with a variable conductivity and a source, validated by finite differences.

    u_t = div(k grad u) + f   on the unit square, t in [0, 1]
    k(x, y) = 0.1 (1 + 0.5 cos(pi x) cos(pi y)),   f(x, y, t) = sin(pi x) sin(2 pi y)
    u = 0 on the walls,   u(x, y, 0) = sin(pi x) sin(pi y)

No closed form: the reference is the project's finite-difference solver (Crank-Nicolson,
Richardson-extrapolated), whose own error is about 100 times below the tolerance.

Training: Adam, then L-BFGS, which stalls in a flat region near a relative error of 1e-4, then 40
Levenberg-Marquardt steps (exact curvature of the residuals), which take it to about 3e-5. Those
need more points than the network has weights (4096 points, 2273 weights): with fewer they fit
the points while the error between them grows.
"""
from math import pi

import torch

import pinn

space = pinn.Rectangle((0.0, 0.0), (1.0, 1.0))
domain = space * pinn.TimeInterval(0.0, 1.0)


def conductivity(x, y):
    return 0.1 * (1 + 0.5 * torch.cos(pi * x) * torch.cos(pi * y))


def source(x, y, t):
    return torch.sin(pi * x) * torch.sin(2 * pi * y) + 0 * t


def initial(x, y):
    return torch.sin(pi * x) * torch.sin(pi * y)


def heat(f):
    return f.u_t - pinn.div(f, conductivity(f.x, f.y)[:, None] * pinn.grad(f, "u")) - source(f.x, f.y, f.t)


problem = pinn.Problem(
    name="heat2d",
    inputs="x y t",
    outputs="u",
    domain=domain,
    residuals={"heat": heat},
    conditions={
        "walls": pinn.Dirichlet(space.boundary, 0.0, exact=True),
        "initial": pinn.Initial(initial, exact=True),
    },
    reference=pinn.references.heat_fd(
        lower=(0.0, 0.0), upper=(1.0, 1.0), t_end=1.0,
        diffusivity=conductivity, source=source, initial=initial,
        cells=64, steps=80, extrapolate=True, output_stride=2, output_times=21,
    ),
    tolerance={"u": 1e-4},
    net=pinn.MLP(width=32, depth=3),
    sampling=pinn.Sampling(interior=4096, method="sobol"),
    training=pinn.Training([pinn.Adam(500, learning_rate=3e-3), pinn.LBFGS(2500), pinn.LevenbergMarquardt(40)]),
)
