"""Boundary, initial and data conditions.

Every condition has a ``weight`` (its loss is multiplied by it) and an optional ``points`` (how many
collocation points it gets; default from the problem's :class:`~pinn.sampling.Sampling`). A
``value`` is a number or a function of the coordinates written with torch operations: it may take
the spatial coordinates only (``lambda x, y: ...``) or every input (``lambda x, y, t: ...``).
``field`` names the output the condition constrains; it may be left out when there is only one.
:class:`Traction` (2-D elasticity) constrains the two displacements, or the stresses, at once.

A condition as the user writes it knows nothing of the problem it is used in. A
:class:`pinn.Problem` *binds* each of its conditions (:meth:`Condition.bind`): it checks the
condition against its inputs, outputs, domain and run settings and keeps the bound copy that
returns, a new value holding what the binding found (the axis of a periodic condition, the points
and values of observed data). The user's object is never changed, so one condition may serve in
several problems.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field as dataclass_field
from pathlib import Path
from typing import Any, Union

import numpy as np
import torch
from torch import Tensor

from pinn.data_files import read_csv_columns, read_hdf5_columns
from pinn.fields import Fields
from pinn.geometry import Boundary, Geometry, SpaceTime
from pinn.operators import normal_derivative

Value = Union[float, Callable[..., Tensor]]


@dataclass(frozen=True)
class Batch:
    """The points of one condition and what it needs there."""

    points: Tensor
    normals: Tensor | None = None
    target: Tensor | None = None


class Condition(ABC):
    """Base class: a condition samples its points and returns a residual to drive to zero."""

    weight: float
    points: int | None
    field: str | None
    exact: bool = False

    @abstractmethod
    def sample(self, domain: Geometry, n: int, method: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        """Collocation points (and outward normals where they matter)."""

    def target(self, points: Tensor, inputs: tuple[str, ...], time: str | None) -> Tensor | None:
        """The prescribed values at the points, computed once per sampling."""
        value = getattr(self, "value", None)
        return None if value is None else evaluate(value, points, inputs, time)

    @abstractmethod
    def residual(self, f: Fields, batch: Batch) -> Tensor:
        """What must vanish at the points."""

    @property
    def resampled(self) -> bool:
        """False for conditions on fixed points (observed data)."""
        return True

    def fields_used(self) -> tuple[str, ...]:
        return () if self.field is None else (self.field,)

    def bind(self, inputs: tuple[str, ...], outputs: tuple[str, ...], domain: Geometry) -> Condition:
        """This condition bound to a problem with these inputs, outputs and domain (called by the
        problem, which keeps what this returns): checked against them, and holding what it needs of
        them. ``self`` is never changed; a condition that needs nothing of the problem returns itself."""
        return self


def _check_weight(condition: Condition) -> None:
    if not (isinstance(condition.weight, (int, float)) and np.isfinite(condition.weight) and condition.weight >= 0):
        raise ValueError(f"{type(condition).__name__} weight must be a finite number >= 0, got {condition.weight!r}")
    if condition.points is not None and (not isinstance(condition.points, int) or condition.points < 1):
        raise ValueError(f"{type(condition).__name__} points must be a whole number >= 1, got {condition.points!r}")
    value = getattr(condition, "value", 0.0)
    if isinstance(value, tuple):  # a vector value (Traction) checks its own components
        return
    if not callable(value) and not (isinstance(value, (int, float)) and np.isfinite(value)):
        raise ValueError(f"{type(condition).__name__} value must be a finite number or a function, got {value!r}")


def evaluate(value: Value, points: Tensor, inputs: tuple[str, ...], time: str | None) -> Tensor:
    """A condition's value at the points: a constant, or a function of the spatial or of all inputs."""
    if not callable(value):
        return torch.full_like(points[:, 0], float(value))
    columns = points.unbind(dim=1)
    space = [c for c, name in zip(columns, inputs) if name != time]
    n_args = _positional_arity(value)
    args = columns if n_args == len(columns) or n_args is None else space
    if n_args is not None and n_args not in (len(columns), len(space)):
        raise ValueError(
            f"a condition value function takes {n_args} arguments; it must take the spatial inputs "
            f"({', '.join(n for n in inputs if n != time)}) or all inputs ({', '.join(inputs)})"
        )
    result = torch.as_tensor(value(*args), dtype=points.dtype, device=points.device)
    n = points.shape[0]
    if result.numel() == 1:  # a constant, however it is wrapped
        return result.reshape(()).expand(n)
    if tuple(result.shape) not in ((n,), (n, 1)):
        raise ValueError(f"its value function returned shape {tuple(result.shape)} for {n} points; it must return "
                         f"one value per point, shape ({n},), or a single number")
    return result.reshape(n)


