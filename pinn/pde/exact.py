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
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from pinn.pde.conditions import Dirichlet, Initial, evaluate
from pinn.geometry import Geometry, SpaceTime


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

    def __call__(self, points: Tensor, raw: Tensor) -> Tensor:
        offset, scale = self.parts(points)
        return offset + scale * raw

    def parts(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """``(offset, scale)``, each (N, number of outputs), with outputs = offset + scale * raw."""
        offsets, scales = [], []
        for name in self._outputs:
            rule = self._exact.get(name)
            offset, scale = (points.new_zeros(points.shape[0]), points.new_ones(points.shape[0])) if rule is None \
                else self._parts(rule, points)
            offsets.append(offset)
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


def exact_rules(conditions: dict[str, object], domain: Geometry,
                known: Mapping[str, Callable[..., Tensor]] | None = None) -> dict[str, _Exact]:
    """Collect the exact conditions and known parts per field; raise ValueError where one cannot be
    imposed exactly, or where a field has both a known part and an exact condition."""
    space = domain.space if isinstance(domain, SpaceTime) else domain
    rules: dict[str, dict[str, object]] = {}
    for name, condition in conditions.items():
        if not getattr(condition, "exact", False):
            continue
        slot = ("dirichlet" if isinstance(condition, Dirichlet)
                else "rate" if getattr(condition, "derivative", 0) else "initial")
        if isinstance(condition, Dirichlet) and condition.distance is not None:
            _check_distance(name, condition, space)
        elif isinstance(condition, Dirichlet):
            if not condition.boundary.is_whole:
                raise ValueError(f"condition {name!r}: exact=True needs the whole boundary, or a distance function "
                                 "for part of it (distance=...); or impose it as a loss term (exact=False)")
            try:
                space.distance_factor(torch.zeros(1, space.dim, dtype=torch.float64))
            except NotImplementedError as err:
                raise ValueError(f"condition {name!r}: exact=True is not available on this geometry ({err})") from None
        elif not isinstance(condition, Initial):
            raise ValueError(f"condition {name!r}: only Dirichlet and Initial conditions can be exact")
        per_field = rules.setdefault(condition.field, {})
        if slot in per_field:
            raise ValueError(f"condition {name!r}: field {condition.field!r} already has an exact {slot} condition")
        per_field[slot] = condition
    for name, condition in conditions.items():
        if getattr(condition, "exact", False) and getattr(condition, "derivative", 0) \
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


def resolve_rates(conditions: Mapping[str, object], known: Mapping[str, object] | None = None) -> dict[str, object]:
    """The conditions with every initial rate of ``exact=None`` ("exact where possible") made True or
    False: exact when its field's initial value is exact (``exact=True``, or None on a field without a
    known part), otherwise a loss term. Run after the value conditions' own ``exact`` is settled."""
    known = known or {}

    def value_exact(field: str) -> bool:
        return any(isinstance(c, Initial) and not c.derivative and c.field == field
                   and (c.exact or (c.exact is None and field not in known)) for c in conditions.values())

    return {name: dataclasses.replace(c, exact=value_exact(c.field))
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
