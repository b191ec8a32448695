"""Reference solutions held on a tensor-product grid."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class GridReference:
    """A reference solution sampled on a tensor-product grid.

    Attributes:
        axes: one 1-D, strictly increasing array of coordinates per input, in the problem's input
            order (for example ``{"x": xs, "y": ys, "t": ts}``); not ``np.meshgrid`` arrays.
        fields: one array per output field, of shape ``tuple(len(a) for a in axes.values())``
            (``indexing="ij"``). Points outside a non-rectangular domain hold NaN.
        error_estimate: the reference's own estimated relative L2 error per field
            (from grid refinement or a closed form), or empty when unknown.
        description: one line saying where the reference comes from.
        inside: a boolean array of the grid's shape, True at the points the solution is validated
            on: those inside the domain, less any point where the reference has no value (such as
            the singular corners of the lid-driven cavity). Default: every point. Every field must
            be finite wherever it is True; a run also leaves out the points outside its domain.
    """

    axes: dict[str, np.ndarray]
    fields: dict[str, np.ndarray]
    error_estimate: dict[str, float] = field(default_factory=dict)
    description: str = ""
    inside: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "axes", _checked_axes(self.axes))
        shape = self.shape
        if not isinstance(self.fields, Mapping):
            raise ValueError(f"reference fields must be a dict of name -> array, got {type(self.fields).__name__}")
        fields = {}
        for name, values in self.fields.items():
            if np.shape(values) != shape:
                raise ValueError(
                    f"reference field {name!r} has shape {np.shape(values)}, "
                    f"expected {shape} from axes {list(self.axes)} (one value per grid point, indexing='ij')"
                )
            fields[name] = _numbers(values, f"reference field {name!r}")
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "inside", _checked_mask(self.inside, shape))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes.values())

    def points(self) -> np.ndarray:
        """All grid points as an ``(M, d)`` array, columns in axis order, C order."""
        mesh = np.meshgrid(*self.axes.values(), indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)

    def build(self, inputs, outputs, domain) -> "GridReference":
        """A grid reference is already built."""
        return self

    def values(self, name: str) -> np.ndarray:
        """Field ``name`` flattened to match :meth:`points`."""
        return np.asarray(self.fields[name]).ravel()

    def within(self, domain: Any) -> "GridReference":
        """The same reference validated only at its points inside ``domain`` (a pinn geometry)."""
        in_domain = np.asarray(domain.inside(self.points()), dtype=bool).reshape(self.shape)
        return dataclasses.replace(self, inside=self.inside & in_domain)


def _checked_axes(axes: Any) -> dict[str, np.ndarray]:
    if not isinstance(axes, Mapping) or not axes:
        raise ValueError("reference axes must be a non-empty dict of input name -> 1-D array of coordinates, "
                         f"got {axes!r:.80}")
    checked = {}
    for name, axis in axes.items():
        axis = _numbers(axis, f"reference axis {name!r}")
        if axis.ndim != 1:
            raise ValueError(f"reference axis {name!r} has shape {axis.shape}: axes must be 1-D arrays of "
                             "coordinates, one per input (the vectors given to np.meshgrid(..., indexing='ij'), "
                             "not the arrays it returns)")
        if axis.size == 0 or not np.all(np.isfinite(axis)):
            raise ValueError(f"reference axis {name!r} must hold at least one coordinate, all finite")
        if np.any(np.diff(axis) <= 0):
            raise ValueError(f"reference axis {name!r} must be strictly increasing (sorted, no repeated "
                             "coordinate)")
        checked[name] = axis
    return checked


def _checked_mask(inside: Any, shape: tuple[int, ...]) -> np.ndarray:
    if inside is None:
        return np.ones(shape, dtype=bool)
    mask = np.asarray(inside)
    if mask.dtype != bool or mask.shape != shape:
        raise ValueError(f"reference inside must be a boolean array of the grid's shape {shape}, got "
                         f"{mask.dtype} of shape {mask.shape}")
    return mask


def _numbers(values: Any, what: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be an array of real numbers, got {type(values).__name__}") from None