@functools.lru_cache(maxsize=256)
def _positional_arity(fn: Callable[..., Any]) -> int | None:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty for p in params)


class _OnBoundary(Condition):
    """A condition on part of the spatial boundary (over the whole time interval, if any)."""

    boundary: Boundary

    def __post_init__(self) -> None:
        _check_weight(self)

    def sample(self, domain, n, method, rng):
        if isinstance(domain, SpaceTime):
            return domain.sample_lateral(self.boundary, n, method, rng)
        return self.boundary.sample(n, method, rng)


@dataclass(frozen=True)
class Dirichlet(_OnBoundary):
    """``field = value`` on ``boundary``. ``exact=True`` imposes it through the network's output
    (the condition then holds to round-off and adds no loss term): ``field = value + D N``, with D
    the geometry's own distance factor on the whole boundary of an interval, rectangle, box or
    disk, or ``distance`` on any other boundary or part of one.

    ``distance`` is a function of the coordinates (torch operations, like a value) that vanishes
    on ``boundary`` and is positive inside the domain, e.g. ``lambda x, y: x`` for a clamp at
    ``x = 0``, or ``lambda x, y: x * (1 - x) * y`` for the sides ``x = 0``, ``x = 1`` and ``y = 0``
    of the unit square. The problem checks both properties on sample points. With it, ``value``
    must be a function defined over the whole domain (a smooth extension of the boundary
    values), since the transform evaluates it everywhere. The distance's scale is the scale of
    the network's raw output N: when fields differ by orders of magnitude (displacements and
    stresses), make it about the size of the field, e.g. ``lambda x, y: 0.05 * x``."""

    boundary: Boundary
    value: Value = 0.0
    field: str | None = None
    weight: float = 1.0
    points: int | None = None
    exact: bool = False
    distance: Callable[..., Tensor] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.distance is not None and not callable(self.distance):
            raise ValueError(f"Dirichlet distance must be a function of the coordinates, got {self.distance!r}")
        if self.distance is not None and not self.exact:
            raise ValueError("Dirichlet distance is used only with exact=True; give both or neither")

    def residual(self, f: Fields, batch: Batch) -> Tensor:
        return f.field(self.field) - batch.target


@dataclass(frozen=True)
class Neumann(_OnBoundary):
    """Outward normal derivative ``n · grad(field) = value`` on ``boundary``."""

    boundary: Boundary
    value: Value = 0.0
    field: str | None = None
    weight: float = 1.0
    points: int | None = None

    def residual(self, f: Fields, batch: Batch) -> Tensor:
        return normal_derivative(f, self.field) - batch.target


@dataclass(frozen=True)
class Robin(_OnBoundary):
    """``a * field + b * n · grad(field) = value`` on ``boundary``."""

    boundary: Boundary
    a: float = 1.0
    b: float = 1.0
    value: Value = 0.0
    field: str | None = None
    weight: float = 1.0
    points: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (np.isfinite(self.a) and np.isfinite(self.b)) or (self.a == 0 and self.b == 0):
            raise ValueError(f"Robin coefficients a and b must be finite and not both zero, got a={self.a}, b={self.b}")

    def residual(self, f: Fields, batch: Batch) -> Tensor:
        return self.a * f.field(self.field) + self.b * normal_derivative(f, self.field) - batch.target


