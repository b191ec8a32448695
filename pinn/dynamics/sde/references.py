"""The true SDEs of the examples: exact simulation (the data), closed-form moments and densities.

Each reference simulates its SDE for the example data (seeded; exact transitions where they exist),
and gives what validation compares the learnt process with: mean, variance and autocovariance at
chosen times from a declared start, the terminal distribution (to draw a sample for the two-sample
test), and the stationary density where there is one. These are one-dimensional;
:class:`~pinn.dynamics.sde.multivariate.MultivariateOrnsteinUhlenbeck` has d states.
"""
from __future__ import annotations

import abc
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import integrate


class Reference(abc.ABC):
    """What the learnt SDE is validated against. ``start``: the state the validation paths start from
    (a number), or ``"stationary"`` (drawn from the stationary law)."""

    description: str = ""
    error_estimate: float | None = 0.0  # closed forms: no error of their own
    support: tuple[float, float] | None = None  # where the stationary density lives (None: no density)
    states: int = 1  # a reference of d states returns (..., d) means and (d, d) covariances

    @abc.abstractmethod
    def coefficients(self) -> dict[str, float]:
        """The true coefficients, by the names the declaration's unknowns use."""

    @abc.abstractmethod
    def simulate(self, times: np.ndarray, start: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Paths at ``times`` from the states ``start`` (paths,): shape (paths, len(times)); with d states
        from (paths, d): (paths, len(times), d)."""

    @abc.abstractmethod
    def initial(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` starting states of the validation paths."""

    @abc.abstractmethod
    def mean(self, t: np.ndarray) -> np.ndarray: ...

    @abc.abstractmethod
    def variance(self, t: np.ndarray) -> np.ndarray: ...

    def autocovariance(self, s: float, t: np.ndarray) -> np.ndarray | None:
        """``Cov(X_s, X_t)`` for ``t >= s`` (None: no closed form)."""
        return None

    @abc.abstractmethod
    def terminal(self, t: float, count: int, rng: np.random.Generator) -> np.ndarray:
        """A sample of ``X_t`` from the validation start."""

    def covariance(self, t: float) -> np.ndarray:
        """``Cov(X_t)``, (states, states)."""
        return np.reshape(np.asarray(self.variance(t), dtype=np.float64), (1, 1))

    def cross_covariance(self, s: float, t: float) -> np.ndarray | None:
        """``Cov(X_s, X_t)`` for ``t >= s``, (states, states), entry (i, j) pairing state i at s with
        state j at t (None: no closed form)."""
        found = self.autocovariance(s, t)
        return None if found is None else np.reshape(np.asarray(found, dtype=np.float64), (1, 1))

    def stationary_density(self, x: np.ndarray) -> np.ndarray | None:
        """The stationary density at ``x`` (None: there is none)."""
        return None

    def discretisation_bias(self, dt: float, scheme: str = "euler") -> dict[str, float]:
        """The relative bias of the transition likelihood's estimate of each coefficient (``scheme``
        ``euler`` or ``local_linear``) from steps of ``dt`` with infinitely many paths, where it has a
        closed form (empty where not)."""
        return {}


@dataclass(frozen=True)
class OrnsteinUhlenbeck(Reference):
    """``dX = theta (mu - X) dt + sigma dW``; validation paths start at ``start``."""

    theta: float
    mu: float
    sigma: float
    start: float

    def __post_init__(self) -> None:
        _positive("OrnsteinUhlenbeck", theta=self.theta, sigma=self.sigma)
        _finite("OrnsteinUhlenbeck", mu=self.mu, start=self.start)

    @property
    def description(self) -> str:  # type: ignore[override]
        return (f"Ornstein-Uhlenbeck theta={self.theta:g}, mu={self.mu:g}, sigma={self.sigma:g}: "
                "closed-form Gaussian transitions and moments")

    def coefficients(self) -> dict[str, float]:
        return {"theta": self.theta, "mu": self.mu, "sigma": self.sigma}

    def simulate(self, times, start, rng):
        paths = np.empty((start.size, len(times)))
        paths[:, 0] = start
        for k, h in enumerate(np.diff(times)):
            decay = math.exp(-self.theta * h)
            spread = self.sigma * math.sqrt((1 - decay**2) / (2 * self.theta))
            paths[:, k + 1] = self.mu + (paths[:, k] - self.mu) * decay + spread * rng.standard_normal(start.size)
        return paths

    def initial(self, count, rng):
        return np.full(count, float(self.start))

    def mean(self, t):
        return self.mu + (self.start - self.mu) * np.exp(-self.theta * np.asarray(t))

    def variance(self, t):
        return self.sigma**2 * (1 - np.exp(-2 * self.theta * np.asarray(t))) / (2 * self.theta)

    def autocovariance(self, s, t):
        return np.exp(-self.theta * (np.asarray(t) - s)) * self.variance(s)

    def terminal(self, t, count, rng):
        return self.mean(t) + math.sqrt(self.variance(t)) * rng.standard_normal(count)

    def discretisation_bias(self, dt, scheme="euler"):
        if scheme == "local_linear":  # the exact transition density: no bias
            return {"theta": 0.0, "sigma": 0.0, "mu": 0.0}
        # Euler-Maruyama's fit of an exact AR(1) step: 1 - theta_hat dt = exp(-theta dt) and
        # sigma_hat^2 dt = sigma^2 (1 - exp(-2 theta dt)) / (2 theta).
        decay = math.exp(-self.theta * dt)
        theta_hat = (1 - decay) / dt
        sigma_hat = self.sigma * math.sqrt((1 - decay**2) / (2 * self.theta * dt))
        return {"theta": theta_hat / self.theta - 1, "sigma": sigma_hat / self.sigma - 1, "mu": 0.0}


@dataclass(frozen=True)
class GeometricBrownian(Reference):
    """``dX = mu X dt + sigma X dW``; validation paths start at ``start`` > 0."""

    mu: float
    sigma: float
    start: float

    def __post_init__(self) -> None:
        _positive("GeometricBrownian", sigma=self.sigma, start=self.start)
        _finite("GeometricBrownian", mu=self.mu)

    @property
    def description(self) -> str:  # type: ignore[override]
        return (f"geometric Brownian motion mu={self.mu:g}, sigma={self.sigma:g}: closed-form log-normal "
                "transitions and moments")

    def coefficients(self) -> dict[str, float]:
        return {"mu": self.mu, "sigma": self.sigma}

    def simulate(self, times, start, rng):
        steps = np.diff(times)
        logs = (self.mu - self.sigma**2 / 2) * steps + self.sigma * np.sqrt(steps) * rng.standard_normal(
            (start.size, steps.size))
        return start[:, None] * np.exp(np.concatenate([np.zeros((start.size, 1)), np.cumsum(logs, axis=1)], axis=1))

    def initial(self, count, rng):
        return np.full(count, float(self.start))

    def mean(self, t):
        return self.start * np.exp(self.mu * np.asarray(t))

    def variance(self, t):
        t = np.asarray(t)
        return self.start**2 * np.exp(2 * self.mu * t) * np.expm1(self.sigma**2 * t)

    def autocovariance(self, s, t):
        return self.start**2 * np.exp(self.mu * (s + np.asarray(t))) * math.expm1(self.sigma**2 * s)

    def terminal(self, t, count, rng):
        return self.start * np.exp((self.mu - self.sigma**2 / 2) * t + self.sigma * math.sqrt(t)
                                   * rng.standard_normal(count))

    def discretisation_bias(self, dt, scheme="euler"):
        if scheme != "euler":
            return {}
        # Euler-Maruyama reads the step ratio R = X'/X as N(1 + mu dt, sigma^2 dt): its fit to exact
        # log-normal steps gives mu_hat dt = E[R] - 1 and sigma_hat^2 dt = Var R.
        mu_hat = math.expm1(self.mu * dt) / dt
        sigma_hat = math.sqrt(math.exp(2 * self.mu * dt) * math.expm1(self.sigma**2 * dt) / dt)
        return {"mu": mu_hat / self.mu - 1 if self.mu else 0.0, "sigma": sigma_hat / self.sigma - 1}


@dataclass(frozen=True)
class GradientDiffusion(Reference):
    """``dX = -V'(X) dt + sigma dW`` with stationary density ``exp(-2 V(x) / sigma^2) / Z``.

    Args:
        potential: ``V(x)`` (a numpy function).
        force: ``-V'(x)`` (a numpy function).
        sigma: the constant noise level.
        support: ``(lo, hi)`` beyond which the stationary density is negligible (quadrature range).
        substeps: Euler-Maruyama steps per observation interval in :meth:`simulate` (no exact
            transition exists): the data's own discretisation bias shrinks with it.
    """

    potential: Callable[[np.ndarray], np.ndarray]
    force: Callable[[np.ndarray], np.ndarray]
    sigma: float
    support: tuple[float, float]
    substeps: int = 20
    grid: np.ndarray = field(init=False, repr=False, compare=False)
    cdf: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _positive("GradientDiffusion", sigma=self.sigma)
        lo, hi = self.support
        if not lo < hi:
            raise ValueError(f"GradientDiffusion support must be (lo, hi) with lo < hi, got {self.support!r}")
        grid = np.linspace(lo, hi, 20001)
        density = self.stationary_density(grid)
        cdf = integrate.cumulative_trapezoid(density, grid, initial=0.0)
        object.__setattr__(self, "grid", grid)
        object.__setattr__(self, "cdf", cdf / cdf[-1])

    @property
    def description(self) -> str:  # type: ignore[override]
        return (f"gradient diffusion with sigma={self.sigma:g}: exact stationary density exp(-2V/sigma^2)/Z "
                f"by quadrature on {self.support}; paths start stationary")

    def coefficients(self) -> dict[str, float]:
        return {}

    def stationary_density(self, x):
        lo, hi = self.support
        grid = np.linspace(lo, hi, 20001)
        log_weight = -2 * self.potential(grid) / self.sigma**2
        norm = integrate.trapezoid(np.exp(log_weight - log_weight.max()), grid)
        return np.exp(-2 * self.potential(np.asarray(x)) / self.sigma**2 - log_weight.max()) / norm

    def simulate(self, times, start, rng):
        paths = np.empty((start.size, len(times)))
        paths[:, 0] = x = start.astype(np.float64)
        for k, h in enumerate(np.diff(times)):
            small = h / self.substeps
            for _ in range(self.substeps):
                x = x + self.force(x) * small + self.sigma * math.sqrt(small) * rng.standard_normal(x.size)
            paths[:, k + 1] = x
        return paths

    def initial(self, count, rng):
        return np.interp(rng.random(count), self.cdf, self.grid)

    def _moment(self, power: int) -> float:
        return float(integrate.trapezoid(self.grid**power * self.stationary_density(self.grid), self.grid))

    def mean(self, t):
        return np.full(np.shape(t), self._moment(1))

    def variance(self, t):
        return np.full(np.shape(t), self._moment(2) - self._moment(1) ** 2)

    def terminal(self, t, count, rng):
        return self.initial(count, rng)


def _positive(owner: str, **values: float) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise ValueError(f"{owner} {name} must be a positive number, got {value!r}")


def _finite(owner: str, **values: float) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{owner} {name} must be a finite number, got {value!r}")
