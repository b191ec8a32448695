"""Reference solutions given by a closed form."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from pinn.references.grid import GridReference


@dataclass(frozen=True)
class Analytic:
    """A closed-form solution, evaluated on a grid over the domain's bounding box (validated at the
    grid points inside the domain; those outside hold NaN).

    Args:
        solution: a function of the inputs (torch tensors, one per input, in order) returning the
            field (one output) or a dict of fields by name.
        resolution: grid points per input axis: one number for every axis or a dict by input name.
    """

    solution: Callable[..., object]
    resolution: int | Mapping[str, int] = 64

    def build(self, inputs: tuple[str, ...], outputs: tuple[str, ...], domain) -> GridReference:
        lower, upper = domain.bbox
        sizes = {n: (self.resolution if isinstance(self.resolution, int) else self.resolution.get(n, 64))
                 for n in inputs}
        axes = {n: np.linspace(lo, hi, sizes[n]) for n, lo, hi in zip(inputs, lower, upper)}
        shape = tuple(sizes.values())
        points = np.stack([m.ravel() for m in np.meshgrid(*axes.values(), indexing="ij")], axis=1)
        with torch.no_grad():
            result = self.solution(*torch.as_tensor(points, dtype=torch.float64).unbind(dim=1))
        if not isinstance(result, Mapping):
            if len(outputs) != 1:
                raise ValueError(f"the analytic reference must return a dict of fields ({', '.join(outputs)})")
            result = {outputs[0]: result}
        unknown = [k for k in result if k not in outputs]
        if unknown:
            raise ValueError(f"the analytic reference returns {', '.join(unknown)}, which are not outputs")
        inside = domain.inside(points)
        fields = {}
        for name, values in result.items():
            array = np.broadcast_to(np.asarray(values, dtype=np.float64), (points.shape[0],)).copy()
            array[~inside] = np.nan
            fields[name] = array.reshape(shape)
        return GridReference(axes, fields, {k: 0.0 for k in fields}, "closed-form solution", inside.reshape(shape))
