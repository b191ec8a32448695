"""Exact imposition of Dirichlet and initial conditions through the network's output.

For an output u with an exact Dirichlet value g on the whole spatial boundary and/or an exact
initial value u0, the network's raw output N is transformed so the conditions hold identically:

    Dirichlet only:   u = g(x, t) + D(x) N
    initial only:     u = u0(x) + s(t) N
    both:             u = g(x, t) + u0(x) - g(x, t0) + D(x) s(t) N

and with an exact initial rate v0 (``pinn.Initial(v0, derivative=1, exact=True)``, which needs an
exact initial value of the same field), with g_t = dg/dt:

    initial and rate: u = u0(x) + (t - t0) v0(x) + s(t)^2 N
    with Dirichlet:   u = g(x, t) + u0(x) - g(x, t0) + (t - t0) [v0(x) - g_t(x, t0)] + D(x) s(t)^2 N

where D is the geometry's distance factor (zero on the boundary, positive inside), or the
condition's own ``distance`` function (zero on its part of the boundary, positive elsewhere),
and s(t) = (t - t0) / (t1 - t0). The combined form needs u0 = g(., t0) on the boundary (and v0 =
g_t(., t0) with a rate), which any well-posed problem satisfies; the problem checks it when built.
With a rate, u0 and v0 are evaluated at (x, t0) even when their functions take t too. g_t comes
from autograd through the Dirichlet value's function (zero for a constant or a function of space
only); the problem checks it against finite differences when built, so a value computed outside
torch is refused rather than silently given a zero rate.

An output with a known part K (``Problem(known=...)``, e.g. the analytic singular part of a flow) and
no exact condition is ``u = K(x, t) + N``: the network represents only the remainder.

Singular corners. On a polygon, an output with an exact Dirichlet condition on its whole boundary
(``Dirichlet(..., singular_corners=True)``, the default) gets one more term per re-entrant corner c
(interior angle omega_c > pi), each with an extra output M_c of the network:

    u = ... + D N + sum_c chi_c(x) psi_c(x) M_c        (times s(t) too with an exact initial condition)

with psi_c = (r / R_c)^(pi/omega_c) sin(pi theta / omega_c) the corner's leading singular function (r, theta
the polar coordinates about the corner, theta from the edge leaving it counter-clockwise) and
chi_c = (1 - r^2 / R_c^2)^3 for r < R_c, else 0, a C^2 cut-off that vanishes before the nearest other
edge (R_c is its distance). psi_c vanishes on both edges at the corner, so the condition stays exact;
the network represents the singularity's strength M_c, smooth, instead of the singularity. The model's
output transform is then ``outputs = fold(offset + scale * raw)``: raw has the outputs' columns and then
one per corner term, and :attr:`OutputTransform.fold` names the output each extra column adds to.

Which conditions are exact is settled once, when a problem is built (:func:`resolve_exact`): a
condition's ``exact=None`` becomes True where it can be imposed exactly, else False.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from pinn.pde.conditions import Dirichlet, Initial, Periodic, evaluate, is_rate
from pinn.geometry import Geometry, SpaceTime
from pinn.geometry.base import DISTANCE_FACTOR_SUPPORT
from pinn.geometry.polygon import Corner


@dataclass(frozen=True)
class _Exact:
    dirichlet: Dirichlet | None
    initial: Initial | None
    known: Callable[..., Tensor] | None = None
    rate: Initial | None = None  # an exact initial rate (Initial(..., derivative=1)); needs ``initial``


class OutputTransform:
    """Applies the exact conditions of a problem to raw network outputs."""

    def __init__(self, domain: Geometry, inputs: tuple[str, ...], outputs: tuple[str, ...],
                 time: str | None, exact: dict[str, _Exact]) -> None:
        self._domain = domain
        self._inputs = inputs
        self._outputs = outputs
        self._time = time
        self._exact = exact
        self._space = domain.space if isinstance(domain, SpaceTime) else domain
        self.corners = singular_corners(self._space, outputs, exact)

    @property
    def fold(self) -> tuple[int, ...]:
        """For each raw column past the outputs' own (one per singular corner term), the index of the
        output it adds to; empty without corner terms."""
        return tuple(self._outputs.index(name) for name, _ in self.corners)

    @property
    def extra_outputs(self) -> int:
        """How many raw network columns the transform takes besides one per output."""
        return len(self.corners)

    def __call__(self, points: Tensor, raw: Tensor) -> Tensor:
        offset, scale = self.parts(points)
        return fold_columns(offset + scale * raw, self.fold)

    def parts(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """``(offset, scale)``, each (N, number of outputs + :attr:`extra_outputs`), with
        outputs = fold(offset + scale * raw) (:func:`fold_columns`)."""
        offsets, scales = [], []
        for name in self._outputs:
            rule = self._exact.get(name)
            offset, scale = (points.new_zeros(points.shape[0]), points.new_ones(points.shape[0])) if rule is None \
                else self._parts(rule, points)
            offsets.append(offset)
            scales.append(scale)
        for name, corner in self.corners:
            scale = corner_function(points[:, : self._space.dim], corner)
            if self._exact[name].initial is not None:
                t0, t1 = self._domain.time.t0, self._domain.time.t1
                scale = scale * (points[:, -1] - t0) / (t1 - t0)
            offsets.append(points.new_zeros(points.shape[0]))
            scales.append(scale)
        return torch.stack(offsets, dim=1), torch.stack(scales, dim=1)

    def _parts(self, rule: _Exact, points: Tensor) -> tuple[Tensor, Tensor]:
        space_points = points[:, : self._space.dim]
        scale = points.new_ones(points.shape[0])
        offset = points.new_zeros(points.shape[0])
        if rule.known is not None:
            offset = offset + evaluate(rule.known, points, self._inputs, self._time)
        if rule.dirichlet is not None:
            distance = rule.dirichlet.distance
            scale = scale * (self._space.distance_factor(space_points) if distance is None
                             else _distance(distance, space_points))
            offset = offset + evaluate(rule.dirichlet.value, points, self._inputs, self._time)
        if rule.initial is not None:
            t0, t1 = self._domain.time.t0, self._domain.time.t1
            elapsed = points[:, -1] - t0
            s = elapsed / (t1 - t0)
            at_start = torch.cat([space_points, torch.full_like(points[:, -1:], t0)], dim=1)
            if rule.rate is None:
                scale = scale * s
                offset = offset + evaluate(rule.initial.value, points, self._inputs, self._time)
            else:  # u0 and v0 at t0, so that d/dt of the offset at t0 is v0 exactly
                scale = scale * s * s
                offset = (offset + evaluate(rule.initial.value, at_start, self._inputs, self._time)
                          + elapsed * evaluate(rule.rate.value, at_start, self._inputs, self._time))
            if rule.dirichlet is not None:
                offset = offset - evaluate(rule.dirichlet.value, at_start, self._inputs, self._time)
                if rule.rate is not None:
                    offset = offset - elapsed * time_rate(rule.dirichlet.value, at_start, self._inputs, self._time)
        return offset, scale


def fold_columns(values: Tensor, fold: tuple[int, ...]) -> Tensor:
    """``values`` (N, m + len(fold)) with each of its last ``len(fold)`` columns added to the column
    ``fold`` names: (N, m)."""
    if not fold:
        return values
    m = values.shape[1] - len(fold)
    index = torch.tensor(fold, device=values.device)
    return values[:, :m].index_add(1, index, values[:, m:])


def singular_corners(space: Geometry, outputs: tuple[str, ...], exact: Mapping[str, _Exact]
                     ) -> tuple[tuple[str, Corner], ...]:
    """``(output, corner)`` for each re-entrant corner of a polygonal ``space`` and each output with an
    exact Dirichlet condition on the whole boundary that keeps ``singular_corners`` on."""
    reentrant = getattr(space, "reentrant_corners", None)
    if reentrant is None:
        return ()
    found = []
    for name in outputs:
        rule = exact.get(name)
        condition = None if rule is None else rule.dirichlet
        if condition is not None and condition.distance is None and condition.singular_corners:
            found.extend((name, corner) for corner in reentrant())
    return tuple(found)


def corner_function(x: Tensor, corner: Corner) -> Tensor:
    """``chi(r) (r/R)^a sin(a theta)`` at the spatial points ``x`` (N, 2), with ``a = pi / omega``, ``R`` the
    corner's reach and ``chi = (1 - r^2/R^2)^3`` (0 beyond ``R``). The angle is measured so that its
    branch cut lies along the bisector of the exterior wedge, outside the domain; value and gradient
    are finite (zero) at the corner itself."""
    vx, vy = corner.vertex
    dx, dy = x[:, 0] - vx, x[:, 1] - vy
    r2 = dx * dx + dy * dy
    away = r2 > 0
    dx, dy = torch.where(away, dx, torch.ones_like(dx)), torch.where(away, dy, torch.zeros_like(dy))
    bisector = corner.start + corner.omega / 2  # the domain's side: theta = omega / 2
    cb, sb = math.cos(bisector), math.sin(bisector)
    theta = torch.atan2(cb * dy - sb * dx, cb * dx + sb * dy) + corner.omega / 2
    a = math.pi / corner.omega
    reach2 = corner.reach ** 2
    rho2 = torch.where(away, r2, torch.ones_like(r2)) / reach2
    psi = rho2 ** (a / 2) * torch.sin(a * theta)
    cutoff = torch.clamp(1 - r2 / reach2, min=0.0) ** 3
    return torch.where(away, psi * cutoff, torch.zeros_like(psi))


def resolve_exact(conditions: Mapping[str, object], domain: Geometry, known: Mapping[str, object],
                  inputs: tuple[str, ...], time: str | None) -> dict[str, object]:
    """The conditions with every Dirichlet and Initial ``exact=None`` settled to True or False (new
    values; the others as they were). See :class:`pinn.Dirichlet` and :class:`pinn.Initial` for the
    rules. Explicit True and False are kept: :func:`exact_rules` checks the True ones."""
    space = domain.space if isinstance(domain, SpaceTime) else domain
    resolved = dict(conditions)
    taken: dict[tuple[str, str], str] = {}  # (field, slot) -> the condition exact there
    for name, c in conditions.items():
        if isinstance(c, (Dirichlet, Initial)) and c.exact and not is_rate(c):
            taken[(c.field, "dirichlet" if isinstance(c, Dirichlet) else "initial")] = name
    for name, c in conditions.items():
        if not isinstance(c, Dirichlet) or c.exact is not None:
            continue
        exact = c.distance is not None or (
            c.boundary.is_whole and space.has_distance_factor and c.field not in known and (c.field, "dirichlet") not in taken
            and _continuous_inwards(c, domain, inputs, time))
        if exact:
            taken.setdefault((c.field, "dirichlet"), name)
        resolved[name] = dataclasses.replace(c, exact=exact)
    for name, c in conditions.items():
        if not isinstance(c, Initial) or c.exact is not None or c.derivative:  # rates: resolve_rates
            continue
        wall = taken.get((c.field, "dirichlet"))
        periodic = [p for p in conditions.values() if isinstance(p, Periodic) and c.field in p.fields]
        exact = (c.field not in known and (c.field, "initial") not in taken
                 and (wall is None or _agree_at_start(resolved[wall], c, domain, inputs, time))
                 and all(_periodic_at_start(p, c, domain, inputs, time) for p in periodic))
        if exact:
            taken[(c.field, "initial")] = name
        resolved[name] = dataclasses.replace(c, exact=exact)
    return resolved


def _boundary_points(domain: Geometry, n: int) -> tuple[Tensor, Tensor]:
    """``n`` points of the (lateral) boundary and the outward normals there, float64, from a fixed seed."""
    rng = np.random.default_rng(0)
    if isinstance(domain, SpaceTime):
        points, normals = domain.sample_lateral(domain.space.boundary, n, "uniform", rng)
    else:
        points, normals = domain.sample_boundary(n, "uniform", rng)
    return torch.as_tensor(points, dtype=torch.float64), torch.as_tensor(normals, dtype=torch.float64)


def _continuous_inwards(condition: Dirichlet, domain: Geometry, inputs: tuple[str, ...], time: str | None) -> bool:
    """Whether the value, a function, changes little from the boundary to points a millionth of the
    domain's size inside: an exact condition evaluates it inside, where a value written for the
    boundary alone (``torch.where(y == 1, ...)``) would make the output jump. A function that fails
    here counts as continuous: the problem's dry run reports it by name."""
    if not callable(condition.value):
        return True
    space = domain.space if isinstance(domain, SpaceTime) else domain
    lower, upper = space.bbox
    step = 1e-6 * float(np.max(upper - lower))
    points, normals = _boundary_points(domain, 256)
    moved = points.clone()
    moved[:, : space.dim] -= step * normals
    try:
        with torch.no_grad():
            on, near = (evaluate(condition.value, p, inputs, time) for p in (points, moved))
    except (Exception, SystemExit):  # noqa: BLE001 - the user's function: the dry run names its fault
        return True
    gap = (on - near).abs()
    return bool(torch.all(torch.isfinite(gap)) and float(gap.max()) <= 1e-3 * (1 + float(on.abs().max())))


