"""A PDE problem: fields, domain, residuals, conditions, reference, tolerance and training defaults.

A :class:`Problem` is a declaration: it checks itself once, when built (names, the domain, every
condition, and a dry run of every residual and condition on a few points), so a mistake is reported
at once and by name. What a run builds from it (the model, the batches of points) is made by
:mod:`pinn.pde.build`; nothing changes a problem once built.

Checks and settings. Of the training settings (``net``, ``sampling``, ``training``), the checks read
two, and only through their arguments: ``training.numerics.dtype`` (the dry run computes in it and every
residual must return it; observed values must be small enough to square in it) and
``training.numerics.seed`` (synthetic observations follow it). :meth:`Problem.with_settings` changes the
settings without checking the declaration again: a new dtype binds the data conditions again and
repeats the dry run, a new seed binds the data conditions again, and any other change is only
type-checked. A check that comes to read another setting must be added there too.
"""
from __future__ import annotations

import copy
import dataclasses
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from pinn.pde.conditions import Batch, Condition, Dirichlet, Initial, Neumann, Periodic, Robin, evaluate
from pinn.pde.exact import exact_rules, periodic_by_construction, resolve_exact, resolve_rates, time_rate
from pinn.pde.derived_quantities import check_derived
from pinn.derivatives.fields import FieldNameError, Fields, describe
from pinn.geometry import Geometry, SpaceTime
from pinn.nets import MLP, Net
from pinn.pde.observations import Data
from pinn.pde.build import build_model, condition_batch, condition_target
from pinn.references import Reference
from pinn.pde.automatic import automatic_net, automatic_sampling
from pinn.pde.collocation import Sampling
from pinn.train.settings import Training
from pinn.pde.unknowns import Unknown

Residual = Callable[[Fields], Tensor]


class ProblemError(ValueError):
    """A problem declaration is inconsistent; the message names the part at fault."""


