"""The closed disk in the plane."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._checks import as_scalar, as_vector, fmt, fmt_vector
from .base import Geometry
from .sampling import unit_samples

if TYPE_CHECKING:
    import torch


class Disk(Geometry):
    """The closed disk ``|x - center| <= radius``, e.g. ``Disk((0, 0), 1)``."""

    dim = 2

    def __init__(self, center: tuple[float, float], radius: float) -> None:
        self.center = as_vector(center, "center", 2)
        self.radius = as_scalar(radius, "radius")
        if self.radius <= 0:
            raise ValueError(f"radius must be positive, got {self.radius!r}")

    @property
    def bbox(self) -> tuple[np.ndarray, np.ndarray]:
        return self.center - self.radius, self.center + self.radius

    def _distance(self, x: np.ndarray) -> np.ndarray:
        return np.linalg.norm(self._points(x) - self.center, axis=1)

    def inside(self, x: np.ndarray) -> np.ndarray:
        return self._distance(x) <= self.radius + self._tol

    def on_boundary(self, x: np.ndarray, atol: float = 1e-9) -> np.ndarray:
        return np.abs(self._distance(x) - self.radius) <= atol

    def boundary_measure(self) -> float:
        return 2 * np.pi * self.radius

    def _boundary_samples(self, n, method, rng, extra):
        u = unit_samples(n, 1 + extra, method, rng)
        angle = 2 * np.pi * u[:, 0]
        normals = np.stack([np.cos(angle), np.sin(angle)], axis=1)
        return self.center + self.radius * normals, normals, u[:, 1:]

    def distance_factor(self, x: torch.Tensor) -> torch.Tensor:
        """``(R^2 - |x - c|^2) / R^2``: 1 at the centre, 0 on the circle."""
        self._check_tensor(x)
        cx, cy = float(self.center[0]), float(self.center[1])
        r2 = self.radius**2
        return (r2 - (x[:, 0] - cx) ** 2 - (x[:, 1] - cy) ** 2) / r2

    @property
    def has_distance_factor(self) -> bool:
        return True

    def _signed_adf(self, x: torch.Tensor) -> torch.Tensor:
        """``(R^2 - |x - c|^2) / (2R)``: smooth everywhere, with a unit gradient on the circle."""
        cx, cy = float(self.center[0]), float(self.center[1])
        return (self.radius**2 - (x[:, 0] - cx) ** 2 - (x[:, 1] - cy) ** 2) / (2 * self.radius)

    def __repr__(self) -> str:
        return f"Disk({fmt_vector(self.center)}, {fmt(self.radius)})"
