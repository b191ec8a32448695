"""The learned system against the true one: each validation case integrated by both from the same initial
states, compared state by state (relative L2 over every trajectory and time of the case, the largest absolute
error and the mean absolute error)."""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

import numpy as np
import torch

from pinn.dynamics.integrate import Integration, integrate
from pinn.dynamics.model import VectorField
from pinn.dynamics.reference import Case, DynamicsReference
from pinn.validation import FieldError

logger = logging.getLogger(__name__)
CHECK_MAX_STEPS = 2000  # solver steps per check's solve: beyond them the error is reported unbounded


def predict_case(field: VectorField, case: Case, integration: Integration) -> np.ndarray:
    """The learned system's states at the case's times, (trajectories, points, states)."""
    parameter = next(field.parameters(), None)
    dtype = parameter.dtype if parameter is not None else torch.float64
    device = parameter.device if parameter is not None else torch.device("cpu")
    times = torch.as_tensor(case.times, dtype=dtype, device=device)
    initial = torch.as_tensor(case.initial, dtype=dtype, device=device)
    # Each trajectory from its own start: the start, then the comparison times.
    paths = [torch.cat([torch.as_tensor([start], dtype=dtype, device=device), times[times > start]])
             for start in case.starts]
    with torch.no_grad():
        states = integrate(field, initial, paths, integration)
    out = []
    for start, path in zip(case.starts, states):
        kept = path[1:] if case.times[0] > start else path  # drop the start where it is not a comparison time
        out.append(kept.cpu().numpy().astype(np.float64))
    return np.stack(out)


def case_errors(name: str, predicted: np.ndarray, case: Case, states: tuple[str, ...],
                tolerance: Mapping[str, float]) -> dict[str, FieldError]:
    """``{"<case>.<state>": FieldError}``; the tolerance of ``<case>.<state>``, else of ``<state>``."""
    errors = {}
    for k, state in enumerate(states):
        key = f"{name}.{state}"
        truth, diff = case.true[..., k], predicted[..., k] - case.true[..., k]
        limit = tolerance.get(key, tolerance.get(state))
        if not np.all(np.isfinite(diff)):
            errors[key] = FieldError(float("inf"), float("inf"), limit)
            continue
        norm = float(np.linalg.norm(truth))
        rel = float(np.linalg.norm(diff)) / norm if norm > 0 else (0.0 if not diff.any() else float("inf"))
        errors[key] = FieldError(rel, float(np.max(np.abs(diff))), limit)
    return errors


def mean_absolute(predicted: np.ndarray, case: Case) -> float:
    """The mean absolute error over every state, trajectory and time of the case (the spiral demo's figure)."""
    diff = predicted - case.true
    return float(np.mean(np.abs(diff))) if np.all(np.isfinite(diff)) else float("inf")


def validate_cases(field: VectorField, reference: DynamicsReference, integration: Integration,
                   states: tuple[str, ...], tolerance: Mapping[str, float]) -> tuple[dict, dict, dict]:
    """Every case of ``reference``: the errors by ``<case>.<state>``, the predicted states and the mean absolute
    error. A case the solver gives up on (too many steps: a field that blows up) has unbounded errors."""
    errors, predictions, mae = {}, {}, {}
    for name, case in reference.cases.items():
        try:
            predicted = predict_case(field, case, integration)
        except (AssertionError, RuntimeError) as err:
            logger.warning("warning: the learned field could not be integrated for case %s (%s)", name, err)
            predicted = np.full_like(case.true, np.nan)
        predictions[name] = predicted
        errors.update(case_errors(name, predicted, case, states, tolerance))
        mae[name] = mean_absolute(predicted, case)
    return errors, predictions, mae


class DynamicsCheck:
    """The errors of every case, for the trainer's checks (they only report)."""

    def __init__(self, field: VectorField, reference: DynamicsReference, integration: Integration,
                 states: tuple[str, ...], tolerance: Mapping[str, float]) -> None:
        # A field early in training may blow up in finite time: a check gives up sooner than training would.
        self.field, self.reference = field, reference
        self.integration = dataclasses.replace(integration, max_steps=min(integration.max_steps, CHECK_MAX_STEPS))
        self.states, self.tolerance = states, tolerance

    def __call__(self) -> dict[str, FieldError]:
        return validate_cases(self.field, self.reference, self.integration, self.states, self.tolerance)[0]
