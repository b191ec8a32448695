"""Darcy flow ``-div(a grad u) = f`` on the unit square with ``u = 0`` on the boundary, by finite differences.

The coefficient ``a`` is given at the nodes of a uniform ``n x n`` grid with both walls
(``x_i = i / (n - 1)``); the five-point scheme in conservative form uses at each cell face the harmonic
mean of the two nodes it joins, which is the face value of a coefficient that jumps between them
(as the thresholded Gaussian random fields of Li et al. 2021 do) and a second-order one of a smooth
coefficient. The ``(n - 2)^2`` interior unknowns are solved by a sparse LU factorisation
(scipy.sparse). The scheme is second order for smooth coefficients (``tests/test_darcy_fd.py``
measures it), and lower across the jumps of a piecewise constant one.

Example, the operator-learning benchmark's coefficient (12 where a field is positive, 3 elsewhere)::

    u = darcy_fd(np.where(field > 0, 12.0, 3.0))          # field: (n, n) values on the nodes
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.sparse
import scipy.sparse.linalg


def darcy_fd(coefficient: np.ndarray, source: float | np.ndarray | Callable[[np.ndarray, np.ndarray], np.ndarray] = 1.0
             ) -> np.ndarray:
    """The solution ``u`` of ``-div(a grad u) = f``, ``u = 0`` on the walls, on the same ``n x n`` nodes.

    Args:
        coefficient: ``a`` at the nodes, shape ``(n, n)`` with ``n >= 3`` (axis 0 is x), positive and finite.
        source: ``f``: a number, an ``(n, n)`` array of node values, or ``f(x, y)`` of node arrays.

    Returns:
        ``u`` at the nodes, shape ``(n, n)``, zero on the walls.
    """
    a = np.asarray(coefficient, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 3:
        raise ValueError(f"darcy_fd coefficient must be an (n, n) array of node values with n >= 3, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError("darcy_fd coefficient must be positive and finite at every node")
    n = a.shape[0]
    h = 1.0 / (n - 1)
    f = _source(source, n)
    inner = n - 2
    a_w, a_e, a_s, a_n = interior_faces(a)
    index = np.arange(inner * inner).reshape(inner, inner)
    rows, cols, values = [index.ravel()], [index.ravel()], [(a_w + a_e + a_s + a_n).ravel()]
    for coeff, di, dj in ((a_w, -1, 0), (a_e, 1, 0), (a_s, 0, -1), (a_n, 0, 1)):
        # neighbours on the walls are zero and drop out
        i0, i1 = max(0, -di), inner - max(0, di)
        j0, j1 = max(0, -dj), inner - max(0, dj)
        rows.append(index[i0:i1, j0:j1].ravel())
        cols.append(index[i0 + di:i1 + di, j0 + dj:j1 + dj].ravel())
        values.append(-coeff[i0:i1, j0:j1].ravel())
    matrix = scipy.sparse.csc_matrix((np.concatenate(values) / h**2, (np.concatenate(rows), np.concatenate(cols))),
                                     shape=(inner * inner, inner * inner))
    u = np.zeros((n, n))
    u[1:-1, 1:-1] = scipy.sparse.linalg.spsolve(matrix, f[1:-1, 1:-1].ravel()).reshape(inner, inner)
    return u


def interior_faces(a):
    """The harmonic means of ``a`` at the four faces of every interior node, west ``(i - 1/2, j)``, east,
    south ``(i, j - 1/2)`` and north, each of shape ``(..., n - 2, n - 2)``: the scheme's coefficients.

    ``a`` is ``(..., n, n)``, a numpy array or a torch tensor (the arithmetic is the same for both, so the
    operator learning's physics loss uses the solver's own faces, differentiably)."""
    # harmonic means at the faces between neighbouring nodes: east (i + 1/2, j) and north (i, j + 1/2)
    east = 2 * a[..., 1:, :] * a[..., :-1, :] / (a[..., 1:, :] + a[..., :-1, :])
    north = 2 * a[..., :, 1:] * a[..., :, :-1] / (a[..., :, 1:] + a[..., :, :-1])
    return east[..., :-1, 1:-1], east[..., 1:, 1:-1], north[..., 1:-1, :-1], north[..., 1:-1, 1:]


def darcy_residual(u, a, source: float = 1.0):
    """The scheme's residual ``-div(a grad u) - f`` at the interior nodes, shape ``(..., n - 2, n - 2)``, of
    node values ``u`` (``(..., n, n)``, its wall values as given: zero for a solution) with the
    coefficient ``a`` of the same shape and a constant source: the rows of :func:`darcy_fd`'s system,
    ``A u - f``, so the residual of its solution is zero up to the solver's rounding. numpy or torch
    (differentiable in ``u``).
    """
    n = u.shape[-1]
    if u.shape[-2:] != (n, n) or a.shape[-2:] != (n, n) or n < 3:
        raise ValueError(f"darcy_residual takes u and a on the same (n, n) nodes, n >= 3, got shapes "
                         f"{tuple(u.shape)} and {tuple(a.shape)}")
    a_w, a_e, a_s, a_n = interior_faces(a)
    centre = u[..., 1:-1, 1:-1]
    flux = (a_w * (centre - u[..., :-2, 1:-1]) + a_e * (centre - u[..., 2:, 1:-1])
            + a_s * (centre - u[..., 1:-1, :-2]) + a_n * (centre - u[..., 1:-1, 2:]))
    return flux * (n - 1) ** 2 - source


def _source(source, n: int) -> np.ndarray:
    nodes = np.linspace(0.0, 1.0, n)
    if callable(source):
        x, y = np.meshgrid(nodes, nodes, indexing="ij")
        f = np.broadcast_to(np.asarray(source(x, y), dtype=np.float64), (n, n))
    elif np.ndim(source) == 0:
        f = np.full((n, n), float(source))
    else:
        f = np.asarray(source, dtype=np.float64)
        if f.shape != (n, n):
            raise ValueError(f"darcy_fd source must be a number, a callable or an ({n}, {n}) array, got shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("darcy_fd source must be finite at every node")
    return f