@dataclass(frozen=True)
class Traction(_OnBoundary):
    """Traction ``sigma · n = value`` on ``boundary`` in 2-D elasticity (n the outward normal): the
    Neumann-type condition of elasticity, on the two displacement outputs at once.

    ``value`` is ``(t_x, t_y)``; each is a number, a function of the coordinates, or ``None`` for a
    component not prescribed here (held by a displacement condition instead). For example a
    roller on the wall ``x = 0``, free to slide along it::

        pinn.Traction(rect.side(0, "lower"), (0.0, None), material=steel)   # no normal traction...
        pinn.Dirichlet(rect.side(0, "lower"), 0.0, field="uy")              # ...and no sliding

    The stress is computed from ``material`` (a :class:`pinn.LinearElastic`) and the displacement
    outputs named by ``displacement`` (the displacement form), or read from the stress outputs
    named by ``stress`` (the mixed form, ``stress="sxx syy sxy"``, no material).
    """

    boundary: Boundary
    value: tuple[Value | None, Value | None] = (0.0, 0.0)
    material: Any = None
    displacement: str = "ux uy"
    stress: str | None = None
    weight: float = 1.0
    points: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.value, tuple) or len(self.value) != 2 or self.value == (None, None):
            raise ValueError(f"Traction value must be a pair (t_x, t_y) with at least one not None, got {self.value!r}")
        for axis, component in zip("xy", self.value):
            if component is not None and not callable(component) and not (
                    isinstance(component, (int, float)) and not isinstance(component, bool) and np.isfinite(component)):
                raise ValueError(f"Traction value t_{axis} must be a finite number, a function or None, got {component!r}")
        from pinn.elasticity import LinearElastic

        if (self.material is None) == (self.stress is None):
            raise ValueError("Traction needs either material= (stresses from the displacements) or stress= "
                             "(the names of the stress outputs, mixed form), not both")
        if self.material is not None and not isinstance(self.material, LinearElastic):
            raise ValueError(f"Traction material must be a pinn.LinearElastic, got {type(self.material).__name__}")
        expected = 3 if self.stress is not None else 2
        names = _names_of(self.stress if self.stress is not None else self.displacement)
        if len(names) != expected:
            label = "stress must name sxx, syy, sxy" if expected == 3 else "displacement must name ux, uy"
            raise ValueError(f"Traction {label} (outputs, space-separated), got "
                             f"{self.stress if expected == 3 else self.displacement!r}")

    @property
    def field(self) -> str:
        """The first output the condition reads (it reads all of :meth:`fields_used`)."""
        return self.fields_used()[0]

    def fields_used(self) -> tuple[str, ...]:
        return _names_of(self.stress if self.stress is not None else self.displacement)

    def bind(self, inputs: tuple[str, ...], outputs: tuple[str, ...], domain: Geometry) -> Traction:
        space = domain.space if isinstance(domain, SpaceTime) else domain
        if self.boundary.geometry is not space:
            raise ValueError(f"the traction is on the boundary of {self.boundary.geometry!r}, which is not this "
                             f"problem's spatial domain {space!r}")
        if space.dim != 2:
            raise ValueError(f"a Traction needs a 2-D spatial domain, this one has {space.dim} dimension(s)")
        missing = [n for n in self.fields_used() if n not in outputs]
        if missing:
            raise ValueError(f"the traction reads {', '.join(missing)}, which are not outputs ({', '.join(outputs)})")
        return self

    def target(self, points: Tensor, inputs: tuple[str, ...], time: str | None) -> Tensor:
        return torch.stack([evaluate(v, points, inputs, time) for v in self.value if v is not None], dim=1)

    def residual(self, f: Fields, batch: Batch) -> Tensor:
        if self.stress is not None:
            sxx, syy, sxy = (f.field(name) for name in self.fields_used())
        else:
            sxx, syy, sxy = self.material.stress(f, *self.fields_used())
        nx, ny = f.normal.unbind(dim=1)
        traction = (sxx * nx + sxy * ny, sxy * nx + syy * ny)
        prescribed = torch.stack([t for t, v in zip(traction, self.value) if v is not None], dim=1)
        return (prescribed - batch.target).ravel()


def _names_of(names: str) -> tuple[str, ...]:
    return tuple(names.replace(",", " ").split()) if isinstance(names, str) else tuple(names)


@dataclass(frozen=True)
class Initial(Condition):
    """``field(x, t0) = value(x)`` at the start of the time interval. ``exact=True`` imposes it
    through the network's output instead of a loss term."""

    value: Value
    field: str | None = None
    weight: float = 1.0
    points: int | None = None
    exact: bool = False

    def __post_init__(self) -> None:
        _check_weight(self)

    def sample(self, domain, n, method, rng):
        if not isinstance(domain, SpaceTime):
            raise ValueError("an Initial condition needs a space-time domain (space * pinn.TimeInterval(t0, t1))")
        return domain.sample_initial(n, method, rng), None

    def residual(self, f: Fields, batch: Batch) -> Tensor:
        return f.field(self.field) - batch.target


