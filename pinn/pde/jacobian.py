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
- anything else (loss conditions, autograd sites): rows by reverse mode, a batch of them per
  backward pass (``is_grads_batched``), which costs a pass per row and is meant for the small sets
  of condition points.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from pinn.derivatives.engine import Site, assemble
from pinn.derivatives.jet import Jet
from pinn.derivatives.known import KnownFields
from pinn.pde.build import loss_conditions
from pinn.pde.losses import RESIDUALS, LossFunction, Points, trainable_weights

ROWS_PER_PASS = 256  # reverse-mode rows per batched backward pass


class ResidualJacobian:
    """The scaled residual vector of a :class:`LossFunction`'s problem and its Jacobian in the weights."""

    def __init__(self, loss: LossFunction) -> None:
        self.loss = loss
        self._vmap_failed = False  # the per-point route failed once: use reverse mode from then on

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

            def at_condition(f, condition=condition, batch=batch):
                return condition.residual(f, batch)

            f = engine.fields([Site(name, batch.coordinates, batch.normals, at_condition)], eager=True)[name]
            rows = at_condition(f).reshape(-1)
            rows = rows * math.sqrt(weights.get(name, 1.0) * condition.weight / rows.numel())
            parts.append(self._by_reverse_mode(rows))
        residuals = torch.cat([r for r, _ in parts])
        return residuals, torch.cat([j for _, j in parts])

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

        values, jacobian = self._jacobian_per_point(x, scaled_residuals, each)
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

        _, rows = self._jacobian_per_point(x, combined, torch.stack(coefficients, dim=1))  # (N, values, P)
        direct_rows = torch.stack(direct, dim=1)  # (N, values, unknowns)
        for j, (_, offset) in enumerate(raw):
            rows[:, :, offset] += direct_rows[:, :, j]
        return torch.cat(columns), rows.transpose(0, 1).reshape(-1, rows.shape[-1])

    def _jacobian_per_point(self, x: Tensor, evaluate: Callable[[dict, Tensor, Tensor | None], Tensor],
                            extra: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``evaluate(known, point, extra[i])`` (a vector) at every point i and its Jacobian with respect
        to every weight, by vmap over the points of jacrev of the Taylor pass at one point: (N, m),
        (N, m, P). ``extra`` (per-point data held fixed) may be None."""
        engine = self.loss.engine
        at_one_point = _AtOnePoint(self.loss.model, engine.plans[RESIDUALS], evaluate)
        params = trainable_weights(self.loss.model)
        transform = engine.transform_jet(RESIDUALS, x)
        n = x.shape[0]
        jets = () if transform is None else tuple(
            t for jet in transform for t in (jet.value, _rows_per_point(jet.first, n), _rows_per_point(jet.second, n)))

        def evaluated(p: dict[str, Tensor], point: Tensor, extra: Tensor | None,
                      *jet_parts: Tensor) -> tuple[Tensor, Tensor]:
            r = torch.func.functional_call(at_one_point, p, (point, extra, jet_parts))
            return r, r

        jacobian, values = torch.func.vmap(
            torch.func.jacrev(evaluated, has_aux=True),
            in_dims=(None, 0, None if extra is None else 0, *([0, 1, 1] * (len(jets) // 3))), chunk_size=1024,
        )(params, x.detach(), None if extra is None else extra.detach(), *jets)
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

    def __init__(self, model: nn.Module, plan, evaluate: Callable[[dict, Tensor, Tensor | None], Tensor]) -> None:
        super().__init__()
        self.model = model
        self.plan = plan
        self.evaluate = evaluate

    def forward(self, point: Tensor, extra: Tensor | None, jet_parts: tuple[Tensor, ...]) -> Tensor:
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
