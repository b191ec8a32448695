"""The learnt SDE measured against its reference: every verdict, and the full account behind them."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from pinn.dynamics.sde.elbo import ELBO
from pinn.dynamics.sde.likelihood import TransitionLikelihood
from pinn.dynamics.sde.model import SDEModel
from pinn.dynamics.sde.validation import density_l1, ensemble, moment_error, moments, stationary_density, terminal_test
from pinn.validation import FieldError

if TYPE_CHECKING:
    from pinn.dynamics.sde.problem import SDEProblem


class SDEValidator:
    """Measures the learnt SDE against the reference: :meth:`check` for the trainer, :meth:`report`
    for the full account (every moment with its budget, the test, the density)."""

    def __init__(self, problem: "SDEProblem", objective: TransitionLikelihood | ELBO) -> None:
        self.problem, self.objective = problem, objective
        self.last: dict[str, Any] = {}
        self._measured: bytes | None = None  # the parameters self.last was measured with

    @property
    def model(self) -> SDEModel:
        return self.objective.model

    def check(self) -> dict[str, FieldError]:
        """The verdicts, by name: each coefficient (relative error), ``moments`` (largest
        ``|difference| / (3 SE + bias)``, passes at <= 1), ``terminal`` (KS statistic against its
        critical value) and ``density`` (L1) where the reference has a stationary density."""
        report = self.report()
        return report["errors"]

    def report(self) -> dict[str, Any]:
        """Coefficients (value, initial, true value, relative error), every moment with its budget, the
        terminal test, the densities, the validation paths, the likelihood's computed discretisation
        bias, and ``errors`` (what :meth:`check` returns). Measured once per state of the parameters (the
        trainer's last check and the run's end share one simulation)."""
        fingerprint = self._fingerprint()
        if fingerprint == self._measured:
            return self.last
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
        found_moments = moments(paths, reference, problem.states)
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
                     "discretisation_bias": reference.discretisation_bias(self.objective.typical_step(),
                                                                         self.objective.scheme),
                     "validation_time_s": time.perf_counter() - started}
        self._measured = fingerprint
        return self.last

    def _fingerprint(self) -> bytes:
        values = [p.detach().reshape(-1).double().cpu() for p in self.model.parameters()]
        joined = torch.cat(values) if values else torch.zeros(0)
        return joined.numpy().tobytes() + repr(self.objective.brownian_seed).encode()