@dataclass(frozen=True)
class Periodic(Condition):
    """The field (and its first ``derivatives`` derivatives along ``axis``) equal on the two
    opposite faces of the domain's bounding box along ``axis`` (an input name)."""

    axis: str
    field: str | None = None
    derivatives: int = 1
    weight: float = 1.0
    points: int | None = None
    _index: int | None = dataclass_field(default=None, repr=False, compare=False)  # of ``axis``, set by bind

    def __post_init__(self) -> None:
        _check_weight(self)
        if self.derivatives not in (0, 1, 2):
            raise ValueError(f"Periodic derivatives must be 0, 1 or 2, got {self.derivatives}")

    def bind(self, inputs, outputs, domain) -> Periodic:
        if self.axis not in inputs:
            raise ValueError(f"Periodic axis {self.axis!r} is not an input ({', '.join(inputs)})")
        return dataclasses.replace(self, _index=inputs.index(self.axis))

    def sample(self, domain, n, method, rng):
        index = _bound(self, self._index)
        lower, upper = domain.bbox
        pts = domain.sample_interior(n, method, rng)
        low, high = pts.copy(), pts.copy()
        low[:, index], high[:, index] = lower[index], upper[index]
        return np.concatenate([low, high]), None

    def residual(self, f: Fields, batch: Batch) -> Tensor:
        half = batch.points.shape[0] // 2
        terms = [f.field(self.field)]
        for order in range(1, self.derivatives + 1):
            terms.append(f.derivative(self.field, (self.axis,) * order))
        return torch.cat([t[:half] - t[half:] for t in terms])


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
    synthetic: Any = None  # a pinn.observations.Observations: values made from a reference when a run needs them
    _binding: _DataBinding | None = dataclass_field(default=None, repr=False, compare=False)  # set by bind

    def __post_init__(self) -> None:
        _check_weight(self)
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
                points, values = self.synthetic.generate(inputs, outputs, domain, seed, derived)
                return self._observed(points, values, None, inputs, outputs, domain, dtype)

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
        return _Observed(points, values, _noise_weights(noise, points.shape[0], self.source))

    @property
    def deferred(self) -> bool:
        """Whether the observations are still to be made (synthetic ones, when a run first needs them)."""
        return _bound(self, self._binding).deferred

    @property
    def resampled(self) -> bool:
        return False

    def fields_used(self) -> tuple[str, ...]:
        return () if self._binding is None else self._binding.fields

    def sample(self, domain, n, method, rng):
        return _bound(self, self._binding).observed().points, None

    def target(self, points: Tensor, inputs, time) -> Tensor:
        """The observed values, one column per field, then each point's weight (from its noise)."""
        observed = _bound(self, self._binding).observed()
        columns = [*observed.values.values(), observed.scale]
        return torch.stack([torch.as_tensor(v, dtype=points.dtype, device=points.device) for v in columns], 1)

    def stand_in(self, points: Tensor) -> Batch:
        """A batch of zeros at ``points``, to dry-run the residual before the observations are made."""
        columns = len(_bound(self, self._binding).fields) + 1
        return Batch(points, None, torch.cat([points.new_zeros(points.shape[0], columns - 1),
                                              points.new_ones(points.shape[0], 1)], dim=1))

    def residual(self, f: Fields, batch: Batch) -> Tensor:
        predicted = torch.stack([f.field(name) for name in _bound(self, self._binding).fields], dim=1)
        return ((predicted - batch.target[:, :-1]) * batch.target[:, -1:]).ravel()


@dataclass(frozen=True)
class _Observed:
    """A Data condition's observations as bound to a problem: points (N, number of inputs), the
    observed values by field, and each point's weight (from its noise)."""

    points: np.ndarray
    values: dict[str, np.ndarray]
    scale: np.ndarray


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


def _bound(condition: Condition, binding: Any) -> Any:
    """What ``condition``'s binding made; a RuntimeError for a condition used unbound (the object a
    user passed in, rather than the problem's copy of it)."""
    if binding is None:
        raise RuntimeError(f"this {type(condition).__name__} condition is not bound to a problem: use the "
                           "problem's own copy of it (problem.conditions[name])")
    return binding



def _largest_data_value(dtype: str) -> float:
    """The largest magnitude of an observed value a run in ``dtype`` accepts: the data loss sums the
    squares of the errors over the points, which must stay finite for up to a million points."""
    return math.sqrt(float(torch.finfo(getattr(torch, dtype)).max)) * 1e-3


def _noise_weights(noise: Any, n: int, source: str) -> np.ndarray:
    """Per-point weights proportional to 1/noise, with a mean square of 1 (all ones without noise)."""
    if noise is None:
        return np.ones(n)
    sigma = np.broadcast_to(np.asarray(noise, dtype=np.float64).ravel(), (n,)) if np.ndim(noise) == 0 else \
        np.asarray(noise, dtype=np.float64).ravel()
    if sigma.shape != (n,):
        raise ValueError(f"data noise from {source} has {sigma.shape[0]} values for {n} points; give one number "
                         "or one per point")
    if not np.all(np.isfinite(sigma) & (sigma > 0)):
        raise ValueError(f"data noise from {source} must be finite and > 0 at every point "
                         f"({int((~(np.isfinite(sigma) & (sigma > 0))).sum())} are not)")
    inverse = 1 / sigma
    return inverse / np.sqrt(np.mean(inverse**2))
