"""Exact imposition of Dirichlet and initial conditions through the network's output.

For an output u with an exact Dirichlet value g on the whole spatial boundary and/or an exact
initial value u0, the network's raw output N is transformed so the conditions hold identically:

    Dirichlet only:   u = g(x, t) + D(x) N
    initial only:     u = u0(x) + s(t) N
    both:             u = g(x, t) + u0(x) - g(x, t0) + D(x) s(t) N

where D is the geometry's distance factor (zero on the boundary, positive inside) and
s(t) = (t - t0) / (t1 - t0). The combined form needs u0 = g(., t0) on the boundary, which any
well-posed problem satisfies; the problem checks it when built.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from pinn.conditions import Dirichlet, Initial, evaluate
from pinn.geometry import Geometry, SpaceTime


@dataclass(frozen=True)
class _Exact:
    dirichlet: Dirichlet | None
    initial: Initial | None


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
        columns = []
        for j, name in enumerate(self._outputs):
            rule = self._exact.get(name)
            columns.append(raw[:, j] if rule is None else self._apply(rule, points, raw[:, j]))
        return torch.stack(columns, dim=1)

    def _apply(self, rule: _Exact, points: Tensor, raw: Tensor) -> Tensor:
        space_points = points[:, : self._space.dim]
        scale = torch.ones_like(raw)
        offset = torch.zeros_like(raw)
        if rule.dirichlet is not None:
            scale = scale * self._space.distance_factor(space_points)
            offset = offset + evaluate(rule.dirichlet.value, points, self._inputs, self._time)
        if rule.initial is not None:
            t0, t1 = self._domain.time.t0, self._domain.time.t1
            scale = scale * (points[:, -1] - t0) / (t1 - t0)
            offset = offset + evaluate(rule.initial.value, points, self._inputs, self._time)
            if rule.dirichlet is not None:
                at_start = torch.cat([space_points, torch.full_like(points[:, -1:], t0)], dim=1)
                offset = offset - evaluate(rule.dirichlet.value, at_start, self._inputs, self._time)
        return offset + scale * raw


def exact_rules(conditions: dict[str, object], domain: Geometry) -> dict[str, _Exact]:
    """Collect the exact conditions per field; raise ValueError where one cannot be imposed exactly."""
    space = domain.space if isinstance(domain, SpaceTime) else domain
    rules: dict[str, dict[str, object]] = {}
    for name, condition in conditions.items():
        if not getattr(condition, "exact", False):
            continue
        slot = "dirichlet" if isinstance(condition, Dirichlet) else "initial"
        if isinstance(condition, Dirichlet):
            if not condition.boundary.is_whole:
                raise ValueError(f"condition {name!r}: exact=True needs the whole boundary; impose a Dirichlet "
                                 "condition on part of it as a loss term (exact=False)")
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
    return {f: _Exact(r.get("dirichlet"), r.get("initial")) for f, r in rules.items()}

