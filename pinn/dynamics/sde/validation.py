"""Validation of a learnt SDE against its reference, each verdict with its error budget stated.

- **Coefficients**: relative error of each unknown against its true value.
- **Moments**: the learnt SDE is simulated (torchsde, Euler-Maruyama) from the reference's start on
  seeded Brownian paths at steps ``h / 2`` and ``h``; mean and variance at each validation time and the
  autocovariance ``Cov(X_s, X_t)`` from the first time ``s`` are compared with the closed forms (with
  several states: each state's mean and variance, each pair's covariance, and every entry of
  ``Cov(X_s, X_t)``). A
  moment passes when ``|learnt - reference| <= 3 SE + bias``, with ``SE`` its Monte Carlo standard error
  (from the sample) and ``bias = |m_h - m_{h/2}|``: for a weak-order-1 scheme the error of the ``h / 2``
  run, measured on the same Brownian paths (it also holds some Monte Carlo noise of the difference,
  which makes the bound slightly wider, never narrower).
- **Terminal law**: a two-sample Kolmogorov-Smirnov test of the learnt paths at the last time against
  a sample of the exact law; it fails when the statistic exceeds the critical value at ``significance``
  (several states: each marginal, at ``significance / states``).
- **Stationary density** (one state, time-homogeneous terms): the learnt SDE's stationary density
  ``p(x) ∝ exp(∫ 2 f / g^2) / g^2`` by quadrature, against the exact one in L1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import integrate, stats

from pinn.dynamics.sde.model import SDEModel
from pinn.dynamics.sde.references import Reference
from pinn.dynamics.sde.simulate import brownian, simulate
from pinn.train.validate import positive, whole
from pinn.validation import FieldError


@dataclass(frozen=True)
class Validation:
    """How the learnt SDE is checked.

    Args:
        times: the times (> 0, increasing) of the compared moments; the last is the terminal time.
        paths: Monte Carlo paths of the learnt SDE.
        step: its Euler-Maruyama step ``h`` (the reported moments use ``h / 2``).
        seed: the Brownian paths' seed (the reference sample's too).
        significance: of the two-sample test of the terminal law.
        density_points: quadrature points of the stationary density.
    """

    times: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
    paths: int = 2000
    step: float = 0.01
    seed: int = 0
    significance: float = 0.01
    density_points: int = 2001

    def __post_init__(self) -> None:
        times = self.times
        if (not isinstance(times, (tuple, list)) or not times
                or any(isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t < math.inf for t in times)
                or any(b <= a for a, b in zip(times, times[1:]))):
            raise ValueError(f"Validation times must be positive, increasing numbers, got {times!r}")
        object.__setattr__(self, "times", tuple(float(t) for t in times))
        whole("Validation", "paths", self.paths, 10)
        positive("Validation", "step", self.step)
        whole("Validation", "seed", self.seed)
        whole("Validation", "density_points", self.density_points, 11)
        if isinstance(self.significance, bool) or not isinstance(self.significance, float) or not 0 < self.significance < 1:
            raise ValueError(f"Validation significance must be a number between 0 and 1, got {self.significance!r}")


@dataclass(frozen=True)
class Moment:
    """One compared moment and its error budget."""

    name: str
    learnt: float
    reference: float
    standard_error: float
    bias: float

    @property
    def tolerance(self) -> float:
        return 3 * self.standard_error + self.bias

    @property
    def passed(self) -> bool:
        return abs(self.learnt - self.reference) <= self.tolerance


@dataclass(frozen=True)
class Ensemble:
    """The learnt SDE's validation paths: at steps ``h / 2`` (``fine``) and ``h`` (``coarse``), (times,
    paths) for one state, (times, paths, states) for several."""

    times: np.ndarray  # 0 then the validation times
    fine: np.ndarray
    coarse: np.ndarray


def by_state(values: np.ndarray) -> np.ndarray:
    """Ensemble values with a states axis last: (times, paths) becomes (times, paths, 1)."""
    return values[..., None] if values.ndim == 2 else values


def ensemble(model: SDEModel, reference: Reference, validation: Validation, seed: int) -> Ensemble:
    """Simulate the learnt SDE from the reference's start on the Brownian paths of ``seed``."""
    parameter = next(iter(model.parameters()), None)
    dtype = parameter.dtype if parameter is not None else torch.float64
    device = parameter.device if parameter is not None else torch.device("cpu")
    rng = np.random.default_rng(seed)
    start = np.asarray(reference.initial(validation.paths, rng), dtype=np.float64).reshape(validation.paths, -1)
    start = torch.as_tensor(start, dtype=dtype, device=device)
    times = torch.tensor((0.0, *validation.times), dtype=dtype, device=device)
    bm = brownian(times, start, seed)
    fine = simulate(model, start, times, validation.step / 2, bm).cpu().numpy()
    coarse = simulate(model, start, times, validation.step, bm).cpu().numpy()
    if fine.shape[2] == 1:  # one state: (times, paths), as solution.h5 has always held it
        fine, coarse = fine[..., 0], coarse[..., 0]
    return Ensemble(times.cpu().numpy(), fine, coarse)


def moment_name(kind: str, t: float, states: tuple[str, ...] = (), s: float | None = None) -> str:
    """``mean(t=1)``, ``var(t=1)``, ``cov(s=0.5,t=1)`` for one state; with state names ``mean[x](t=1)``,
    ``var[x](t=1)``, ``cov[x,y](t=1)`` (same time) and ``cov[x,y](s=0.5,t=1)`` (x at s, y at t)."""
    which = f"[{','.join(states)}]" if states else ""
    when = f"t={t:g}" if s is None else f"s={s:g},t={t:g}"
    return f"{kind}{which}({when})"


