"""A spatial domain times a time interval, with time as the last coordinate."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._checks import check_count, check_rng
from .base import Geometry
from .boundary import Boundary
from .sampling import check_method
from .time_interval import TimeInterval

if TYPE_CHECKING:
    import torch


class SpaceTime(Geometry):
    """The domain ``space x [t0, t1]`` of an evolution problem; points are ``(x, ..., t)``.

    Usually built as ``space * TimeInterval(t0, t1)``. Its dimension is ``space.dim + 1``
    and time is the last column. Sample the interior with :meth:`sample_interior`, the
    initial slice with :meth:`sample_initial` and the walls with :meth:`sample_lateral`.
    """

    def __init__(self, space: Geometry, time: TimeInterval) -> None:
        if not isinstance(space, Geometry) or isinstance(space, SpaceTime):
            raise ValueError(f"space must be a spatial Geometry, got {space!r}")
        if not isinstance(time, TimeInterval):
            raise ValueError(f"time must be a TimeInterval, got {time!r}")
        self.space, self.time = space, time
        self.dim = space.dim + 1

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        lower, upper = self.space.bbox
        return np.append(lower, self.time.t0), np.append(upper, self.time.t1)

    def _split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = self._points(x)
        return x[:, :-1], x[:, -1]

    def _in_time(self, t: np.ndarray, tol: float) -> np.ndarray:
        return (t >= self.time.t0 - tol) & (t <= self.time.t1 + tol)

    def inside(self, x: np.ndarray) -> np.ndarray:
        xs, t = self._split(x)
        tol = 1e-12 * max(self.time.length, abs(self.time.t0), abs(self.time.t1))  # round-off of t
        return self.space.inside(xs) & self._in_time(t, tol)

    def on_boundary(self, x: np.ndarray, atol: float = 1e-9) -> np.ndarray:
        """On the lateral walls, or on the initial or final slice."""
        xs, t = self._split(x)
        lateral = self.space.on_boundary(xs, atol) & self._in_time(t, atol)
        ends = (np.abs(t - self.time.t0) <= atol) | (np.abs(t - self.time.t1) <= atol)
        return lateral | (self.space.inside(xs) & ends)

    # Interior sampling is the inherited rejection from the space-time bounding box: for
    # a box space every candidate is accepted, so it is one (d+1)-dim sample mapped.

    def sample_initial(self, n: int, method: str = "uniform", rng: np.random.Generator | None = None) -> np.ndarray:
        """``n`` points of the initial slice ``t = t0``, spread over the spatial domain; shape ``(n, dim)``."""
        xs = self.space.sample_interior(n, method, rng)
        return np.hstack([xs, np.full((len(xs), 1), self.time.t0)])

    def sample_lateral(
        self, boundary: Boundary, n: int, method: str = "uniform", rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` points on ``boundary x [t0, t1]`` with the spatial outward normals.

        Args:
            boundary: a boundary of ``self.space`` (e.g. ``space.boundary`` or ``space.side(0, "lower")``).

        Returns:
            ``(points, normals)`` of shapes ``(n, space.dim + 1)`` and ``(n, space.dim)``.
            Position and time come from one joint sample, so the method spreads them evenly.
        """
        if not isinstance(boundary, Boundary):
            raise ValueError(f"boundary must be a Boundary, got {boundary!r}")
        if boundary.geometry is not self.space:
            raise ValueError(f"boundary belongs to {boundary.geometry!r}, not to this space-time's space {self.space!r}")
        n = check_count(n, "n")
        check_method(method)
        check_rng(rng)
        points, normals, u = boundary._joint_samples(n, method, rng, 1)
        t = self.time.t0 + u[:, 0] * self.time.length
        return np.hstack([points, t[:, None]]), normals

    def boundary_measure(self) -> float:
        raise NotImplementedError("SpaceTime has no boundary_measure; use space.boundary_measure()")

    def _boundary_samples(self, n, method, rng, extra):
        raise NotImplementedError(
            "SpaceTime does not sample its whole boundary; use sample_initial and sample_lateral"
        )

    @property
    def has_distance_factor(self) -> bool:
        return False

    def distance_factor(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(
            "SpaceTime has no distance_factor; apply space.distance_factor to the spatial "
            "columns (and a factor such as (t - t0) / (t1 - t0) for an exact initial condition)"
        )

    def __repr__(self) -> str:
        return f"SpaceTime({self.space!r}, {self.time!r})"
