"""A boundary, or the part of one picked out by predicates, where a condition is imposed."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._checks import as_points, check_count, check_rng
from ._rejection import first_accepted
from .base import Geometry
from .sampling import check_method

Predicate = Callable[..., Any]


class Boundary:
    """The boundary of ``geometry``, optionally restricted to points where ``predicate`` holds.

    ``predicate(x, y, ...)`` receives the coordinates as separate 1-D numpy arrays and
    returns a boolean array (or a single bool). Restrictions compose::

        walls = rect.boundary.where(lambda x, y: y > 0)        # all but the bottom
        left = rect.side(0, "lower")                          # the wall x = lower[0]

    ``boundary.geometry`` is the domain the boundary belongs to, so a caller can check
    ``boundary.geometry is space``.
    """

    def __init__(self, geometry: Geometry, predicate: Predicate | None = None) -> None:
        if not isinstance(geometry, Geometry):
            raise ValueError(f"geometry must be a Geometry, got {geometry!r}")
        if predicate is not None and not callable(predicate):
            raise ValueError(f"predicate must be callable, got {predicate!r}")
        self._geometry = geometry
        self._predicates: tuple[Predicate, ...] = () if predicate is None else (predicate,)

    @property
    def geometry(self) -> Geometry:
        """The domain whose boundary this is."""
        return self._geometry

    @property
    def predicates(self) -> tuple[Predicate, ...]:
        """The restrictions applied, all of which must hold."""
        return self._predicates

    @property
    def is_whole(self) -> bool:
        """True when this is the whole boundary (no predicate)."""
        return not self._predicates

    def where(self, predicate: Predicate) -> Boundary:
        """The part of this boundary where ``predicate(x, y, ...)`` is also true."""
        if not callable(predicate):
            raise ValueError(f"predicate must be callable, got {predicate!r}")
        restricted = Boundary(self._geometry)
        restricted._predicates = self._predicates + (predicate,)
        return restricted

    def _select(self, points: np.ndarray) -> np.ndarray:
        mask = np.ones(len(points), dtype=bool)
        coords = tuple(points.T)
        for predicate in self._predicates:
            result = np.asarray(predicate(*coords), dtype=bool)
            try:
                mask &= np.broadcast_to(result, mask.shape)
            except ValueError:
                raise ValueError(
                    f"predicate {_name(predicate)} returned shape {result.shape} "
                    f"for {len(points)} points; it must return one bool per point"
                ) from None
        return mask

    def contains(self, x: np.ndarray, atol: float = 1e-9) -> np.ndarray:
        """Whether each row of ``x`` is on the geometry's boundary and satisfies the predicates."""
        x = as_points(x, self._geometry.dim)
        return self._geometry.on_boundary(x, atol) & self._select(x)

    def sample(
        self, n: int, method: str = "uniform", rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` points spread uniformly over this (part of the) boundary.

        Returns:
            ``(points, normals)``, both ``(n, dim)``; normals are outward and of unit length.

        Raises:
            ValueError: if the predicates select (almost) none of the boundary.
        """
        n = check_count(n, "n")
        check_method(method)
        check_rng(rng)
        points, normals, _ = self._joint_samples(n, method, rng, 0)
        return points, normals

    def _joint_samples(
        self, n: int, method: str, rng: np.random.Generator, extra: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.is_whole:
            return self._geometry._boundary_samples(n, method, rng, extra)

        def draw(m: int) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
            arrays = self._geometry._boundary_samples(m, method, rng, extra)
            return arrays, self._select(arrays[0])

        return first_accepted(n, draw, f"the predicate of {self!r} selects (almost) none of the boundary")

    def __repr__(self) -> str:
        text = f"{self._geometry!r}.boundary"
        for predicate in self._predicates:
            text += f".where({_name(predicate)})"
        return text


def _name(predicate: Predicate) -> str:
    name = getattr(predicate, "__name__", None)
    return name if name is not None else repr(predicate)