def _covariance(x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """The sample covariance of ``x`` and ``y``, its standard error, and the centred products."""
    product = (x - x.mean()) * (y - y.mean())
    return float(product.sum() / (x.size - 1)), float(product.std(ddof=1) / math.sqrt(x.size)), product


def moments(paths: Ensemble, reference: Reference, states: tuple[str, ...] = ("x",)) -> list[Moment]:
    """Mean and variance of each state (and the covariance of each pair of states) at every validation
    time, and ``Cov(X_i(s), X_j(t))`` from the first one, ``s``, to each later ``t``."""
    result: list[Moment] = []
    fine, coarse, times = by_state(paths.fine)[1:], by_state(paths.coarse)[1:], paths.times[1:]
    count, d = fine.shape[1], fine.shape[2]
    names = (lambda *which: ()) if d == 1 else (lambda *which: tuple(states[i] for i in which))
    for k, t in enumerate(times):
        mean = np.reshape(np.asarray(reference.mean(t), dtype=np.float64), d)
        covariance = reference.covariance(t)
        for i in range(d):
            x, y = fine[k, :, i], coarse[k, :, i]
            result.append(Moment(moment_name("mean", t, names(i)), float(x.mean()), float(mean[i]),
                                 float(x.std(ddof=1) / math.sqrt(count)), abs(float(x.mean() - y.mean()))))
            centred = x - x.mean()
            fourth = float(np.mean(centred**4))
            variance = float(x.var(ddof=1))
            result.append(Moment(moment_name("var", t, names(i)), variance, float(covariance[i, i]),
                                 math.sqrt(max(fourth - variance**2, 0.0) / count),
                                 abs(variance - float(y.var(ddof=1)))))
        for i in range(d):
            for j in range(i + 1, d):
                learnt, error, _ = _covariance(fine[k, :, i], fine[k, :, j])
                coarse_value = _covariance(coarse[k, :, i], coarse[k, :, j])[0]
                result.append(Moment(moment_name("cov", t, names(i, j)), learnt, float(covariance[i, j]), error,
                                     abs(learnt - coarse_value)))
    s = float(times[0])
    for k, t in enumerate(times[1:], start=1):
        expected = reference.cross_covariance(s, float(t))
        if expected is None:
            break
        for i in range(d):
            for j in range(d):
                learnt, error, _ = _covariance(fine[0, :, i], fine[k, :, j])
                coarse_value = _covariance(coarse[0, :, i], coarse[k, :, j])[0]
                result.append(Moment(moment_name("cov", float(t), names(i, j), s), learnt, float(expected[i, j]),
                                     error, abs(learnt - coarse_value)))
    return result


def moment_error(found: list[Moment]) -> FieldError:
    """All moments as one verdict: ``rel_l2`` is the largest ``|difference| / (3 SE + bias)`` (passes at
    <= 1), ``max_abs`` the largest absolute difference."""
    ratios = [abs(m.learnt - m.reference) / m.tolerance if m.tolerance > 0 else
              (0.0 if m.learnt == m.reference else math.inf) for m in found]
    return FieldError(max(ratios, default=0.0), max((abs(m.learnt - m.reference) for m in found), default=0.0), 1.0)


def terminal_test(paths: Ensemble, reference: Reference, validation: Validation) -> dict[str, float]:
    """The two-sample Kolmogorov-Smirnov test of the learnt terminal law against an exact sample; with
    several states, of each state's marginal at ``significance / states`` (Bonferroni), the worst reported
    (``state``: its index)."""
    learnt = by_state(paths.fine)[-1]
    n, d = learnt.shape
    exact = np.reshape(reference.terminal(float(paths.times[-1]), n, np.random.default_rng(validation.seed + 1)),
                       (n, d))
    tests = [stats.ks_2samp(learnt[:, i], exact[:, i]) for i in range(d)]
    worst = int(np.argmax([test.statistic for test in tests]))
    significance = validation.significance / d
    critical = math.sqrt(-0.5 * math.log(significance / 2)) * math.sqrt(2 / n)  # asymptotic
    found = {"statistic": float(tests[worst].statistic), "p_value": float(tests[worst].pvalue), "critical": critical,
             "significance": validation.significance, "paths": n}
    if d > 1:
        found["state"] = worst
    return found


def stationary_density(model: SDEModel, grid: np.ndarray) -> np.ndarray | None:
    """The learnt one-state SDE's stationary density on ``grid`` (None where a term reads time, or with
    several states)."""
    if model.drift.dimension != 1 or any(getattr(term.term, "time", False) for term in (model.drift, model.diffusion)):
        return None
    parameter = next(iter(model.parameters()), None)
    dtype = parameter.dtype if parameter is not None else torch.float64
    device = parameter.device if parameter is not None else torch.device("cpu")
    x = torch.as_tensor(grid, dtype=dtype, device=device)[:, None]
    t = torch.zeros_like(x)
    with torch.no_grad():
        f = model.drift(x, t)[:, 0].cpu().double().numpy()
        g2 = model.diffusion(x, t)[:, 0].cpu().double().numpy() ** 2
    log_density = integrate.cumulative_trapezoid(2 * f / g2, grid, initial=0.0) - np.log(g2)
    density = np.exp(log_density - log_density.max())
    return density / integrate.trapezoid(density, grid)


def density_l1(learnt: np.ndarray, exact: np.ndarray, grid: np.ndarray) -> float:
    """``∫ |p_learnt - p_exact| dx`` by the trapezoidal rule."""
    return float(integrate.trapezoid(np.abs(learnt - exact), grid))
