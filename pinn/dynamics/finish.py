"""The end of a dynamics run: every validation case against the true system, the recovered coefficients and
the sparse terms, solution.h5 and the figures."""
from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import torch

from pinn.declaration import Outcome
from pinn.dynamics.model import VectorField
from pinn.dynamics.reference import DynamicsReference
from pinn.dynamics.integrate import integrate
from pinn.dynamics.sparse import SparseNet, discover
from pinn.dynamics.validate import validate_cases
from pinn.output.files import write_hdf5
from pinn.output.metrics import parameters_report

logger = logging.getLogger(__name__)


def finish(problem, field: VectorField, reference: DynamicsReference | None, folder: Any) -> Outcome:
    """Validate ``field`` (the trained vector field of ``problem``), write solution.h5 and the figures."""
    from pinn.dynamics.plots import plot_case

    extra, parameters = {}, {}
    judged = field
    if problem.discover is not None:  # the found terms replace the network: they are what is judged
        found, discovered = _discover(problem, field)
        parameters.update(discovered)
        extra["discovered_terms"] = found
        judged = VectorField(problem.states, problem.rhs, SparseNet(found, problem.discover.outputs, problem.states,
                                                                    problem.discover.degree), problem.unknowns)
        judged.unknowns.load_state_dict(field.unknowns.state_dict())
        parameter = next(field.parameters())
        judged = judged.to(dtype=parameter.dtype, device=parameter.device)
        if reference is not None:  # the network's own forecasts, for comparison
            own = validate_cases(field, reference, problem.integration, problem.states, problem.tolerance)[0]
            extra["network_fields"] = {k: {"rel_l2": e.rel_l2, "max_abs": e.max_abs} for k, e in own.items()}
    errors, predictions, extra["mae"] = {}, {}, {}
    if reference is not None:
        errors, predictions, extra["mae"] = validate_cases(judged, reference, problem.integration, problem.states,
                                                           problem.tolerance)
    parameters.update(parameters_report(problem, field.unknowns.as_floats()))
    _write_solution(folder.solution, problem, reference, predictions)
    try:
        for name, predicted in predictions.items():
            plot_case(folder.plots, name, reference.cases[name], predicted, problem.states, problem.data)
    except Exception as err:  # a plot must never cost the user the run's numbers
        logger.warning("warning: plotting failed (%s: %s); the numbers are unaffected", type(err).__name__, err)
    return Outcome(errors, parameters, extra)


def _discover(problem, field: VectorField) -> tuple[dict, dict]:
    """The sparse terms of the network's outputs along the learned trajectories: the trained field integrated
    from each training trajectory's first observation over its span."""
    spec = problem.discover
    parameter = next(field.net.parameters())
    initial = torch.as_tensor(np.stack([t.values[0] for t in problem.data]), dtype=parameter.dtype,
                              device=parameter.device)
    times = [torch.linspace(float(t.times[0]), float(t.times[-1]), max(spec.points // len(problem.data), 2),
                            dtype=parameter.dtype, device=parameter.device) for t in problem.data]
    with torch.no_grad():
        states = torch.cat(integrate(field, initial, times, problem.integration))
        outputs = field.net(states).cpu().numpy().astype(np.float64)
    return discover(spec, states.cpu().numpy().astype(np.float64), outputs, problem.states)


def _write_solution(path, problem, reference: DynamicsReference | None, predictions: dict[str, np.ndarray]) -> None:
    """solution.h5: per validation case its times, initial states, the learned and the true states and their
    difference (trajectories, times, states); the observed trajectories under ``data``."""

    def fill(handle) -> None:
        handle.attrs["problem"] = problem.name
        handle.attrs["family"] = problem.family
        handle.attrs["states"] = json.dumps(list(problem.states))
        handle.attrs["reference"] = "none" if reference is None else reference.description
        for name, predicted in predictions.items():
            case = reference.cases[name]
            group = handle.create_group(f"cases/{name}")
            group.attrs["dims"] = json.dumps(["trajectory", "t", "state"])
            group.create_dataset("t", data=case.times)
            group.create_dataset("initial", data=case.initial)
            group.create_dataset("start", data=case.starts)
            group.create_dataset("predicted", data=predicted, compression="gzip")
            group.create_dataset("reference", data=case.true, compression="gzip")
            group.create_dataset("error", data=predicted - case.true, compression="gzip")
        for k, trajectory in enumerate(problem.data):
            group = handle.create_group(f"data/{k}")
            group.attrs["name"] = trajectory.name
            group.create_dataset("t", data=trajectory.times)
            group.create_dataset("values", data=trajectory.values)

    write_hdf5(path, fill)
