"""The Darcy finite-difference reference: second order by grid refinement on a manufactured solution,
the symmetric problem's symmetry, a jump coefficient's convergence, and argument validation."""
from __future__ import annotations

import numpy as np
import pytest

import torch

from pinn.references.darcy_fd import darcy_fd, darcy_residual

PI = np.pi


def manufactured(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """u = sin(pi x) sin(2 pi y) x, a = 1 + x y / 2 + sin(y) / 3: returns (a, f, u) on the n x n nodes.

    -div(a grad u) = -(a_x u_x + a_y u_y + a lap u)."""
    s = np.linspace(0, 1, n)
    x, y = np.meshgrid(s, s, indexing="ij")
    sx, cx, sy, cy = np.sin(PI * x), np.cos(PI * x), np.sin(2 * PI * y), np.cos(2 * PI * y)
    u = x * sx * sy
    u_x = (sx + PI * x * cx) * sy
    u_y = 2 * PI * x * sx * cy
    u_xx = (2 * PI * cx - PI**2 * x * sx) * sy
    u_yy = -4 * PI**2 * u
    a = 1 + 0.5 * x * y + np.sin(y) / 3
    a_x, a_y = 0.5 * y, 0.5 * x + np.cos(y) / 3
    f = -(a_x * u_x + a_y * u_y + a * (u_xx + u_yy))
    return a, f, u


def test_second_order_on_a_manufactured_solution():
    errors = []
    for n in (17, 33, 65):
        a, f, exact = manufactured(n)
        u = darcy_fd(a, f)
        errors.append(np.abs(u - exact).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 2e-3
    assert np.all(orders > 1.9) and np.all(orders < 2.2), orders


def test_constant_coefficient_matches_the_poisson_series():
    """-lap u = 1 on the unit square: u(1/2, 1/2) = 0.07367135328 (the double sine series)."""
    u = darcy_fd(np.ones((65, 65)))
    centre = u[32, 32]
    assert abs(centre - 0.0736713532814) < 2e-4
    assert np.all(u[0] == 0) and np.all(u[:, -1] == 0)


def test_symmetric_coefficient_gives_a_symmetric_solution():
    s = np.linspace(0, 1, 33)
    x, y = np.meshgrid(s, s, indexing="ij")
    a = np.where((x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.1, 12.0, 3.0)
    u = darcy_fd(a)
    assert np.allclose(u, u.T, atol=1e-14) and np.allclose(u, u[::-1], atol=1e-14)


def test_residual_is_the_solvers_own_equation():
    """darcy_residual is the rows of darcy_fd's system: zero (to rounding) for its solution, numpy or torch,
    a batch at once; and not zero for another function with the same walls."""
    s = np.linspace(0, 1, 33)
    x, y = np.meshgrid(s, s, indexing="ij")
    a = np.stack([np.where((x - 0.3) ** 2 + (y - 0.6) ** 2 < 0.1, 12.0, 3.0), 1 + x * y])
    u = np.stack([darcy_fd(each, 2.0) for each in a])
    residual = darcy_residual(u, a, 2.0)
    assert residual.shape == (2, 31, 31)
    assert np.abs(residual).max() < 1e-9
    as_torch = darcy_residual(torch.as_tensor(u), torch.as_tensor(a), 2.0)
    assert torch.allclose(as_torch, torch.as_tensor(residual), atol=1e-12)
    assert np.abs(darcy_residual(u * 1.01, a, 2.0)).max() > 0.01
    with pytest.raises(ValueError, match="same"):
        darcy_residual(u, a[..., :-1, :-1])


def test_a_jump_coefficient_converges():
    """a = 12 for x < 0.4, 3 beyond: the solution at common nodes settles as the grid is refined."""
    def solve(n):
        s = np.linspace(0, 1, n)
        x, _ = np.meshgrid(s, s, indexing="ij")
        return darcy_fd(np.where(x < 0.4, 12.0, 3.0))
    coarse, mid, fine = solve(21), solve(41), solve(81)
    d1 = np.abs(coarse - mid[::2, ::2]).max()
    d2 = np.abs(mid - fine[::2, ::2]).max()
    assert d2 < 0.6 * d1


@pytest.mark.parametrize("bad, match", [
    (np.ones((4, 5)), r"\(n, n\)"),
    (np.ones((2, 2)), "n >= 3"),
    (-np.ones((5, 5)), "positive"),
    (np.full((5, 5), np.nan), "positive and finite"),
])
def test_bad_coefficients(bad, match):
    with pytest.raises(ValueError, match=match):
        darcy_fd(bad)


def test_bad_source():
    with pytest.raises(ValueError, match="source"):
        darcy_fd(np.ones((5, 5)), np.ones((4, 4)))
