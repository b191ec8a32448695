"""Method-of-lines core behind :func:`pinn.references.heat_fd_solver.heat_fd` (private).

The heat equation ``u_t = div(k grad u) + f`` is discretised on a uniform
node-centred grid (nodes on the walls) with the conservative three-point
stencil per axis, ``(k_{i+1/2}(u_{i+1}-u_i) - k_{i-1/2}(u_i-u_{i-1})) / h^2``.

Walls:

* Dirichlet nodes are kept as unknowns whose rows read ``u = g(t)``, so the
  system matrix stays constant even when ``g`` depends on time.
* Neumann nodes get a half (or, at a Neumann-Neumann corner, a quarter)
  control volume. For a constant ``k`` this is exactly the classical ghost-point
  scheme; for a variable ``k`` it is the ghost-point scheme with ``k`` mirrored
  across the wall, which avoids calling ``k`` outside the domain. The local
  truncation error on the wall is O(h), the global error stays O(h^2).

Time: Crank-Nicolson, or BDF2 started with one Crank-Nicolson step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

WallCondition = tuple[str, "float | Callable[..., np.ndarray]"]


def side_name(axis: int, upper: bool) -> str:
    """The wall name used in ``walls``: ``"x-"``, ``"x+"``, ``"y-"``, ``"y+"``."""
    return "xy"[axis] + ("+" if upper else "-")


def evaluate(fn: Callable[..., np.ndarray], args: Sequence, shape: tuple[int, ...],
             what: str) -> np.ndarray:
    """Call a user function; return a fresh finite float array of ``shape``.

    A scalar result is broadcast (so ``lambda x, t: 1.0`` works), any other
    shape mismatch is an error rather than a silent broadcast.
    """
    values = np.array(fn(*args), dtype=float)
    if values.ndim == 0:
        values = np.full(shape, float(values))
    elif values.shape != shape:
        raise ValueError(f"{what} returned an array of shape {values.shape}, expected {shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} returned non-finite values")
    return values


@dataclass(frozen=True)
class HeatProblem:
    """A validated heat problem; ``walls`` holds a condition for every side."""

    lower: tuple[float, ...]
    upper: tuple[float, ...]
    t_start: float
    t_end: float
    diffusivity: float | Callable[..., np.ndarray]
    source: Callable[..., np.ndarray] | None
    initial: Callable[..., np.ndarray]
    walls: dict[str, WallCondition]

    @property
    def dim(self) -> int:
        return len(self.lower)


def _wall(axis: int, upper: bool, dim: int) -> tuple:
    """Index selecting the nodes of one wall from a node array."""
    index: list = [slice(None)] * dim
    index[axis] = -1 if upper else 0
    return tuple(index)


class Discretisation:
    """The spatial operator and wall data of one grid."""

    def __init__(self, problem: HeatProblem, cells: tuple[int, ...]) -> None:
        self.problem = problem
        dim = problem.dim
        self.nodes = [np.linspace(lo, hi, n + 1)
                      for lo, hi, n in zip(problem.lower, problem.upper, cells)]
        self.h = [(hi - lo) / n for lo, hi, n in zip(problem.lower, problem.upper, cells)]
        self.shape = tuple(n + 1 for n in cells)
        self.mesh = np.meshgrid(*self.nodes, indexing="ij")

        # (axis, upper, kind, value) for every side, in a fixed order.
        self.sides = [(axis, upper, *problem.walls[side_name(axis, upper)])
                      for axis in range(dim) for upper in (False, True)]
        dirichlet = np.zeros(self.shape, dtype=bool)
        for axis, upper, kind, _ in self.sides:
            if kind == "dirichlet":
                dirichlet[_wall(axis, upper, dim)] = True
        self.dirichlet = np.flatnonzero(dirichlet)

        k_nodes = self._diffusivity(self.nodes)  # also validates k on every node
        self.operator = self._assemble(cells)
        # Wall flux into a Neumann half cell: k * g over half a cell width.
        self.neumann = [(_wall(axis, upper, dim), 2.0 * k_nodes[_wall(axis, upper, dim)]
                         / self.h[axis], axis, upper, value)
                        for axis, upper, kind, value in self.sides if kind == "neumann"]

    def _diffusivity(self, coords: list[np.ndarray]) -> np.ndarray:
        shape = tuple(len(c) for c in coords)
        k = self.problem.diffusivity
        if not callable(k):
            return np.full(shape, float(k))
        values = evaluate(k, np.meshgrid(*coords, indexing="ij"), shape, "diffusivity")
        if np.any(values <= 0):
            raise ValueError(f"diffusivity must be positive on the grid, found min {values.min():g}")
        return values

    def _assemble(self, cells: tuple[int, ...]) -> sp.csr_matrix:
        """The operator ``L`` with zero rows on Dirichlet nodes (no Python loop over nodes)."""
        dim = self.problem.dim
        size = int(np.prod(self.shape))
        index = np.arange(size).reshape(self.shape)
        rows, cols, vals = [], [], []
        for axis in range(dim):
            n = cells[axis]
            coords = list(self.nodes)
            coords[axis] = 0.5 * (self.nodes[axis][:-1] + self.nodes[axis][1:])
            coef = self._diffusivity(coords) / self.h[axis] ** 2  # one per link i -> i+1
            left = np.take(index, np.arange(n), axis=axis)
            right = np.take(index, np.arange(1, n + 1), axis=axis)
            # A Neumann wall node owns half a cell, so its one link counts twice.
            w_left, w_right = np.ones_like(coef), np.ones_like(coef)
            if self.problem.walls[side_name(axis, False)][0] == "neumann":
                np.moveaxis(w_left, axis, 0)[0] = 2.0
            if self.problem.walls[side_name(axis, True)][0] == "neumann":
                np.moveaxis(w_right, axis, 0)[-1] = 2.0
            rows += [left, left, right, right]
            cols += [right, left, left, right]
            vals += [w_left * coef, -w_left * coef, w_right * coef, -w_right * coef]
        matrix = sp.coo_matrix(
            (np.concatenate([v.ravel() for v in vals]),
             (np.concatenate([r.ravel() for r in rows]), np.concatenate([c.ravel() for c in cols]))),
            shape=(size, size)).tocsr()  # duplicates (the diagonal) are summed
        free = np.ones(size)
        free[self.dirichlet] = 0.0
        return (sp.diags(free) @ matrix).tocsr()

    def _wall_values(self, axis: int, upper: bool, value, t: float) -> np.ndarray:
        other = [self.nodes[a] for a in range(self.problem.dim) if a != axis]
        shape = tuple(len(c) for c in other)
        if not callable(value):
            return np.full(shape, float(value))
        return evaluate(value, (*other, t), shape, f"walls[{side_name(axis, upper)!r}]")

    def dirichlet_values(self, t: float) -> np.ndarray:
        """Values on the Dirichlet nodes at time ``t`` (ordered like ``self.dirichlet``)."""
        values = np.zeros(self.shape)
        for axis, upper, kind, value in self.sides:
            if kind == "dirichlet":
                values[_wall(axis, upper, self.problem.dim)] = self._wall_values(axis, upper, value, t)
        return values.ravel()[self.dirichlet]

    def forcing(self, t: float) -> np.ndarray:
        """Source plus Neumann wall fluxes at time ``t``, zero on Dirichlet nodes."""
        source = self.problem.source
        if source is None:
            b = np.zeros(self.shape)
        else:
            b = evaluate(source, (*self.mesh, t), self.shape, "source")
        for wall, weight, axis, upper, value in self.neumann:
            b[wall] += weight * self._wall_values(axis, upper, value, t)
        b = b.ravel()
        b[self.dirichlet] = 0.0
        return b

    def initial(self) -> np.ndarray:
        """``u0`` on the nodes; on Dirichlet walls the wall value at ``t_start`` wins."""
        u = evaluate(self.problem.initial, self.mesh, self.shape, "initial").ravel()
        u[self.dirichlet] = self.dirichlet_values(self.problem.t_start)
        return u


def march(problem: HeatProblem, cells: tuple[int, ...], steps: int, scheme: str,
          out_steps: Sequence[int]) -> np.ndarray:
    """Solve on one grid; return ``u`` at the step numbers ``out_steps``.

    The result has shape ``(len(out_steps), *nodes_per_axis)``.
    """
    disc = Discretisation(problem, cells)
    dt = (problem.t_end - problem.t_start) / steps
    size = disc.operator.shape[0]
    eye = sp.identity(size, format="csr")
    wanted = {int(s): i for i, s in enumerate(out_steps)}
    out = np.empty((len(out_steps), size))

    def time(n: int) -> float:
        return problem.t_start + n * dt

    u = disc.initial()
    if 0 in wanted:
        out[wanted[0]] = u

    # Both matrices are constant: factorise once, solve every step.
    cn_solve = splu((eye - 0.5 * dt * disc.operator).tocsc()).solve
    cn_explicit = eye + 0.5 * dt * disc.operator
    b_old = disc.forcing(time(0))
    u_old = u
    bdf_solve = None
    for n in range(steps):
        b_new = disc.forcing(time(n + 1))
        if scheme == "crank-nicolson" or n == 0:
            # BDF2 needs two starting values; one CN step keeps second order.
            rhs = cn_explicit @ u + 0.5 * dt * (b_old + b_new)
            solve = cn_solve
        else:
            if bdf_solve is None:
                bdf_solve = splu((eye - (2.0 / 3.0) * dt * disc.operator).tocsc()).solve
            rhs = (4.0 * u - u_old) / 3.0 + (2.0 / 3.0) * dt * b_new
            solve = bdf_solve
        rhs[disc.dirichlet] = disc.dirichlet_values(time(n + 1))
        u_old, u = u, solve(rhs)
        b_old = b_new
        if n + 1 in wanted:
            out[wanted[n + 1]] = u
    return out.reshape((len(out_steps), *disc.shape))
