"""Manufactured 2-D elastic plate (plane strain), the benchmark of Haghighat et al. (2021), closed form.

    div sigma + b = 0   on the unit square,   lam = 1, mu = 0.5, Q = 4
    exact:  ux = cos(2 pi x) sin(pi y),   uy = sin(pi x) Q y^4 / 4,   b derived from them

Conditions, as in the benchmark:
    x = 0 and x = 1:  uy = 0,  sxx = 0 (no normal traction)
    y = 0:            ux = uy = 0
    y = 1:            ux = 0,  syy = (lam + 2 mu) Q sin(pi x)

Displacement form: the network predicts ux and uy, the residuals are the Navier-Cauchy equations,
and the stresses are derived from the displacement derivatives and validated like outputs. The
displacement conditions hold exactly (through the output transform, with distance functions
that vanish on their sides); the two traction conditions are loss terms, weighted 10: the
stresses, first derivatives, are what they constrain, and with weight 1 sxy was the worst field
(8e-4 against 3e-4 at 5000 steps, seed 1).
"""
from math import pi

import numpy as np
import torch

import pinn

lam, mu, Q = 1.0, 0.5, 4.0
material = pinn.LinearElastic(lam=lam, mu=mu, plane="strain")
square = pinn.Rectangle((0.0, 0.0), (1.0, 1.0))


def exact(x, y):
    exx = -2 * pi * torch.sin(2 * pi * x) * torch.sin(pi * y)
    eyy = torch.sin(pi * x) * Q * y**3
    shear = pi * torch.cos(2 * pi * x) * torch.cos(pi * y) + pi * torch.cos(pi * x) * Q * y**4 / 4
    return {"ux": torch.cos(2 * pi * x) * torch.sin(pi * y), "uy": torch.sin(pi * x) * Q * y**4 / 4,
            "sxx": (lam + 2 * mu) * exx + lam * eyy, "syy": lam * exx + (lam + 2 * mu) * eyy, "sxy": mu * shear}


def body_force_x(x, y):
    return (lam * (4 * pi**2 * torch.cos(2 * pi * x) * torch.sin(pi * y) - pi * torch.cos(pi * x) * Q * y**3)
            + mu * (9 * pi**2 * torch.cos(2 * pi * x) * torch.sin(pi * y) - pi * torch.cos(pi * x) * Q * y**3))


def body_force_y(x, y):
    return (lam * (-3 * torch.sin(pi * x) * Q * y**2 + 2 * pi**2 * torch.sin(2 * pi * x) * torch.cos(pi * y))
            + mu * (-6 * torch.sin(pi * x) * Q * y**2 + 2 * pi**2 * torch.sin(2 * pi * x) * torch.cos(pi * y)
                    + pi**2 * torch.sin(pi * x) * Q * y**4 / 4))


def equilibrium_x(f):
    return material.divergence(f)[0] + body_force_x(f.x, f.y)


def equilibrium_y(f):
    return material.divergence(f)[1] + body_force_y(f.x, f.y)


def top_load(x, y):
    return (lam + 2 * mu) * Q * torch.sin(pi * x)


sides = square.boundary.where(lambda x, y: np.isclose(x, 0.0) | np.isclose(x, 1.0))
bottom_and_top = square.boundary.where(lambda x, y: np.isclose(y, 0.0) | np.isclose(y, 1.0))
sides_and_bottom = square.boundary.where(lambda x, y: np.isclose(x, 0.0) | np.isclose(x, 1.0) | np.isclose(y, 0.0))

problem = pinn.Problem(
    name="elasticity_plate",
    inputs="x y",
    outputs="ux uy",
    domain=square,
    residuals={"equilibrium_x": equilibrium_x, "equilibrium_y": equilibrium_y},
    conditions={
        "ux_held": pinn.Dirichlet(bottom_and_top, 0.0, field="ux", exact=True, distance=lambda x, y: y * (1 - y)),
        "uy_held": pinn.Dirichlet(sides_and_bottom, 0.0, field="uy", exact=True,
                                  distance=lambda x, y: x * (1 - x) * y),
        "sides_free": pinn.Traction(sides, (0.0, None), material=material, weight=10.0),
        "top_load": pinn.Traction(square.side(1, "upper"), (None, top_load), material=material, weight=10.0),
    },
    derived=material.stress_fields(),
    reference=pinn.references.analytic(exact, resolution=65),
    tolerance={"ux": 1e-3, "uy": 1e-3, "sxx": 1e-3, "syy": 1e-3, "sxy": 1e-3},
    net=pinn.MLP(width=40, depth=3),
    sampling=pinn.Sampling(interior=2000, boundary=200, method="sobol"),
    training=pinn.Training([pinn.Adam(1000, learning_rate=3e-3), pinn.LBFGS(7000)]),
    plots=[pinn.elasticity_plots(material)],
)
