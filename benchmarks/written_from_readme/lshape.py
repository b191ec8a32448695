"""Poisson -lap u = 1 on the L-shape [-1, 1]^2 minus [0, 1] x [-1, 0] (the lower-right quadrant
removed; re-entrant corner at the origin), u = 0 on the boundary.
Reference: pinn.references.poisson_fd (finite differences, own error estimate)."""
import pinn

VERTICES = [(-1.0, -1.0), (0.0, -1.0), (0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (-1.0, 1.0)]

space = pinn.Polygon(VERTICES)


def poisson(f):
    return -pinn.laplacian(f, "u") - 1.0


problem = pinn.Problem(
    name="lshape",
    inputs="x y",
    outputs="u",
    domain=space,
    residuals={"poisson": poisson},
    conditions={"boundary": pinn.Dirichlet(space.boundary, 0.0)},
    reference=pinn.references.poisson_fd(vertices=VERTICES, source=1.0, boundary=0.0, cells=512),
    tolerance={"u": 1e-2},
)