def _agree_at_start(wall: Dirichlet, initial: Initial, domain: Geometry, inputs: tuple[str, ...],
                    time: str | None) -> bool:
    """Whether an exact Dirichlet value and an initial value agree on the boundary at t0, as both must
    to be exact together (:meth:`pinn.Problem` checks explicit ones and reports a disagreement)."""
    if not isinstance(domain, SpaceTime):
        return True
    points, _ = _boundary_points(domain, 64)
    points[:, -1] = domain.time.t0
    try:
        with torch.no_grad():
            a, b = (evaluate(c.value, points, inputs, time) for c in (wall, initial))
    except (Exception, SystemExit):  # noqa: BLE001 - the dry run names the fault
        return True
    gap = float((a - b).abs().max())
    return gap <= 1e-8 * (1 + float(b.abs().max()))


def _periodic_at_start(periodic: Periodic, initial: Initial, domain: Geometry, inputs: tuple[str, ...],
                       time: str | None) -> bool:
    """Whether an initial value is itself periodic as ``periodic`` asks (its value and derivatives along
    the axis equal on the opposite faces). An exact initial value is carried to every time by the
    output (``u0 + s N``), so one that is not (Allen-Cahn's x^2 cos(pi x), whose slope is 2 at x = -1 and
    -2 at x = 1) would break the periodicity at every time: it is then a loss term, which the
    network meets up to the kink."""
    if not isinstance(domain, SpaceTime) or periodic._index is None:
        return True
    axis = periodic._index
    lower, upper = domain.bbox
    points = torch.as_tensor(domain.sample_initial(32, "uniform", np.random.default_rng(0)), dtype=torch.float64)
    faces = []
    for end in (lower[axis], upper[axis]):
        at = points.clone()
        at[:, axis] = float(end)
        faces.append(at.requires_grad_(True))
    try:
        with torch.enable_grad():
            values = [evaluate(initial.value, at, inputs, time) for at in faces]
            gaps = [values[0] - values[1]]
            for _ in range(periodic.derivatives):
                if not all(v.requires_grad for v in values):
                    break
                values = [torch.autograd.grad(v.sum(), at, create_graph=True)[0][:, axis]
                          for v, at in zip(values, faces)]
                gaps.append(values[0] - values[1])
    except (Exception, SystemExit):  # noqa: BLE001 - the dry run names the fault
        return True
    scale = 1.0 + max(float(v.detach().abs().max()) for v in values)
    return all(float(g.detach().abs().max()) <= 1e-8 * scale for g in gaps)


