"""Collocation points of a run and the loss terms evaluated on them."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from pinn.pde.problem import Problem

from pinn.pde.conditions import Batch
from pinn.derivatives.engine import CompileMismatch, Engine, Site, compile_function
from pinn.derivatives.fields import Fields
from pinn.pde.model import Model
from pinn.pde.build import condition_batch, loss_conditions, points_for
from pinn.train.weighting import weighted_total


@dataclass
class Points:
    """The interior points where residuals are evaluated, each loss condition's batch, and the
    interior points' weights where the residuals' means are weighted (causal training,
    :mod:`pinn.pde.causal`; None for plain means)."""

    interior: Tensor
    conditions: dict[str, Batch]
    interior_weights: Tensor | None = None

    def state_dict(self) -> dict:
        return {"interior": self.interior,
                "conditions": {k: {"coordinates": b.coordinates, "normals": b.normals, "target": b.target}
                               for k, b in self.conditions.items()},
                "interior_weights": self.interior_weights}

    @classmethod
    def from_state_dict(cls, state: dict, device: torch.device) -> "Points":
        move = (lambda t: None if t is None else t.to(device))
        return cls(move(state["interior"]),
                   {k: Batch(move(b["coordinates"]), move(b["normals"]), move(b["target"]))
                    for k, b in state["conditions"].items()},
                   move(state.get("interior_weights")))


def draw_points(problem: Problem, rng: np.random.Generator, dtype: torch.dtype, device: torch.device,
                previous: Points | None = None, kept: Tensor | None = None) -> Points:
    """Fresh collocation points; conditions on fixed points (data) keep their previous batch, and the
    interior points ``kept`` stay, fresh ones filling the count."""
    method = problem.sampling.method
    fresh = problem.sampling.interior - (0 if kept is None else kept.shape[0])
    interior = torch.as_tensor(problem.domain.sample_interior(fresh, method, rng), dtype=dtype, device=device)
    if kept is not None:
        interior = torch.cat([kept, interior])
    batches = {}
    for name, condition in loss_conditions(problem).items():
        if previous is not None and not condition.resampled:
            batches[name] = previous.conditions[name]
        else:
            batches[name] = condition_batch(problem, condition, points_for(problem, condition), method, rng,
                                            dtype, device)
    return Points(interior, batches)


# compile="auto" compiles when evaluations x points x weights reaches this: about a minute of eager work on
# 2 CPU cores, which compiling (5-20 s) repays. A count, not a timing, so that one seed fixes a run.
COMPILE_WORK_THRESHOLD = 5e9
RESIDUALS = "residuals"  # the site of the PDE residuals; each loss condition is a site of its own name


class LossFunction:
    """The loss terms of a problem's model at a set of points: the mean squared residual of every PDE
    residual and the weighted mean square of every loss condition.

    Derivatives come from the engine ``derivatives`` (see :mod:`pinn.derivatives.engine`).
    :meth:`backward` is what training calls: the terms and the gradient of their (weighted) sum.

    With ``compile="auto"``, Taylor mode is compiled when the run is long enough to repay it:
    ``expected_calls`` x points x network weights >= ``COMPILE_WORK_THRESHOLD`` (a count, not a
    timing, so the choice never depends on the machine's load); ``on`` and ``off`` force it. What is
    compiled is, when every site runs Taylor mode without differentiating tensor expressions, the
    whole loss together with its gradient (``torch.func.grad``): one graph, run without the autograd
    engine, whose fixed cost per step is most of a small network's step. Where a residual
    differentiates tensor expressions (``pinn.div(f, k * grad u)`` needs autograd, which does not
    compile) it is the network pass at the interior points. The choice is made once, at the first
    call, checked against the eager result, and kept in :meth:`state_dict` so that a resumed run
    computes exactly as the uninterrupted one would.
    """

    def __init__(self, problem: Problem, model: Model, derivatives: str = "auto", compile: str = "off",
                 expected_calls: int = 0) -> None:
        self.problem = problem
        self.model = model
        self.engine = Engine(model, derivatives)
        self.compile_mode = compile
        self.expected_calls = expected_calls
        self.compile_status: dict[str, Any] = {}
        self._compiled_gradient: Callable | None = None
        self._weights: tuple[tuple[float, ...], Tensor] | None = None  # the last weights, as a tensor
        self._as_module = _TermsOf(self)  # made here: a module made inside a compiled function breaks its graph

    def __call__(self, points: Points) -> dict[str, Tensor]:
        """The loss terms, differentiable (by the eager engine, or its compiled network pass)."""
        if not self.compile_status:
            self._decide_compile(points)
        return self._terms(points)

    def backward(self, points: Points, weights: Mapping[str, float] | None = None) -> dict[str, Tensor]:
        """The loss terms at ``points`` (detached), after adding the gradient of ``sum_k w_k L_k`` to
        the ``.grad`` of every trainable parameter, as ``Tensor.backward`` does; ``w_k`` is
        ``weights[k]``, 1 where absent."""
        weights = weights or {}
        if not self.compile_status:
            self._decide_compile(points)
        if self._compiled_gradient is None:
            terms = self._terms(points)
            weighted_total(terms, weights).backward()
            return {name: term.detach() for name, term in terms.items()}
        trainable = trainable_weights(self.model)
        gradient, terms = self._compiled_gradient(trainable, self._weight_tensor(weights), points,
                                                  self._transforms(points))
        for name, p in self.model.named_parameters():
            if p.requires_grad:
                g = gradient[f"model.{name}"]
                p.grad = g if p.grad is None else p.grad + g
        return terms

    def _terms(self, points: Points, transforms: dict[str, Any] | None = None) -> dict[str, Tensor]:
        transforms = transforms or {}
        residuals = self.problem.residuals

        def interior(f: Fields) -> dict[str, Tensor]:
            return {name: residual(f).reshape(-1) for name, residual in residuals.items()}

        sites = [Site(RESIDUALS, points.interior, None, interior, transforms.get(RESIDUALS))]
        for name, condition in loss_conditions(self.problem).items():
            batch = points.conditions[name]

            def at_condition(f: Fields, condition=condition, batch=batch) -> Tensor:
                return condition.residual(f, batch)

            sites.append(Site(name, batch.coordinates, batch.normals, at_condition, transforms.get(name)))
        fields = self.engine.fields(sites)
        weights = points.interior_weights
        terms = {name: (r.square() if weights is None else weights * r.square()).mean()
                 for name, r in interior(fields[RESIDUALS]).items()}
        for site in sites[1:]:
            weight = self.problem.conditions[site.name].weight
            terms[site.name] = weight * site.evaluate(fields[site.name]).square().mean()
        return terms

    def squared_residuals(self, points: Points) -> Tensor:
        """Every interior point's squared residuals, summed over the residuals, unweighted and detached
        (N,): what causal weights are computed from. By the eager engine, at the current weights."""
        residuals = self.problem.residuals

        def interior(f: Fields) -> dict[str, Tensor]:
            return {name: residual(f).reshape(-1) for name, residual in residuals.items()}

        with torch.enable_grad():  # autograd sites differentiate the network at the points
            site = Site(RESIDUALS, points.interior, None, interior)
            values = interior(self.engine.fields([site], eager=True)[RESIDUALS])
        return sum(r.detach().square() for r in values.values())

    def _transforms(self, points: Points) -> dict[str, Any]:
        sites = {RESIDUALS: points.interior, **{n: b.coordinates for n, b in points.conditions.items()}}
        return {site: self.engine.transform_jet(site, p) for site, p in sites.items()}

    # ----------------------------------------------------------- compiling
    def _decide_compile(self, points: Points) -> None:
        self._terms(points)  # plans every site
        status: dict[str, Any] = {"compiled": False, "compile_time_s": 0.0}
        if self.engine.plans.get(RESIDUALS) is None:
            status["reason"] = "autograd at the interior points: nothing to compile"
        elif self.compile_mode == "off":
            status["reason"] = "compile=off"
        elif self.compile_mode == "auto" and (work := self._work(points)) < COMPILE_WORK_THRESHOLD:
            status["reason"] = (f"a short run ({work:.2g} evaluations x points x weights, under "
                                f"{COMPILE_WORK_THRESHOLD:.0e}): compiling would not pay")
        else:
            status.update(self._compile(points))
        self.compile_status = status

    def _work(self, points: Points) -> float:
        n_points = points.interior.shape[0] + sum(b.coordinates.shape[0] for b in points.conditions.values())
        return float(self.expected_calls) * n_points * sum(p.numel() for p in self.model.parameters())

    def _gradient(self, terms: dict[str, Tensor]) -> Tensor:
        parameters = [p for p in self.model.parameters() if p.requires_grad]
        grads = torch.autograd.grad(sum(terms.values()), parameters, allow_unused=True)
        return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for p, g in zip(parameters, grads)])

    def _weight_tensor(self, weights: Mapping[str, float]) -> Tensor:
        """The terms' weights in the terms' order, as a tensor (the same one while they are unchanged):
        an input of the compiled graph, not a constant in it, so new weights do not recompile it."""
        names = [*self.problem.residuals, *loss_conditions(self.problem)]
        values = tuple(float(weights.get(name, 1.0)) for name in names)
        if self._weights is None or self._weights[0] != values:
            p = next(self.model.parameters())
            self._weights = (values, torch.tensor(values, dtype=p.dtype, device=p.device))
        return self._weights[1]

    def _value_and_gradient(self, trainable: dict[str, Tensor], weights: Tensor, points: Points,
                            transforms: dict[str, Any]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """The gradient of ``sum_k w_k L_k`` with respect to ``trainable`` (named as in
        :func:`trainable_weights`) and the terms, as one function that ``torch.compile`` can compile."""
        def total(trainable: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
            terms = torch.func.functional_call(self._as_module, trainable, (points, transforms))
            return sum(w * term for w, term in zip(weights.unbind(), terms.values())), terms

        return torch.func.grad(total, has_aux=True)(trainable)

    def _compile(self, points: Points) -> dict[str, Any]:
        started = time.perf_counter()
        plans = self.engine.plans.values()
        whole = all(plan is not None and not plan.chain_rule for plan in plans)
        try:
            if whole:
                self._compiled_gradient = compile_function(self._value_and_gradient, points.interior.device)
                self._check_compiled(points)
            else:
                self.engine.compile({RESIDUALS})
                self._terms(points)  # compiles, and checks the network pass against the eager one
        except Exception as err:  # a compile failure must never stop a run: stay eager
            self._compiled_gradient = None
            self.engine.compiled_sites = set()
            message = str(err).splitlines()[0] if str(err) else ""
            return {"compiled": False, "reason": f"torch.compile failed or disagreed ({type(err).__name__}: {message})"}
        return {"compiled": True, "scope": "whole loss" if whole else "network pass at the interior points",
                "compile_time_s": time.perf_counter() - started,
                "reason": "compile=on" if self.compile_mode == "on" else "expected to pay off"}

    def _check_compiled(self, points: Points) -> None:
        gradient, compiled = self._compiled_gradient(trainable_weights(self.model), self._weight_tensor({}), points,
                                                     self._transforms(points))
        eager = self._terms(points)
        tolerance = 1e-10 if points.interior.dtype == torch.float64 else 1e-4
        # A term that is round-off next to the loss (a condition met by construction: 1e-32) is compared
        # at the loss's scale: its own relative difference is noise.
        floor = 1e-6 * sum(abs(float(value.detach())) for value in eager.values())
        for name, value in eager.items():
            got, want = float(compiled[name]), float(value.detach())
            if not abs(got - want) <= tolerance * max(abs(want), floor, 1e-30):
                raise CompileMismatch(f"compiled loss {name!r} = {got!r}, eager {want!r}")
        a, b = torch.cat([g.reshape(-1) for g in gradient.values()]), self._gradient(eager)
        if not float((a - b).norm()) <= tolerance * float(b.norm()):
            raise CompileMismatch(f"compiled loss gradient differs from eager by {float((a - b).norm()):.3g}")

    def state_dict(self) -> dict[str, Any]:
        return {"compile_status": dict(self.compile_status)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take over a saved run's compile choice (made again at the next call, but forced)."""
        saved = state.get("compile_status") or {}
        if saved:
            self.compile_mode = "on" if saved.get("compiled") else "off"
            self.compile_status = {}


def trainable_weights(model: nn.Module) -> dict[str, Tensor]:
    """The model's trainable weights, detached, named for ``functional_call`` on a module that holds the
    model as ``.model`` (as :class:`_TermsOf` does)."""
    return {f"model.{name}": p.detach() for name, p in model.named_parameters() if p.requires_grad}


class _TermsOf(nn.Module):
    """A :class:`LossFunction`'s terms as a module holding its model, so that ``functional_call`` can swap
    in the weights being differentiated."""

    def __init__(self, loss: LossFunction) -> None:
        super().__init__()
        self.model = loss.model
        self.terms = loss._terms

    def forward(self, points: Points, transforms: dict[str, Any]) -> dict[str, Tensor]:
        return self.terms(points, transforms)
