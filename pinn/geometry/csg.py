"""Constructive solid geometry: unions and differences of domains."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from ._rejection import first_accepted, proportional_counts
from .base import Geometry

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class _Piece:
    """Part of a combined boundary: the boundary of ``geometry`` where ``keep`` holds."""

    geometry: Geometry
    keep: Callable[[np.ndarray], np.ndarray]
    sign: float  # -1 where the part's outward normal points into the combined domain


class _Combined(Geometry):
    """Shared machinery: boundary = pieces of the parts' boundaries, sampled by rejection."""

    _symbol = "?"

    def __init__(self, a: Geometry, b: Geometry) -> None:
        if not isinstance(a, Geometry):
            raise ValueError(f"a must be a Geometry, got {a!r}")
        if not isinstance(b, Geometry):
            raise ValueError(f"b must be a Geometry, got {b!r}")
        if a.dim != b.dim:
            raise ValueError(f"b has dimension {b.dim} but a has dimension {a.dim}; they must match")
        self.a, self.b = a, b
        self.dim = a.dim
        self._kept: list[tuple[_Piece, float]] | None = None

    def _pieces(self) -> list[_Piece]:
        raise NotImplementedError

    def _kept_pieces(self) -> list[tuple[_Piece, float]]:
        """Each piece with the measure of its kept part, estimated from a fixed 16384-point Sobol
        sample per piece (deterministic, cached)."""
        if self._kept is None:
            rng = np.random.default_rng(0)  # private and fixed: the estimate is reproducible
            kept = []
            for piece in self._pieces():
                points, _, _ = piece.geometry._boundary_samples(1 << 14, "sobol", rng, 0)
                kept.append((piece, piece.geometry.boundary_measure() * float(np.mean(piece.keep(points)))))
            self._kept = kept
        return self._kept

    def _boundary_samples(self, n, method, rng, extra):
        # A piece with nothing kept (a hole outside the domain, a part inside the other) is left
        # out: its candidates would all be rejected, and a large one would starve the others.
        pieces = [piece for piece, kept in self._kept_pieces() if kept > 0]
        if not pieces:
            raise RuntimeError(f"{self!r} has no boundary to sample")
        weights = np.array([p.geometry.boundary_measure() for p in pieces])

        def draw(m: int) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
            chunks = []
            for piece, count in zip(pieces, proportional_counts(m, weights, rng)):
                if count:
                    points, normals, ex = piece.geometry._boundary_samples(int(count), method, rng, extra)
                    chunks.append((points, piece.sign * normals, ex, piece.keep(points)))
            # Shuffle so that taking the first accepted rows does not favour one piece.
            order = rng.permutation(m)
            points, normals, ex, keep = (np.concatenate(parts)[order] for parts in zip(*chunks))
            return (points, normals, ex), keep

        return first_accepted(n, draw, f"sampling the boundary of {self!r}", error=RuntimeError)

    def boundary_measure(self) -> float:
        """Estimated from a fixed 16384-point Sobol sample per part (deterministic, cached)."""
        return sum(kept for _, kept in self._kept_pieces())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.a!r}, {self.b!r})"


class Union(_Combined):
    """Points in ``a`` or ``b`` (also written ``a | b``); both must have the same dimension.

    The boundary is the part of each boundary not strictly inside the other domain.
    """

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        (la, ua), (lb, ub) = self.a.bbox, self.b.bbox
        return np.minimum(la, lb), np.maximum(ua, ub)

    def inside(self, x: np.ndarray) -> np.ndarray:
        x = self._points(x)
        return self.a.inside(x) | self.b.inside(x)

    def on_boundary(self, x: np.ndarray, atol: float = 1e-9) -> np.ndarray:
        x = self._points(x)
        return (self.a.on_boundary(x, atol) & ~self.b._strictly_inside(x, atol)) | (
            self.b.on_boundary(x, atol) & ~self.a._strictly_inside(x, atol)
        )

    def _pieces(self) -> list[_Piece]:
        tol = self._tol
        return [
            _Piece(self.a, lambda x: ~self.b._strictly_inside(x, tol), 1.0),
            _Piece(self.b, lambda x: ~self.a._strictly_inside(x, tol), 1.0),
        ]

    def _signed_adf(self, x: torch.Tensor) -> torch.Tensor:
        """R-disjunction of the parts'. Parts must overlap: where two parts only touch, the seam is
        boundary for the union's sampling and its distance factor alike (use a Polygon instead)."""
        from .adf import r_disjunction

        return r_disjunction(self.a._signed_adf(x), self.b._signed_adf(x))


class Difference(_Combined):
    """Points in ``a`` but not strictly inside ``b`` (also written ``a - b``), e.g. a plate with a hole.

    The boundary is ``a``'s boundary outside ``b`` plus ``b``'s boundary inside ``a``; on the
    latter the outward normal points into ``b``.
    """

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        return self.a.bbox

    def inside(self, x: np.ndarray) -> np.ndarray:
        x = self._points(x)
        return self.a.inside(x) & ~self.b._strictly_inside(x, self._tol)

    def on_boundary(self, x: np.ndarray, atol: float = 1e-9) -> np.ndarray:
        x = self._points(x)
        return (self.a.on_boundary(x, atol) & ~self.b._strictly_inside(x, atol)) | (
            self.b.on_boundary(x, atol) & self.a.inside(x)
        )

    def _pieces(self) -> list[_Piece]:
        tol = self._tol
        return [
            _Piece(self.a, lambda x: ~self.b._strictly_inside(x, tol), 1.0),
            _Piece(self.b, lambda x: self.a._strictly_inside(x, tol), -1.0),
        ]

    def _signed_adf(self, x: torch.Tensor) -> torch.Tensor:
        """R-conjunction of ``a``'s and the negated ``b``'s."""
        from .adf import r_conjunction

        return r_conjunction(self.a._signed_adf(x), -self.b._signed_adf(x))
