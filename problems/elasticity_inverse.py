"""Inverse elastic plate: recover the Lamé constants of problems/elasticity_plate.py from noisy
displacement observations.

    div sigma(u; lam, mu) + b = 0   on the unit square, plane strain,   lam, mu unknown (truth 1, 0.5)

The forward problem of problems/elasticity_plate.py (same supports, same known body force b and
top load, the benchmark of Haghighat et al. 2021) with the material's constants unknown: the
material is a pinn.UnknownElastic, whose stresses read the unknowns lam and mu, so the equilibrium
residuals and the traction conditions are written as in the forward problem. 200 observations of
ux and uy with 1% Gaussian noise (seeded by the run's seed) come from the closed form. The run
validates the displacements and stresses against the closed form, and reports lam and mu.
"""
from math import pi

import numpy as np
import torch

import pinn

lam_true, mu_true, Q = 1.0, 0.5, 4.0  # the loads below are known; the material is what we look for
material = pinn.UnknownElastic(lam="lam", mu="mu", plane="strain")
square = pinn.Rectangle((0.0, 0.0), (1.0, 1.0))


def exact(x, y):
    lam, mu = lam_true, mu_true
    exx = -2 * pi * torch.sin(2 * pi * x) * torch.sin(pi * y)
    eyy = torch.sin(pi * x) * Q * y**3
    shear = pi * torch.cos(2 * pi * x) * torch.cos(pi * y) + pi * torch.cos(pi * x) * Q * y**4 / 4
    return {"ux": torch.cos(2 * pi * x) * torch.sin(pi * y), "uy": torch.sin(pi * x) * Q * y**4 / 4,
            "sxx": (lam + 2 * mu) * exx + lam * eyy, "syy": lam * exx + (lam + 2 * mu) * eyy, "sxy": mu * shear}


def body_force_x(x, y):
    lam, mu = lam_true, mu_true
    return (lam * (4 * pi**2 * torch.cos(2 * pi * x) * torch.sin(pi * y) - pi * torch.cos(pi * x) * Q * y**3)
            + mu * (9 * pi**2 * torch.cos(2 * pi * x) * torch.sin(pi * y) - pi * torch.cos(pi * x) * Q * y**3))


def body_force_y(x, y):
    lam, mu = lam_true, mu_true
    return (lam * (-3 * torch.sin(pi * x) * Q * y**2 + 2 * pi**2 * torch.sin(2 * pi * x) * torch.cos(pi * y))
            + mu * (-6 * torch.sin(pi * x) * Q * y**2 + 2 * pi**2 * torch.sin(2 * pi * x) * torch.cos(pi * y)
                    + pi**2 * torch.sin(pi * x) * Q * y**4 / 4))


def equilibrium_x(f):
    return material.divergence(f)[0] + body_force_x(f.x, f.y)


def equilibrium_y(f):
    return material.divergence(f)[1] + body_force_y(f.x, f.y)


def top_load(x, y):
    return (lam_true + 2 * mu_true) * Q * torch.sin(pi * x)


sides = square.boundary.where(lambda x, y: np.isclose(x, 0.0) | np.isclose(x, 1.0))
bottom_and_top = square.boundary.where(lambda x, y: np.isclose(y, 0.0) | np.isclose(y, 1.0))
sides_and_bottom = square.boundary.where(lambda x, y: np.isclose(x, 0.0) | np.isclose(x, 1.0) | np.isclose(y, 0.0))
truth = pinn.references.analytic(exact, resolution=65)

problem = pinn.Problem(
    name="elasticity_inverse",
    inputs="x y",
    outputs="ux uy",
    domain=square,
    residuals={"equilibrium_x": equilibrium_x, "equilibrium_y": equilibrium_y},
    unknowns=[pinn.Unknown("lam", initial=2.0, positive=True, true_value=lam_true),
              pinn.Unknown("mu", initial=0.25, positive=True, true_value=mu_true)],
    conditions={
        "ux_held": pinn.Dirichlet(bottom_and_top, 0.0, field="ux", exact=True, distance=lambda x, y: y * (1 - y)),
        "uy_held": pinn.Dirichlet(sides_and_bottom, 0.0, field="uy", exact=True,
                                  distance=lambda x, y: x * (1 - x) * y),
        "sides_free": pinn.Traction(sides, (0.0, None), material=material, weight=10.0),
        "top_load": pinn.Traction(square.side(1, "upper"), (None, top_load), material=material, weight=10.0),
        "observed": pinn.observe(truth, points=200, fields="ux uy", noise=0.01),
    },
    derived=material.stress_fields(),
    reference=truth,
    tolerance={"ux": 1e-2, "uy": 1e-2, "lam": 2e-2, "mu": 2e-2},
    net=pinn.MLP(width=40, depth=3),
    sampling=pinn.Sampling(interior=2000, boundary=200, method="sobol"),
    training=pinn.Training([pinn.Adam(1000, learning_rate=3e-3), pinn.LBFGS(7000)]),
)
