"""The classical reference of a dynamics problem, and what it is asked: the true system integrated by
``scipy.integrate.solve_ivp`` at tight tolerance, from the initial states of each :class:`Forecast`.

A :class:`Forecast` names a validation case: initial states (default: those of the training data), the time
they hold at, and the window over which the learned model is compared with the true system. Held-out
initial conditions and an extrapolation window beyond the training time are both forecasts::

    validation={"held_out": pinn.Forecast(initial_states=[[1.5, 0.5], [-1.0, 1.0]], window=(0, 25)),
                "beyond": pinn.Forecast(window=(3.5, 10))}      # from the data's own initial states
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pinn.dynamics.trajectories import Trajectory


@dataclass(frozen=True)
class Forecast:
    """A validation case: the learned and the true system integrated from the same initial states.

    Args:
        window: (start, end) of the times compared; ``end`` may lie beyond the training data (extrapolation).
        initial_states: one row of states per trajectory; None: the first observation of each training
            trajectory.
        start: the time the initial states hold at; None: ``window[0]`` for given initial states, the
            trajectories' own first times for the training data's.
        points: comparison times, evenly spaced over the window.
    """

    window: tuple[float, float]
    initial_states: tuple[tuple[float, ...], ...] | None = None
    start: float | None = None
    points: int = 201

    def __post_init__(self) -> None:
        window = self.window
        if (not isinstance(window, (tuple, list)) or len(window) != 2 or not all(_finite(w) for w in window)
                or not window[0] < window[1]):
            raise ValueError(f"Forecast window must be two finite times (start, end) with start < end, got {window!r}")
        object.__setattr__(self, "window", (float(window[0]), float(window[1])))
        if self.initial_states is not None:
            rows = np.asarray(self.initial_states, dtype=np.float64)
            if rows.ndim != 2 or rows.shape[0] < 1 or not np.all(np.isfinite(rows)):
                raise ValueError("Forecast initial_states must be finite rows of states, one per trajectory, got "
                                 f"{self.initial_states!r}")
            object.__setattr__(self, "initial_states", tuple(tuple(float(v) for v in row) for row in rows))
        if self.start is not None:
            if not _finite(self.start) or self.start > self.window[0]:
                raise ValueError(f"Forecast start must be a finite time no later than the window's start "
                                 f"{self.window[0]:g}, got {self.start!r}")
        if isinstance(self.points, bool) or not isinstance(self.points, int) or self.points < 2:
            raise ValueError(f"Forecast points must be a whole number >= 2, got {self.points!r}")


@dataclass(frozen=True)
class TrueSystem:
    """The true right-hand side ``f(t, y) -> dy/dt`` (numpy, as ``solve_ivp`` takes it), integrated at tight
    tolerance by ``scipy.integrate.solve_ivp``; its own error is estimated by a second solve at tolerances a
    hundred times looser (an upper estimate).

    Args:
        rhs: the true vector field.
        method: solve_ivp's method (``DOP853``; ``Radau`` or ``LSODA`` for a stiff system).
        rtol: its relative tolerance.
        atol: its absolute tolerance.
    """

    rhs: Callable[[float, np.ndarray], np.ndarray]
    method: str = "DOP853"
    rtol: float = 1e-11
    atol: float = 1e-12

    def __post_init__(self) -> None:
        if not callable(self.rhs):
            raise ValueError(f"TrueSystem rhs must be a function f(t, y) -> dy/dt, got {type(self.rhs).__name__}")
        for name in ("rtol", "atol"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
                raise ValueError(f"TrueSystem {name} must be a number in (0, 1), got {value!r}")

    def solve(self, initial: np.ndarray, start: float, times: np.ndarray, loose: float = 1.0) -> np.ndarray:
        """The true states at ``times`` (>= start) from ``initial`` at ``start``, shape (len(times), states)."""
        from scipy.integrate import solve_ivp

        result = solve_ivp(self.rhs, (start, float(times[-1])), np.asarray(initial, dtype=np.float64),
                           method=self.method, t_eval=times, rtol=self.rtol * loose, atol=self.atol * loose)
        if not result.success:
            raise ValueError(f"solve_ivp ({self.method}) failed from {list(initial)} at t = {start:g}: "
                             f"{result.message}")
        return result.y.T


    def observe(self, initial: Sequence[float], times: Sequence[float], noise: float = 0.0, seed: int = 0,
                name: str = "trajectory", known_start: bool = False) -> "Trajectory":
        """Synthetic observations: the true states at ``times`` from ``initial`` at ``times[0]``, plus Gaussian
        noise of standard deviation ``noise`` times each state's standard deviation along the trajectory
        (seeded by ``seed``); with ``known_start`` the first observation is the initial state itself, without
        noise (an initial condition that is set, not measured)."""
        from pinn.dynamics.trajectories import Trajectory

        where = f"TrueSystem.observe ({name})"
        times = Trajectory(times, np.zeros(len(times)), name=name).times  # checked: finite, strictly increasing
        initial = np.asarray(initial, dtype=np.float64)
        if initial.ndim != 1 or not np.all(np.isfinite(initial)):
            raise ValueError(f"{where}: the initial state must be one finite value per state, got {initial.tolist()}")
        states = self.solve(initial, float(times[0]), times)
        if noise:
            rng = np.random.default_rng(seed)
            noisy = states + noise * states.std(axis=0) * rng.standard_normal(states.shape)
            states = np.concatenate([states[:1], noisy[1:]]) if known_start else noisy
        return Trajectory(times, states, name=name, noise=noise or None)


@dataclass(frozen=True)
class Case:
    """A forecast made concrete: its trajectories' initial states, start times and comparison times, and the
    true states there."""

    name: str
    initial: np.ndarray  # (trajectories, states)
    starts: np.ndarray  # (trajectories,)
    times: np.ndarray  # (points,) the comparison times, shared
    true: np.ndarray  # (trajectories, points, states)


@dataclass(frozen=True)
class DynamicsReference:
    """The true states of every validation case, as a run's reference (``description``, ``error_estimate``)."""

    cases: dict[str, Case]
    description: str
    error_estimate: float | None


