"""The multivariate Ornstein-Uhlenbeck process ``dX = -A (X - mu) dt + S dW``: closed forms for d states.

With ``Phi(h) = expm(-A h)`` and the diffusion ``B = S S^T``:

- mean ``m(t) = mu + Phi(t) (x0 - mu)``;
- covariance ``Sigma(t) = ∫_0^t Phi(u) B Phi(u)^T du`` by Van Loan's method (one matrix exponential of
  the block matrix ``[[A, B], [0, -A^T]] t``), tending to the stationary ``Sigma_inf`` that solves the
  Lyapunov equation ``A Sigma + Sigma A^T = B``; for long spans (``|A| t > 10``, where the block's
  exponential overflows) as ``Sigma_inf - Phi(t) Sigma_inf Phi(t)^T``, the same quantity;
- ``Cov(X_s, X_t) = Sigma(s) Phi(t - s)^T`` for ``t >= s``;
- exact transitions: ``X_{t+h} | X_t ~ N(mu + Phi(h) (X_t - mu), Sigma(h))``.

``S`` is general (non-diagonal): only ``B`` is seen in the paths, so ``S`` is identifiable only up to
``S Q`` with ``Q`` orthogonal; a lower-triangular ``S`` with positive diagonal (the Cholesky factor of
``B``) is the identifiable choice, and the one
:meth:`MultivariateOrnsteinUhlenbeck.coefficients` names.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import linalg

from pinn.dynamics.sde.references import Reference


def van_loan(drift: np.ndarray, diffusion: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """``(Phi, Sigma)`` of ``dX = drift X dt + noise`` over ``h`` with noise covariance rate ``diffusion``:
    ``Phi = expm(drift h)`` and ``Sigma = ∫_0^h Phi(u) diffusion Phi(u)^T du`` (Van Loan, 1978)."""
    d = drift.shape[0]
    block = np.zeros((2 * d, 2 * d))
    block[:d, :d], block[:d, d:], block[d:, d:] = -drift, diffusion, drift.T
    exponential = linalg.expm(block * h)
    phi = exponential[d:, d:].T
    sigma = phi @ exponential[:d, d:]
    return phi, (sigma + sigma.T) / 2


def _matrix(owner: str, name: str, value: object, shape: tuple[int, ...]) -> np.ndarray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{owner} {name} must be numbers of shape {shape}, got {value!r}") from None
    if array.shape != shape:
        kind = "a square matrix" if len(shape) == 2 else "a vector"
        raise ValueError(f"{owner} {name} must be {kind} of shape {shape} (d = {shape[0]} states, from A), "
                         f"got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{owner} {name} must be finite, got {value!r}")
    return array


@dataclass(frozen=True)
class MultivariateOrnsteinUhlenbeck(Reference):
    """``dX = -A (X - mu) dt + S dW`` with ``d`` states and general noise ``S`` (d x d); validation paths
    start at ``start``.

    Args:
        A: the drift matrix (d x d, any, eigenvalues with positive real part: the process is stationary).
        mu: the long-run mean (d).
        S: the noise matrix (d x d, ``S S^T`` positive definite). Lower-triangular with a positive
            diagonal is the identifiable form (see the module).
        start: the validation start (d).

    Coefficient names: ``a11, a12, ...`` (A by row and column, from 1), ``mu1, ...``, ``s11, s21, s22,
    ...`` (the lower triangle of the Cholesky factor of ``S S^T``, equal to ``S`` when ``S`` is
    lower-triangular with a positive diagonal).
    """

    A: Sequence[Sequence[float]]
    mu: Sequence[float]
    S: Sequence[Sequence[float]]
    start: Sequence[float]
    drift_matrix: np.ndarray = field(init=False, repr=False, compare=False)
    diffusion_matrix: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        owner = "MultivariateOrnsteinUhlenbeck"
        a = np.array(self.A, dtype=np.float64) if _is_numeric(self.A) else None
        if a is None or a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 1:
            shape = getattr(a, "shape", None)
            raise ValueError(f"{owner} A must be a square d x d matrix, got {self.A!r}"
                             + (f" (shape {shape})" if shape is not None else ""))
        d = a.shape[0]
        a = _matrix(owner, "A", self.A, (d, d))
        s = _matrix(owner, "S", self.S, (d, d))
        mu = _matrix(owner, "mu", self.mu, (d,))
        start = _matrix(owner, "start", self.start, (d,))
        if not np.all(np.linalg.eigvals(a).real > 0):
            raise ValueError(f"{owner} A must have eigenvalues with positive real part (a stationary process), "
                             f"got eigenvalues {np.linalg.eigvals(a).tolist()}")
        b = s @ s.T
        if np.linalg.eigvalsh(b).min() <= 1e-12 * max(np.abs(b).max(), 1e-300):
            raise ValueError(f"{owner} S must be non-singular (S S^T positive definite), got {self.S!r}")
        for name, value in (("A", a), ("S", s), ("mu", mu), ("start", start)):
            object.__setattr__(self, name, tuple(map(tuple, value)) if value.ndim == 2 else tuple(value))
        object.__setattr__(self, "drift_matrix", a)
        object.__setattr__(self, "diffusion_matrix", b)

    # ------------------------------------------------------------------ closed forms
    @property
    def states(self) -> int:  # type: ignore[override]
        return len(self.mu)

    @property
    def description(self) -> str:  # type: ignore[override]
        return (f"{self.states}-state Ornstein-Uhlenbeck A={self.A}, mu={self.mu}, S={self.S}: closed-form "
                "Gaussian transitions (Van Loan), moments and stationary covariance (Lyapunov)")

    def coefficients(self) -> dict[str, float]:
        d = self.states
        found = {f"a{i + 1}{j + 1}": float(self.drift_matrix[i, j]) for i in range(d) for j in range(d)}
        found.update({f"mu{i + 1}": float(v) for i, v in enumerate(self.mu)})
        factor = np.linalg.cholesky(self.diffusion_matrix)
        found.update({f"s{i + 1}{j + 1}": float(factor[i, j]) for i in range(d) for j in range(i + 1)})
        return found

    def transition(self, h: float) -> tuple[np.ndarray, np.ndarray]:
        """``(Phi(h), Sigma(h))``: ``X_{t+h} = mu + Phi (X_t - mu) + N(0, Sigma)``."""
        return _transition(self, float(h))

    def stationary_covariance(self) -> np.ndarray:
        """``Sigma_inf``, solving ``A Sigma + Sigma A^T = B``."""
        return linalg.solve_continuous_lyapunov(self.drift_matrix, self.diffusion_matrix)

    def mean(self, t):
        t = np.asarray(t, dtype=np.float64)
        mu, offset = np.array(self.mu), np.array(self.start) - np.array(self.mu)
        return np.stack([mu + linalg.expm(-self.drift_matrix * float(u)) @ offset for u in t.reshape(-1)]
                        ).reshape(*t.shape, self.states)

    def covariance(self, t: float) -> np.ndarray:
        return self.transition(t)[1] if t > 0 else np.zeros((self.states, self.states))

    def variance(self, t):
        t = np.asarray(t, dtype=np.float64)
        return np.stack([np.diag(self.covariance(float(u))) for u in t.reshape(-1)]).reshape(*t.shape, self.states)

    def cross_covariance(self, s: float, t: float) -> np.ndarray:
        return self.covariance(s) @ self.transition(t - s)[0].T

    def autocovariance(self, s, t):
        return np.diag(self.cross_covariance(s, float(t)))

    # ------------------------------------------------------------------ samples
    def simulate(self, times, start, rng):
        start = np.asarray(start, dtype=np.float64).reshape(-1, self.states)
        mu = np.array(self.mu)
        paths = np.empty((start.shape[0], len(times), self.states))
        paths[:, 0] = start
        for k, h in enumerate(np.diff(times)):
            phi, sigma = self.transition(h)
            noise = rng.standard_normal(start.shape) @ np.linalg.cholesky(sigma).T
            paths[:, k + 1] = mu + (paths[:, k] - mu) @ phi.T + noise
        return paths

    def initial(self, count, rng):
        return np.tile(np.array(self.start), (count, 1))

    def terminal(self, t, count, rng):
        return self.mean(t) + rng.standard_normal((count, self.states)) @ np.linalg.cholesky(self.covariance(t)).T

    def discretisation_bias(self, dt, scheme="euler"):
        names = self.coefficients()
        if scheme == "local_linear":  # the exact transition density: no bias
            return {name: 0.0 for name in names}
        # Euler-Maruyama's fit of exact steps: I - A_hat dt = Phi(dt), B_hat dt = Sigma(dt)
        phi, sigma = self.transition(dt)
        d = self.states
        a_hat = (np.eye(d) - phi) / dt
        factor = np.linalg.cholesky(sigma / dt)
        fitted = {f"a{i + 1}{j + 1}": a_hat[i, j] for i in range(d) for j in range(d)}
        fitted.update({f"mu{i + 1}": v for i, v in enumerate(self.mu)})
        fitted.update({f"s{i + 1}{j + 1}": factor[i, j] for i in range(d) for j in range(i + 1)})
        return {name: float((fitted[name] - true) / (abs(true) or 1.0)) for name, true in names.items()}


@lru_cache(maxsize=256)
def _transition(process: MultivariateOrnsteinUhlenbeck, h: float) -> tuple[np.ndarray, np.ndarray]:
    if h * np.linalg.norm(process.drift_matrix, 2) <= 10:
        return van_loan(-process.drift_matrix, process.diffusion_matrix, h)
    # Van Loan's block holds expm(A h), which overflows for long spans: there the stationary covariance
    # gives the same Sigma(h) = Sigma_inf - Phi Sigma_inf Phi^T without cancellation
    phi = linalg.expm(-process.drift_matrix * h)
    stationary = process.stationary_covariance()
    sigma = stationary - phi @ stationary @ phi.T
    return phi, (sigma + sigma.T) / 2


def _is_numeric(value: object) -> bool:
    try:
        np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


__all__ = ["MultivariateOrnsteinUhlenbeck", "van_loan"]
