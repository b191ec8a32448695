"""Inverse Poisson problem: recover a variable conductivity field from noisy values (PINNacle PInv).

    div(a grad u) + q(x, y) = 0   on [0, 1]^2
    u = sin(pi x) sin(pi y),   a = 1 / (1 + x^2 + y^2 + (x - 1)^2 + (y - 1)^2)

Unknown: the field a (an output of its own), known only on the boundary. Data: u at 2500 points
(PINNacle: a 50 x 50 grid) with Gaussian noise of standard deviation 0.1 (here 0.2 times u's root
mean square 0.5). q follows from the closed forms, q = -div(a grad u):
q = 2 pi^2 sin(pi x) sin(pi y) a + 2 pi ((2x - 1) cos(pi x) sin(pi y) + (2y - 1) sin(pi x) cos(pi y)) a^2.
PINNacle's ``PoissonInv.f_src`` (src/pde/inverse.py of i207M/PINNacle) writes (2x + 1) and (2y + 1)
there, which its own u and a do not satisfy (grad a = -a^2 (4x - 2, 4y - 2)); this file uses the
consistent source (tests/test_benchmarks.py checks that the closed forms satisfy the equation).
Reference: the closed forms of u and a.

Source: Hao et al., "PINNacle: A comprehensive benchmark of physics-informed neural networks for
solving PDEs" (NeurIPS 2024), task PInv.
"""
from math import pi

import torch

import pinn

space = pinn.Rectangle((0.0, 0.0), (1.0, 1.0))


def u_exact(x, y):
    return torch.sin(pi * x) * torch.sin(pi * y)


def a_exact(x, y):
    return 1 / (1 + x**2 + y**2 + (x - 1) ** 2 + (y - 1) ** 2)


def source(x, y):
    a = a_exact(x, y)
    return (2 * pi**2 * torch.sin(pi * x) * torch.sin(pi * y) * a
            + 2 * pi * ((2 * x - 1) * torch.cos(pi * x) * torch.sin(pi * y)
                        + (2 * y - 1) * torch.sin(pi * x) * torch.cos(pi * y)) * a**2)


def poisson(f):
    return pinn.div(f, f.a[:, None] * pinn.grad(f, "u")) + source(f.x, f.y)


truth = pinn.references.analytic(lambda x, y: {"u": u_exact(x, y), "a": a_exact(x, y)}, resolution=101)

problem = pinn.Problem(
    name="poisson_inverse",
    inputs="x y",
    outputs="u a",
    domain=space,
    residuals={"poisson": poisson},
    conditions={
        "a_boundary": pinn.Dirichlet(space.boundary, a_exact, field="a"),
        "observed": pinn.observe(truth, points=2500, fields="u", noise=0.2),
    },
    reference=truth,
    tolerance={"u": 1e-2, "a": 2e-2},
)
