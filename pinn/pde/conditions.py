"""Boundary, initial and periodic conditions (observed data, :class:`pinn.Data`, is in :mod:`pinn.pde.observations`).

Every condition has a ``weight`` (its loss is multiplied by it) and an optional ``points`` (how many
collocation points it gets; default from the problem's :class:`~pinn.pde.collocation.Sampling`). A
``value`` is a number or a function of the coordinates written with torch operations: it may take
the spatial coordinates only (``lambda x, y: ...``) or every input (``lambda x, y, t: ...``).
``field`` names the output the condition constrains; it may be left out when there is only one.
Conditions of particular physics build on these: :class:`pinn.Traction` (2-D elasticity, in
:mod:`pinn.physics.elasticity`) is an :class:`OnBoundary` condition on two or three outputs at once.

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
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field as dataclass_field
from typing import Any, ClassVar, Union

import numpy as np
import torch
from torch import Tensor

from pinn.derivatives.fields import Fields
from pinn.geometry import Boundary, Geometry, SpaceTime
from pinn.derivatives.operators import normal_derivative

Value = Union[float, Callable[..., Tensor]]


@dataclass(frozen=True)
class Batch:
    """One condition's points (``coordinates``, a tensor; ``Condition.points`` is how many to draw),
    their outward normals where the condition needs them, and its target values there."""

    coordinates: Tensor
    normals: Tensor | None = None
    target: Tensor | None = None


class Condition(ABC):
    """Base class: a condition samples its points and returns a residual to drive to zero."""

    weight: float
    points: int | None
    field: str | None
    exact: bool | None = False
    #: Whether the residual's values at a point depend on that point (its coordinates, normal and
    #: target) alone, ordered point-major (every value at the first point, then the next), as for
    #: a value or a derivative at each point. Levenberg-Marquardt then takes its Jacobian rows
    #: point by point, at a cost linear in its number of points; a condition that couples points
    #: (:class:`Periodic`) leaves it False and gets them by reverse mode, at a cost quadratic in it.
    pointwise: ClassVar[bool] = False

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


def check_weight(condition: Condition) -> None:
    """The weight, point count and value every condition takes, checked (a ValueError naming the fault)."""
    if not (isinstance(condition.weight, (int, float)) and np.isfinite(condition.weight) and condition.weight >= 0):
        raise ValueError(f"{type(condition).__name__} weight must be a finite number >= 0, got {condition.weight!r}")
    if condition.points is not None and (not isinstance(condition.points, int) or condition.points < 1):
        raise ValueError(f"{type(condition).__name__} points must be a whole number >= 1, got {condition.points!r}")
    value = getattr(condition, "value", 0.0)
    if isinstance(value, tuple):  # a vector value (pinn.Traction's) checks its own components
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


class OnBoundary(Condition):
    """A condition on part of the spatial boundary (over the whole time interval, if any)."""

    boundary: Boundary
    pointwise: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_weight(self)

    def sample(self, domain, n, method, rng):
        if isinstance(domain, SpaceTime):
            return domain.sample_lateral(self.boundary, n, method, rng)
        return self.boundary.sample(n, method, rng)


@dataclass(frozen=True)
class Dirichlet(OnBoundary):
    """``field = value`` on ``boundary``, imposed exactly through the network's output where it can be
    (the condition then holds to round-off and adds no loss term), else as a loss term.

    ``exact`` chooses:

    - ``None`` (the default): exact when the condition covers the whole boundary and the domain has
      a distance factor (intervals, rectangles, boxes, disks, polygons, and unions and differences of
      1-D and 2-D ones), or when ``distance`` is given; otherwise a loss term. It also stays a loss
      term where the value is not continuous from the boundary inwards (a value written as
      ``torch.where(y == 1, ...)`` only means something on the boundary), where the field has a known
      part (``Problem(known=...)``) or already another exact Dirichlet condition. A condition on part
      of the boundary (``boundary.where(...)``, ``rect.side(...)``) is a loss term, and so are
      several conditions on one field that together cover the boundary with different values.
      ``config.json`` lists the conditions that ended up exact.
    - ``True``: exact, or a ValueError naming the condition where it cannot be.
    - ``False``: a loss term (``weight`` and ``points`` apply only then).

    Exact imposition is ``field = value + D N``, with D the geometry's distance factor on the whole
    boundary (:meth:`pinn.geometry.Geometry.distance_factor`), or ``distance`` on any other
    boundary or part of one. The value is then evaluated inside the domain too: a function must be
    a smooth extension of the boundary values there (a constant always is).

    ``distance`` is a function of the coordinates (torch operations, like a value) that vanishes
    on ``boundary`` and is positive inside the domain, e.g. ``lambda x, y: x`` for a clamp at
    ``x = 0``, or ``lambda x, y: x * (1 - x) * y`` for the sides ``x = 0``, ``x = 1`` and ``y = 0``
    of the unit square. The problem checks both properties on sample points. With it, ``value``
    must be a function defined over the whole domain (a smooth extension of the boundary
    values), since the transform evaluates it everywhere. The distance's scale is the scale of
    the network's raw output N: when fields differ by orders of magnitude (displacements and
    stresses), make it about the size of the field, e.g. ``lambda x, y: 0.05 * x``.

    ``singular_corners`` (default True): on a polygon, where this exact condition holds on both
    edges of a re-entrant corner (interior angle omega > pi, such as the inner corner of an
    L-shape), the field's output is enriched with the corner's singular function
    ``r^(pi/omega) sin(pi theta/omega)`` times a smooth cut-off and an extra output of the network,
    so the network need not represent the infinite gradient there (:mod:`pinn.pde.exact`). The
    condition stays exact. ``singular_corners=False`` leaves it out."""

    boundary: Boundary
    value: Value = 0.0
    field: str | None = None
    weight: float = 1.0
    points: int | None = None
    exact: bool | None = None
    distance: Callable[..., Tensor] | None = None
    singular_corners: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.exact not in (None, True, False):
            raise ValueError(f"Dirichlet exact must be None (exact where possible), True or False, got {self.exact!r}")
        if not isinstance(self.singular_corners, bool):
            raise ValueError(f"Dirichlet singular_corners must be True or False, got {self.singular_corners!r}")
        if self.distance is not None and not callable(self.distance):
            raise ValueError(f"Dirichlet distance must be a function of the coordinates, got {self.distance!r}")
        if self.distance is not None and self.exact is False:
            raise ValueError("Dirichlet distance is used only for an exact condition; leave exact at its default "
                             "(or True) with a distance, or give no distance with exact=False")

    def residual(self, f: Fields, batch: Batch) -> Tensor:
        return f.field(self.field) - batch.target


@dataclass(frozen=True)
class Neumann(OnBoundary):
    """Outward normal derivative ``n · grad(field) = value`` on ``boundary``."""

    boundary: Boundary
    value: Value = 0.0
    field: str | None = None
    weight: float = 1.0
    points: int | None = None

    def residual(self, f: Fields, batch: Batch) -> Tensor:
        return normal_derivative(f, self.field) - batch.target


@dataclass(frozen=True)
class Robin(OnBoundary):
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
class Initial(Condition):
    """``field(x, t0) = value(x)`` at the start of the time interval, or with ``derivative=1`` its
    rate ``d field/dt (x, t0) = value(x)`` (the initial velocity of a problem second order in time,
    such as the wave equation ``u_tt = c^2 u_xx``, without an extra output for ``u_t``).

    ``exact``: an initial value is imposed through the network's output (``field = value + (t - t0)
    / (t1 - t0) N``) instead of a loss term by default: ``None`` (the default) is exact unless the
    field has a known part or another exact initial condition, or an exact Dirichlet condition
    whose value disagrees with this one on the boundary at ``t0`` (then this one is a loss term and
    the boundary value wins); ``True`` is exact or a ValueError; ``False`` is a loss term.

    A rate (``derivative=1``) is a loss term ``(d field/dt - value)^2`` at the initial points by
    default (``None``): measured on the wave equation, the exact form trained worse, as its network
    output must carry ``u_tt / 2`` near ``t0``. ``exact=True`` imposes it through the output, which
    needs an exact value of the same field: with ``s = (t - t0) / (t1 - t0)`` the output is then
    ``u = u0(x) + (t - t0) v0(x) + s^2 N`` (with an exact Dirichlet condition too, see
    :mod:`pinn.pde.exact`). A field takes at most one rate condition.
    """

    value: Value
    field: str | None = None
    weight: float = 1.0
    points: int | None = None
    exact: bool | None = None
    derivative: int = 0
    _time: str | None = dataclass_field(default=None, repr=False, compare=False)  # the time input, set by bind
    pointwise: ClassVar[bool] = True

    def __post_init__(self) -> None:
        check_weight(self)
        if isinstance(self.derivative, bool) or self.derivative not in (0, 1):
            raise ValueError(f"Initial derivative must be 0 (the value at t0) or 1 (the rate d/dt at t0), "
                             f"got {self.derivative!r}")
        if self.exact not in (None, True, False):
            raise ValueError(f"Initial exact must be None (exact where possible), True or False, got {self.exact!r}")

    def bind(self, inputs, outputs, domain) -> Initial:
        if not isinstance(domain, SpaceTime):
            what = "a rate condition (derivative=1)" if self.derivative else "an initial condition"
            raise ValueError(f"{what} needs a space-time domain (space * pinn.TimeInterval(t0, t1))")
        return dataclasses.replace(self, _time=inputs[-1]) if self.derivative else self

    def sample(self, domain, n, method, rng):
        if not isinstance(domain, SpaceTime):
            raise ValueError("an Initial condition needs a space-time domain (space * pinn.TimeInterval(t0, t1))")
        return domain.sample_initial(n, method, rng), None

    def residual(self, f: Fields, batch: Batch) -> Tensor:
        if self.derivative:
            return f.derivative(self.field, (require_bound(self, self._time),)) - batch.target
        return f.field(self.field) - batch.target


def is_rate(condition: Condition) -> bool:
    """Whether ``condition`` is on the initial rate d field/dt at t0 (``Initial(..., derivative=1)``)."""
    return isinstance(condition, Initial) and condition.derivative == 1


@dataclass(frozen=True)
class Periodic(Condition):
    """The field (and its first ``derivatives`` derivatives along ``axis``) equal on the two
    opposite faces of the domain's bounding box along ``axis`` (an input name). Without ``field``,
    every output is periodic along ``axis``: ``Periodic("x")`` says it for all of u, v and p at once."""

    axis: str
    field: str | None = None
    derivatives: int = 1
    weight: float = 1.0
    points: int | None = None
    _index: int | None = dataclass_field(default=None, repr=False, compare=False)  # of ``axis``, set by bind
    _outputs: tuple[str, ...] | None = dataclass_field(default=None, repr=False, compare=False)  # set by bind

    def __post_init__(self) -> None:
        check_weight(self)
        if self.derivatives not in (0, 1, 2):
            raise ValueError(f"Periodic derivatives must be 0, 1 or 2, got {self.derivatives}")

    def bind(self, inputs, outputs, domain) -> Periodic:
        if self.axis not in inputs:
            raise ValueError(f"Periodic axis {self.axis!r} is not an input ({', '.join(inputs)})")
        return dataclasses.replace(self, _index=inputs.index(self.axis), _outputs=tuple(outputs))

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields made periodic: ``field``, or without it every output of the problem."""
        return (self.field,) if self.field is not None else require_bound(self, self._outputs)

    def fields_used(self) -> tuple[str, ...]:
        return self.fields

    def sample(self, domain, n, method, rng):
        index = require_bound(self, self._index)
        lower, upper = domain.bbox
        pts = domain.sample_interior(n, method, rng)
        low, high = pts.copy(), pts.copy()
        low[:, index], high[:, index] = lower[index], upper[index]
        return np.concatenate([low, high]), None

    def residual(self, f: Fields, batch: Batch) -> Tensor:
        half = batch.coordinates.shape[0] // 2
        terms = []
        for field in self.fields:
            terms.append(f.field(field))
            for order in range(1, self.derivatives + 1):
                terms.append(f.derivative(field, (self.axis,) * order))
        return torch.cat([t[:half] - t[half:] for t in terms])


def require_bound(condition: Condition, binding: Any) -> Any:
    """What ``condition``'s binding made; a RuntimeError for a condition used unbound (the object a
    user passed in, rather than the problem's copy of it)."""
    if binding is None:
        raise RuntimeError(f"this {type(condition).__name__} condition is not bound to a problem: use the "
                           "problem's own copy of it (problem.conditions[name])")
    return binding