def exact_rules(conditions: dict[str, object], domain: Geometry,
                known: Mapping[str, Callable[..., Tensor]] | None = None) -> dict[str, _Exact]:
    """Collect the exact conditions and known parts per field; raise ValueError where one cannot be
    imposed exactly, or where a field has both a known part and an exact condition. A condition's
    ``exact=None`` counts as False here: settle it first with :func:`resolve_exact`."""
    space = domain.space if isinstance(domain, SpaceTime) else domain
    rules: dict[str, dict[str, object]] = {}
    for name, condition in conditions.items():
        if not getattr(condition, "exact", False):
            continue
        slot = ("dirichlet" if isinstance(condition, Dirichlet)
                else "rate" if is_rate(condition) else "initial")
        if isinstance(condition, Dirichlet) and condition.distance is not None:
            _check_distance(name, condition, space)
        elif isinstance(condition, Dirichlet):
            if not condition.boundary.is_whole:
                raise ValueError(f"condition {name!r}: exact=True needs the whole boundary, or a distance function "
                                 "for part of it (distance=...); or impose it as a loss term (exact=False)")
            if not space.has_distance_factor:
                raise ValueError(f"condition {name!r}: exact=True is not available on this geometry ({space!r} has no "
                                 f"distance factor; exact Dirichlet conditions are supported on "
                                 f"{DISTANCE_FACTOR_SUPPORT})")
        elif not isinstance(condition, Initial):
            raise ValueError(f"condition {name!r}: only Dirichlet and Initial conditions can be exact")
        per_field = rules.setdefault(condition.field, {})
        if slot in per_field:
            raise ValueError(f"condition {name!r}: field {condition.field!r} already has an exact {slot} condition")
        per_field[slot] = condition
    for name, condition in conditions.items():
        if getattr(condition, "exact", False) and is_rate(condition) \
                and "initial" not in rules[condition.field]:
            raise ValueError(f"condition {name!r}: an exact initial rate (derivative=1, exact=True) needs an exact "
                             f"initial value of field {condition.field!r} too (pinn.Initial(value, exact=True)); "
                             "or impose the rate as a loss term (exact=False)")
    for name, part in (known or {}).items():
        if name in rules:
            raise ValueError(f"known part of {name!r}: the field also has an exact condition, whose value is "
                             "already a function over the whole domain; add the known part to that value instead")
        rules[name] = {"known": part}
    return {f: _Exact(r.get("dirichlet"), r.get("initial"), r.get("known"), r.get("rate")) for f, r in rules.items()}


