"""Integration of a learned vector field: one function, :func:`integrate`, over torchdiffeq.

A batch of trajectories, each with its own start and its own observation times, is integrated in one
solve: trajectory ``i`` runs in its own clock ``tau = t - t0_i``, scaled by its span where spans differ
(``t = t0_i + s * span_i`` for ``s`` in [0, 1], ``dy/ds = span_i f(t, y)``), and each trajectory's values
are taken at its own times. No observation time is rounded or interpolated onto a shared grid beyond
what the solver itself does (dopri5's dense output, to its tolerance); see
``tests/test_dynamics.py::test_a_batch_of_irregular_trajectories_equals_each_alone``.

Stiff problems: torchdiffeq's released version (0.2.5) has no implicit solver with gradients. An
explicit solver on a stiff field takes ever smaller steps; torchdiffeq then fails with "underflow in
dt", which a run reports as a fault naming the method. The remedies are the user's: rescale the
states or the time, use ``method="rk4"`` with a step below the stability limit, or learn on shorter
windows (``Windows``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

METHODS = ("dopri5", "rk4")


@dataclass(frozen=True)
class Integration:
    """How trajectories are integrated.

    Args:
        method: ``dopri5`` (adaptive Dormand-Prince 5(4)) or ``rk4`` (fixed-step Runge-Kutta 4, step ``step``).
        rtol: dopri5's relative tolerance.
        atol: dopri5's absolute tolerance.
        step: rk4's step, in the trajectory's time units (steps are also cut at every observation time, so
            no value is interpolated between steps).
        adjoint: gradients by the adjoint method (``odeint_adjoint``: memory flat in the number of solver
            steps, an extra backward solve) instead of backpropagation through the solver's steps.
        max_steps: dopri5's limit of steps per solve; a field that needs more (a stiff or diverging one) fails
            with a clear message rather than running for ever.
    """

    method: str = "dopri5"
    rtol: float = 1e-7
    atol: float = 1e-9
    step: float | None = None
    adjoint: bool = False
    max_steps: int = 100_000

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"Integration method must be one of {', '.join(METHODS)}, got {self.method!r} "
                             "(torchdiffeq's released version has no implicit solver; see pinn.dynamics.integrate)")
        for name in ("rtol", "atol"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
                raise ValueError(f"Integration {name} must be a number in (0, 1), got {value!r}")
        if self.method == "rk4":
            if isinstance(self.step, bool) or not isinstance(self.step, (int, float)) or not self.step > 0:
                raise ValueError(f"Integration method 'rk4' needs step > 0, got {self.step!r}")
        elif self.step is not None:
            raise ValueError(f"Integration step is rk4's; method {self.method!r} chooses its own steps (give step=None)")
        if not isinstance(self.adjoint, bool):
            raise ValueError(f"Integration adjoint must be True or False, got {self.adjoint!r}")
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int) or self.max_steps < 1:
            raise ValueError(f"Integration max_steps must be a whole number >= 1, got {self.max_steps!r}")


Field = Callable[[Tensor, Tensor], Tensor]  # f(t, y): t (batch, 1) or a 0-d tensor, y (batch, states)


class _Clock(nn.Module):
    """``f`` in each trajectory's own clock: ``d y / d s = scale_i f(t0_i + scale_i s, y)``."""

    def __init__(self, field: nn.Module, start: Tensor, scale: Tensor | None) -> None:
        super().__init__()
        self.field, self.start, self.scale = field, start, scale

    def forward(self, s: Tensor, y: Tensor) -> Tensor:
        if self.scale is None:
            return self.field(self.start + s, y)
        return self.scale * self.field(self.start + self.scale * s, y)


def integrate(field: nn.Module, initial: Tensor, times: list[Tensor], integration: Integration) -> list[Tensor]:
    """The states of each trajectory at its own times.

    Args:
        field: ``f(t, y)`` as a module (its parameters are the adjoint's), ``t`` of shape (batch, 1), ``y`` of
            shape (batch, states), returning (batch, states).
        initial: the state of each trajectory at its first time, (batch, states).
        times: each trajectory's times, strictly increasing (its first time is where ``initial`` holds).
        integration: the method and its settings.

    Returns:
        One tensor per trajectory, (len(times[i]), states), its first row ``initial[i]``.
    """
    if len({t.numel() for t in times}) == 1:  # trajectories of one length: the vectorised route
        return list(integrate_windows(field, initial, torch.stack(times), integration))
    return _integrate_each(field, initial, times, integration)


