"""The end of an SDE run: validation, solution.h5, the figures and the metrics (:class:`Outcome`)."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pinn.declaration import Outcome
from pinn.dynamics.sde.plots import all_figures
from pinn.dynamics.sde.validator import SDEValidator
from pinn.output.files import atomic_write

if TYPE_CHECKING:
    from pinn.dynamics.sde.problem import SDEProblem
    from pinn.train.trainer import Trainer

logger = logging.getLogger(__name__)

COEFFICIENT_KEYS = ("value", "initial", "true_value", "rel_error")


def finish(problem: "SDEProblem", trainer: "Trainer", folder: Any) -> Outcome:
    """Validate the trained SDE, write ``folder.solution`` and ``folder.plots``; the outcome for metrics.json.

    The coefficients go to ``parameters`` (with their tolerance and the computed discretisation bias of
    the likelihood), the moments, terminal test and density to ``errors``; every moment with its error
    budget, and the test's statistic and p-value, to metrics.json ``moments`` and ``terminal_test``."""
    validator = getattr(trainer.check, "__self__", None)  # the trainer's own: its last check is reused
    if not isinstance(validator, SDEValidator) or validator.objective is not trainer.objective:
        validator = SDEValidator(problem, trainer.objective)
    report = validator.report()
    errors = {k: e for k, e in report["errors"].items() if k not in report["coefficients"]}
    bias = report["discretisation_bias"]
    parameters = {}
    for name, entry in report["coefficients"].items():
        tolerance = problem.tolerance.get(name)
        error = entry.get("rel_error")
        parameters[name] = {**{k: entry.get(k) for k in COEFFICIENT_KEYS}, "tolerance": tolerance,
                            "passed": None if tolerance is None or error is None else bool(error <= tolerance),
                            "discretisation_bias": bias.get(name)}
    write_solution(Path(folder.solution), problem, report)
    try:
        all_figures(problem.paths, problem.reference, report, Path(folder.plots), problem.states)
    except Exception as err:  # a figure must never cost the user the run's numbers
        logger.warning("warning: an SDE figure failed (%s: %s); the numbers are unaffected", type(err).__name__, err)
    extra = {"moments": [moment_entry(m) for m in report["moments"]], "terminal_test": report["terminal"],
             "discretisation_bias": bias, "validation_time_s": report["validation_time_s"],
             "validation": dataclasses.asdict(problem.validation), "likelihood": trainer.objective.summary()}
    if report["density"] is not None:
        extra["density_l1"] = report["density"]["l1"]
    return Outcome(errors=errors, parameters=parameters, extra=extra)


def moment_entry(moment: Any) -> dict[str, Any]:
    return {"name": moment.name, "learnt": moment.learnt, "reference": moment.reference,
            "standard_error": moment.standard_error, "bias": moment.bias, "tolerance": moment.tolerance,
            "passed": moment.passed}


def write_solution(path: Path, problem: "SDEProblem", report: dict[str, Any]) -> None:
    """solution.h5: the compared moments (learnt, reference, standard error, bias), the validation paths
    at the validation times, the terminal samples and the stationary densities."""
    import h5py

    def write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as handle:
            handle.attrs["problem"] = problem.name
            handle.attrs["family"] = problem.family
            handle.attrs["reference"] = problem.reference.description
            moments = handle.create_group("moments")
            found = report["moments"]
            moments.create_dataset("name", data=np.array([m.name for m in found], dtype=h5py.string_dtype()))
            for key in ("learnt", "reference", "standard_error", "bias", "tolerance"):
                moments.create_dataset(key, data=np.array([getattr(m, key) for m in found], dtype=np.float64))
            ensemble = handle.create_group("ensemble")
            ensemble.attrs["description"] = ("learnt SDE at the validation times, steps h/2 (fine) and h (coarse): "
                                              "(times, paths), or (times, paths, states) for several")
            ensemble.attrs["states"] = list(problem.states)
            ensemble.create_dataset("t", data=report["ensemble"].times)
            ensemble.create_dataset("fine", data=report["ensemble"].fine)
            ensemble.create_dataset("coarse", data=report["ensemble"].coarse)
            density = report["density"]
            if density is not None:
                group = handle.create_group("stationary_density")
                for key in ("grid", "learnt", "exact"):
                    group.create_dataset(key, data=density[key])
                group.attrs["l1"] = density["l1"]

    atomic_write(path, write)
