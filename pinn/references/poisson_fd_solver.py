"""Finite-difference reference solutions of Poisson's equation on rectilinear polygons.

Solves ``-lap u = f`` in a polygon whose edges are all horizontal or vertical (an L-shape, a T, a
U, a square with a square notch), with ``u = g`` on its boundary, by the 5-point Laplacian on a
uniform grid that has every vertex on a node, so that every boundary node lies exactly on the
boundary and no cut cell is needed. The sparse system is solved directly (scipy). The solver
reports its own discretisation error from three grids (``cells``, ``cells/2`` and ``cells/4``):
the observed order ``p = log2(|u_4h - u_2h| / |u_2h - u_h|)`` and the Richardson estimate
``|u_h - u_2h| / (2^p - 1)`` of the error of ``u_h`` (relative L2 over the nodes the grids share).

On a smooth solution the order is 2. At a re-entrant corner of angle ``omega`` the solution behaves
like ``r^(pi/omega)`` and the order drops: about 4/3 in L2 for the L-shape's 270-degree corner. Example,
the L-shape of ``benchmarks/poisson_lshape.py``, to a relative L2 error of about 1e-4::

    ref = poisson_fd(vertices=[(-1, -1), (0, -1), (0, 0), (1, 0), (1, 1), (-1, 1)],
                     source=1.0, cells=512)
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from pinn.geometry import Polygon
from pinn.references._levels import relative
from pinn.references.grid import GridReference

Value = float | Callable[..., np.ndarray]


def poisson_fd(
    *,
    vertices: Sequence[Sequence[float]],
    source: Value = 1.0,
    boundary: Value = 0.0,
    cells: int = 256,
    output_stride: int = 1,
    names: Sequence[str] = ("x", "y"),
    field: str = "u",
    estimate_error: bool = True,
) -> GridReference:
    """Solve ``-lap u = source`` in the polygon ``vertices`` with ``u = boundary`` on its edges.

    Args:
        vertices: the polygon's corners, every edge horizontal or vertical (a
            :class:`pinn.Polygon` is built from them, so the same checks apply).
        source: ``f``, a number or ``f(x, y)`` taking and returning numpy arrays.
        boundary: ``g``, a number or ``g(x, y)``, evaluated at the boundary nodes.
        cells: cells along the polygon's wider side; the grid spacing is ``h = width / cells``
            in both directions, and every vertex must fall on a node. With ``estimate_error`` it
            must be divisible by 4 (the two coarser grids must hold the vertices too).
        output_stride: keep every ``output_stride``-th node per axis; it must divide ``cells``.
        names: the two axis names.
        field: the name of the solution field.
        estimate_error: solve on the grids ``cells/2`` and ``cells/4`` too and report the error
            estimate (module docstring) as ``error_estimate[field]``.

    Returns:
        A :class:`GridReference` on the bounding box's nodes, NaN outside the polygon, with
        ``inside`` marking the nodes of the closed polygon.

    Raises:
        ValueError: naming the argument at fault: an edge neither horizontal nor vertical, a vertex
            off the grid, a bad cell count or stride, or a function returning the wrong shape or
            non-finite values.
    """
    polygon = Polygon(vertices)  # ValueError for a degenerate or self-intersecting polygon
    ring = np.asarray(polygon.vertices, dtype=float)
    edges = np.roll(ring, -1, axis=0) - ring
    slanted = np.flatnonzero((np.abs(edges[:, 0]) > 0) & (np.abs(edges[:, 1]) > 0))
    if slanted.size:
        i = int(slanted[0])
        raise ValueError(f"vertices: edge {i} from {tuple(ring[i])} to {tuple(ring[(i + 1) % len(ring)])} is neither "
                         "horizontal nor vertical; poisson_fd needs every edge on a grid line")
    if not isinstance(cells, Integral) or isinstance(cells, bool) or cells < 2:
        raise ValueError(f"cells must be an integer >= 2, got {cells!r}")
    if not isinstance(output_stride, Integral) or isinstance(output_stride, bool) or output_stride < 1 \
            or cells % output_stride:
        raise ValueError(f"output_stride must be a positive integer dividing cells {cells}, got {output_stride!r}")
    names = tuple(names)
    if len(names) != 2 or len(set(names)) != 2 or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"names must be two distinct strings, got {names!r}")
    if not isinstance(field, str) or not field:
        raise ValueError(f"field must be a non-empty string, got {field!r}")
    for label, value in (("source", source), ("boundary", boundary)):
        if not callable(value) and not (isinstance(value, Real) and math.isfinite(value)):
            raise ValueError(f"{label} must be a finite number or a function f(x, y), got {value!r}")
    levels = 3 if estimate_error else 1
    if estimate_error and (cells % 4 or cells < 8):
        raise ValueError(f"cells must be divisible by 4 and at least 8 with estimate_error=True, got {cells}")

    lower, upper = polygon.bbox
    width = float(np.max(upper - lower))
    solutions = []
    for level in range(levels):
        n = cells // 2**level
        h = width / n
        counts = (upper - lower) / h
        offsets = (ring - lower) / h
        if np.any(np.abs(counts - np.round(counts)) > 1e-9 * n) or np.any(np.abs(offsets - np.round(offsets)) > 1e-9 * n):
            raise ValueError(f"cells {cells}: with {n} cells across the polygon's width {width:g} (spacing {h:g}) some "
                             "vertices fall between grid nodes; choose cells so that every vertex is on a node"
                             + (" on the two coarser grids as well (estimate_error=True)" if level else ""))
        solutions.append(_solve(polygon, lower, h, tuple(int(round(c)) + 1 for c in counts), source, boundary))

    u, axes_nodes = solutions[0]
    error: dict[str, float] = {}
    order = float("nan")
    if estimate_error:
        (u2, _), (u4, _) = solutions[1], solutions[2]
        fine_on_2, fine_on_4, mid_on_4 = u[::2, ::2], u[::4, ::4], u2[::2, ::2]
        d1 = relative(fine_on_2 - u2, fine_on_2)  # |u_h - u_2h|
        d2 = relative(mid_on_4 - u4, fine_on_4)   # |u_2h - u_4h|
        order = math.log2(d2 / d1) if d1 > 0 and d2 > 0 else float("nan")
        usable = order if math.isfinite(order) and order > 0.5 else 1.0  # never trust a faster decay than seen
        error[field] = d1 / (2**usable - 1)
    s = output_stride
    axes = {names[0]: axes_nodes[0][::s], names[1]: axes_nodes[1][::s]}
    values = u[::s, ::s]
    inside = np.isfinite(values)
    estimate = f"{error[field]:.2e} (observed order {order:.2f})" if estimate_error else "not estimated"
    description = (f"finite differences (5-point), Poisson on a rectilinear polygon, {cells} cells across; "
                   f"estimated relative L2 error {estimate}")
    return GridReference(axes=axes, fields={field: values}, error_estimate=error, description=description,
                         inside=inside)


def _solve(polygon: Polygon, lower: np.ndarray, h: float, shape: tuple[int, int], source: Value,
           boundary: Value) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The 5-point solution on the nodes ``lower + h (i, j)`` of ``shape``; NaN outside the polygon."""
    xs = lower[0] + h * np.arange(shape[0])
    ys = lower[1] + h * np.arange(shape[1])
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    points = np.stack([X.ravel(), Y.ravel()], axis=1)
    on_edge = polygon.on_boundary(points, 1e-9 * h).reshape(shape)
    inside = polygon.inside(points).reshape(shape) & ~on_edge
    u = np.full(shape, np.nan)
    u[on_edge] = _values(boundary, X[on_edge], Y[on_edge], "boundary")
    index = -np.ones(shape, dtype=np.int64)
    index[inside] = np.arange(int(inside.sum()))
    rows_i, rows_j = np.nonzero(inside)
    rhs = h * h * _values(source, X[inside], Y[inside], "source")
    rows, cols, data = [index[inside]], [index[inside]], [np.full(len(rows_i), 4.0)]
    for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        ni, nj = rows_i + di, rows_j + dj  # inside nodes never sit on the grid's outer ring
        neighbour = index[ni, nj]
        unknown = neighbour >= 0
        rows.append(index[rows_i[unknown], rows_j[unknown]])
        cols.append(neighbour[unknown])
        data.append(-np.ones(int(unknown.sum())))
        known = ~unknown
        rhs[index[rows_i[known], rows_j[known]]] += u[ni[known], nj[known]]
    matrix = sp.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                           shape=(len(rhs), len(rhs)))
    u[inside] = spla.spsolve(matrix.tocsc(), rhs)
    return u, (xs, ys)


def _values(value: Value, x: np.ndarray, y: np.ndarray, label: str) -> np.ndarray:
    if not callable(value):
        return np.full(x.shape, float(value))
    result = np.asarray(value(x, y), dtype=float)
    if result.size == 1:
        result = np.full(x.shape, float(result))
    if result.shape != x.shape:
        raise ValueError(f"{label} returned shape {result.shape} for {x.size} nodes; it must return one value per node")
    if not np.all(np.isfinite(result)):
        raise ValueError(f"{label} returned NaN or infinite values")
    return result
