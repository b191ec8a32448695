"""What the framework chooses for a problem that leaves its network or points unset.

A problem file may declare only the mathematics: ``net``, ``sampling`` and ``training`` are then
chosen here, from the problem itself, and recorded in ``config.json`` (``automatic``) with the
reasons. The rules were set on the issue-15 benchmark suite (``benchmarks/``) and checked on
problems written elsewhere; none reads the reference.

* **Network**: an MLP of 3 hidden tanh layers of 32 (about 2,200 weights for two inputs), small
  enough for Levenberg-Marquardt, which decides the last digits: a step costs ``P^2`` per residual
  value and ``P^3`` for its solve (``P`` weights), so this net takes about three times the steps of
  4 layers of 32 in the same time. On Allen-Cahn that decided it: 6.2e-3 in 10 minutes against
  0.28 with 4 layers (120 Levenberg-Marquardt steps against 48). Inputs are mapped to [-1, 1]
  (``normalize_inputs``). An input along which a :class:`~pinn.Periodic` condition asks for
  periodic derivatives gets an exactly periodic embedding (``periodic=``), so the net is periodic
  by construction (and the condition is no loss term: :func:`pinn.pde.exact.periodic_by_construction`).
  An input along which an initial value oscillates fast gets that wave as a feature
  (``harmonics=``, :func:`initial_harmonics`). An output whose boundary and initial values spread over more than 10 or less
  than 0.1 is scaled by that size, to a power of ten (``output_scale``), so that the layers and the
  optimiser's steps work on numbers of order one; not an output whose Dirichlet condition gives its
  own ``distance``, whose size already sets that scale.
* **Interior points**: 2000 per input, and at least 1.6 residual values per weight so that
  Gauss-Newton stays overdetermined (the automatic schedule runs Levenberg-Marquardt only with
  1.5 or more), at most 12,000.
* **Points per boundary or initial condition**: 200 per dimension of the surface they lie on (at
  least 200).
* **Adaptive points**: under the automatic schedule, R3 (``Sampling(adaptive="r3")``) every 100
  Adam steps: the points of high residual stay, the rest are drawn afresh. Measured side by side
  with a 5-minute budget (one thread each, on a shared machine): Burgers 1.1e-3 against 2.1e-3
  without, Helmholtz 9.3e-3 against 2.8e-2. A problem with its own schedule keeps ``off`` unless
  it asks.
* **Training**: :func:`pinn.train.settings.automatic_schedule` under a 10-minute budget.
"""
from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np
import torch

from pinn.nets import MLP, Net
from pinn.pde.collocation import Sampling
from pinn.pde.conditions import Dirichlet, Initial, Periodic, is_rate
from pinn.pde.memory import count_weights

if TYPE_CHECKING:
    from pinn.pde.problem import Problem

POINTS_PER_INPUT = 2000
ROWS_PER_WEIGHT = 1.6
MOST_INTERIOR = 12000
SURFACE_POINTS = 200
R3_EVERY = 100  # Adam steps between R3 redraws
FAST_CYCLES = 4.0  # an initial value with this many cycles or more along an input gets the wave as a feature
WAVE_POWER = 0.3  # ... when the wave carries at least this fraction of its variance
MOST_CYCLES = 64.0
WIDTH, DEPTH = 32, 3  # the automatic network's hidden layers
ROUND_OFF = 1e-8  # boundary and initial values this small are zeros computed in floating point


def automatic_net(problem: Problem) -> tuple[Net, str]:
    """The network for ``problem``, and why."""
    periodic = tuple(sorted({problem.inputs.index(c.axis) for c in problem.conditions.values()
                             if isinstance(c, Periodic) and c.derivatives >= 1}))
    scales = tuple(output_scale(problem, name) for name in problem.outputs)
    scaled = any(s != 1.0 for s in scales)
    harmonics = tuple((i, c) for i, c in initial_harmonics(problem) if i not in periodic or c == int(c))
    net = MLP(width=WIDTH, depth=DEPTH, periodic=periodic, output_scale=scales if scaled else None, harmonics=harmonics)
    reason = f"MLP {DEPTH} x {WIDTH} tanh"
    if periodic:
        reason += f", periodic in {', '.join(problem.inputs[i] for i in periodic)} (its Periodic conditions)"
    if harmonics:
        reason += (", waves of " + ", ".join(f"{c:g} cycles along {problem.inputs[i]}" for i, c in harmonics)
                   + " (its initial values oscillate so)")
    if scaled:
        reason += (", outputs scaled by " + ", ".join(f"{n} {s:.3g}" for n, s in zip(problem.outputs, scales))
                   + " (the spread of their boundary and initial values)")
    return net, reason


