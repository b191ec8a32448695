"""Simple polygons in the plane, given by their vertices."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from ._checks import fmt
from .base import Geometry
from .sampling import unit_samples

if TYPE_CHECKING:
    import torch


class Polygon(Geometry):
    """The closed region bounded by a simple polygon, e.g. an L-shape::

        Polygon([(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)])

    Vertices may be listed clockwise or counter-clockwise; repeating the first vertex at
    the end is allowed. The polygon must not touch or cross itself and must have area.
    """

    dim = 2

    def __init__(self, vertices: Sequence[Sequence[float]]) -> None:
        try:
            v = np.array(vertices, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"vertices must be a sequence of (x, y) pairs, got {vertices!r}") from None
        if v.ndim != 2 or v.shape[1] != 2:
            raise ValueError(f"vertices must have shape (n, 2), got shape {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError("vertices must be finite numbers")
        if len(v) > 3 and np.array_equal(v[0], v[-1]):
            v = v[:-1]  # an explicitly closed ring
        if len(v) < 3:
            raise ValueError(f"vertices must hold at least 3 distinct points, got {len(v)}")
        self._given = v.copy()
        scale = float(np.max(np.ptp(v, axis=0)))
        edges = np.roll(v, -1, axis=0) - v
        lengths = np.linalg.norm(edges, axis=1)
        if scale == 0 or np.any(lengths <= 1e-12 * scale):
            i = int(np.argmin(lengths))
            raise ValueError(f"vertices {i} and {(i + 1) % len(v)} coincide; vertices must be distinct")
        area = 0.5 * float(np.sum(v[:, 0] * np.roll(v[:, 1], -1) - np.roll(v[:, 0], -1) * v[:, 1]))
        if np.linalg.matrix_rank(v - v[0], tol=1e-12 * scale) < 2:
            raise ValueError("vertices enclose zero area (they all lie on one line)")
        _check_simple(v, 1e-12 * scale)
        if abs(area) <= 1e-12 * scale**2:
            raise ValueError("vertices enclose zero area")
        if area < 0:  # store counter-clockwise so that (dy, -dx) points outward
            v = v[::-1].copy()
            edges = np.roll(v, -1, axis=0) - v
            lengths = np.linalg.norm(edges, axis=1)
        self._v, self._edges, self._lengths = v, edges, lengths
        self._normals = np.stack([edges[:, 1], -edges[:, 0]], axis=1) / lengths[:, None]
        self._cum = np.concatenate([[0.0], np.cumsum(lengths)])
        self.area = abs(area)
        for a in (self._v, self._given):
            a.flags.writeable = False

    @property
    def vertices(self) -> np.ndarray:
        """The vertices as given (without a repeated closing vertex)."""
        return self._given

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        return self._v.min(axis=0), self._v.max(axis=0)

    def _edge_distance(self, x: np.ndarray) -> np.ndarray:
        best = np.full(len(x), np.inf)
        for a, e, length in zip(self._v, self._edges, self._lengths):
            t = np.clip((x - a) @ e / length**2, 0.0, 1.0)
            best = np.minimum(best, np.linalg.norm(x - a - t[:, None] * e, axis=1))
        return best

    def inside(self, x: np.ndarray) -> np.ndarray:
        x = self._points(x)
        px, py = x[:, 0], x[:, 1]
        odd = np.zeros(len(x), dtype=bool)
        # Even-odd rule: count edges crossed by the ray going right from each point.
        for (ax, ay), (ex, ey) in zip(self._v, self._edges):
            by = ay + ey
            straddles = (ay > py) != (by > py)
            with np.errstate(divide="ignore", invalid="ignore"):
                cross_x = ax + (py - ay) * ex / ey
            odd ^= straddles & (px < cross_x)
        return odd | (self._edge_distance(x) <= self._tol)

    def on_boundary(self, x: np.ndarray, atol: float = 1e-9) -> np.ndarray:
        return self._edge_distance(self._points(x)) <= atol

    def boundary_measure(self) -> float:
        return float(self._cum[-1])

    def _boundary_samples(self, n, method, rng, extra):
        # Arc-length parametrisation of the perimeter, one unit coordinate.
        u = unit_samples(n, 1 + extra, method, rng)
        s = u[:, 0] * self._cum[-1]
        edge = np.clip(np.searchsorted(self._cum, s, side="right") - 1, 0, len(self._v) - 1)
        t = (s - self._cum[edge]) / self._lengths[edge]
        points = self._v[edge] + t[:, None] * self._edges[edge]
        return points, self._normals[edge].copy(), u[:, 1:]

    def _signed_adf(self, x: torch.Tensor) -> torch.Tensor:
        from .adf import polygon_shift, polygon_signed_adf

        shift = self.__dict__.get("_adf_shift")
        if shift is None:
            import numpy as np

            sample = self._interior_samples(4096, "sobol", np.random.default_rng(0))
            shift = self.__dict__["_adf_shift"] = polygon_shift(self._v, sample)
        return polygon_signed_adf(x, self._v, shift)

    def reentrant_corners(self) -> list[Corner]:
        """The corners whose interior angle exceeds pi (180 degrees), as :class:`Corner` records.

        At such a corner the solution of an elliptic problem with Dirichlet conditions on both edges
        is singular, ``u ~ c r^(pi/omega) sin(pi theta/omega)`` (Grisvard 1985), with ``omega`` the
        interior angle and ``theta`` measured from one edge: its gradient is infinite at the corner.
        """
        corners = []
        n = len(self._v)
        for k in range(n):
            incoming, outgoing = self._edges[k - 1], self._edges[k]
            turn = np.arctan2(incoming[0] * outgoing[1] - incoming[1] * outgoing[0], float(np.dot(incoming, outgoing)))
            omega = np.pi - turn
            if omega <= np.pi * (1 + 1e-9):
                continue
            start = np.arctan2(outgoing[1], outgoing[0])  # theta = 0 along the outgoing edge
            others = [j for j in range(n) if j not in (k, (k - 1) % n)]
            point = self._v[k][None, :]
            reach = min(float(_segment_distance(point, self._v[j], self._edges[j])[0]) for j in others)
            corners.append(Corner(tuple(float(c) for c in self._v[k]), float(omega), float(start), reach))
        return corners

    def __repr__(self) -> str:
        pairs = ", ".join(f"({fmt(x)}, {fmt(y)})" for x, y in self._given)
        return f"Polygon([{pairs}])"


class Corner:
    """A re-entrant corner of a polygon: its ``vertex``, interior angle ``omega`` (radians, > pi), the
    direction ``start`` (radians) of the edge that leaves it counter-clockwise (from which the angle
    ``theta`` is measured into the domain) and ``reach``, its distance to the nearest other edge."""

    def __init__(self, vertex: tuple[float, float], omega: float, start: float, reach: float) -> None:
        self.vertex, self.omega, self.start, self.reach = vertex, omega, start, reach

    def __repr__(self) -> str:
        return (f"Corner(vertex=({fmt(self.vertex[0])}, {fmt(self.vertex[1])}), "
                f"omega={self.omega / np.pi:.4g} pi, reach={self.reach:.4g})")


def _segment_distance(x: np.ndarray, a: np.ndarray, e: np.ndarray) -> np.ndarray:
    t = np.clip((x - a) @ e / float(e @ e), 0.0, 1.0)
    return np.linalg.norm(x - a - t[:, None] * e, axis=1)


def _check_simple(v: np.ndarray, tol: float) -> None:
    """Raise ValueError if any two edges of the ring ``v`` touch other than at a shared vertex.

    ``tol`` is a length; cross products are compared against ``tol * size``.
    """
    n = len(v)
    eps = tol * float(np.max(np.ptp(v, axis=0)))
    for i in range(n):
        a, b = v[i], v[(i + 1) % n]
        for j in range(i + 1, n):
            c, d = v[j], v[(j + 1) % n]
            if j == i + 1 or (i == 0 and j == n - 1):
                # Neighbours share a vertex; they only overlap if one folds back along the other.
                shared, p, q = (b, a, d) if j == i + 1 else (a, b, c)
                if abs(_cross(shared, p, q)) <= eps and np.dot(p - shared, q - shared) > 0:
                    raise ValueError(f"vertices fold back on themselves at edges {i} and {j}")
            elif _segments_touch(a, b, c, d, eps, tol):
                raise ValueError(f"vertices describe a self-intersecting polygon (edges {i} and {j} meet)")


def _cross(o: np.ndarray, p: np.ndarray, q: np.ndarray) -> float:
    return float((p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0]))


def _on_segment(p: np.ndarray, a: np.ndarray, b: np.ndarray, eps: float, tol: float) -> bool:
    within = np.all(p >= np.minimum(a, b) - tol) and np.all(p <= np.maximum(a, b) + tol)
    return abs(_cross(a, b, p)) <= eps and bool(within)


def _segments_touch(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, eps: float, tol: float) -> bool:
    d1, d2 = _cross(a, b, c), _cross(a, b, d)
    d3, d4 = _cross(c, d, a), _cross(c, d, b)
    if ((d1 > eps and d2 < -eps) or (d1 < -eps and d2 > eps)) and ((d3 > eps and d4 < -eps) or (d3 < -eps and d4 > eps)):
        return True
    return any(_on_segment(p, s, t, eps, tol) for p, s, t in ((c, a, b), (d, a, b), (a, c, d), (b, c, d)))
