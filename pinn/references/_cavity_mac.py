"""Staggered-grid (MAC) core behind :func:`pinn.references.cavity_fd_solver.cavity_fd` (private).

Steady incompressible Navier-Stokes on the unit square with ``N x N`` uniform cells::

    (u^2)_x + (uv)_y + p_x = nu (u_xx + u_yy) + f_x
    (uv)_x + (v^2)_y + p_y = nu (v_xx + v_yy) + f_y
    u_x + v_y = 0

``u`` lives on the vertical cell faces, ``v`` on the horizontal ones, ``p`` at the cell centres
(Harlow and Welch). Every term is a second-order central difference: the convective fluxes in
conservative form with averaged velocities, the viscous terms with the five-point Laplacian.
Walls are impermeable; the tangential velocity enters through a ghost value mirrored across the
wall (``ghost = 2 wall - inside``), so a ghost averaged with its neighbour is the wall value. The
lid velocity is therefore sampled only at the nodes ``x_i = i h``, ``0 < i < N``: the equations
never use the value at the two top corners.

Given corner strengths, the unknowns are the remainder ``(u, v, p) - (u_s, v_s, p_s)``, where
``s`` is the Stokes corner flow of :mod:`pinn.references._cavity_corner` with those strengths
(the lid velocity at each top corner). It satisfies the Stokes equations exactly, so its viscous and
pressure terms are left out of the discrete equations; its face velocities are exact face
averages (differences of its streamfunction), so the discrete continuity equation holds for it
exactly; the convective terms use the whole velocity. The remainder is far smoother at the
corners than the flow, where the lid is discontinuous.

The discrete equations are solved by Newton's method (exact Jacobian, sparse LU). The convective
terms are products of affine maps of the unknowns, which gives the residual and its Jacobian
from the same few sparse matrices. The continuity equations sum to zero, so one of them is
replaced by ``p = 0`` in the first cell; the caller shifts ``p`` to the gauge it wants.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from pinn.references._cavity_corner import corner_flow


class Affine:
    """The map ``q -> A q + a`` of the unknowns ``q`` to values on some set of grid points."""

    def __init__(self, matrix: sp.spmatrix, offset: np.ndarray | float = 0.0) -> None:
        self.matrix = sp.csr_matrix(matrix)
        self.offset = np.broadcast_to(np.asarray(offset, float), self.matrix.shape[:1]).copy()

    def __rmatmul__(self, operator: sp.spmatrix) -> "Affine":
        """``operator @ affine``: a linear operator applied after this map."""
        return Affine(operator @ self.matrix, operator @ self.offset)

    def __add__(self, other: "Affine | np.ndarray") -> "Affine":
        """The sum of two maps, or this map shifted by an array."""
        if isinstance(other, Affine):
            return Affine(self.matrix + other.matrix, self.offset + other.offset)
        return Affine(self.matrix, self.offset + np.ravel(other))

    def __call__(self, q: np.ndarray) -> np.ndarray:
        return self.matrix @ q + self.offset


def _shift(n_out: int, n_in: int, start: int) -> sp.csr_matrix:
    """``out[k] = in[k + start]``."""
    return sp.eye(n_out, n_in, k=start, format="csr")


def _average(n_out: int, n_in: int) -> sp.csr_matrix:
    """``out[k] = (in[k] + in[k + 1]) / 2``."""
    return 0.5 * (_shift(n_out, n_in, 0) + _shift(n_out, n_in, 1))


def _difference(n_out: int, n_in: int, h: float) -> sp.csr_matrix:
    """``out[k] = (in[k + 1] - in[k]) / h``."""
    return (_shift(n_out, n_in, 1) - _shift(n_out, n_in, 0)) / h


def _second(n_out: int, n_in: int, h: float) -> sp.csr_matrix:
    """``out[k] = (in[k] - 2 in[k + 1] + in[k + 2]) / h^2``."""
    return (_shift(n_out, n_in, 0) - 2 * _shift(n_out, n_in, 1) + _shift(n_out, n_in, 2)) / h**2


def _mirror(n: int) -> sp.csr_matrix:
    """Pad ``n`` values with a ghost at each end equal to minus its neighbour: ``(n + 2) x n``."""
    pad = _shift(n + 2, n, -1).tolil()
    pad[0, 0] = pad[n + 1, n - 1] = -1.0
    return pad.tocsr()


def _kron(a: sp.spmatrix, b: sp.spmatrix) -> sp.csr_matrix:
    """Operator on C-ordered ``(nx, ny)`` arrays: ``a`` along x, ``b`` along y."""
    return sp.kron(a, b, format="csr")


@dataclass(frozen=True)
class MacSolution:
    """A converged solution on one grid; ``u``, ``v``, ``p`` are the whole flow.

    ``u`` holds the face averages at ``(i h, (j + 1/2) h)``, shape ``(N + 1, N)``; ``v`` those at
    ``((i + 1/2) h, j h)``, shape ``(N, N + 1)``; both include the wall faces. ``p`` is the cell
    centre pressure of the remainder (``p = 0`` in the first cell), shape ``(N, N)``: add
    ``corner_flow(...)["p"]`` for the whole pressure. ``u_nodes``, ``v_nodes`` are the velocity
    on the ``(N + 1) x (N + 1)`` nodes (the two top corners hold the lid's value there).
    """

    cells: int
    reynolds: float
    corners: tuple[float, float]  # strengths of the subtracted corner flows (lid velocities)
    u: np.ndarray
    v: np.ndarray
    p: np.ndarray
    u_nodes: np.ndarray
    v_nodes: np.ndarray
    factorisations: int
    residual: float


class Mac:
    """The discrete equations on ``cells x cells`` cells, for a Reynolds number and lid."""

    def __init__(self, cells: int, reynolds: float, lid: Callable[[np.ndarray], np.ndarray],
                 force: Callable[[np.ndarray, np.ndarray], tuple] | None = None,
                 corners: tuple[float, float] = (0.0, 0.0)) -> None:
        n = self.cells = cells
        h = self.h = 1.0 / n
        self.reynolds, self.nu = reynolds, 1.0 / reynolds
        nodes = np.linspace(0.0, 1.0, n + 1)
        centres = (np.arange(n) + 0.5) * h
        self.lid = np.asarray(lid(nodes), dtype=float)
        self.corners = corners
        s = corner_flow(*np.meshgrid(nodes, nodes, indexing="ij"), *self.corners, self.nu)
        self.s_u_faces = np.diff(s["psi"], axis=1) / h  # exact face averages
        self.s_v_faces = -np.diff(s["psi"], axis=0) / h

        self.sizes = ((n - 1) * n, n * (n - 1), n * n)  # unknown u, v, p
        size = self.size = sum(self.sizes)
        starts = np.cumsum((0,) + self.sizes)
        pick = [sp.eye(m, size, k=k, format="csr") for m, k in zip(self.sizes, starts)]
        eye = sp.identity

        # Remainder on all faces: the wall faces cancel the corner flow's normal velocity.
        walls_u = np.zeros((n + 1, n))
        walls_u[[0, -1]] = -self.s_u_faces[[0, -1]]
        walls_v = np.zeros((n, n + 1))
        walls_v[:, [0, -1]] = -self.s_v_faces[:, [0, -1]]
        u = _kron(_shift(n + 1, n - 1, -1), eye(n)) @ Affine(pick[0]) + walls_u
        v = _kron(eye(n), _shift(n + 1, n - 1, -1)) @ Affine(pick[1]) + walls_v
        # Ghosts across the walls from the remainder's tangential wall values.
        ghost_u = np.zeros((n + 1, n + 2))
        ghost_u[:, 0] = -2.0 * s["u"][:, 0]
        ghost_u[:, -1] = 2.0 * (self.lid - s["u"][:, -1])
        ghost_v = np.zeros((n + 2, n + 1))
        ghost_v[0] = -2.0 * s["v"][0]
        ghost_v[-1] = -2.0 * s["v"][-1]
        u_ghost = _kron(eye(n + 1), _mirror(n)) @ u + ghost_u
        v_ghost = _kron(_mirror(n), eye(n + 1)) @ v + ghost_v

        # The whole velocity where the convective fluxes need it: cell centres and nodes.
        u_centre = _kron(_average(n, n + 1), eye(n)) @ (u + self.s_u_faces)
        v_centre = _kron(eye(n), _average(n, n + 1)) @ (v + self.s_v_faces)
        u_node = _kron(eye(n + 1), _average(n + 1, n + 2)) @ u_ghost + s["u"]
        v_node = _kron(_average(n + 1, n + 2), eye(n + 1)) @ v_ghost + s["v"]

        inner = _shift(n - 1, n + 1, 1)
        lap_u = (_kron(_second(n - 1, n + 1, h), _shift(n, n + 2, 1))
                 + _kron(inner, _second(n, n + 2, h))) @ u_ghost
        lap_v = (_kron(_second(n, n + 2, h), inner)
                 + _kron(_shift(n, n + 2, 1), _second(n - 1, n + 1, h))) @ v_ghost
        divergence = (_kron(_difference(n, n + 1, h), eye(n)) @ u
                      + _kron(eye(n), _difference(n, n + 1, h)) @ v)
        continuity = divergence.matrix.tolil()
        continuity[0, :] = 0.0
        continuity[0, starts[2]] = 1.0  # the gauge p = 0 in cell 0 replaces a redundant equation
        offset = divergence.offset
        offset[0] = 0.0

        fx = fy = 0.0
        if force is not None:
            fx = np.broadcast_to(force(*np.meshgrid(nodes[1:-1], centres, indexing="ij"))[0], (n - 1, n))
            fy = np.broadcast_to(force(*np.meshgrid(centres, nodes[1:-1], indexing="ij"))[1], (n, n - 1))
        self.linear = Affine(
            sp.vstack([_kron(_difference(n - 1, n, h), eye(n)) @ pick[2] - self.nu * lap_u.matrix,
                       _kron(eye(n), _difference(n - 1, n, h)) @ pick[2] - self.nu * lap_v.matrix,
                       continuity.tocsr()]),
            np.concatenate([-self.nu * lap_u.offset - np.ravel(fx),
                            -self.nu * lap_v.offset - np.ravel(fy), offset]))

        # Convective fluxes: a sum of derivative @ (a(q) * b(q)), each placed in its equations.
        def into(equations: int, matrix: sp.spmatrix) -> sp.csr_matrix:
            return sp.eye(size, self.sizes[equations], k=-starts[equations], format="csr") @ matrix

        self.products = [
            (into(0, _kron(_difference(n - 1, n, h), eye(n))), u_centre, u_centre),  # (u^2)_x
            (into(0, _kron(inner, _difference(n, n + 1, h))), u_node, v_node),  # (uv)_y
            (into(1, _kron(_difference(n, n + 1, h), inner)), u_node, v_node),  # (uv)_x
            (into(1, _kron(eye(n), _difference(n - 1, n, h))), v_centre, v_centre),  # (v^2)_y
        ]
        self.u, self.v, self.u_node, self.v_node = u, v, u_node, v_node

    def residual(self, q: np.ndarray) -> np.ndarray:
        r = self.linear(q)
        for derivative, a, b in self.products:
            r = r + derivative @ (a(q) * b(q))
        return r

    def jacobian(self, q: np.ndarray) -> sp.csc_matrix:
        jac = self.linear.matrix
        for derivative, a, b in self.products:
            jac = jac + derivative @ (sp.diags(b(q)) @ a.matrix + sp.diags(a(q)) @ b.matrix)
        return jac.tocsc()

    def newton(self, q: np.ndarray | None = None, tolerance: float = 1e-10,
               max_steps: int = 40) -> tuple[np.ndarray, int, float]:
        """Newton's method; returns ``(q, factorisations, scaled max |residual|)``.

        The LU factors of the Jacobian are reused while a step still divides the residual by 20
        or more (the factorisation is nearly all the cost); a fresh Newton step is halved while
        it makes the residual grow. The residual is scaled by ``nu / h^2``, the size of the
        viscous stencil, so that the tolerance means the same on every grid.
        """
        q = np.zeros(self.size) if q is None else q.copy()
        scale = self.nu / self.h**2
        r = self.residual(q)
        norm, ratio, lu, factorisations = np.max(np.abs(r)) / scale, 1.0, None, 0
        for _ in range(max_steps):
            if norm < tolerance:
                return q, factorisations, norm
            fresh = lu is None or ratio > 0.05
            if fresh:
                lu = splu(self.jacobian(q))
                factorisations += 1
            delta = lu.solve(-r)
            for _ in range(8 if fresh else 1):
                trial = q + delta
                r_trial = self.residual(trial)
                norm_trial = np.max(np.abs(r_trial)) / scale
                if norm_trial < norm:
                    break
                delta = 0.5 * delta
            if norm_trial >= norm and not fresh:
                ratio = 1.0  # the old factors no longer help: refactorise
                continue
            q, r, ratio, norm = trial, r_trial, norm_trial / norm, norm_trial
        if norm < tolerance:
            return q, factorisations, norm
        raise RuntimeError(f"Newton's method did not converge on the {self.cells}x{self.cells} grid "
                           f"in {max_steps} steps (scaled residual {norm:.2e}); try a smaller "
                           "Reynolds number or more cells")

    def solution(self, q: np.ndarray, steps: int, residual: float) -> MacSolution:
        n = self.cells
        u_nodes = self.u_node(q).reshape(n + 1, n + 1)
        u_nodes[[0, -1], -1] = self.lid[[0, -1]]  # the corner flow is undefined at the corners
        return MacSolution(
            cells=n, reynolds=self.reynolds, corners=self.corners,
            u=self.u(q).reshape(n + 1, n) + self.s_u_faces, v=self.v(q).reshape(n, n + 1) + self.s_v_faces,
            p=q[-n * n:].reshape(n, n), u_nodes=u_nodes, v_nodes=self.v_node(q).reshape(n + 1, n + 1),
            factorisations=steps, residual=residual)


def solve_cavity(cells: int, reynolds: float, lid: Callable[[np.ndarray], np.ndarray],
                 force: Callable | None = None, corners: tuple[float, float] = (0.0, 0.0)) -> MacSolution:
    """Solve on one grid, subtracting the corner flows of strengths ``corners``.

    Above Re = 200 Newton starts from the solution at half the Reynolds number (continuation).
    """
    mac = Mac(cells, reynolds, lid, force, corners)
    return mac.solution(*mac.newton(_start(cells, reynolds, lid, force, corners)))


def _start(cells: int, reynolds: float, lid, force, corners) -> np.ndarray | None:
    """Rest, or above Re = 200 the converged unknowns at half the Reynolds number."""
    if reynolds <= 200.0:
        return None
    previous = Mac(cells, reynolds / 2.0, lid, force, corners)
    return previous.newton(_start(cells, reynolds / 2.0, lid, force, corners))[0]


def node_fields(solution: MacSolution) -> dict[str, np.ndarray]:
    """``u``, ``v``, ``p`` on the ``(N + 1) x (N + 1)`` nodes, second order.

    The remainder's pressure is the average of the four nearest cell centres inside and is
    extrapolated linearly from two cells onto the walls; the corner flow's pressure is exact
    (infinite at a corner where the lid is discontinuous).
    """
    n = solution.cells
    nodes = np.linspace(0.0, 1.0, n + 1)
    corner = corner_flow(*np.meshgrid(nodes, nodes, indexing="ij"), *solution.corners, 1.0 / solution.reynolds)
    p = remainder_pressure(solution) + corner["p"]
    return {"u": solution.u_nodes.copy(), "v": solution.v_nodes.copy(), "p": p}


def remainder_pressure(solution: MacSolution) -> np.ndarray:
    """The pressure less the corner flow's on the nodes (the whole pressure without subtraction)."""
    return _to_nodes(_to_nodes(solution.p, axis=0), axis=1)


def _to_nodes(centres: np.ndarray, axis: int) -> np.ndarray:
    """Cell-centre values along ``axis`` onto the nodes: inner averages, wall extrapolations."""
    c = np.moveaxis(centres, axis, 0)
    nodes = np.empty((c.shape[0] + 1,) + c.shape[1:])
    nodes[1:-1] = 0.5 * (c[1:] + c[:-1])
    nodes[0] = 1.5 * c[0] - 0.5 * c[1]
    nodes[-1] = 1.5 * c[-1] - 0.5 * c[-2]
    return np.moveaxis(nodes, 0, axis)
