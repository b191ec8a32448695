"""The interface every domain implements: membership, sampling, normals and a distance factor."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import as_points, check_count, check_rng
from ._rejection import first_accepted
from .sampling import check_method, unit_samples

if TYPE_CHECKING:
    import torch

    from .boundary import Boundary

DISTANCE_FACTOR_SUPPORT = ("intervals, rectangles, boxes, disks, polygons, and unions and differences of intervals, "
                           "rectangles, disks and polygons")


class Geometry(ABC):
    """A closed domain in ``R^dim`` (boundary included).

    Points are float64 numpy arrays of shape ``(N, dim)``. Every sampling method takes
    ``method`` (one of :data:`~pinn.geometry.SAMPLING_METHODS`) and an explicit
    ``rng`` (a ``numpy.random.Generator``), so one seed fixes the points.

    Domains combine: ``a | b`` is their :class:`Union`, ``a - b`` their
    :class:`Difference`, and ``space * TimeInterval(t0, t1)`` a :class:`SpaceTime`.
    """

    dim: int

    # ----- what each domain defines -------------------------------------------------
    @property
    @abstractmethod
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        """The bounding box ``(lower, upper)``, two arrays of shape ``(dim,)``."""

    @abstractmethod
    def inside(self, x: np.ndarray) -> np.ndarray:
        """Whether each row of ``x`` (shape ``(N, dim)``) lies in the closed domain; shape ``(N,)``.

        Points within about ``1e-12`` times the domain's size (or the magnitude of its
        coordinates, if larger) of the boundary count as inside.
        """

    @abstractmethod
    def on_boundary(self, x: np.ndarray, atol: float = 1e-9) -> np.ndarray:
        """Whether each row of ``x`` lies within distance ``atol`` of the boundary; shape ``(N,)``."""

    @abstractmethod
    def boundary_measure(self) -> float:
        """The size of the boundary: point count in 1-D, perimeter in 2-D, area in 3-D."""

    @abstractmethod
    def _boundary_samples(
        self, n: int, method: str, rng: np.random.Generator, extra: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` boundary points, their outward normals and ``extra`` unit coordinates per point.

        The extra coordinates are drawn jointly with the boundary parametrisation (one
        low-discrepancy sample of higher dimension), so pairing them with the points, as
        space-time does with time, keeps the sample even. Arguments are already checked.
        """

    # ----- shared behaviour ---------------------------------------------------------
    @property
    def _scale(self) -> float:
        lower, upper = self.bbox
        return float(np.max(upper - lower))

    @property
    def _tol(self) -> float:
        """Membership tolerance: absorbs round-off in points computed on the boundary, which grows
        with the domain's size and with the magnitude of its coordinates (a small domain far from
        the origin)."""
        lower, upper = self.bbox
        return 1e-12 * max(self._scale, float(np.max(np.abs(lower))), float(np.max(np.abs(upper))))

    def _points(self, x: Any) -> np.ndarray:
        return as_points(x, self.dim)

    def _strictly_inside(self, x: np.ndarray, atol: float) -> np.ndarray:
        """Inside and farther than ``atol`` from the boundary."""
        return self.inside(x) & ~self.on_boundary(x, atol)

    def sample_interior(self, n: int, method: str = "uniform", rng: np.random.Generator | None = None) -> np.ndarray:
        """Draw ``n`` points spread uniformly over the domain; shape ``(n, dim)``.

        Args:
            n: number of points.
            method: ``"uniform"``, ``"lhs"``, ``"sobol"`` or ``"halton"``.
            rng: ``numpy.random.Generator`` the points are drawn from (required).
        """
        n = check_count(n, "n")
        check_method(method)
        check_rng(rng)
        return self._interior_samples(n, method, rng)

    def _interior_samples(self, n: int, method: str, rng: np.random.Generator) -> np.ndarray:
        # Rejection from the bounding box: the accepted points keep the sample's order,
        # so the first n of a Sobol or Halton draw stay evenly spread.
        lower, upper = self.bbox

        def draw(m: int) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
            x = lower + unit_samples(m, self.dim, method, rng) * (upper - lower)
            return (x,), self.inside(x)

        (x,) = first_accepted(
            n, draw, f"sampling the interior of {self!r} (it fills almost none of its bounding box)",
            error=RuntimeError,
        )
        return x

    def sample_boundary(
        self, n: int, method: str = "uniform", rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` boundary points spread uniformly by boundary measure, with outward unit normals.

        Returns:
            ``(points, normals)``, both of shape ``(n, dim)``.
        """
        n = check_count(n, "n")
        check_method(method)
        check_rng(rng)
        points, normals, _ = self._boundary_samples(n, method, rng, 0)
        return points, normals

    @property
    def boundary(self) -> Boundary:
        """The whole boundary, as a :class:`Boundary` that conditions can be attached to."""
        from .boundary import Boundary

        return Boundary(self)

    def distance_factor(self, x: torch.Tensor) -> torch.Tensor:
        """A smooth factor ``D(x)``, zero on the boundary and positive inside, of shape ``(N,)``.

        Used to impose Dirichlet conditions exactly as ``u = g + D(x) * net(x)``. It is written in
        tensor operations so autograd can differentiate it, peaks near 1 and is smooth inside the
        domain. Boxes and disks use a product of quadratics; polygons, unions and differences an
        approximate distance function (:mod:`pinn.geometry.adf`) divided by its largest value inside,
        so it grows like the distance to the boundary near it. Defined on intervals, rectangles,
        boxes, disks, polygons and the unions and differences of 1-D and 2-D domains; the others
        (a 3-D union, a space-time domain) raise NotImplementedError.
        """
        self._check_tensor(x)
        signed = self._signed_adf(x)
        return signed / self._adf_peak()

    @property
    def has_distance_factor(self) -> bool:
        """Whether :meth:`distance_factor` is defined for this domain (checked without computing it)."""
        import torch

        try:
            self._signed_adf(torch.zeros(1, self.dim, dtype=torch.float64))
        except NotImplementedError:
            return False
        return True

    def _signed_adf(self, x: torch.Tensor) -> torch.Tensor:
        """A signed approximate distance: positive inside, negative outside, zero on the boundary,
        normalised to first order and smooth off the boundary (:mod:`pinn.geometry.adf`)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no distance_factor; exact Dirichlet conditions "
            f"are supported on {DISTANCE_FACTOR_SUPPORT}"
        )

    def _adf_peak(self) -> float:
        """The signed ADF's largest value inside (from a fixed sample; cached)."""
        cached = self.__dict__.get("_adf_peak_value")
        if cached is None:
            from .adf import peak

            cached = peak(self._signed_adf, self)
            self.__dict__["_adf_peak_value"] = cached
        return cached

    def _check_tensor(self, x: Any) -> None:
        shape = tuple(getattr(x, "shape", ()))
        if len(shape) != 2 or shape[1] != self.dim:
            raise ValueError(f"x must be a tensor of shape (N, {self.dim}), got shape {shape}")

    # ----- combinators --------------------------------------------------------------
    def __or__(self, other: Geometry) -> Geometry:
        if not isinstance(other, Geometry):
            return NotImplemented
        from .csg import Union

        return Union(self, other)

    def __sub__(self, other: Geometry) -> Geometry:
        if not isinstance(other, Geometry):
            return NotImplemented
        from .csg import Difference

        return Difference(self, other)

    def __mul__(self, other: Any) -> Geometry:
        from .time_interval import TimeInterval

        if not isinstance(other, TimeInterval):
            return NotImplemented
        from .spacetime import SpaceTime

        return SpaceTime(self, other)
