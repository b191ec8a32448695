"""Observed data: the :class:`Data` condition (observations from arrays or a file), and synthetic
observations, seeded, noisy values of a reference solution for reproducible inverse problems.

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

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field as dataclass_field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from pinn.pde.conditions import Batch, Condition, check_weight, require_bound
from pinn.data_files import read_csv_columns, read_hdf5_columns
from pinn.derivatives.fields import Fields
from pinn.geometry import Geometry


@dataclass(frozen=True)
class Data(Condition):
    """Observed values of one or more fields at fixed points.

    Build it from arrays, ``Data(points, {"u": values})`` with points of shape (N, number of
    inputs), or from a file whose columns are named by the inputs and the observed outputs:
    :meth:`from_csv` (a header row of names) or :meth:`from_hdf5` (one 1-D dataset per name); or
    make seeded, noisy synthetic observations of a reference with :func:`pinn.observe`.

    ``noise`` is the standard deviation of each observation: one number, or one per point (an
    array of N, or a column named ``noise`` in the file). Points are weighted by 1/noise relative
    to each other (normalised so that the mean square weight is 1: ``weight`` still sets the
    condition's overall scale), so precise observations count more than noisy ones.
    """

    points_array: np.ndarray | None = None
    values: dict[str, np.ndarray] | None = None
    columns: dict[str, np.ndarray] | None = None
    source: str = "arrays"
    weight: float = 1.0
    field: str | None = None
    points: int | None = None
    noise: float | np.ndarray | None = None
    synthetic: Observations | None = None  # values made from a reference when a run needs them (observe)
    _binding: _DataBinding | None = dataclass_field(default=None, repr=False, compare=False)  # set by bind
    pointwise: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_weight(self)
        if self.synthetic is None and self.columns is None and (self.points_array is None or not self.values):
            raise ValueError("Data needs points and values (Data(points, {'u': values})), a file (Data.from_csv) "
                             "or a reference to observe (pinn.observe)")
        if self.noise is not None and not isinstance(self.noise, np.ndarray):
            if isinstance(self.noise, bool) or not isinstance(self.noise, (int, float, list, tuple)):
                raise ValueError(f"Data noise must be a number > 0 or one per point, got {self.noise!r}")

    @classmethod
    def from_csv(cls, path: str | Path, weight: float = 1.0) -> "Data":
        """Observations from a CSV file: a header row naming the columns (inputs, observed outputs,
        optionally ``noise``), then one row of numbers per point; UTF-8, with or without a byte-order mark."""
        path = Path(path)
        return cls(columns=read_csv_columns(path), source=str(path), weight=weight)

    @classmethod
    def from_hdf5(cls, path: str | Path, weight: float = 1.0) -> "Data":
        """Observations from an HDF5 file: one 1-D dataset of real numbers per column, named like a CSV header."""
        path = Path(path)
        return cls(columns=read_hdf5_columns(path), source=str(path), weight=weight)

    def bind(self, inputs: tuple[str, ...], outputs: tuple[str, ...], domain: Geometry, seed: int = 0,
             derived: tuple[str, ...] = (), dtype: str = "float64") -> Data:
        """A copy holding the observations split into points, observed fields and noise, checked
        against the problem (``seed``: the run's, for synthetic observations that follow it;
        ``derived``: the names of the problem's derived quantities, which a reference built for it
        may hold too; ``dtype``: the run's, which must hold the values and their squares).
        Synthetic observations are checked as far as they can be without their reference, and made
        when first needed (:attr:`deferred` until then)."""
        if self.synthetic is not None:
            fields = self.synthetic.check(inputs, outputs, domain)

            def make() -> _Observed:
                points, values, sigmas = self.synthetic.generate(inputs, outputs, domain, seed, derived)
                observed = self._observed(points, values, None, inputs, outputs, domain, dtype)
                floor = float(np.mean([s**2 for s in sigmas.values()])) if self.synthetic.noise else None
                return dataclasses.replace(observed, floor=floor)

            return dataclasses.replace(self, _binding=_DataBinding(fields, make=make))
        noise = self.noise
        if self.columns is not None:
            missing = [n for n in inputs if n not in self.columns]
            if missing:
                raise ValueError(f"data from {self.source} has no column for input(s) {', '.join(missing)} "
                                 f"(columns: {', '.join(self.columns)})")
            points = np.stack([self.columns[n] for n in inputs], axis=1)
            values = {n: self.columns[n] for n in outputs if n in self.columns}
            if "noise" in self.columns and "noise" not in outputs and "noise" not in inputs:
                noise = self.columns["noise"]
            unknown = [n for n in self.columns if n not in inputs and n not in outputs and n != "noise"]
            if unknown:
                raise ValueError(f"data from {self.source} has column(s) {', '.join(unknown)} that are neither inputs "
                                 f"({', '.join(inputs)}), outputs ({', '.join(outputs)}) nor noise")
        else:
            points = np.asarray(self.points_array, dtype=np.float64)
            values = {k: np.asarray(v, dtype=np.float64).ravel() for k, v in self.values.items()}
            unknown = [k for k in values if k not in outputs]
            if unknown:
                raise ValueError(f"data values for {', '.join(unknown)}: not outputs of the problem ({', '.join(outputs)})")
        observed = self._observed(points, values, noise, inputs, outputs, domain, dtype)
        return dataclasses.replace(self, _binding=_DataBinding(tuple(values), observed=observed))

    def _observed(self, points: np.ndarray, values: dict[str, np.ndarray], noise: Any, inputs: tuple[str, ...],
                  outputs: tuple[str, ...], domain: Geometry, dtype: str) -> _Observed:
        """The observations, checked: their shapes, finite values small enough for ``dtype``, inside the domain."""
        if points.ndim != 2 or points.shape[1] != len(inputs):
            raise ValueError(f"data points from {self.source} must have shape (N, {len(inputs)}) for inputs "
                             f"{', '.join(inputs)}, got {points.shape}")
        if points.shape[0] == 0:
            raise ValueError(f"data from {self.source} has no data points; give at least one observation")
        if not values:
            raise ValueError(f"data from {self.source} observes no output field ({', '.join(outputs)})")
        for name, column in values.items():
            if column.shape != (points.shape[0],):
                raise ValueError(f"data for {name} from {self.source} has {column.shape[0]} values for {points.shape[0]} points")
            if not np.all(np.isfinite(column)):
                bad = int((~np.isfinite(column)).sum())
                raise ValueError(f"data for {name} from {self.source} contains NaN or infinite values ({bad} of "
                                 f"{column.shape[0]}); remove those observations")
            largest = float(np.abs(column).max())
            if largest > _largest_data_value(dtype):
                raise ValueError(f"data for {name} from {self.source} has values as large as {largest:.3g} in "
                                 f"magnitude, beyond what a {dtype} run can square and sum "
                                 f"({_largest_data_value(dtype):.1e}); rescale the data (and the problem: "
                                 "nondimensionalise it) so that values are of moderate size")
        if not np.all(np.isfinite(points)):
            raise ValueError(f"data points from {self.source} contain NaN or infinite values")
        outside = ~domain.inside(points)
        if outside.any():
            raise ValueError(f"{int(outside.sum())} data point(s) from {self.source} lie outside the domain, "
                             f"e.g. {points[outside][0].tolist()}; observations must be inside the domain")
        sigma = _noise_sigmas(noise, points.shape[0], self.source)
        return _Observed(points, values, _noise_weights(sigma, points.shape[0]), _noise_floor(sigma))

    def noise_floor(self) -> tuple[float, int] | None:
        """What this condition's loss term is expected to be at the true solution, where only the noise
        is left (``weight`` times the mean of the squared, noise-weighted errors: the variance of the
        noise, or its harmonic mean where it varies by point), and how many values that mean is over;
        None where the noise is not declared."""
        observed = require_bound(self, self._binding).observed()
        if observed.floor is None:
            return None
        return self.weight * observed.floor, observed.points.shape[0] * len(observed.values)

    @property
    def deferred(self) -> bool:
        """Whether the observations are still to be made (synthetic ones, when a run first needs them)."""
        return require_bound(self, self._binding).deferred

    @property
    def resampled(self) -> bool:
        return False

    def fields_used(self) -> tuple[str, ...]:
        return () if self._binding is None else self._binding.fields

    def sample(self, domain, n, method, rng):
        return require_bound(self, self._binding).observed().points, None

    def target(self, points: Tensor, inputs, time) -> Tensor:
        """The observed values, one column per field, then each point's weight (from its noise)."""
        observed = require_bound(self, self._binding).observed()
        columns = [*observed.values.values(), observed.scale]
        return torch.stack([torch.as_tensor(v, dtype=points.dtype, device=points.device) for v in columns], 1)

    def stand_in(self, points: Tensor) -> Batch:
        """A batch of zeros at ``points``, to dry-run the residual before the observations are made."""
        columns = len(require_bound(self, self._binding).fields) + 1
        return Batch(points, None, torch.cat([points.new_zeros(points.shape[0], columns - 1),
                                              points.new_ones(points.shape[0], 1)], dim=1))

    def residual(self, f: Fields, batch: Batch) -> Tensor:
        predicted = torch.stack([f.field(name) for name in require_bound(self, self._binding).fields], dim=1)
        return ((predicted - batch.target[:, :-1]) * batch.target[:, -1:]).ravel()


@dataclass(frozen=True)
class _Observed:
    """A Data condition's observations as bound to a problem: points (N, number of inputs), the
    observed values by field, each point's weight (from its noise), and the mean square of the
    weighted noise (None: no noise declared), the data loss the true solution would have."""

    points: np.ndarray
    values: dict[str, np.ndarray]
    scale: np.ndarray
    floor: float | None = None


class _DataBinding:
    """What binding a Data condition to a problem made: the observed fields, and the observations,
    checked at once (arrays, a file) or made from ``make`` when first asked for (synthetic ones: their
    reference is built only when a run needs it), then kept. It belongs to the bound copy of the
    condition, which belongs to one problem: the user's condition never holds one."""

    def __init__(self, fields: tuple[str, ...], observed: _Observed | None = None,
                 make: Callable[[], _Observed] | None = None) -> None:
        self.fields = fields
        self._observed = observed
        self._make = make

    @property
    def deferred(self) -> bool:
        return self._observed is None

    def observed(self) -> _Observed:
        if self._observed is None:
            self._observed = self._make()
        return self._observed


def _largest_data_value(dtype: str) -> float:
    """The largest magnitude of an observed value a run in ``dtype`` accepts: the data loss sums the
    squares of the errors over the points, which must stay finite for up to a million points."""
    return math.sqrt(float(torch.finfo(getattr(torch, dtype)).max)) * 1e-3


def _noise_sigmas(noise: Any, n: int, source: str) -> np.ndarray | None:
    """The noise standard deviation of each of ``n`` observations (None: none declared), checked."""
    if noise is None:
        return None
    sigma = np.broadcast_to(np.asarray(noise, dtype=np.float64).ravel(), (n,)) if np.ndim(noise) == 0 else \
        np.asarray(noise, dtype=np.float64).ravel()
    if sigma.shape != (n,):
        raise ValueError(f"data noise from {source} has {sigma.shape[0]} values for {n} points; give one number "
                         "or one per point")
    if not np.all(np.isfinite(sigma) & (sigma > 0)):
        raise ValueError(f"data noise from {source} must be finite and > 0 at every point "
                         f"({int((~(np.isfinite(sigma) & (sigma > 0))).sum())} are not)")
    return sigma


def _noise_weights(sigma: np.ndarray | None, n: int) -> np.ndarray:
    """Per-point weights proportional to 1/noise, with a mean square of 1 (all ones without noise)."""
    if sigma is None:
        return np.ones(n)
    inverse = 1 / sigma
    return inverse / np.sqrt(np.mean(inverse**2))


def _noise_floor(sigma: np.ndarray | None) -> float | None:
    """The mean square of the noise-weighted errors of exact values (weights from :func:`_noise_weights`):
    ``1 / mean(1 / sigma^2)``, the harmonic mean of the variances; None without noise."""
    return None if sigma is None else float(1 / np.mean(1 / sigma**2))


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
                 derived: tuple[str, ...] = ()) -> tuple[np.ndarray, dict, dict]:
        """The points, the noisy values and each field's noise standard deviation, seeded by ``seed``
        (by ``run_seed`` if that is None); the reference is built as a run builds it (for the outputs
        and the derived quantities)."""
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
        noisy, sigmas = {}, {}
        for name in fields:
            sigmas[name] = self.noise * float(np.sqrt(np.mean(exact[name] ** 2)))
            noisy[name] = exact[name] + sigmas[name] * rng.standard_normal(points.shape[0])
        return points, noisy, sigmas


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
