"""Errors of a solution against its reference, and the verdict against the tolerance."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pinn.references.grid import GridReference


@dataclass(frozen=True)
class FieldError:
    """Errors of one field over the reference grid's points inside the domain (``reference.inside``)."""

    rel_l2: float
    max_abs: float
    tolerance: float | None

    @property
    def passed(self) -> bool:
        return self.tolerance is None or self.rel_l2 <= self.tolerance


def field_errors(predicted: dict[str, np.ndarray], reference: GridReference,
                 tolerance: dict[str, float]) -> dict[str, FieldError]:
    """Relative L2 error ``||p - r|| / ||r||`` and max absolute error per reference field, over the
    grid points ``reference.inside``.

    Nothing can pass unchecked: a NaN or infinite value inside, predicted or reference, or no point
    inside at all, makes both errors infinite. A reference field that is zero at every point inside
    has no relative error: it is 0 if the prediction is exactly zero there too, infinite otherwise
    (a run refuses such a reference before training, see :func:`usable_reference`).
    """
    inside = reference.inside.ravel()
    errors = {}
    for name, ref in reference.fields.items():
        ref = np.asarray(ref, dtype=np.float64).ravel()[inside]
        diff = np.asarray(predicted[name], dtype=np.float64).ravel()[inside] - ref
        if diff.size == 0 or not np.all(np.isfinite(diff)):
            errors[name] = FieldError(float("inf"), float("inf"), tolerance.get(name))
            continue
        norm, size = np.linalg.norm(ref), np.linalg.norm(diff)
        rel = float(size / norm) if norm > 0 else (0.0 if size == 0 else float("inf"))
        errors[name] = FieldError(rel if np.isfinite(rel) else float("inf"), float(np.max(np.abs(diff))),
                                  tolerance.get(name))
    return errors


def worst(errors: dict[str, FieldError]) -> float:
    """The largest relative L2 error over the fields (the headline figure)."""
    return max((e.rel_l2 for e in errors.values()), default=float("nan"))


def usable_reference(reference: GridReference, domain: Any, inputs: Sequence[str], predicted: Collection[str],
                     required: Collection[str]) -> GridReference:
    """The reference a run validates against: ``reference`` restricted to ``domain`` (its ``inside``
    mask), once checked to give a meaningful verdict.

    Args:
        reference: the built reference.
        domain: the problem's domain (a pinn geometry).
        inputs: the problem's inputs: the reference's axes must be these, in this order.
        predicted: the fields the model predicts (outputs and derived quantities): every
            reference field must be one of them.
        required: the fields the reference must hold (those with a tolerance).

    Raises:
        ValueError: naming the fault and the fix: axes that are not the inputs in order, a field
            that is not predicted or is missing, no grid point inside the domain, a field NaN or
            infinite at a point inside the domain, or zero at every point inside it.
    """
    if not isinstance(reference, GridReference):
        raise ValueError(f"the reference's build(...) must return a pinn.references.GridReference, got "
                         f"{type(reference).__name__}")
    axes, inputs = list(reference.axes), list(inputs)
    if axes != inputs:
        if sorted(axes) == sorted(inputs):
            raise ValueError(f"the reference's axes are in the order ({', '.join(axes)}), but the inputs are "
                             f"({', '.join(inputs)}): give its axes, and its fields' dimensions, in the inputs' order")
        raise ValueError(f"the reference has axes ({', '.join(axes)}), but the inputs are ({', '.join(inputs)}): "
                         "it needs one axis per input, named and ordered as the inputs")
    unknown = [n for n in reference.fields if n not in predicted]
    if unknown:
        raise ValueError(f"the reference has field(s) {', '.join(unknown)}, which are neither outputs nor derived "
                         f"quantities ({', '.join(predicted)}); remove them from the reference or rename them")
    missing = [n for n in required if n not in reference.fields]
    if missing:
        raise ValueError(f"the tolerance names {', '.join(missing)}, but the reference has no such field (it has "
                         f"{', '.join(reference.fields) or 'none'}); add it to the reference or drop its tolerance")
    reference = reference.within(domain)
    inside = reference.inside
    if not inside.any():
        spans = ", ".join(f"{n} in [{a[0]:.4g}, {a[-1]:.4g}]" for n, a in reference.axes.items())
        raise ValueError(f"no point of the reference grid ({spans}) lies inside the domain {domain!r}; give the "
                         "reference on the problem's domain")
    for name, values in reference.fields.items():
        bad = inside & ~np.isfinite(values)
        if bad.any():
            where = ", ".join(f"{n}={a[i]:.4g}" for (n, a), i in zip(reference.axes.items(), np.argwhere(bad)[0]))
            raise ValueError(f"the reference's field {name!r} is NaN or infinite at {int(bad.sum())} of the "
                             f"{int(inside.sum())} grid points inside the domain (e.g. at {where}); a reference must "
                             "be finite wherever the solution is validated: fix it, or leave out the points where it "
                             "has no value with GridReference(inside=...)")
        if not np.any(values[inside]):
            raise ValueError(f"the reference's field {name!r} is zero at every grid point inside the domain, so a "
                             "relative error against it is undefined; check the reference, or leave that field out "
                             "of it (and of the tolerance)")
    return reference


class GridCheck:
    """The errors of a model's prediction on a reference grid, by field (the trainer's ``check``)."""

    def __init__(self, model: Any, reference: GridReference, tolerance: dict[str, float]) -> None:
        self.model = model
        self.reference = reference
        self.tolerance = tolerance
        self.points = torch.as_tensor(reference.points(), dtype=model.dtype, device=model.device)

    def __call__(self) -> dict[str, FieldError]:
        return field_errors(self.model.predict(self.points), self.reference, self.tolerance)
