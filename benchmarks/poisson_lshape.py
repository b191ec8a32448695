"""Poisson's equation on the L-shaped domain, a problem with a singular re-entrant corner.

    -lap u = 1   in the L-shape [-1, 1]^2 minus [0, 1] x [-1, 0]
    u = 0        on its boundary

At the re-entrant corner (0, 0) (interior angle 3 pi / 2) the solution behaves like
r^(2/3) sin(2 theta / 3): its gradient is infinite there. The file declares only the mathematics: the
wall condition is exact by default (the polygon's distance function), and the corner's singular
function enters the output by default (``Dirichlet(..., singular_corners=True)``), found from the
polygon's angles; nothing here is written for this corner. Net, points and training are the
framework's defaults (change them with ``--set``).

Reference: the project's 5-point finite-difference solver on a 256-cell grid, whose own error
(Richardson, from the observed order 4/3) is about 5e-4, twenty times below the tolerance.
"""
import torch

import pinn

VERTICES = [(-1.0, -1.0), (0.0, -1.0), (0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (-1.0, 1.0)]
domain = pinn.Polygon(VERTICES)


def poisson(f):
    return pinn.laplacian(f, "u") + 1.0


problem = pinn.Problem(
    name="poisson_lshape",
    inputs="x y",
    outputs="u",
    domain=domain,
    residuals={"poisson": poisson},
    conditions={"walls": pinn.Dirichlet(domain.boundary, 0.0)},
    reference=pinn.references.poisson_fd(vertices=VERTICES, source=lambda x, y: torch.ones_like(x),
                                         boundary=0.0, cells=256, output_stride=2),
    tolerance={"u": 1e-2},
    description="Poisson -lap u = 1 on the L-shape, u = 0 on the walls (re-entrant corner at the origin)",
)
