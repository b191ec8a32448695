"""The operator against its solver on inputs it never saw: each sample's relative L2 error, and their mean.

The reported ``rel_l2`` of a field is the mean over the held-out samples of each sample's relative L2
error (Li et al.'s test metric); ``max_abs`` is the largest pointwise error over all of them.
"""
from __future__ import annotations

import numpy as np
import torch

from pinn.operators.data import Samples
from pinn.operators.model import OperatorModel
from pinn.operators.objective import relative_l2
from pinn.operators.task import Task
from pinn.validation import FieldError


@torch.no_grad()
def predict(model: OperatorModel, inputs: np.ndarray, batch_size: int = 50) -> np.ndarray:
    """The model's outputs for ``inputs``, in batches, as float64 numpy."""
    parameter = next(model.parameters())
    was_training = model.training
    model.eval()
    try:
        outputs = [model(torch.as_tensor(inputs[i:i + batch_size], dtype=parameter.dtype, device=parameter.device))
                   for i in range(0, len(inputs), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(outputs).double().cpu().numpy()


def sample_errors(predicted: np.ndarray, samples: Samples) -> np.ndarray:
    """Each sample's relative L2 error per output channel, shape ``(count, channels)``."""
    p = torch.as_tensor(predicted, dtype=torch.float64)
    r = torch.as_tensor(samples.outputs, dtype=torch.float64)
    return np.stack([relative_l2(p[:, c:c + 1], r[:, c:c + 1]).numpy() for c in range(r.shape[1])], axis=1)


def field_errors(predicted: np.ndarray, samples: Samples, names: tuple[str, ...],
                 tolerance: dict[str, float]) -> dict[str, FieldError]:
    """Each output field's :class:`FieldError`: the mean relative L2 over the samples, the largest absolute
    error, and the field's tolerance; non-finite predictions make both errors infinite."""
    errors = sample_errors(predicted, samples)
    result = {}
    for c, name in enumerate(names):
        difference = np.abs(predicted[:, c] - samples.outputs[:, c])
        finite = np.all(np.isfinite(difference))
        result[name] = FieldError(rel_l2=float(errors[:, c].mean()) if finite else float("inf"),
                                  max_abs=float(difference.max()) if finite else float("inf"),
                                  tolerance=tolerance.get(name))
    return result


def physics_residual(task: Task, inputs: np.ndarray, outputs: np.ndarray) -> float:
    """The mean over the samples of the task's relative physics residual of ``outputs`` (float64)."""
    with torch.no_grad():
        residual = task.physics_residual(torch.as_tensor(inputs, dtype=torch.float64),
                                         torch.as_tensor(outputs, dtype=torch.float64))
    return float(residual.mean())