def integrate_windows(field: nn.Module, initial: Tensor, times: Tensor, integration: Integration) -> Tensor:
    """:func:`integrate` of trajectories that all have ``times.shape[1]`` times (``times`` (batch, n)), as one
    tensor (batch, n, states); where their local times agree (windows of a regular series), in a few whole-batch
    operations."""
    local = times - times[:, :1]
    spans = local[:, -1]
    shared = _rounding(spans.abs().max())
    if bool(torch.all(torch.abs(local - local[0]) <= shared)):
        states = _solve(field, initial, times[:, :1], None, local[0], integration)  # (n, batch, states)
        return states.transpose(0, 1)
    return torch.stack(_integrate_each(field, initial, list(times.unbind(0)), integration))


def _integrate_each(field: nn.Module, initial: Tensor, times: list[Tensor], integration: Integration) -> list[Tensor]:
    starts = torch.stack([t[0] for t in times]).unsqueeze(1)
    spans = torch.stack([t[-1] - t[0] for t in times])
    same_span = bool(torch.all(torch.abs(spans - spans[0]) <= _rounding(spans[0])))
    if same_span:  # a shared clock tau = t - t0_i: the common case (windows of a regular series) costs nothing more
        scale, local = None, [t - t[0] for t in times]
    else:  # each trajectory's span mapped onto [0, 1]
        safe = torch.where(spans > 0, spans, torch.ones_like(spans))
        scale = safe.unsqueeze(1)
        local = [(t - t[0]) / s for t, s in zip(times, safe)]
    grid, where = _union(local)
    states = _solve(field, initial, starts, scale, grid, integration)  # (grid, batch, states)
    return [states[index, i] for i, index in enumerate(where)]


def _solve(field: nn.Module, initial: Tensor, starts: Tensor, scale: Tensor | None, grid: Tensor,
           integration: Integration) -> Tensor:
    """The states on the local ``grid`` (grid, batch, states), each trajectory in its own clock."""
    import torchdiffeq

    if grid.numel() == 1:  # every trajectory is a single observation: nothing to integrate
        return initial.unsqueeze(0)
    clock = _Clock(field, starts, scale)
    options = _options(integration, scale)
    solve = torchdiffeq.odeint_adjoint if integration.adjoint else torchdiffeq.odeint
    kwargs = {"adjoint_params": tuple(field.parameters())} if integration.adjoint else {}
    return solve(clock, initial, grid, method=integration.method, rtol=integration.rtol, atol=integration.atol,
                 options=options, **kwargs)


def _rounding(scale: Tensor) -> Tensor:
    """Times closer than this are one time: windows of a regular series, shifted to start at zero, differ
    by rounding only (64 units in the last place of the span)."""
    return 64 * torch.finfo(scale.dtype).eps * torch.clamp(torch.abs(scale), min=1.0)


def _union(local: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
    """The sorted union of every trajectory's local times (times within rounding of each other merged) and,
    per trajectory, where its times are in it."""
    first = local[0]
    tolerance = _rounding(max(float(t[-1]) for t in local) * torch.ones((), dtype=first.dtype))
    if all(t.shape == first.shape and bool(torch.all(torch.abs(t - first) <= tolerance)) for t in local[1:]):
        index = torch.arange(first.numel(), device=first.device)
        return first, [index] * len(local)
    merged = torch.cat(local)
    order = torch.argsort(merged)
    ordered = merged[order]
    new = torch.ones_like(ordered, dtype=torch.bool)
    new[1:] = (ordered[1:] - ordered[:-1]) > tolerance
    group = torch.cumsum(new.long(), 0) - 1  # the union point each sorted time belongs to
    inverse = torch.empty_like(group)
    inverse[order] = group
    grid = ordered[new]
    where, offset = [], 0
    for t in local:
        where.append(inverse[offset:offset + t.numel()])
        offset += t.numel()
    return grid, where


def _options(integration: Integration, scale: Tensor | None) -> dict:
    if integration.method == "rk4":
        # In a scaled clock a step of `step` time units is step / span: the largest span rules all.
        step = integration.step if scale is None else integration.step / float(scale.max())
        return {"grid_constructor": _grid_through(step)}
    return {"max_num_steps": integration.max_steps}


def _grid_through(step: float) -> Callable:
    """rk4's grid: steps of ``step`` from the first time, and every observation time, so that each value is
    taken at the end of a step, never interpolated between steps."""

    def grid(func, y0, t: Tensor) -> Tensor:
        count = int(torch.ceil(torch.abs(t[-1] - t[0]) / step).item())
        direction = torch.sign(t[-1] - t[0])
        regular = t[0] + direction * step * torch.arange(count + 1, dtype=t.dtype, device=t.device)
        # Steps that end within rounding of an observation time would be steps of (almost) nothing: dropped.
        apart = torch.abs(regular[:, None] - t[None, :]).min(dim=1).values > _rounding(t[-1] - t[0]) * 4
        regular = regular[(direction * (regular - t[-1]) < 0) & apart]
        merged = torch.unique(torch.cat([regular, t]), sorted=True)
        return merged if direction >= 0 else merged.flip(0)

    return grid
