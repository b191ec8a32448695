"""The residual vector of a physics-informed problem and its Jacobian in the weights, for the
Levenberg-Marquardt phase (:mod:`pinn.train.phases.levenberg_marquardt`).

Every residual, at every point, is scaled by the square root of its term's weight over its number
of points (and of the point's own weight, with causal training), so that ``r @ r`` is the weighted
loss. The rows of ``J = dr/dtheta`` come from the
problem's own residual functions, through the derivative engine:

- interior residuals served by Taylor mode: each point's residuals depend on that point alone, so
  ``torch.func.vmap`` over the points of ``jacrev`` (with respect to the weights) of the Taylor pass
  at one point gives every row at the cost of a few batched backward passes. Residuals that
  differentiate expressions (``pinn.div(f, k * pinn.grad(f, "u"))``) get the rows of the
  derivatives they are built from this way, then the chain rule through the residual's own
  pointwise arithmetic;
- loss conditions whose residual at a point depends on that point alone (``Condition.pointwise``:
  Dirichlet, Neumann, Robin, Initial, Data, Traction) served by Taylor mode without differentiating
  expressions: the same vmap over their points, with each point's normal and target held fixed, so
  their cost grows with their number of points, not with its square;
- anything else (periodic conditions, which couple two points; conditions of the user's that do
  not declare themselves pointwise; autograd sites): rows by reverse mode, a batch of them per
  backward pass (``is_grads_batched``), which costs a pass per row over the whole batch.

A pointwise condition's per-point values are checked against its batched residual once: if they
differ, the condition was not pointwise after all and its rows come by reverse mode from then on.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from pinn.derivatives.engine import Site, assemble
from pinn.derivatives.jet import Jet
from pinn.derivatives.known import KnownFields
from pinn.pde.build import loss_conditions
from pinn.pde.conditions import Batch, Condition
from pinn.pde.losses import RESIDUALS, LossFunction, Points, trainable_weights

logger = logging.getLogger(__name__)

ROWS_PER_PASS = 256  # reverse-mode rows per batched backward pass


class ResidualJacobian:
    """The scaled residual vector of a :class:`LossFunction`'s problem and its Jacobian in the weights."""

    def __init__(self, loss: LossFunction) -> None:
        self.loss = loss
        self._vmap_failed = False  # the per-point route failed once: use reverse mode from then on
        self._per_point_conditions = True  # False: every condition by reverse mode (to compare the routes)
        self._checked: set[str] = set()  # conditions whose per-point values matched their batched residual
        self._by_rows: set[str] = set()  # conditions the per-point route cannot serve: reverse mode

    @property
    def parameters(self) -> list[Tensor]:
        return [p for p in self.loss.model.parameters() if p.requires_grad]

    # ------------------------------------------------------------ Jacobian
    def __call__(self, points: Points, weights: dict[str, float]) -> tuple[Tensor, Tensor]:
        """The scaled residual vector r (``r @ r`` is the weighted loss) and ``J = dr/dtheta``."""
        engine, problem = self.loss.engine, self.loss.problem
        if RESIDUALS not in engine.plans or any(name not in engine.plans for name in loss_conditions(problem)):
            self.loss(points)  # plans every site
        parts = [self._interior(points, weights)]
        for name, condition in loss_conditions(problem).items():
            batch = points.conditions[name]
            factor = weights.get(name, 1.0) * condition.weight
            served = self._condition_per_point(name, condition, batch, factor) if self._pointwise_route(name) else None
            parts.append(self._condition_by_reverse_mode(name, condition, batch, factor) if served is None
                         else served)
        residuals = torch.cat([r for r, _ in parts])
        return residuals, torch.cat([j for _, j in parts])

    # ---------------------------------------------------------- conditions
    def _pointwise_route(self, name: str) -> bool:
        """Whether condition ``name``'s rows may come point by point (see the module's docstring)."""
        plan = self.loss.engine.plans.get(name)
        condition = self.loss.problem.conditions[name]
        return (self._per_point_conditions and not self._vmap_failed and name not in self._by_rows
                and plan is not None and not plan.chain_rule and getattr(condition, "pointwise", False))

    def _condition_by_reverse_mode(self, name: str, condition: Condition, batch: Batch,
                                   factor: float) -> tuple[Tensor, Tensor]:
        rows = self._batched_rows(name, condition, batch)
        return self._by_reverse_mode(rows * math.sqrt(factor / rows.numel()))

    def _batched_rows(self, name: str, condition: Condition, batch: Batch) -> Tensor:
        """The condition's residual at all its points at once, by the eager engine."""
        def at_condition(f):
            return condition.residual(f, batch)

        f = self.loss.engine.fields([Site(name, batch.coordinates, batch.normals, at_condition)], eager=True)[name]
        return at_condition(f).reshape(-1)

    def _condition_per_point(self, name: str, condition: Condition, batch: Batch,
                             factor: float) -> tuple[Tensor, Tensor] | None:
        """A pointwise condition's scaled rows, point-major (every residual value at the first
        point, then the next point, as its batched residual orders them), by vmap over its points;
        None where the per-point route cannot serve it (then it never tries again)."""
        m = self.loss.model
        x = batch.coordinates
        n = x.shape[0]
        # each point's own normal and target; anything not one per point is shared by every point
        extra = (batch.normals, batch.target)
        dims = tuple(None if t is None or t.dim() == 0 or t.shape[0] != n else 0 for t in extra)

        def residual_at(known: dict, point: Tensor, own: tuple) -> Tensor:
            normals, target = (t if t is None or d is None else t.unsqueeze(0) for t, d in zip(own, dims))
            f = KnownFields(point, known, m.inputs, m.outputs, m.time, normals, m.unknowns())
            return condition.residual(f, Batch(point, normals, target)).reshape(-1)

        try:
            values, jacobian = self._jacobian_per_point(name, x, residual_at, extra, dims)
        except (RuntimeError, NotImplementedError, ValueError, IndexError, TypeError) as err:
            reason = f"vmap could not evaluate it ({type(err).__name__}: {err})"
        else:
            reason = "" if name in self._checked else self._differs_from_batched(name, condition, batch, values)
        if reason:  # reverse mode serves it, now and from then on
            logger.info("Levenberg-Marquardt rows of condition %r by reverse mode: %s", name, reason)
            self._by_rows.add(name)
            return None
        self._checked.add(name)
        scale = math.sqrt(factor / values.numel())
        return scale * values.reshape(-1), scale * jacobian.reshape(values.numel(), -1)

    def _differs_from_batched(self, name: str, condition: Condition, batch: Batch, values: Tensor) -> str:
        """Why the per-point values (N, k) are not the condition's batched residual ('' if they are):
        a condition that declares itself pointwise but couples its points, or orders its rows
        otherwise than point-major."""
        with torch.no_grad():
            batched = self._batched_rows(name, condition, batch)
        if batched.shape != values.reshape(-1).shape:
            return f"{values.numel()} values point by point, {batched.numel()} at once"
        difference = float((batched - values.reshape(-1)).abs().max()) if batched.numel() else 0.0
        tolerance = (1e-10 if batched.dtype == torch.float64 else 1e-4) * max(float(batched.abs().max()), 1.0)
        if not difference <= tolerance:
            return f"its values point by point differ from those at once by {difference:.3g}"
        return ""

    def _interior(self, points: Points, weights: dict[str, float]) -> tuple[Tensor, Tensor]:
        x = points.interior
        scales = {name: math.sqrt(weights.get(name, 1.0) / x.shape[0]) for name in self.loss.problem.residuals}
        # the points' own weights (causal training): sqrt(w_p) on every residual at point p
        each = None if points.interior_weights is None else points.interior_weights.sqrt()
        plan = self.loss.engine.plans.get(RESIDUALS)
        if plan is not None and not self._vmap_failed:
            try:
                return self._by_chain_rule(x, scales, each) if plan.chain_rule else self._per_point(x, scales, each)
            except (RuntimeError, NotImplementedError, ValueError):
                self._vmap_failed = True  # an operation vmap cannot batch: reverse mode serves
        transform = self.loss.engine.transform_jet(RESIDUALS, x)
        site = Site(RESIDUALS, x, None, self._evaluate_interior, transform)
        f = self.loss.engine.fields([site], eager=True)[RESIDUALS]  # differentiated row by row
        rows = torch.cat([scales[name] * (r if each is None else each * r)
                          for name, r in self._evaluate_interior(f).items()])
        return self._by_reverse_mode(rows)

    def _evaluate_interior(self, f) -> dict[str, Tensor]:
        return {name: residual(f).reshape(-1) for name, residual in self.loss.problem.residuals.items()}

    def _per_point(self, x: Tensor, scales: dict[str, float], each: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Rows point by point: vmap over the points of jacrev of the Taylor pass and the residuals at
        one point, times the point's factor ``each`` (None: 1). Rows are point-major (every residual
        at the first point, then the next point)."""
        m, residuals = self.loss.model, self.loss.problem.residuals

        def scaled_residuals(known: dict, point: Tensor, factor: Tensor | None) -> Tensor:
            f = KnownFields(point, known, m.inputs, m.outputs, m.time, None, m.unknowns())
            rows = torch.cat([scales[name] * residual(f).reshape(-1) for name, residual in residuals.items()])
            return rows if factor is None else factor * rows

        values, jacobian = self._jacobian_per_point(RESIDUALS, x, scaled_residuals, each)
        return values.reshape(-1), jacobian.reshape(values.numel(), -1)

    def _by_chain_rule(self, x: Tensor, scales: dict[str, float], each: Tensor | None = None
                       ) -> tuple[Tensor, Tensor]:
        """Rows of residuals that differentiate expressions (``pinn.div(f, k * pinn.grad(f, "u"))``).

        Such a residual is a pointwise function ``R(x, K)`` of the derivatives ``K`` the engine
        computes (its own derivatives come from them by the chain rule, see
        :mod:`pinn.derivatives.known`), so its row at point i is ``sum_k dR/dK_k dK_k/dtheta``:
        ``dR/dK_k`` at every point at once by one reverse pass of ``sum(R)`` (point i's residual
        depends on point i's ``K`` alone), then the row by vmap over the points of jacrev of
        ``sum_k c_k K_k`` with those coefficients ``c`` held fixed, one reverse pass per residual
        value as for plain residuals. The unknowns' direct part comes by a double reverse pass. Rows
        are residual-major (every point of the first residual, then the next residual)."""
        m, engine = self.loss.model, self.loss.engine
        plan = engine.plans[RESIDUALS]
        with torch.no_grad():
            (known,) = assemble(m.net, (x.detach(),), (plan,), (engine.transform_jet(RESIDUALS, x),))
        leaves = {key: value.detach().requires_grad_(True) for key, value in known.items()}
        f = KnownFields(x.detach().requires_grad_(True), leaves, m.inputs, m.outputs, m.time, None, m.unknowns())
        offsets = _offsets(self.parameters)
        raw = [(p, offsets[id(p)]) for p in m.unknowns.parameters() if p.requires_grad]
        n = x.shape[0]
        columns, coefficients, direct = [], [], []
        for name, residual in self.loss.problem.residuals.items():
            scaled = scales[name] * residual(f).reshape(n, -1)
            for column in (scaled if each is None else each[:, None] * scaled).unbind(dim=1):
                partials = torch.autograd.grad(column.sum(), list(leaves.values()), retain_graph=True,
                                               allow_unused=True)
                coefficients.append(torch.stack([column.new_zeros(n) if d is None else d for d in partials], dim=1))
                unknowns = column.new_zeros(n, len(raw))
                for j, (p, _) in enumerate(raw):  # d column_i / d p for every i: the gradient of v -> v . dcolumn/dp
                    seed = torch.zeros_like(column, requires_grad=True)
                    (through,) = torch.autograd.grad(column, p, seed, create_graph=True, allow_unused=True)
                    if through is not None and through.requires_grad:
                        unknowns[:, j] = torch.autograd.grad(through.sum(), seed, retain_graph=True)[0]
                direct.append(unknowns)
                columns.append(column.detach())
        keys = list(leaves)

        def combined(known: dict, point: Tensor, c: Tensor) -> Tensor:  # c: (residual values, keys)
            return c @ torch.stack([known[key].reshape(()) for key in keys])

        _, rows = self._jacobian_per_point(RESIDUALS, x, combined, torch.stack(coefficients, dim=1))  # (N, values, P)
        direct_rows = torch.stack(direct, dim=1)  # (N, values, unknowns)
        for j, (_, offset) in enumerate(raw):
            rows[:, :, offset] += direct_rows[:, :, j]
        return torch.cat(columns), rows.transpose(0, 1).reshape(-1, rows.shape[-1])

    def _jacobian_per_point(self, site: str, x: Tensor, evaluate: Callable[[dict, Tensor, object], Tensor],
                            extra: object = None, extra_dims: object = 0) -> tuple[Tensor, Tensor]:
        """``evaluate(known, point, extra[i])`` (a vector) at every point i of ``site`` and its Jacobian
        with respect to every weight, by vmap over the points of jacrev of the Taylor pass at one
        point: (N, m), (N, m, P). ``extra`` (per-point data held fixed: a tensor, or a tuple of
        tensors and Nones) may be None; ``extra_dims`` is its ``in_dims`` (0: split along the points, None: shared)."""
        engine = self.loss.engine
        at_one_point = _AtOnePoint(self.loss.model, engine.plans[site], evaluate)
        params = trainable_weights(self.loss.model)
        transform = engine.transform_jet(site, x)
        n = x.shape[0]
        jets = () if transform is None else tuple(
            t for jet in transform for t in (jet.value, _rows_per_point(jet.first, n), _rows_per_point(jet.second, n)))

        def evaluated(p: dict[str, Tensor], point: Tensor, extra: object,
                      *jet_parts: Tensor) -> tuple[Tensor, Tensor]:
            r = torch.func.functional_call(at_one_point, p, (point, extra, jet_parts))
            return r, r

        held = (extra.detach() if isinstance(extra, Tensor)
                else None if extra is None else tuple(None if t is None else t.detach() for t in extra))
        jacobian, values = torch.func.vmap(
            torch.func.jacrev(evaluated, has_aux=True),
            in_dims=(None, 0, None if extra is None else extra_dims, *([0, 1, 1] * (len(jets) // 3))),
            chunk_size=1024,
        )(params, x.detach(), held, *jets)
        columns = [jacobian[name].reshape(*values.shape, -1) for name in params]
        return values, torch.cat(columns, dim=-1)

    def _by_reverse_mode(self, rows: Tensor) -> tuple[Tensor, Tensor]:
        """Rows' gradients, ``ROWS_PER_PASS`` per batched backward pass."""
        parameters = self.parameters
        blocks = []
        for start in range(0, rows.numel(), ROWS_PER_PASS):
            count = min(ROWS_PER_PASS, rows.numel() - start)
            seeds = rows.new_zeros(count, rows.numel())
            seeds[torch.arange(count), start + torch.arange(count)] = 1.0
            grads = torch.autograd.grad(rows, parameters, seeds, retain_graph=True, allow_unused=True,
                                        is_grads_batched=True)
            blocks.append(torch.cat([(rows.new_zeros(count, p.numel()) if g is None else g.reshape(count, -1))
                                     for p, g in zip(parameters, grads)], dim=1))
        jacobian = torch.cat(blocks) if blocks else rows.new_zeros(0, sum(p.numel() for p in parameters))
        return rows.detach(), jacobian


class _AtOnePoint(nn.Module):
    """``evaluate(known, point, extra)`` from the Taylor pass at one point, as a module so that
    ``functional_call`` can swap the model's weights for the ones being differentiated."""

    def __init__(self, model: nn.Module, plan, evaluate: Callable[[dict, Tensor, object], Tensor]) -> None:
        super().__init__()
        self.model = model
        self.plan = plan
        self.evaluate = evaluate

    def forward(self, point: Tensor, extra: object, jet_parts: tuple[Tensor, ...]) -> Tensor:
        x = point.unsqueeze(0)
        directions = self.plan.directions
        transform = None
        if jet_parts:
            offset, scale = (Jet(v.unsqueeze(0), f.unsqueeze(1), s.unsqueeze(1), directions)
                             for v, f, s in (jet_parts[:3], jet_parts[3:]))
            transform = (offset, scale)
        (known,) = assemble(self.model.net, (x,), (self.plan,), (transform,))
        return self.evaluate(known, x, extra)


def _offsets(parameters: list[Tensor]) -> dict[int, int]:
    """Each parameter's first column in the Jacobian, by ``id``."""
    offsets, total = {}, 0
    for p in parameters:
        offsets[id(p)] = total
        total += p.numel()
    return offsets


def _rows_per_point(rows: Tensor | None, n: int) -> Tensor:
    """Jet derivative rows (k, N or 1, m) with the point dimension at full length N."""
    return rows.expand(-1, n, -1)
