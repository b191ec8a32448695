"""Gaussian random fields with the covariance ``sigma^2 (-laplacian + tau^2)^(-alpha)`` on the unit cube.

A field is drawn as its Karhunen-Loeve series: the Laplacian's eigenfunctions on ``[0, 1]^d`` under the
chosen boundary condition, each with an independent normal coefficient of standard deviation
``sigma (lambda_k + tau^2)^(-alpha / 2)``, truncated at ``modes`` eigenfunctions per axis (the constant one
left out, so the mean is zero). The coefficients, not grid values, are what is drawn, so one field can
be evaluated at any resolution: the same input function at 32, 64 or 128 points per axis (what
zero-shot super-resolution compares).

Boundaries: ``periodic`` (``1, cos 2 pi k x, sin 2 pi k x``), ``neumann`` (``cos pi k x``, Li et al.'s
Darcy inputs) and ``dirichlet`` (``sin pi k x``, zero on the walls).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pinn.train.validate import one_of, positive, whole

BOUNDARIES = ("periodic", "neumann", "dirichlet")


@dataclass(frozen=True)
class GaussianRandomField:
    """A Gaussian random field on ``[0, 1]^dim``, covariance ``sigma^2 (-laplacian + tau^2)^(-alpha)``.

    Args:
        dim: 1, 2 or 3 axes.
        alpha: smoothness (larger: smoother).
        tau: inverse length scale.
        sigma: amplitude; None is ``tau^(alpha - dim / 2)`` (Li et al.'s choice).
        boundary: ``periodic``, ``neumann`` or ``dirichlet``.
        modes: eigenfunctions kept per axis.
    """

    dim: int = 2
    alpha: float = 2.0
    tau: float = 3.0
    sigma: float | None = None
    boundary: str = "neumann"
    modes: int = 32

    def __post_init__(self) -> None:
        whole("GaussianRandomField", "dim", self.dim, 1)
        if self.dim > 3:
            raise ValueError(f"GaussianRandomField dim must be 1, 2 or 3, got {self.dim}")
        positive("GaussianRandomField", "alpha", self.alpha)
        positive("GaussianRandomField", "tau", self.tau)
        if self.sigma is not None:
            positive("GaussianRandomField", "sigma", self.sigma)
        one_of("GaussianRandomField", "boundary", self.boundary, BOUNDARIES)
        whole("GaussianRandomField", "modes", self.modes, 1)

    @property
    def amplitude(self) -> float:
        return self.sigma if self.sigma is not None else self.tau ** (self.alpha - self.dim / 2)

    def _eigenvalues(self) -> np.ndarray:
        """The Laplacian's eigenvalue of each one-axis basis function, in basis order."""
        k = np.arange(self.modes, dtype=np.float64)
        if self.boundary == "periodic":  # 1, cos(2 pi k x), sin(2 pi k x) for k >= 1
            half = np.arange(1, (self.modes + 1) // 2 + 1, dtype=np.float64)
            lam = np.concatenate([[0.0], np.repeat((2 * math.pi * half) ** 2, 2)])[:self.modes]
            return lam
        if self.boundary == "neumann":  # cos(pi k x), k = 0, 1, ...
            return (math.pi * k) ** 2
        return (math.pi * (k + 1)) ** 2  # sin(pi k x), k = 1, 2, ...

    def basis(self, points: np.ndarray) -> np.ndarray:
        """The one-axis basis functions at ``points`` (coordinates in [0, 1]), shape ``(len(points), modes)``."""
        x = np.asarray(points, dtype=np.float64)[:, None]
        if self.boundary == "periodic":
            half = np.arange(1, (self.modes + 1) // 2 + 1)
            waves = np.stack([np.cos(2 * math.pi * half * x), np.sin(2 * math.pi * half * x)], axis=-1)
            return np.concatenate([np.ones_like(x), waves.reshape(len(x), -1)], axis=1)[:, :self.modes]
        k = np.arange(self.modes)
        if self.boundary == "neumann":
            return np.cos(math.pi * k * x)
        return np.sin(math.pi * (k + 1) * x)

    def standard_deviations(self) -> np.ndarray:
        """Each coefficient's standard deviation, shape ``(modes,) * dim``; zero for the constant function."""
        lam = self._eigenvalues()
        total = sum(np.meshgrid(*([lam] * self.dim), indexing="ij"))
        std = self.amplitude * (total + self.tau**2) ** (-self.alpha / 2)
        return np.where(total == 0, 0.0, std)

    def draw(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` fields' coefficients, shape ``(count, modes, ..., modes)``."""
        whole("GaussianRandomField", "count", count, 1)
        std = self.standard_deviations()
        return rng.standard_normal((count, *std.shape)) * std

    def evaluate(self, coefficients: np.ndarray, points: np.ndarray | tuple[np.ndarray, ...]) -> np.ndarray:
        """The fields at the tensor grid of ``points`` (one coordinate array per axis, or one array for all
        axes): shape ``(count, len(points_1), ..., len(points_dim))``."""
        axes = points if isinstance(points, tuple) else (points,) * self.dim
        if len(axes) != self.dim:
            raise ValueError(f"GaussianRandomField of dim {self.dim} needs {self.dim} coordinate arrays, got {len(axes)}")
        values = np.asarray(coefficients, dtype=np.float64)
        if values.shape[1:] != (self.modes,) * self.dim:
            raise ValueError(f"GaussianRandomField coefficients must have shape (count, {', '.join([str(self.modes)] * self.dim)}),"
                             f" got {values.shape}")
        for axis, coordinates in enumerate(axes):
            # contract axis ``axis + 1`` of the coefficients with the basis at the points, keeping the order
            values = np.moveaxis(np.tensordot(values, self.basis(coordinates), axes=([axis + 1], [1])), -1, axis + 1)
        return values
