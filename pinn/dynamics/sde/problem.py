"""An SDE learnt from sample paths: the declaration, and training with validation from Python.

A problem file declares::

    problem = SDEProblem(
        name="ornstein_uhlenbeck", states="x",
        drift=Parametric(lambda x, t, p: p.theta * (p.mu - x), [theta, mu]),
        diffusion=Parametric(lambda x, t, p: p.sigma, [sigma]),
        paths=paths_from_arrays(times, values),
        reference=OrnsteinUhlenbeck(theta=1.0, mu=0.5, sigma=0.5, start=2.0),
        tolerance={"theta": 0.02, "sigma": 0.02},
    )

and ``python -m pinn.solve FILE`` (or :func:`pinn.fit`) trains it with the transition likelihood on the
shared trainer, validates it (:mod:`pinn.dynamics.sde.validation`) and writes the run folder;
:func:`fit_sde` does the same in memory, without a folder. ``tolerance`` names coefficients (relative error) and, where the
reference has a stationary density, ``"density"`` (L1); the moments (3 standard errors plus the bias)
and the terminal two-sample test are always required.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import CodeType
from typing import Any, ClassVar

import numpy as np
import torch

from pinn.dynamics.sde.paths import bounds, check_paths
from pinn.dynamics.trajectories import Trajectory
from pinn.declaration import Declaration, Outcome
from pinn.dynamics.sde.likelihood import Likelihood, TransitionLikelihood
from pinn.dynamics.sde.model import SDEModel
from pinn.dynamics.sde.references import Reference
from pinn.dynamics.sde.terms import Known, Neural, Parametric, Term
from pinn.dynamics.sde.validation import (Validation, density_l1, ensemble, moment_error, moments,
                                          stationary_density, terminal_test)
from pinn.train.phases import LBFGS, Adam
from pinn.train.settings import Training
from pinn.pde.unknowns import Unknown
from pinn.train.trainer import Monitor, Trainer, resolve_device
from pinn.validation import FieldError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SDEProblem(Declaration):
    """A stochastic differential equation ``dX = f(X, t) dt + g(X, t) dW`` to learn from sample paths.

    Args:
        name: names the run (default folder ``runs/<name>``).
        states: the state names, e.g. ``"x"`` (one value per state at each time of each path).
        drift, diffusion: :class:`~pinn.dynamics.sde.terms.Known`, ``Parametric`` or ``Neural``.
        paths: the observed sample paths (:class:`pinn.dynamics.Trajectory`, e.g. from
            :func:`~pinn.dynamics.sde.paths_from_arrays` or :func:`pinn.dynamics.read_trajectories`).
        reference: the true SDE's closed forms it is validated against (one state).
        tolerance: relative error per coefficient name, and ``"density"`` (L1 of the stationary density).
        validation: how the learnt SDE is simulated and compared (``--set validation.paths=4000``).
        likelihood: the training objective's scheme and batches (``--set likelihood.scheme=...``).
        training: the optimiser schedule and numerics (dtype, device, seed).
    """

    family: ClassVar[str] = "sde"

    name: str
    states: str | tuple[str, ...]
    drift: Term
    diffusion: Term
    paths: Sequence[Trajectory]
    reference: Reference
    tolerance: Mapping[str, float] = field(default_factory=dict)
    validation: Validation = Validation()
    likelihood: Likelihood = Likelihood()
    training: Training = Training([Adam(300, learning_rate=0.05), LBFGS(50)])

    def __post_init__(self) -> None:
        label = f"SDEProblem {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"SDEProblem name must be a non-empty string, got {self.name!r}")
        states = tuple(self.states.split()) if isinstance(self.states, str) else tuple(self.states)
        if not states or not all(isinstance(s, str) and s.isidentifier() for s in states):
            raise ValueError(f"{label}: states must name each state, e.g. 'x' or 'x y', got {self.states!r}")
        object.__setattr__(self, "states", states)
        for role in ("drift", "diffusion"):
            if not isinstance(getattr(self, role), (Known, Parametric, Neural)):
                raise ValueError(f"{label}: {role} must be Known, Parametric or Neural, got {getattr(self, role)!r}")
        for section, kind in (("validation", Validation), ("likelihood", Likelihood), ("training", Training),
                              ("reference", Reference)):
            if not isinstance(getattr(self, section), kind):
                raise ValueError(f"{label}: {section} must be a {kind.__name__}, got {type(getattr(self, section)).__name__}")
        object.__setattr__(self, "paths", check_paths(self.paths, states, label))
        if len(states) != 1:
            raise ValueError(f"{label}: validation against a reference handles one state for now, got {len(states)}")
        if self.likelihood.scheme == "local_linear" and len(states) != 1:
            raise ValueError(f"{label}: likelihood scheme 'local_linear' needs one state")
        if isinstance(self.diffusion, Known) and not callable(self.diffusion.function) and not self.diffusion.function > 0:
            raise ValueError(f"{label}: the diffusion must be positive, got the constant {self.diffusion.function!r}")
        names = [u.name for u in self.unknowns]
        if len(set(names)) != len(names):
            raise ValueError(f"{label}: drift and diffusion declare the unknowns {names}; each name once")
        for key, value in dict(self.tolerance).items():
            if key not in names and key != "density":
                raise ValueError(f"{label}: tolerance names {key!r}, which is neither an unknown "
                                 f"({', '.join(names) or 'none'}) nor 'density'")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{label}: tolerance {key!r} must be a positive number, got {value!r}")
        if "density" in self.tolerance and self.reference.support is None:
            raise ValueError(f"{label}: a 'density' tolerance needs a reference with a stationary density")
        steps = sum(len(p) - 1 for p in self.paths)
        if self.likelihood.batch_steps > steps:
            raise ValueError(f"{label}: likelihood batch_steps {self.likelihood.batch_steps} exceeds the {steps} "
                             "observed steps")
        object.__setattr__(self, "tolerance", dict(self.tolerance))

    @property
    def unknowns(self) -> tuple[Unknown, ...]:
        return (*self.drift.unknowns, *self.diffusion.unknowns)

    def build(self) -> tuple[TransitionLikelihood, "SDEValidator"]:
        """The objective (with a fresh model, seeded by ``training.numerics.seed``) and the validator."""
        numerics = self.training.numerics
        dtype = getattr(torch, numerics.dtype)
        device = resolve_device(numerics.device)
        generator = torch.Generator().manual_seed(numerics.seed)
        lower, upper = (torch.tensor(b, dtype=dtype) for b in bounds(self.paths))
        model = SDEModel(self.drift, self.diffusion, len(self.states), lower, upper, generator).to(device, dtype)
        objective = TransitionLikelihood(model, self.paths, self.likelihood.batch_steps or None, seed=numerics.seed,
                                         brownian_seed=self.validation.seed, scheme=self.likelihood.scheme)
        return objective, SDEValidator(self, objective)

    # ------------------------------------------------------------ the family seam (pinn.fit, pinn.solve)
    def identity(self) -> dict[str, Any]:
        return {"problem": self.name, "family": self.family, "states": list(self.states),
                "unknowns": [u.name for u in self.unknowns]}

    def sections(self) -> dict[str, Any]:
        return {"validation": self.validation, "likelihood": self.likelihood}

    def build_reference(self) -> Reference:
        return self.reference

    def trainer(self, reference: Any | None) -> Trainer:
        objective, validator = self.build()
        return Trainer(objective, self.training, validator.check)

    def finish(self, trainer: Trainer, reference: Any | None, folder: Any) -> Outcome:
        from pinn.dynamics.sde.finish import finish
        return finish(self, trainer, folder)

    def describe(self) -> dict[str, Any]:
        return {"states": list(self.states), "drift": type(self.drift).__name__,
                "diffusion": type(self.diffusion).__name__, "unknowns": [u.name for u in self.unknowns],
                "paths": len(self.paths), "observed_steps": sum(len(p) - 1 for p in self.paths),
                "reference": self.reference.description,
                "validation": dataclasses.asdict(self.validation), "likelihood": dataclasses.asdict(self.likelihood)}

    def functions(self) -> dict[CodeType, str]:
        named = {}
        for role, term in (("drift", self.drift), ("diffusion", self.diffusion)):
            for attribute in ("function", "known"):
                function = getattr(term, attribute, None)
                if callable(function) and hasattr(function, "__code__"):
                    named[function.__code__] = role
        return named


class SDEValidator:
    """Measures the learnt SDE against the reference: :meth:`check` for the trainer, :meth:`report`
    for the full account (every moment with its budget, the test, the density)."""

    def __init__(self, problem: SDEProblem, objective: TransitionLikelihood) -> None:
        self.problem, self.objective = problem, objective
        self.last: dict[str, Any] = {}

    @property
    def model(self) -> SDEModel:
        return self.objective.module

    def check(self) -> dict[str, FieldError]:
        """The verdicts, by name: each coefficient (relative error), ``moments`` (largest
        ``|difference| / (3 SE + bias)``, passes at <= 1), ``terminal`` (KS statistic against its
        critical value) and ``density`` (L1) where the reference has a stationary density."""
        report = self.report()
        return report["errors"]

    def report(self) -> dict[str, Any]:
        problem, model = self.problem, self.model
        reference, validation = problem.reference, problem.validation
        started = time.perf_counter()
        errors: dict[str, FieldError] = {}
        truth = reference.coefficients()
        found = model.coefficients()
        coefficients = {}
        for unknown in problem.unknowns:
            value, true = found[unknown.name], truth.get(unknown.name, unknown.true_value)
            entry = {"value": value, "initial": unknown.initial, "true_value": true}
            if true is not None:
                error = abs(value - true) / (abs(true) or 1.0)
                entry["rel_error"] = error
                errors[unknown.name] = FieldError(error, abs(value - true), problem.tolerance.get(unknown.name))
            coefficients[unknown.name] = entry
        paths = ensemble(model, reference, validation, self.objective.brownian_seed)
        found_moments = moments(paths, reference)
        errors["moments"] = moment_error(found_moments)
        terminal = terminal_test(paths, reference, validation)
        errors["terminal"] = FieldError(terminal["statistic"], terminal["statistic"], terminal["critical"])
        density = None
        if reference.support is not None:
            grid = np.linspace(*reference.support, validation.density_points)
            exact = reference.stationary_density(grid)
            learnt = stationary_density(model, grid)
            if exact is not None and learnt is not None:
                l1 = density_l1(learnt, exact, grid)
                errors["density"] = FieldError(l1, float(np.max(np.abs(learnt - exact))), problem.tolerance.get("density"))
                density = {"grid": grid, "learnt": learnt, "exact": exact, "l1": l1}
        self.last = {"errors": errors, "coefficients": coefficients, "moments": found_moments, "terminal": terminal,
                     "density": density, "ensemble": paths,
                     "discretisation_bias": reference.discretisation_bias(self._typical_step(), self.objective.scheme),
                     "validation_time_s": time.perf_counter() - started}
        return self.last

    def _typical_step(self) -> float:
        return float(np.median(self.objective.dt.cpu().numpy()))


@dataclass
class SDEFit:
    """What :func:`fit_sde` returns: the trainer (model, steps), the verdicts and the full report."""

    trainer: Trainer
    validator: SDEValidator
    errors: dict[str, FieldError]
    report: dict[str, Any]
    training_time_s: float

    @property
    def passed(self) -> bool:
        return all(e.passed for e in self.errors.values())


def fit_sde(problem: SDEProblem, monitor: Monitor | None = None, state: dict | None = None) -> SDEFit:
    """Train ``problem`` (continuing from a trainer ``state`` if given) and validate the result."""
    objective, validator = problem.build()
    trainer = Trainer(objective, problem.training)
    if state is not None:
        trainer.load_state_dict(state)
    started = time.perf_counter()
    trainer.run(monitor)
    training_time = time.perf_counter() - started
    report = validator.report()
    for name, error in report["errors"].items():
        logger.info("%s: %.4g (tolerance %s) %s", name, error.rel_l2, error.tolerance,
                    "passed" if error.passed else "FAILED")
    return SDEFit(trainer, validator, report["errors"], report, training_time)