def build_cases(system: TrueSystem, validation: dict[str, Forecast], data_initial: np.ndarray,
                data_starts: np.ndarray) -> DynamicsReference:
    """Solve the true system for every case; its error estimate is the largest relative difference from a solve
    at tolerances a hundred times looser."""
    cases, estimate = {}, 0.0
    for name, forecast in validation.items():
        if forecast.initial_states is None:
            initial, starts = data_initial, data_starts if forecast.start is None else \
                np.full(len(data_starts), forecast.start)
        else:
            initial = np.asarray(forecast.initial_states, dtype=np.float64)
            starts = np.full(initial.shape[0], forecast.window[0] if forecast.start is None else forecast.start)
        if initial.shape[1] != data_initial.shape[1]:
            raise ValueError(f"validation {name!r}: its initial states have {initial.shape[1]} values, but the "
                             f"states are {data_initial.shape[1]}")
        late = starts > forecast.window[0]
        if np.any(late):
            raise ValueError(f"validation {name!r}: a trajectory starts at t = {starts[late][0]:g}, after the "
                             f"window's start {forecast.window[0]:g}")
        times = np.linspace(*forecast.window, forecast.points)
        true = np.stack([_solve_from(system, y0, t0, times) for y0, t0 in zip(initial, starts)])
        loose = np.stack([_solve_from(system, y0, t0, times, loose=100.0) for y0, t0 in zip(initial, starts)])
        estimate = max(estimate, float(np.linalg.norm(loose - true) / max(np.linalg.norm(true), 1e-300)))
        cases[name] = Case(name, initial, starts, times, true)
    description = (f"solve_ivp {system.method} (rtol {system.rtol:g}, atol {system.atol:g}) of the true system from "
                   + "; ".join(f"{len(c.initial)} initial state(s) over [{c.times[0]:g}, {c.times[-1]:g}] ({n})"
                               for n, c in cases.items()))
    return DynamicsReference(cases, description, estimate)


def _solve_from(system: TrueSystem, initial: np.ndarray, start: float, times: np.ndarray,
                loose: float = 1.0) -> np.ndarray:
    """The true states at ``times`` from ``initial`` at ``start`` (``start`` itself included when it is the
    first time)."""
    if times[0] == start:
        return system.solve(initial, start, times, loose)
    return system.solve(initial, start, np.concatenate([[start], times]), loose)[1:]


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def stack_initial(trajectories: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """The first observation and time of each trajectory."""
    return (np.stack([t.values[0] for t in trajectories]), np.array([t.times[0] for t in trajectories]))