def resolve_rates(conditions: Mapping[str, object]) -> dict[str, object]:
    """The conditions with every initial rate of ``exact=None`` made a loss term (False). Measured on
    the wave equation u_tt = 4 u_xx (benchmarks/wave1d.py, same settings): the exact form
    ``u0 + (t - t0) v0 + s^2 N`` ended at 0.35-0.37, the loss term at 0.11-0.19, as the exact form's
    network output must carry u_tt / 2 (about 160 there) near t0. ``exact=True`` is kept (checked
    by :func:`exact_rules`)."""
    return {name: dataclasses.replace(c, exact=False)
            if isinstance(c, Initial) and c.derivative and c.exact is None else c
            for name, c in conditions.items()}


def time_rate(value: Callable[..., Tensor] | float, points: Tensor, inputs: tuple[str, ...],
              time: str | None) -> Tensor:
    """d value/dt at ``points`` (N, number of inputs), one number per point, by autograd through the
    value's function: zero for a constant or a function of the spatial coordinates only. The
    result stays differentiable in the spatial coordinates where gradients are being recorded."""
    zero = points.new_zeros(points.shape[0])
    if not callable(value):
        return zero
    record = torch.is_grad_enabled()
    with torch.enable_grad():
        t = points[:, -1:].detach().requires_grad_(True)
        g = evaluate(value, torch.cat([points[:, :-1], t], dim=1), inputs, time)
        if not g.requires_grad:
            return zero
        (rate,) = torch.autograd.grad(g.sum(), t, create_graph=record, allow_unused=True)
    return zero if rate is None else rate[:, 0]