@dataclass(frozen=True)
class Problem:
    """Everything that defines a PDE problem and how to solve it.

    Args:
        name: short identifier, used for the run folder (``runs/<name>``).
        inputs: input names, space first then time, e.g. ``"x y t"``: they name the domain's
            coordinates in order, and time is the last coordinate of ``space * pinn.TimeInterval``
            (an input named ``t`` or ``time`` anywhere else is refused).
        outputs: output field names, e.g. ``"u"`` or ``"u v p"`` (no underscores: ``u_x`` means a derivative).
        domain: a geometry, or ``space * pinn.TimeInterval(t0, t1)`` for time-dependent problems.
        residuals: name -> function of the fields returning what must vanish, shape (N,).
        conditions: name -> boundary, initial or data condition.
        reference: what the solution is validated against (analytic or finite-difference).
        tolerance: relative L2 error each field must reach against the reference (a number applies to all).
        net: the network (a :class:`pinn.MLP`, say). Leave out ``net``, ``sampling`` or ``training``
            (or a point count of ``sampling``) and the framework chooses it from the problem
            (:mod:`pinn.pde.automatic`): an MLP of 3 x 32, points by dimension and network size, and
            the automatic schedule (Adam, then L-BFGS, then Levenberg-Marquardt, each until its loss
            stalls) under a 10-minute budget. ``problem.automatic`` says what was chosen and why.
        sampling: how many collocation points, drawn how (a :class:`pinn.Sampling`).
        training: the optimiser phases and the numerics (a :class:`pinn.Training`).
        description: one line for reports.
        derived: name -> function of the fields (like a residual) for quantities computed from the
            outputs, such as stresses or vorticity: predicted, validated against the reference
            (with a tolerance, if given) and written like outputs (see :mod:`pinn.pde.derived_quantities`).
        plots: problem-specific figures, each a function ``plot(solution, reference, folder)``
            called at the end of a run with the trained :class:`pinn.Solution`, the reference
            grid (or None) and the run's ``plots/`` folder (e.g. :func:`pinn.elasticity_plots`).
        unknowns: coefficients to recover with the solution (an inverse problem), each a
            :class:`pinn.Unknown`, read in residuals as ``f.<name>``; ``tolerance`` may name those
            with a ``true_value`` (the relative error the recovered value must reach).
        known: output name -> function of the coordinates (torch operations, like a condition's
            value): a known additive part of that output, e.g. the analytic singular part of a
            flow near a corner, so that ``output = known + network`` and the network represents
            only the smoother remainder. Residuals and conditions see the whole output. A field
            with an exact condition takes its known part in that condition's value instead.
    """

    name: str
    inputs: str | Sequence[str]
    outputs: str | Sequence[str]
    domain: Geometry
    residuals: Mapping[str, Residual]
    conditions: Mapping[str, Condition] = field(default_factory=dict)
    reference: Reference | None = None
    tolerance: float | Mapping[str, float] | None = None
    net: Net | None = None
    sampling: Sampling | None = None
    training: Training | None = None
    description: str = ""
    derived: Mapping[str, Callable[[Fields], Tensor]] = field(default_factory=dict)
    plots: Sequence[Callable[..., Any]] = ()
    unknowns: Sequence[Unknown] = ()
    known: Mapping[str, Callable[..., Tensor]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._reporting(self._check_and_normalise)

    def with_settings(self, *, net: Net | None = None, sampling: Sampling | None = None,
                      training: Training | None = None) -> Problem:
        """This problem with the settings given (the others kept), checked again only where they reach
        the checks (the module docstring says which). ``dataclasses.replace`` checks the whole
        declaration again, as a change to it needs. Raises ProblemError as construction does."""
        changed = copy.copy(self)  # the declaration and its bound conditions, shared: neither ever changes
        for name, value in (("net", net), ("sampling", sampling), ("training", training)):
            if value is not None:
                object.__setattr__(changed, name, value)
        changed._reporting(lambda: changed._check_settings(self.training))
        return changed

    # ------------------------------------------------------------------ checks
    def _reporting(self, check: Callable[[], None]) -> None:
        """Run ``check``, its ValueError or TypeError reported as a ProblemError naming this problem."""
        try:
            check()
        except ProblemError:
            raise
        except (ValueError, TypeError) as err:
            raise ProblemError(f"problem {self.name!r}: {err}") from None

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def _check_and_normalise(self) -> None:
        if not isinstance(self.name, str) or not self.name.replace("-", "_").isidentifier():
            raise ProblemError(f"problem name must be a simple identifier (letters, digits, _ or -), got {self.name!r}")
        inputs = _names(self.inputs, "inputs")
        outputs = _names(self.outputs, "outputs")
        for name in outputs:
            if "_" in name:
                raise ValueError(f"output name {name!r} contains '_', which is reserved for derivatives (u_x)")
        clash = set(inputs) & set(outputs)
        if clash:
            raise ValueError(f"names used as both input and output: {', '.join(sorted(clash))}")
        self._set("inputs", inputs)
        self._set("outputs", outputs)
        if not isinstance(self.domain, Geometry):
            raise ValueError(f"domain must be a pinn geometry (e.g. pinn.Rectangle), got {type(self.domain).__name__}")
        if self.domain.dim != len(inputs):
            raise ValueError(f"the domain has {self.domain.dim} dimension(s) but there are {len(inputs)} inputs "
                             f"({', '.join(inputs)})")
        _check_time_last(inputs, self.domain)
        if self.training is None:
            self._set("training", Training())
        if self.sampling is None:
            self._set("sampling", Sampling())
        self._check_setting_types()
        if not isinstance(self.residuals, Mapping) or not self.residuals:
            raise ValueError("residuals must be a non-empty dict of name -> function(f)")
        for name, fn in self.residuals.items():
            if not callable(fn):
                raise ValueError(f"residual {name!r} must be a function of the fields, got {type(fn).__name__}")
        self._set("residuals", dict(self.residuals))
        self._set("derived", check_derived(self.derived, inputs, outputs))
        self._set("unknowns", _check_unknowns(self.unknowns, inputs, outputs, tuple(self.derived)))
        if not isinstance(self.plots, (list, tuple)) or not all(callable(plot) for plot in self.plots):
            raise ValueError("plots must be a list of functions plot(solution, reference, folder)")
        self._set("plots", tuple(self.plots))
        dtype, seed = self.training.numerics.dtype, self.training.numerics.seed
        self._set("conditions", {name: self._bind(name, c, dtype, seed) for name, c in dict(self.conditions).items()})
        self._choose_automatic()
        self._set("tolerance", self._check_tolerance())
        if self.reference is not None and not hasattr(self.reference, "build"):
            raise ValueError("reference must come from pinn.references (analytic(...), heat_fd(...) or a GridReference)")
        self._set("known", _check_known(self.known, outputs))
        _check_one_rate_per_field(self.conditions)
        # exact=None (the default of Dirichlet and Initial) becomes True where possible, else False;
        # a rate's, after its field's initial value is settled.
        self._set("conditions", resolve_exact(self.conditions, self.domain, self.known, inputs, self.time))
        self._set("conditions", resolve_rates(self.conditions))
        self._set("_exact", exact_rules(self.conditions, self.domain, self.known))
        self._settle_periodic()
        self._dry_run(dtype)

    def _check_setting_types(self) -> None:
        for label, spec, kind in (("net", self.net, Net), ("sampling", self.sampling, Sampling),
                                  ("training", self.training, Training)):
            if not isinstance(spec, kind) and not (label == "net" and spec is None):
                raise ValueError(f"{label} must be a pinn.{kind.__name__}, got {type(spec).__name__}")
        if self.sampling.causal is not None and not isinstance(self.domain, SpaceTime):
            raise ValueError("sampling.causal (time-causal weights) needs a time-dependent problem, on a domain "
                             "space * pinn.TimeInterval(t0, t1); this one has no time: remove it")

    def _choose_automatic(self) -> None:
        """Fill in the settings the problem leaves unset (:mod:`pinn.pde.automatic`), noting each choice
        and its reason in ``self.automatic``."""
        chosen = dict(getattr(self, "automatic", {}))
        if self.net is None:
            net, chosen["net"] = automatic_net(self)
            self._set("net", net)
        if None in (self.sampling.interior, self.sampling.boundary, self.sampling.initial, self.sampling.adaptive):
            sampling, reason = automatic_sampling(self, self.sampling, self.net)
            self._set("sampling", sampling)
            if reason:
                chosen["sampling"] = reason
        if self.training.automatic:
            chosen["training"] = (f"automatic schedule ({', '.join(p.name for p in self.training.schedule)}, each "
                                  f"until its loss stalls), time budget {self.training.time_budget:g} s")
        self._set("automatic", chosen)

    def _settle_periodic(self) -> None:
        """Which Periodic conditions the network meets by construction (no loss terms then)."""
        self._set("periodic_exact", periodic_by_construction(
            self.conditions, tuple(getattr(self.net, "periodic", ())), self._exact, self.domain, self.inputs,
            self.time))

    def _check_settings(self, before: Training) -> None:
        """The checks that read the settings, after they changed from ``before`` (the module docstring)."""
        self._check_setting_types()
        self._choose_automatic()
        self._settle_periodic()
        dtype, seed = self.training.numerics.dtype, self.training.numerics.seed
        if (dtype, seed) != (before.numerics.dtype, before.numerics.seed):
            self._set("conditions", {name: self._bind(name, c, dtype, seed) if isinstance(c, Data) else c
                                     for name, c in self.conditions.items()})
        if dtype != before.numerics.dtype:
            self._dry_run(dtype)

    def _bind(self, name: str, condition: Condition, dtype: str, seed: int) -> Condition:
        """``condition`` bound to this problem (a new value; the user's object is left as it was), for
        a run in ``dtype`` (data must be small enough to square in it) seeded with ``seed`` (synthetic
        observations follow it)."""
        if not isinstance(condition, Condition):
            raise ValueError(f"condition {name!r} must be a pinn condition (Dirichlet, Neumann, Robin, Periodic, "
                             f"Initial, Data), got {type(condition).__name__}")
        if condition.field is None and not isinstance(condition, Data):
            if len(self.outputs) == 1:
                condition = dataclasses.replace(condition, field=self.outputs[0])
            elif not isinstance(condition, Periodic):  # which without a field holds for every output
                raise ValueError(f"condition {name!r} must say which field it constrains (field=...): "
                                 f"outputs are {', '.join(self.outputs)}")
        if condition.field is not None and condition.field not in self.outputs:
            raise ValueError(f"condition {name!r} constrains field {condition.field!r}, which is not an output "
                             f"({', '.join(self.outputs)})")
        if isinstance(condition, (Dirichlet, Neumann, Robin)):
            space = self.domain.space if isinstance(self.domain, SpaceTime) else self.domain
            if condition.boundary.geometry is not space:
                raise ValueError(f"condition {name!r} is on the boundary of {condition.boundary.geometry!r}, "
                                 f"which is not this problem's spatial domain {space!r}; use the boundary of "
                                 "that very object (space.boundary, space.side(...) or a .where(...) of them)")
        if isinstance(condition, Initial) and not isinstance(self.domain, SpaceTime):
            what = "an initial rate condition (derivative=1)" if condition.derivative else "an initial condition"
            raise ValueError(f"condition {name!r}: {what} needs a space-time domain "
                             "(space * pinn.TimeInterval(t0, t1))")
        try:
            if isinstance(condition, Data):
                return condition.bind(self.inputs, self.outputs, self.domain, seed=seed, derived=tuple(self.derived),
                                      dtype=dtype)
            return condition.bind(self.inputs, self.outputs, self.domain)
        except ValueError as err:
            raise ValueError(f"condition {name!r}: {err}") from None

    def _check_tolerance(self) -> dict[str, float]:
        if self.tolerance is None:
            return {}
        tolerance = ({name: self.tolerance for name in self.outputs}
                     if isinstance(self.tolerance, (int, float)) else dict(self.tolerance))
        unknowns = {u.name: u for u in self.unknowns}
        for name, value in tolerance.items():
            if name in unknowns and unknowns[name].true_value is None:
                raise ValueError(f"tolerance given for the unknown {name!r}, which has no true_value to compare with")
            if name not in self.outputs and name not in self.derived and name not in unknowns:
                raise ValueError(f"tolerance given for {name!r}, which is neither an output nor a derived quantity, nor "
                                 f"an unknown ({', '.join(self.outputs + tuple(self.derived) + tuple(unknowns))})")
            if not isinstance(value, (int, float)) or not 0 < value < float("inf"):
                raise ValueError(f"tolerance for {name!r} must be a positive number, got {value!r}")
        return {k: float(v) for k, v in tolerance.items()}

    def _dry_run(self, dtype_name: str) -> None:
        """Evaluate every condition's values, then every residual and condition, once on a few points
        with a small network in the run's dtype (``dtype_name``). The values come first: an exact
        condition's or a known part's are evaluated inside the network's output too, where a mistake
        would not name them."""
        rng = np.random.default_rng(0)
        dtype, cpu = getattr(torch, dtype_name), torch.device("cpu")
        model = build_model(self, dtype, cpu, seed=0, net=MLP(width=8, depth=1))
        try:
            points = torch.as_tensor(self.domain.sample_interior(8, "uniform", rng), dtype=dtype)
        except RuntimeError:  # rejection sampling found (almost) nothing inside
            raise ValueError(f"the domain {self.domain!r} is empty or nearly so: almost no point of its bounding "
                             "box lies inside it; check its geometry (a difference that removes everything, or "
                             "parts that do not overlap as intended)") from None
        batches = {name: self._dry_batch(name, condition, points, rng) for name, condition in self.conditions.items()}
        for name, part in self.known.items():
            try:
                evaluate(part, points, self.inputs, self.time)
            except (ValueError, TypeError) as err:
                raise ValueError(f"known part of {name!r}: {err}") from None
        self._check_compatibility(rng)  # before the network's output, which evaluates the exact values too
        f = model.fields(points)
        for name, fn in self.residuals.items():
            _check_output(f"residual {name!r}", lambda fn=fn: fn(f), points.shape[0], dtype)
        for name, fn in self.derived.items():
            _check_output(f"derived quantity {name!r}", lambda fn=fn: fn(f), points.shape[0], dtype)
        for name, condition in self.conditions.items():
            batch = batches[name]
            fc = model.fields(batch.coordinates, batch.normals)
            _check_output(f"condition {name!r}", lambda c=condition: c.residual(fc, batch), None, dtype)

    def _dry_batch(self, name: str, condition: Condition, points: Tensor, rng: np.random.Generator) -> Batch:
        """A condition's points and values for the dry run, checked to be finite."""
        try:
            if isinstance(condition, Data) and condition.deferred:  # its reference is built when a run needs it
                batch = condition.stand_in(points)
            else:
                batch = condition_batch(self, condition, 8, "uniform", rng, points.dtype, points.device)
        except (ValueError, TypeError, FieldNameError) as err:
            raise ValueError(f"condition {name!r}: {err}") from None
        except SystemExit as err:
            raise ValueError(f"condition {name!r}: {_ended(err)}") from None
        if batch.target is not None and not torch.isfinite(batch.target).all():
            finite = torch.isfinite(batch.target).reshape(batch.coordinates.shape[0], -1).all(dim=1)
            where = ", ".join(f"{n}={float(v):.3g}" for n, v in zip(self.inputs, batch.coordinates[~finite][0]))
            raise ValueError(f"condition {name!r}: its value is NaN or infinite at some points (e.g. at {where}); "
                             "make it finite wherever the condition applies")
        return batch

    def _check_compatibility(self, rng: np.random.Generator) -> None:
        """Exact boundary and initial values (and rates) must agree where they meet (the boundary at t0)."""
        for field_name, rule in self._exact.items():
            if rule.dirichlet is None or rule.initial is None:
                continue
            boundary_points, _ = self.domain.space.sample_boundary(64, "uniform", rng)
            at_start = torch.as_tensor(np.concatenate([boundary_points, np.full((64, 1), self.domain.time.t0)], axis=1))
            wall = condition_target(self, rule.dirichlet, at_start)
            initial = condition_target(self, rule.initial, at_start)
            gap = float((wall - initial).abs().max())
            if gap > 1e-8 * (1 + float(initial.abs().max())):
                raise ValueError(f"field {field_name!r}: the exact initial value differs from the exact boundary "
                                 f"value on the boundary at t0 (by up to {gap:.3g}); make them agree")
            if rule.rate is not None:
                self._check_boundary_rate(field_name, rule, at_start[torch.as_tensor(
                    rule.dirichlet.boundary.contains(boundary_points))])

    def _check_boundary_rate(self, field_name: str, rule: Any, at_start: Tensor) -> None:
        """With an exact rate and an exact Dirichlet value g: g_t by autograd must be what g's function
        gives (checked against finite differences), and equal the rate on the boundary at t0."""
        if not at_start.shape[0]:
            return
        wall, rate = self._name_of(rule.dirichlet), self._name_of(rule.rate)
        value, inputs, time = rule.dirichlet.value, self.inputs, self.time
        try:
            g_t = time_rate(value, at_start, inputs, time).detach()
        except Exception as err:  # the user's function: report it by name
            raise ValueError(f"condition {wall!r}: its value cannot be differentiated in time by autograd "
                             f"({type(err).__name__}: {err}), which the exact rate {rate!r} needs; write it with "
                             f"torch operations, or impose {rate!r} as a loss term (exact=False)") from None
        duration = self.domain.time.t1 - self.domain.time.t0
        h = 1e-5 * duration
        shifted = [evaluate(value, at_start + torch.tensor([0.0] * len(inputs[:-1]) + [k * h], dtype=at_start.dtype),
                            inputs, time).detach() for k in (0, 1, 2)]
        differences = (-3 * shifted[0] + 4 * shifted[1] - shifted[2]) / (2 * h)
        size = float(differences.abs().max()) + float(shifted[0].abs().max()) / duration + 1e-12
        if float((g_t - differences).abs().max()) > 1e-4 * size:
            raise ValueError(f"condition {wall!r}: its value's time derivative by autograd differs from its finite "
                             f"differences (is it computed outside torch, e.g. with numpy or math?); the exact "
                             f"rate {rate!r} needs it: write the value with torch operations, or impose {rate!r} "
                             "as a loss term (exact=False)")
        gap = float((condition_target(self, rule.rate, at_start) - g_t).abs().max())
        if gap > 1e-8 * (1 + float(g_t.abs().max())):
            raise ValueError(f"field {field_name!r}: the exact initial rate {rate!r} differs from the time derivative "
                             f"of the exact boundary value {wall!r} on the boundary at t0 (by up to {gap:.3g}); "
                             "make them agree")

    def _name_of(self, condition: Condition) -> str:
        return next(name for name, c in self.conditions.items() if c is condition)

    # ----------------------------------------------------------- what it declares
    @property
    def time(self) -> str | None:
        """The name of the time input, or None for a steady problem."""
        return self.inputs[-1] if isinstance(self.domain, SpaceTime) else None

    @property
    def exact_outputs(self) -> Mapping[str, Any]:
        """Output name -> what the model's output imposes on it exactly: its exact Dirichlet and
        initial conditions, or its known part (:mod:`pinn.pde.exact`); empty when there are none."""
        return self._exact


def _names(value: str | Sequence[str], label: str) -> tuple[str, ...]:
    names = tuple(value.replace(",", " ").split()) if isinstance(value, str) else tuple(value)
    if not names:
        raise ValueError(f"{label} must name at least one field")
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{label}: {name!r} is not a valid name (letters, digits and _, not starting with a digit)")
    if len(set(names)) != len(names):
        raise ValueError(f"{label} has a repeated name: {' '.join(names)}")
    return names


#: Input names read as time: on a space-time domain such an input must be the last (the time coordinate).
_TIME_NAMES = ("t", "time")


def _check_time_last(inputs: tuple[str, ...], domain: Geometry) -> None:
    """Time is the last coordinate of a space-time domain, and inputs name the coordinates in order: an
    input named like time anywhere else would silently name a space coordinate (another equation)."""
    if not isinstance(domain, SpaceTime):
        return
    misplaced = [name for name in inputs[:-1] if name.lower() in _TIME_NAMES]
    if misplaced:
        order = [name for name in inputs if name not in misplaced] + misplaced
        raise ValueError(f"inputs {' '.join(inputs)!r}: the domain's coordinates are (space..., time), so time "
                         f"must be the last input, e.g. inputs=\"{' '.join(order)}\"")


def _check_one_rate_per_field(conditions: Mapping[str, Condition]) -> None:
    """At most one initial rate condition (``pinn.Initial(..., derivative=1)``) per field."""
    seen: dict[str, str] = {}
    for name, condition in conditions.items():
        if isinstance(condition, Initial) and condition.derivative:
            if condition.field in seen:
                raise ValueError(f"condition {name!r}: field {condition.field!r} already has an initial rate "
                                 f"condition ({seen[condition.field]!r}); give one rate per field")
            seen[condition.field] = name


def _check_unknowns(unknowns: Sequence[Unknown], inputs: tuple[str, ...], outputs: tuple[str, ...],
                    derived: tuple[str, ...]) -> tuple[Unknown, ...]:
    if isinstance(unknowns, Unknown) or not isinstance(unknowns, (list, tuple)):
        raise ValueError(f"unknowns must be a list of pinn.Unknown, got {type(unknowns).__name__}")
    seen: set[str] = set()
    for unknown in unknowns:
        if not isinstance(unknown, Unknown):
            raise ValueError(f"unknowns must be a list of pinn.Unknown, got an element of type {type(unknown).__name__}")
        name = unknown.name
        if name in seen:
            raise ValueError(f"unknown {name!r} is declared twice")
        if name in inputs or name in outputs or name in derived:
            raise ValueError(f"unknown {name!r} has the name of an input, output or derived quantity; rename it")
        if hasattr(Fields, name):
            raise ValueError(f"unknown {name!r} has the name of a Fields attribute (f.{name}); rename it")
        if name.partition("_")[0] in outputs:
            raise ValueError(f"unknown {name!r} reads like a derivative of the output {name.partition('_')[0]!r}; "
                             "rename it")
        seen.add(name)
    return tuple(unknowns)


def _check_known(known: Mapping[str, Callable[..., Tensor]], outputs: tuple[str, ...]
                 ) -> dict[str, Callable[..., Tensor]]:
    if not isinstance(known, Mapping):
        raise ValueError(f"known must be a dict of output name -> function of the coordinates, got {type(known).__name__}")
    for name, part in known.items():
        if name not in outputs:
            raise ValueError(f"known part given for {name!r}, which is not an output ({', '.join(outputs)})")
        if not callable(part):
            raise ValueError(f"known part of {name!r} must be a function of the coordinates (torch operations), "
                             f"got {type(part).__name__}")
    return dict(known)


def _check_output(label: str, compute: Callable[[], Any], n: int | None, dtype: torch.dtype) -> None:
    try:
        value = compute()
    except FieldNameError as err:
        raise ValueError(f"{label}: {err}") from None
    except SystemExit as err:
        raise ValueError(f"{label}: {_ended(err)}") from None
    if not isinstance(value, Tensor):
        raise ValueError(f"{label} must return a torch tensor with one value per point, returned {describe(value)}")
    if n is not None and tuple(value.shape) not in ((n,), (n, 1)):
        raise ValueError(f"{label} must return one value per point, shape ({n},), but returned shape "
                         f"{tuple(value.shape)} for {n} points")
    if not value.is_floating_point():
        raise ValueError(f"{label} must return floating-point values, returned {describe(value)}")
    if value.dtype != dtype:  # a cast inside the function: a half-precision loss would fit to ~3 digits
        raise ValueError(f"{label} returned {_dtype_name(value.dtype)} values, but the run computes in "
                         f"{_dtype_name(dtype)}; return the fields' dtype (drop the cast, such as .half() or "
                         ".float(), and make new tensors with torch.zeros_like(f.u) or dtype=f.x.dtype)")
    if not torch.isfinite(value).all():
        raise ValueError(f"{label} returned NaN or infinite values on a dry run with a small network")


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _ended(err: SystemExit) -> str:
    """The dry run's message for user code that called sys.exit(): where, and that it must not."""
    where = traceback.extract_tb(err.__traceback__)[-1]
    code = "" if err.code is None else repr(err.code)
    return (f"sys.exit({code}) was called (line {where.lineno} of {Path(where.filename).name}, in {where.name}); "
            "it must return its values, not end the process")
