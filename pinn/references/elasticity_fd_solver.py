"""Finite-difference reference solutions of 2-D linear elasticity on a rectangle.

Solves the Navier–Cauchy equations ``div sigma(u) + b = 0`` for the displacement ``u = (ux, uy)``
of an isotropic material (plane stress or plane strain) on ``[x0, x1] x [y0, y1]``, with a
displacement or a traction condition per side and per component, and returns the displacements
and the stresses on the nodes. Second order: the error falls 4x when the cells double (shown by
grid refinement in ``tests/test_elasticity_fd.py``); the solve is direct (sparse LU).

Discretisation, on a uniform grid with nodes on the walls:

* interior nodes: the Navier–Cauchy equations with centred differences (the 5-point Laplacian
  and the 4-point cross stencil for the mixed derivative);
* wall nodes: one equation per component, the wall's condition for that component, with no
  ghost points: a displacement row ``u_c = g``, or a traction row ``(sigma · n)_c = t`` whose
  normal derivatives are one-sided three-point differences and whose tangential derivatives
  are centred (both second order);
* corner nodes (on two walls): a component prescribed as a displacement by either wall takes
  that value (the x-wall's if both do); otherwise ``ux`` takes the x-wall's normal traction
  ``sxx n_x = t_x`` and ``uy`` the y-wall's ``syy n_y = t_y`` (the shear traction, shared by
  both walls, is left to the neighbouring rows).

The stresses are computed from the solved displacements with the same second-order
differences (centred inside, one-sided on the walls). Example, a plate under uniaxial tension
(clamped normal displacement on the left and bottom, pulled on the right, free on top)::

    steel = pinn.LinearElastic(E=200.0, nu=0.3, plane="stress")
    ref = elasticity_fd(lower=(0, 0), upper=(2, 1), material=steel, cells=(64, 32),
                        walls={"x-": (("displacement", 0.0), ("traction", 0.0)),
                               "y-": (("traction", 0.0), ("displacement", 0.0)),
                               "x+": ("traction", (1.0, 0.0))})
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from pinn.references._fd_solver import evaluate
from pinn.references._levels import grid_levels, relative, thin
from pinn.references.grid import GridReference

KINDS = ("displacement", "traction")
SIDES = ("x-", "x+", "y-", "y+")


def elasticity_fd(
    *,
    lower: Sequence[float],
    upper: Sequence[float],
    material,
    body_force: tuple | None = None,
    walls: Mapping[str, tuple] | None = None,
    cells: int | Sequence[int] = 64,
    output_stride: int | Sequence[int] = 1,
    names: Sequence[str] = ("x", "y"),
    fields: Sequence[str] = ("ux", "uy", "sxx", "syy", "sxy"),
    estimate_error: bool = True,
    extrapolate: bool = False,
) -> GridReference:
    """Solve 2-D linear elasticity on a rectangle by finite differences; return it on a grid.

    Args:
        lower: the corner ``(x0, y0)``.
        upper: the corner ``(x1, y1)``.
        material (pinn.LinearElastic): a :class:`pinn.LinearElastic` (its ``plane_lam`` and ``mu`` are used).
        body_force: ``None`` or ``(bx, by)``, each a number or a function ``b(x, y)`` of node
            arrays (force per unit volume; equilibrium is ``div sigma + b = 0``).
        walls: ``{side: condition}`` for the sides ``"x-"``, ``"x+"``, ``"y-"``, ``"y+"``. A
            condition is a pair ``(x-component, y-component)`` of ``(kind, value)`` with kind
            ``"displacement"`` (``u_c = value``) or ``"traction"`` (``(sigma · n)_c = value``,
            n the outward normal), or ``(kind, (value_x, value_y))`` for both components of
            one kind. A value is a number or a function ``g(x, y)`` called with the wall's node
            coordinates. Sides left out are traction-free. At least one displacement condition
            is needed to hold the body in place, more if it could still slide or turn.
        cells: cells per axis (an int for both or a pair); nodes are ``cells + 1`` per axis.
        output_stride: keep every ``output_stride``-th node per axis (it must divide ``cells``).
        names: the two axis names.
        fields: the names given to ``ux, uy, sxx, syy, sxy``; ``None`` leaves a field out (e.g.
            a stress that is zero throughout, whose relative error means nothing), and two
            names give the displacements only.
        estimate_error: also solve with half the cells and report the relative L2 error of
            each field on the shared output nodes, ``||f_h - f_2h|| / 3 / ||f_h||`` (second
            order; cells must then be even). With ``extrapolate`` (cells divisible by 4) it
            compares two extrapolations, still assuming second order: measured on the
            Timoshenko beam, extrapolated displacements converge faster (order ~3.5, so the
            estimate is then an upper bound, about 4x high) but stresses do not (order ~2).
        extrapolate: return the Richardson extrapolation ``(4 f_h - f_2h) / 3`` on the nodes of
            the half-cells grid (so ``output_stride`` must be even): about 50x more accurate
            displacements and 10x more accurate stresses on smooth solutions; no gain near a
            singularity (a clamped corner).

    Returns:
        A :class:`GridReference` with axes ``names`` and the fields ``fields`` on the nodes.

    Raises:
        ValueError: naming the offending argument; also when the system is singular (the
            walls do not hold the body in place).
    """
    lo, hi = _corners(lower, upper)
    cells_t = _pair(cells, "cells", 2)
    stride = _pair(output_stride, "output_stride", 1)
    lam, mu = _material(material)
    bx, by = _body_force(body_force)
    problem = _Elasticity(lo, hi, lam, mu, bx, by, _walls(walls))
    names_t = tuple(names)
    if len(names_t) != 2 or len(set(names_t)) != 2 or not all(isinstance(n, str) and n for n in names_t):
        raise ValueError(f"names must be two different axis names, got {names!r}")
    fields_t = tuple(fields)
    given = [n for n in fields_t if n is not None]
    if len(fields_t) not in (2, 5) or len(set(given)) != len(given) or not given or not all(
            isinstance(n, str) and n for n in given):
        raise ValueError(f"fields must name ux, uy, sxx, syy, sxy (5 different names, None to leave one out) "
                         f"or ux, uy only (2 names), got {fields!r}")

    levels = grid_levels(cells_t, stride, extrapolate, estimate_error)

    solutions = [solve(problem, tuple(n // 2 ** level for n in cells_t)) for level in range(levels)]
    if extrapolate:
        results = [(4.0 * thin(fine, (2, 2)) - coarse) / 3.0 for fine, coarse in zip(solutions, solutions[1:])]
        spacing = 2
    else:
        results, spacing = solutions, 1
    values = thin(results[0], [s // spacing for s in stride])
    error: dict[str, float] = {}
    if estimate_error:
        common = [math.lcm(s, 2 * spacing) for s in stride]
        fine = thin(results[0], [c // spacing for c in common])
        coarse = thin(results[1], [c // (2 * spacing) for c in common])
        for k, name in enumerate(fields_t):
            if name is not None:
                # Second order assumed, extrapolated or not: see estimate_error.
                error[name] = relative(fine[k] - coarse[k], fine[k]) / 3.0

    axes = {name: np.linspace(a, b, n // s + 1) for name, a, b, n, s in zip(names_t, lo, hi, cells_t, stride)}
    label = "Richardson-extrapolated " if extrapolate else ""
    estimate = ", ".join(f"{k} {v:.1e}" for k, v in error.items()) if error else "not estimated"
    description = (f"{label}finite differences, 2-D linear elasticity (plane {material.plane}), "
                   f"cells {cells_t[0]}x{cells_t[1]}; estimated relative L2 error {estimate}")
    return GridReference(axes=axes, fields={name: np.ascontiguousarray(values[k])
                                            for k, name in enumerate(fields_t) if name is not None},
                         error_estimate=error, description=description)


# ------------------------------------------------------------------ the problem

@dataclass(frozen=True)
class _Elasticity:
    lower: tuple[float, float]
    upper: tuple[float, float]
    lam: float  # plane_lam of the material
    mu: float
    bx: object
    by: object
    walls: dict[str, tuple[tuple[str, object], tuple[str, object]]]


def solve(problem: _Elasticity, cells: tuple[int, int]) -> np.ndarray:
    """Solve on one grid; return ``(ux, uy, sxx, syy, sxy)`` on the nodes, shape (5, nx+1, ny+1)."""
    nx, ny = cells
    xs = np.linspace(problem.lower[0], problem.upper[0], nx + 1)
    ys = np.linspace(problem.lower[1], problem.upper[1], ny + 1)
    shape = (nx + 1, ny + 1)
    size = shape[0] * shape[1]
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    lam, mu = problem.lam, problem.mu

    dx = _first_derivative(xs, ny + 1, axis=0)
    dy = _first_derivative(ys, nx + 1, axis=1)
    dxx = _second_derivative(xs, ny + 1, axis=0)
    dyy = _second_derivative(ys, nx + 1, axis=1)
    dxy = (dx @ dy).tocsr()
    # Operators from (ux, uy) stacked (2 * size) to one value per node.
    sxx = sp.hstack([(lam + 2 * mu) * dx, lam * dy])
    syy = sp.hstack([lam * dx, (lam + 2 * mu) * dy])
    sxy = sp.hstack([mu * dy, mu * dx])
    navier = sp.vstack([sp.hstack([(lam + 2 * mu) * dxx + mu * dyy, (lam + mu) * dxy]),
                        sp.hstack([(lam + mu) * dxy, mu * dxx + (lam + 2 * mu) * dyy])])
    traction = {0: sp.vstack([sxx, sxy]), 1: sp.vstack([sxy, syy])}  # rows t_x, t_y on an x- / y-wall

    # Which equation each of the 2 * size rows (component-major) is, and its right-hand side:
    # the Navier-Cauchy equation unless a wall claims the row.
    navier_rows = np.ones(2 * size, dtype=bool)
    dirichlet_rows = np.zeros(2 * size, dtype=bool)
    wall_sign = {0: np.zeros(2 * size), 1: np.zeros(2 * size)}  # outward normal of an x- / y-wall traction row
    rhs = np.concatenate([-_on_nodes(problem.bx, X, Y, "body_force[0]"),
                          -_on_nodes(problem.by, X, Y, "body_force[1]")])
    index = np.arange(size).reshape(shape)
    walls = []
    for side in SIDES:  # x-walls first: at a corner their displacement values win
        axis, upper = SIDES.index(side) // 2, side.endswith("+")
        nodes = index[-1 if upper else 0, :] if axis == 0 else index[:, -1 if upper else 0]
        corner = np.zeros(nodes.size, dtype=bool)
        corner[[0, -1]] = True  # the wall's two ends lie on the perpendicular walls
        walls.append((side, axis, upper, nodes, corner, (X.ravel()[nodes], Y.ravel()[nodes])))
    for wanted in KINDS:  # displacement rows first, then tractions on the rows still free
        for side, axis, upper, nodes, corner, coords in walls:
            for component, (kind, value) in enumerate(problem.walls[side]):
                if kind != wanted:
                    continue
                rows = component * size + nodes
                take = ~dirichlet_rows[rows]
                if kind == "traction":
                    take &= ~corner | (component == axis)  # a corner takes the normal traction of each wall
                if not take.any():
                    continue
                chosen = rows[take]
                rhs[chosen] = _wall_values(value, coords, nodes.size, f"walls[{side!r}][{component}]")[take]
                navier_rows[chosen] = False
                if kind == "displacement":
                    dirichlet_rows[chosen] = True
                else:
                    wall_sign[axis][chosen] = 1.0 if upper else -1.0
    system = (sp.diags(navier_rows.astype(float)) @ navier
              + sp.diags(dirichlet_rows.astype(float)) @ sp.identity(2 * size)
              + sp.diags(wall_sign[0]) @ traction[0] + sp.diags(wall_sign[1]) @ traction[1]).tocsc()
    try:
        u = splu(system).solve(rhs)
    except RuntimeError as err:  # "Factor is exactly singular"
        raise ValueError(f"the elasticity system is singular ({err}): the walls must hold the body in place "
                         "(enough displacement conditions to stop it sliding and turning)") from None
    if not np.all(np.isfinite(u)):
        raise ValueError("the elasticity system has no finite solution: the walls must hold the body in place")
    stresses = [op @ u for op in (sxx, syy, sxy)]
    return np.stack([u[:size], u[size:], *stresses]).reshape((5, *shape))


def _first_derivative(coords: np.ndarray, other: int, axis: int) -> sp.csr_matrix:
    """d/d(axis) on the node grid: centred inside, one-sided 3-point on the two walls."""
    n = coords.size
    h = coords[1] - coords[0]
    d = sp.lil_matrix((n, n))
    for i in range(1, n - 1):
        d[i, i - 1], d[i, i + 1] = -0.5 / h, 0.5 / h
    d[0, :3] = np.array([-3.0, 4.0, -1.0]) / (2 * h)
    d[n - 1, n - 3:] = np.array([1.0, -4.0, 3.0]) / (2 * h)
    return _along(d.tocsr(), other, axis)


def _second_derivative(coords: np.ndarray, other: int, axis: int) -> sp.csr_matrix:
    """d2/d(axis)2 on the node grid, centred (its wall rows are never used)."""
    n = coords.size
    h = coords[1] - coords[0]
    d = sp.diags([np.ones(n - 1), -2.0 * np.ones(n), np.ones(n - 1)], [-1, 0, 1], format="lil") / h ** 2
    return _along(d.tocsr(), other, axis)


def _along(matrix: sp.csr_matrix, other: int, axis: int) -> sp.csr_matrix:
    """A 1-D operator acting along ``axis`` of the C-ordered (x, y) node grid."""
    eye = sp.identity(other, format="csr")
    return (sp.kron(matrix, eye) if axis == 0 else sp.kron(eye, matrix)).tocsr()


# ------------------------------------------------------------------- arguments

def _corners(lower, upper) -> tuple[tuple[float, float], tuple[float, float]]:
    corners = []
    for name, value in (("lower", lower), ("upper", upper)):
        try:
            corner = tuple(float(v) for v in np.asarray(value, dtype=float).ravel())
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a pair of numbers, got {value!r}") from None
        if np.ndim(value) != 1 or len(corner) != 2 or not all(map(math.isfinite, corner)):
            raise ValueError(f"{name} must be a pair of finite numbers, got {value!r}")
        corners.append(corner)
    lo, hi = corners
    if any(a >= b for a, b in zip(lo, hi)):
        raise ValueError(f"lower must be below upper on both axes, got lower={lo}, upper={hi}")
    return lo, hi


def _pair(value, name: str, minimum: int) -> tuple[int, int]:
    values = (value, value) if isinstance(value, Integral) else tuple(value) if isinstance(value, Sequence) else ()
    if len(values) != 2 or not all(isinstance(v, Integral) and not isinstance(v, bool) and v >= minimum
                                   for v in values):
        raise ValueError(f"{name} must be an integer >= {minimum} or a pair of them, got {value!r}")
    return int(values[0]), int(values[1])


def _material(material) -> tuple[float, float]:
    lam, mu = getattr(material, "plane_lam", None), getattr(material, "mu", None)
    if lam is None or mu is None or getattr(material, "plane", None) is None:
        raise ValueError(f"material must be a pinn.LinearElastic, got {material!r}")
    return float(lam), float(mu)


def _body_force(body_force) -> tuple[object, object]:
    if body_force is None:
        return 0.0, 0.0
    if not isinstance(body_force, (tuple, list)) or len(body_force) != 2:
        raise ValueError(f"body_force must be None or a pair (bx, by) of numbers or functions b(x, y), "
                         f"got {body_force!r}")
    for k, value in enumerate(body_force):
        _check_value(value, f"body_force[{k}]")
    return tuple(body_force)


def _walls(walls) -> dict[str, tuple[tuple[str, object], tuple[str, object]]]:
    walls = {} if walls is None else walls
    if not isinstance(walls, Mapping):
        raise ValueError(f"walls must be a dict {{side: condition}}, got {walls!r}")
    unknown = [s for s in walls if s not in SIDES]
    if unknown:
        raise ValueError(f"walls: unknown side(s) {unknown}; the sides are {', '.join(SIDES)}")
    parsed = {}
    for side in SIDES:
        condition = walls.get(side, ("traction", (0.0, 0.0)))
        where = f"walls[{side!r}]"
        if isinstance(condition, (tuple, list)) and len(condition) == 2 and isinstance(condition[0], str):
            kind, values = condition
            if not isinstance(values, (tuple, list)) or len(values) != 2:
                raise ValueError(f"{where}: ({kind!r}, values) needs a pair of values (x, y), got {values!r}")
            condition = ((kind, values[0]), (kind, values[1]))
        if not (isinstance(condition, (tuple, list)) and len(condition) == 2
                and all(isinstance(c, (tuple, list)) and len(c) == 2 for c in condition)):
            raise ValueError(f"{where} must be (kind, (value_x, value_y)) or ((kind_x, value_x), (kind_y, value_y)) "
                             f"with kind 'displacement' or 'traction', got {condition!r}")
        for k, (kind, value) in enumerate(condition):
            if kind not in KINDS:
                raise ValueError(f"{where}: kind must be 'displacement' or 'traction', got {kind!r}")
            _check_value(value, f"{where}[{k}]")
        parsed[side] = (tuple(condition[0]), tuple(condition[1]))
    _check_held(parsed)
    return parsed


def _check_held(walls) -> None:
    """The displacement conditions must stop both translations and the rotation (rigid-body motions),
    or the solution is not unique (and the discrete system only nearly singular)."""
    held = {(side, c) for side, condition in walls.items() for c, (kind, _) in enumerate(condition)
            if kind == "displacement"}
    free = []
    if not any(c == 0 for _, c in held):
        free.append("slide along x (no wall holds ux)")
    if not any(c == 1 for _, c in held):
        free.append("slide along y (no wall holds uy)")
    # ux = -(y - cy), uy = x - cx: stopped by ux held at two heights or uy held at two abscissae.
    turning_stopped = (any((s, 0) in held for s in ("x-", "x+")) or any((s, 1) in held for s in ("y-", "y+"))
                       or {("y-", 0), ("y+", 0)} <= held or {("x-", 1), ("x+", 1)} <= held)
    if not turning_stopped:
        free.append("turn (hold ux on an x-wall or uy on a y-wall)")
    if free:
        raise ValueError("walls do not hold the body in place: it could " + ", ".join(free)
                         + "; the solution would not be unique")


def _check_value(value, where: str) -> None:
    if callable(value):
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number or a function of (x, y), got {value!r}")


def _on_nodes(value, X: np.ndarray, Y: np.ndarray, where: str) -> np.ndarray:
    if not callable(value):
        return np.full(X.size, float(value))
    return evaluate(value, (X, Y), X.shape, where).ravel()


def _wall_values(value, coords: tuple[np.ndarray, np.ndarray], n: int, where: str) -> np.ndarray:
    if not callable(value):
        return np.full(n, float(value))
    return evaluate(value, coords, (n,), where)
