"""Synthetic observations: seeded, noisy values of a reference solution, for reproducible inverse problems.

``pinn.observe(reference, points=200, fields="u", noise=0.01)`` is a :class:`pinn.Data` condition
whose values are the reference's plus Gaussian noise of standard deviation ``noise`` times the
root mean square of each observed field (1% noise: ``noise=0.01``). The reference is built when a
run first needs the observations (not when the problem file is read) and shared with the run's
validation. Nothing of the reference reaches the training but these noisy values.

``points`` is a number of points, drawn without replacement among the nodes of the reference grid
inside the domain (exact reference values, no interpolation error), or an array of points (N,
number of inputs), where the reference is interpolated (cubic on its grid).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pinn.conditions import Data


@dataclass(frozen=True)
class Observations:
    """How synthetic observations are made (see the module docstring); :func:`observe` builds one."""

    reference: Any
    points: int | np.ndarray
    fields: tuple[str, ...] | None
    noise: float
    seed: int | None

    def __post_init__(self) -> None:
        if not hasattr(self.reference, "build"):
            raise ValueError("observe: reference must come from pinn.references (analytic(...), heat_fd(...), ...), "
                             f"got {type(self.reference).__name__}")
        if isinstance(self.noise, bool) or not isinstance(self.noise, (int, float)) or not 0 <= self.noise < np.inf:
            raise ValueError(f"observe: noise must be a number >= 0 (0.01 for 1%), got {self.noise!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0):
            raise ValueError(f"observe: seed must be a whole number >= 0 or None (the run's seed), got {self.seed!r}")
        if isinstance(self.points, (int, np.integer)) and not isinstance(self.points, bool):
            if self.points < 1:
                raise ValueError(f"observe: points must be a number >= 1 or an array of points, got {self.points}")
        else:
            object.__setattr__(self, "points", np.asarray(self.points, dtype=np.float64))

    def check(self, inputs: tuple[str, ...], outputs: tuple[str, ...], domain: Any) -> tuple[str, ...]:
        """The observed fields, after checking everything that can be checked without the reference."""
        fields = outputs if self.fields is None else self.fields
        unknown = [n for n in fields if n not in outputs]
        if unknown or not fields:
            raise ValueError(f"observe: fields {', '.join(unknown) or '(none)'}: the observed fields must be outputs "
                             f"({', '.join(outputs)})")
        if isinstance(self.points, np.ndarray):
            points = self.points
            if points.ndim != 2 or points.shape[1] != len(inputs):
                raise ValueError(f"observe: points must have shape (N, {len(inputs)}) for inputs {', '.join(inputs)}, "
                                 f"got {points.shape}")
            if not np.all(np.isfinite(points)):
                raise ValueError("observe: points contain NaN or infinite values")
            outside = ~domain.inside(points)
            if outside.any():
                raise ValueError(f"observe: {int(outside.sum())} point(s) lie outside the domain, e.g. "
                                 f"{points[outside][0].tolist()}")
        return tuple(fields)

    def generate(self, inputs: tuple[str, ...], outputs: tuple[str, ...], domain: Any, run_seed: int = 0,
                 derived: tuple[str, ...] = ()) -> tuple[np.ndarray, dict]:
        """The points and noisy values, seeded by ``seed`` (by ``run_seed`` if that is None); the
        reference is built as a run builds it (for the outputs and the derived quantities)."""
        fields = self.check(inputs, outputs, domain)
        grid = self.reference.build(inputs, tuple(outputs) + tuple(derived), domain)
        missing = [n for n in fields if n not in grid.fields]
        if missing:
            raise ValueError(f"observe: the reference has no field {', '.join(missing)} (it has "
                             f"{', '.join(grid.fields)})")
        rng = np.random.default_rng(run_seed if self.seed is None else self.seed)
        if isinstance(self.points, np.ndarray):
            points = self.points
            exact = {n: _interpolate(grid, n, points) for n in fields}
        else:
            nodes = grid.points()
            usable = (grid.inside.ravel() & domain.inside(nodes)
                      & np.all([np.isfinite(grid.values(n)) for n in fields], axis=0))
            candidates = np.flatnonzero(usable)
            if candidates.size < self.points:
                raise ValueError(f"observe: {self.points} points asked for, but the reference grid has only "
                                 f"{candidates.size} nodes inside the domain")
            chosen = np.sort(rng.choice(candidates, size=self.points, replace=False))
            points = nodes[chosen]
            exact = {n: grid.values(n)[chosen] for n in fields}
        noisy = {}
        for name in fields:
            scale = self.noise * float(np.sqrt(np.mean(exact[name] ** 2)))
            noisy[name] = exact[name] + scale * rng.standard_normal(points.shape[0])
        return points, noisy


def observe(reference: Any, points: int | np.ndarray = 200, fields: str | tuple[str, ...] | None = None,
            noise: float = 0.01, seed: int | None = None, weight: float = 1.0) -> Data:
    """Noisy observations of ``reference`` as a :class:`pinn.Data` condition (see the module docstring).

    Args:
        reference: any reference of :mod:`pinn.references` (the truth the observations come from).
        points: how many observation points (nodes of the reference grid, chosen at random), or an
            array of points (N, number of inputs).
        fields: the observed outputs (space-separated names), default every output.
        noise: standard deviation of the Gaussian noise, relative to each field's root mean square.
        seed: fixes the points chosen and the noise; None (the default) takes the run's seed
            (``Training(seed=...)``, ``--seed``), so that repeating a solve over seeds repeats
            the measurement too (an honest spread of the recovered parameters).
        weight: the data loss weight.
    """
    names = None if fields is None else tuple(fields.replace(",", " ").split()) if isinstance(fields, str) \
        else tuple(fields)
    spec = Observations(reference, points, names, noise, seed)
    seeded = "the run's seed" if seed is None else f"seed {seed}"
    return Data(synthetic=spec, source=f"observations of the reference (noise {noise:g}, {seeded})", weight=weight)


def _interpolate(grid: Any, name: str, points: np.ndarray) -> np.ndarray:
    from scipy.interpolate import RegularGridInterpolator

    axes = tuple(grid.axes.values())
    method = "cubic" if all(len(a) >= 4 for a in axes) else "linear"
    values = RegularGridInterpolator(axes, np.asarray(grid.fields[name]), method=method)(points)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"observe: the reference's {name} is not defined at some of the points (outside its grid "
                         "or where it holds NaN)")
    return values