def _distance(distance, space_points: Tensor) -> Tensor:
    """A user's distance function of the spatial coordinates, one value per point."""
    value = torch.as_tensor(distance(*space_points.unbind(dim=1)), dtype=space_points.dtype,
                            device=space_points.device)
    return value.expand(space_points.shape[0]) if value.ndim == 0 else value.reshape(space_points.shape[0])


def _check_distance(name: str, condition: Dirichlet, space: Geometry) -> None:
    """The distance must vanish on the condition's boundary and be positive on the rest of the domain."""
    rng = np.random.default_rng(0)
    boundary, _ = space.sample_boundary(512, "uniform", rng)
    interior = space.sample_interior(256, "uniform", rng)
    on_part = condition.boundary.contains(boundary)
    try:
        values = [_distance(condition.distance, torch.as_tensor(p)).numpy()
                  for p in (boundary[on_part], boundary[~on_part], interior)]
    except Exception as err:  # the user's function: report it by name
        raise ValueError(f"condition {name!r}: its distance function failed ({type(err).__name__}: {err}); it "
                         "must take the spatial coordinates as tensors and return one value per point") from None
    on, off, inside = values
    scale = float(np.max(np.abs(inside))) if inside.size else 1.0
    if not (np.all(np.isfinite(on)) and np.all(np.isfinite(off)) and np.all(np.isfinite(inside))):
        raise ValueError(f"condition {name!r}: its distance function returns NaN or infinite values")
    if on.size and np.max(np.abs(on)) > 1e-9 * max(scale, 1.0):
        raise ValueError(f"condition {name!r}: its distance function must vanish on the condition's boundary, "
                         f"but reaches {np.max(np.abs(on)):.3g} there")
    if np.any(inside <= 0) or np.any(off <= 0):
        where = "inside the domain" if np.any(inside <= 0) else "on the rest of the boundary (the field would be fixed there too)"
        raise ValueError(f"condition {name!r}: its distance function must be positive {where}")


