"""2-D Helmholtz equation with a two-scale manufactured solution (Wang, Teng & Perdikaris 2021;
DeepXDE's Helmholtz example).

    u_xx + u_yy + k^2 u = q(x, y)   on [-1, 1]^2,   u = 0 on the boundary,   k = 1
    u = sin(a1 pi x) sin(a2 pi y),  a1 = 1, a2 = 4,  so  q = (k^2 - (a1^2 + a2^2) pi^2) u

The solution varies four times faster in y than in x: the case "Understanding and mitigating
gradient pathologies in physics-informed neural networks" (SIAM J. Sci. Comput. 43, 2021) used to
show unbalanced gradients and learning-rate annealing. Reference: the closed form.
"""
from math import pi

import torch

import pinn

k, a1, a2 = 1.0, 1.0, 4.0
space = pinn.Rectangle((-1.0, -1.0), (1.0, 1.0))


def exact(x, y):
    return torch.sin(a1 * pi * x) * torch.sin(a2 * pi * y)


def helmholtz(f):
    q = (k**2 - (a1**2 + a2**2) * pi**2) * exact(f.x, f.y)
    return f.u_xx + f.u_yy + k**2 * f.u - q


problem = pinn.Problem(
    name="helmholtz2d",
    inputs="x y",
    outputs="u",
    domain=space,
    residuals={"helmholtz": helmholtz},
    conditions={"walls": pinn.Dirichlet(space.boundary, 0.0)},
    reference=pinn.references.analytic(exact, resolution=101),
    tolerance={"u": 1e-3},
)
