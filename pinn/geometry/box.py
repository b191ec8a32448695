"""Axis-aligned boxes: Interval (1-D), Rectangle (2-D) and Box (3-D)."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ._checks import as_scalar, as_vector, fmt, fmt_vector
from .base import Geometry
from .boundary import Boundary
from .sampling import unit_samples

if TYPE_CHECKING:
    import torch


class AxisAlignedBox(Geometry):
    """The box ``lower <= x <= upper`` (componentwise). Use Interval, Rectangle or Box."""

    def __init__(self, lower: np.ndarray, upper: np.ndarray, *, names: tuple[str, str] = ("lower", "upper")) -> None:
        lower = np.array(lower, dtype=float)
        upper = np.array(upper, dtype=float)
        lower.flags.writeable = upper.flags.writeable = False  # the box is immutable
        bad = np.flatnonzero(~(lower < upper))
        if bad.size:
            axis = int(bad[0])
            where = f"; axis {axis} has" if len(lower) > 1 else ", got"
            raise ValueError(
                f"{type(self).__name__} needs {names[0]} < {names[1]}{' on every axis' if len(lower) > 1 else ''}"
                f"{where} {names[0]}={float(lower[axis])!r}, {names[1]}={float(upper[axis])!r}"
            )
        self.dim = len(lower)
        self._lower, self._upper = lower, upper
        # Boundary faces as (axis, side, measure); side 0 is the lower face.
        extent = upper - lower
        self._faces = [(axis, side, float(np.prod(np.delete(extent, axis)))) for axis in range(self.dim) for side in (0, 1)]

    @property
    def lower(self) -> np.ndarray:
        return self._lower

    @property
    def upper(self) -> np.ndarray:
        return self._upper

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        return self._lower, self._upper

    def inside(self, x: np.ndarray) -> np.ndarray:
        x = self._points(x)
        tol = self._tol
        return np.all((x >= self._lower - tol) & (x <= self._upper + tol), axis=1)

    def on_boundary(self, x: np.ndarray, atol: float = 1e-9) -> np.ndarray:
        x = self._points(x)
        near = np.all((x >= self._lower - atol) & (x <= self._upper + atol), axis=1)
        gap = np.minimum(x - self._lower, self._upper - x)
        return near & (np.min(gap, axis=1) <= atol)

    def boundary_measure(self) -> float:
        return float(sum(measure for _, _, measure in self._faces))

    def _interior_samples(self, n: int, method: str, rng: np.random.Generator) -> np.ndarray:
        return self._lower + unit_samples(n, self.dim, method, rng) * (self._upper - self._lower)

    def _boundary_samples(self, n, method, rng, extra):
        # One unit coordinate picks the face (by measure) and, rescaled, also serves as the
        # first coordinate on it; so a (dim-1)-dim sample covers the unfolded surface evenly.
        k = max(self.dim - 1, 1)
        u = unit_samples(n, k + extra, method, rng)
        weights = np.array([m for _, _, m in self._faces])
        edges = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
        face = np.clip(np.searchsorted(edges, u[:, 0], side="right") - 1, 0, len(self._faces) - 1)
        local = u[:, :k].copy()
        local[:, 0] = np.clip((u[:, 0] - edges[face]) / (edges[face + 1] - edges[face]), 0.0, 1.0)
        points = np.empty((n, self.dim))
        normals = np.zeros((n, self.dim))
        for index, (axis, side, _) in enumerate(self._faces):
            rows = face == index
            others = [a for a in range(self.dim) if a != axis]
            points[rows, axis] = self._upper[axis] if side else self._lower[axis]
            for j, a in enumerate(others):
                points[rows, a] = self._lower[a] + local[rows, j] * (self._upper[a] - self._lower[a])
            normals[rows, axis] = 1.0 if side else -1.0
        return points, normals, u[:, k:]

    def side(self, axis: int, which: str) -> Boundary:
        """The face ``x[axis] == lower[axis]`` (``which="lower"``) or ``== upper[axis]`` (``"upper"``).

        For example ``Rectangle((0, 0), (1, 1)).side(0, "lower")`` is the wall ``x = 0``.
        """
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not 0 <= axis < self.dim:
            raise ValueError(f"axis must be an integer in 0..{self.dim - 1}, got {axis!r}")
        if which not in ("lower", "upper"):
            raise ValueError(f"which must be 'lower' or 'upper', got {which!r}")
        value = float(self._lower[axis] if which == "lower" else self._upper[axis])
        return self.boundary.where(_OnFace(int(axis), which, value, 1e-9 * max(1.0, self._scale)))

    def distance_factor(self, x: torch.Tensor) -> torch.Tensor:
        """``prod_i (x_i - lower_i)(upper_i - x_i) / ((upper_i - lower_i) / 2)^2``: 1 at the centre, 0 on the faces."""
        self._check_tensor(x)
        factor = None
        for i in range(self.dim):
            a, b = float(self._lower[i]), float(self._upper[i])
            term = (x[:, i] - a) * (b - x[:, i]) / ((b - a) / 2) ** 2
            factor = term if factor is None else factor * term
        return factor

    @property
    def has_distance_factor(self) -> bool:
        return True

    def _signed_adf(self, x: torch.Tensor) -> torch.Tensor:
        """The R-conjunction of the slabs ``(x_i - lower_i)(upper_i - x_i) / (upper_i - lower_i)``: in 1-D
        and 2-D smooth except at the corners. Not in 3-D, where the conjunction of three slabs has
        creases along lines outside the box."""
        from .adf import r_conjunction

        if self.dim > 2:
            raise NotImplementedError(f"{type(self).__name__} has no signed distance function for unions and "
                                      "differences in 3-D; exact Dirichlet conditions are supported on "
                                      "intervals, rectangles, boxes, disks, polygons, and unions and differences "
                                      "of intervals, rectangles, disks and polygons")
        slabs = [(x[:, i] - float(a)) * (float(b) - x[:, i]) / float(b - a)
                 for i, (a, b) in enumerate(zip(self._lower, self._upper))]
        return slabs[0] if len(slabs) == 1 else r_conjunction(slabs[0], slabs[1])


class _OnFace:
    """Predicate selecting the points of one face of a box (within a round-off tolerance)."""

    def __init__(self, axis: int, which: str, value: float, tol: float) -> None:
        self.axis, self.which, self.value, self.tol = axis, which, value, tol

    def __call__(self, *coords: np.ndarray) -> np.ndarray:
        return np.abs(coords[self.axis] - self.value) <= self.tol

    def __repr__(self) -> str:
        return f"side({self.axis}, {self.which!r})"


class Interval(AxisAlignedBox):
    """The closed interval ``[a, b]`` (1-D). Its boundary is the two end points, normals -1 and +1."""

    def __init__(self, a: float, b: float) -> None:
        a, b = as_scalar(a, "a"), as_scalar(b, "b")
        super().__init__(np.array([a]), np.array([b]), names=("a", "b"))
        self.a, self.b = a, b

    def __repr__(self) -> str:
        return f"Interval({fmt(self.a)}, {fmt(self.b)})"


class Rectangle(AxisAlignedBox):
    """The rectangle ``lower <= (x, y) <= upper``, e.g. ``Rectangle((0, 0), (2, 1))``."""

    def __init__(self, lower: tuple[float, float], upper: tuple[float, float]) -> None:
        super().__init__(as_vector(lower, "lower", 2), as_vector(upper, "upper", 2))

    def __repr__(self) -> str:
        return f"Rectangle({fmt_vector(self.lower)}, {fmt_vector(self.upper)})"

    def extend_boundary_values(self, g: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
                               ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        """``g``'s values on the four sides, extended inside by transfinite (Coons) interpolation.

        The result equals ``g`` on the boundary and is built from nothing but those boundary values,
        so it is an honest ``Dirichlet(..., exact=True)`` value: the network still has to find the
        solution inside, even when ``g`` is a closed-form solution."""
        (x0, y0), (x1, y1) = self.lower, self.upper

        def extension(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            s, r = (x - x0) / (x1 - x0), (y - y0) / (y1 - y0)
            X0, X1, Y0, Y1 = (x.new_full(x.shape, float(c)) for c in (x0, x1, y0, y1))
            sides = (1 - s) * g(X0, y) + s * g(X1, y) + (1 - r) * g(x, Y0) + r * g(x, Y1)
            corners = ((1 - s) * (1 - r) * g(X0, Y0) + s * (1 - r) * g(X1, Y0)
                       + (1 - s) * r * g(X0, Y1) + s * r * g(X1, Y1))
            return sides - corners

        return extension


class Box(AxisAlignedBox):
    """The 3-D box ``lower <= (x, y, z) <= upper``, e.g. ``Box((0, 0, 0), (1, 1, 1))``."""

    def __init__(self, lower: tuple[float, float, float], upper: tuple[float, float, float]) -> None:
        super().__init__(as_vector(lower, "lower", 3), as_vector(upper, "upper", 3))

    def __repr__(self) -> str:
        return f"Box({fmt_vector(self.lower)}, {fmt_vector(self.upper)})"