def periodic_by_construction(conditions: Mapping[str, object], periodic_inputs: Sequence[int],
                             exact: Mapping[str, _Exact], domain: Geometry, inputs: tuple[str, ...],
                             time: str | None) -> frozenset[str]:
    """The names of the :class:`~pinn.Periodic` conditions that the model meets identically, so that
    they are no loss terms: the network is periodic in the condition's axis (``MLP(periodic=...)``,
    which the framework chooses for such a condition), and nothing the output adds to the network is
    aperiodic: the field has no exact Dirichlet condition or known part, and its exact initial value
    and rate (carried to every time) are periodic as the condition asks.

    Kept as a loss term, such a condition is zero up to round-off (1e-32), and a loss balance that
    weighs terms by their gradient norms would blow its round-off gradient up to the size of the
    whole gradient: an objective no line search can descend."""
    met = set()
    for name, condition in conditions.items():
        if not isinstance(condition, Periodic) or condition._index not in periodic_inputs:
            continue
        rules = [exact[field] for field in condition.fields if field in exact]
        if any(rule.dirichlet is not None or rule.known is not None
               or any(given is not None and not _periodic_at_start(condition, given, domain, inputs, time)
                      for given in (rule.initial, rule.rate))
               for rule in rules):
            continue
        met.add(name)
    return frozenset(met)
