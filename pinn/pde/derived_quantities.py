"""Derived quantities: functions of the fields (stresses, vorticity, ...) validated like outputs.

A problem lists them by name, ``Problem(derived={"sxx": lambda f: ..., "w": lambda f: f.v_x - f.u_y})``;
each receives the same :class:`~pinn.derivatives.fields.Fields` a residual does and returns one value per point.
They are not network outputs: the model computes them from its outputs (and their derivatives)
whenever it predicts, so a run checks them against the reference with their own tolerance, writes
them to ``solution.h5`` and plots them, and ``pinn.load(...).predict(points)`` returns them too.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor

from pinn.derivatives.fields import Fields
from pinn.pde.model import Model

Derived = Callable[[Fields], Tensor]
CHUNK = 4096  # points per autograd pass when predicting derived quantities


def check_derived(derived: Mapping[str, Derived] | None, inputs: tuple[str, ...],
                  outputs: tuple[str, ...]) -> dict[str, Derived]:
    """The derived quantities as a dict, after checking their names and that they are functions."""
    if derived is None:
        return {}
    if not isinstance(derived, Mapping):
        raise ValueError(f"derived must be a dict of name -> function(f), got {type(derived).__name__}")
    for name, fn in derived.items():
        if not isinstance(name, str) or not name.isidentifier() or "_" in name:
            raise ValueError(f"derived quantity name {name!r} must be a name of letters and digits "
                             "(no '_', which is reserved for derivatives)")
        if name in inputs or name in outputs:
            raise ValueError(f"derived quantity {name!r} has the name of an {'input' if name in inputs else 'output'}")
        if not callable(fn):
            raise ValueError(f"derived quantity {name!r} must be a function of the fields, got {type(fn).__name__}")
    return dict(derived)


class DerivedModel(Model):
    """A :class:`~pinn.pde.model.Model` whose :meth:`predict` also returns the derived quantities."""

    def __init__(self, *args: Any, derived: Mapping[str, Derived], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.derived = dict(derived)

    def predict(self, points: np.ndarray | Tensor, *args: Any, **kwargs: Any) -> dict[str, np.ndarray]:
        if not self.derived:
            return super().predict(points, *args, **kwargs)
        array = self.as_points(points)
        names = (*self.outputs, *self.derived)
        chunks: dict[str, list[np.ndarray]] = {name: [] for name in names}
        with torch.enable_grad():  # derivatives of the outputs, even when called under no_grad
            for start in range(0, array.shape[0], CHUNK):
                f = self.fields(array[start:start + CHUNK])  # one pass gives the outputs and what they derive
                for name in names:
                    value = f.field(name) if name in self.outputs else self.derived[name](f)
                    chunks[name].append(value.detach().reshape(-1).cpu().numpy())
        return {name: np.concatenate(parts) if parts else np.zeros(0) for name, parts in chunks.items()}
