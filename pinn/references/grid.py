"""Reference solutions held on a tensor-product grid."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class GridReference:
    """A reference solution sampled on a tensor-product grid.

    Attributes:
        axes: one 1-D coordinate array per input, in the problem's input order
            (for example ``{"x": xs, "y": ys, "t": ts}``).
        fields: one array per output field, of shape ``tuple(len(a) for a in axes.values())``
            (``indexing="ij"``). Points outside a non-rectangular domain hold NaN.
        error_estimate: the reference's own estimated relative L2 error per field
            (from grid refinement or a closed form), or empty when unknown.
        description: one line saying where the reference comes from.
    """

    axes: dict[str, np.ndarray]
    fields: dict[str, np.ndarray]
    error_estimate: dict[str, float] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        shape = self.shape
        for name, values in self.fields.items():
            if np.shape(values) != shape:
                raise ValueError(
                    f"reference field {name!r} has shape {np.shape(values)}, "
                    f"expected {shape} from axes {list(self.axes)}"
                )

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
