"""Errors of a solution against its reference, and the verdict against the tolerance."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pinn.references.grid import GridReference


@dataclass(frozen=True)
class FieldError:
    """Errors of one field over the reference grid (points outside the domain left out)."""

    rel_l2: float
    max_abs: float
    tolerance: float | None

    @property
    def passed(self) -> bool:
        return self.tolerance is None or self.rel_l2 <= self.tolerance


def field_errors(predicted: dict[str, np.ndarray], reference: GridReference,
                 tolerance: dict[str, float]) -> dict[str, FieldError]:
    """Relative L2 error ``||p - r|| / ||r||`` and max absolute error per reference field."""
    errors = {}
    for name, ref in reference.fields.items():
        ref = np.asarray(ref).ravel()
        pred = np.asarray(predicted[name]).ravel()
        keep = np.isfinite(ref)
        diff = pred[keep] - ref[keep]
        norm = np.linalg.norm(ref[keep])
        rel = float(np.linalg.norm(diff) / norm) if norm > 0 else float(np.linalg.norm(diff))
        max_abs = float(np.max(np.abs(diff))) if diff.size else 0.0
        errors[name] = FieldError(rel if np.isfinite(rel) else float("inf"), max_abs, tolerance.get(name))
    return errors


def worst(errors: dict[str, FieldError]) -> float:
    """The largest relative L2 error over the fields (the headline figure)."""
    return max((e.rel_l2 for e in errors.values()), default=float("nan"))