def condition_values(problem: Problem, condition, points: int, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``points`` uniform random points of ``condition`` and its prescribed values there (numpy)."""
    coordinates, _ = condition.sample(problem.domain, points, "uniform", rng)
    dtype = getattr(torch, problem.training.numerics.dtype)
    target = condition.target(torch.as_tensor(coordinates, dtype=dtype), problem.inputs, problem.time)
    return coordinates, target.detach().cpu().numpy()


def initial_harmonics(problem: Problem, points: int = 4096) -> list[tuple[int, float]]:
    """(input position, cycles) of the fast waves in the problem's initial values: along each spatial
    input, the numbers of cycles ``c`` over the domain's extent (whole and half, up to
    :data:`MOST_CYCLES`) whose wave ``cos, sin(pi c h)`` carries at least :data:`WAVE_POWER` of an
    initial value's variance, where ``c >= FAST_CYCLES``; each such input then gets that wave as a
    feature (``MLP(harmonics=...)``). Measured by projecting the values at uniform random points (a
    Monte Carlo Fourier coefficient), so any geometry works."""
    if problem.time is None:
        return []
    rng = np.random.default_rng(0)
    lower, upper = (np.asarray(b, dtype=float) for b in problem.domain.bbox)
    cycles = np.arange(1.0, MOST_CYCLES + 0.25, 0.5)
    found: dict[int, float] = {}
    for condition in problem.conditions.values():
        if not isinstance(condition, Initial) or is_rate(condition):
            continue
        coordinates, values = condition_values(problem, condition, points, rng)
        values = values.reshape(-1).astype(float)
        variance = float(np.var(values))
        if not np.isfinite(variance) or variance == 0.0:
            continue
        centred = values - values.mean()
        for axis in range(len(problem.inputs) - 1):  # the spatial inputs
            h = 2 * (coordinates[:, axis] - lower[axis]) / (upper[axis] - lower[axis]) - 1
            phases = np.pi * np.outer(h, cycles)
            # the power of each wave: its amplitude squared over 2, from the (Monte Carlo) coefficients
            power = 2 * ((centred @ np.cos(phases)) ** 2 + (centred @ np.sin(phases)) ** 2) / len(values) ** 2
            best = int(np.argmax(power))
            if cycles[best] >= FAST_CYCLES and power[best] >= WAVE_POWER * variance:
                found[axis] = max(found.get(axis, 0.0), float(cycles[best]))
    return sorted(found.items())


def output_scale(problem: Problem, field: str, points: int = 256) -> float:
    """The size of ``field``'s values where its Dirichlet and initial conditions prescribe them: their
    standard deviation (the size of what the network must represent on top of their mean), else
    their mean's magnitude, rounded to a power of ten when within a factor ten of 1 it is taken as 1.
    A size below :data:`ROUND_OFF` is zero values computed in floating point (``sin(pi x)`` at
    ``x = 1`` is 1.2e-16), not a scale: it is taken as 1.

    A field with a Dirichlet condition of its own ``distance`` is not scaled: the distance's size is
    the scale of the network's output there (``Dirichlet``), chosen by the user, and a scale on top
    compounds it. The cantilever's clamp values (ux 1e-4) scaled its outputs already sized by
    ``0.05 x / L`` a thousand times too small: it failed at 0.70, and passes at 6.6e-5 without.

    Boundary values bound nothing inside where a source or a load drives the field: a field that is
    small on the boundary and large inside needs ``MLP(output_scale=...)`` or a sized ``distance``."""
    rng = np.random.default_rng(0)
    values = []
    for condition in problem.conditions.values():
        if (not isinstance(condition, (Dirichlet, Initial)) or condition.field != field
                or is_rate(condition)):
            continue
        if isinstance(condition, Dirichlet) and condition.distance is not None:
            return 1.0
        values.append(condition_values(problem, condition, points, rng)[1])
    if not values:
        return 1.0
    joined = np.concatenate(values)
    size = float(np.std(joined))
    if size <= ROUND_OFF:
        size = float(np.max(np.abs(joined)))
    if not np.isfinite(size) or size <= ROUND_OFF or 0.1 <= size <= 10.0:
        return 1.0
    return float(10.0 ** round(np.log10(size)))


def automatic_sampling(problem: Problem, given: Sampling, net: Net) -> tuple[Sampling, str]:
    """``given`` with its unset point counts chosen for ``problem`` and ``net``, and why."""
    dimension = len(problem.inputs)
    weights = count_weights(net, dimension, len(problem.outputs))
    interior = given.interior
    reasons: list[str] = []
    if interior is None:
        for_weights = math.ceil(ROWS_PER_WEIGHT * weights / len(problem.residuals))
        interior = min(MOST_INTERIOR, max(POINTS_PER_INPUT * dimension, for_weights))
        reasons.append(f"interior {interior} (max of {POINTS_PER_INPUT} per input and {ROWS_PER_WEIGHT} residual "
                       f"values per weight of {weights}, at most {MOST_INTERIOR})")
    surface = SURFACE_POINTS * max(1, dimension - 1)
    counts: dict = {"interior": interior}
    if given.adaptive is None:
        counts["adaptive"] = "r3" if problem.training.automatic else "off"
        if counts["adaptive"] == "r3":
            counts["resample_every"] = given.resample_every or R3_EVERY
            reasons.append(f"R3 adaptive points every {counts['resample_every']} Adam steps (the automatic schedule)")
    for name in ("boundary", "initial"):
        counts[name] = getattr(given, name)
        if counts[name] is None:
            counts[name] = surface
            reasons.append(f"{name} {surface} per condition ({SURFACE_POINTS} per surface dimension)")
    return dataclasses.replace(given, **counts), "; ".join(reasons)
