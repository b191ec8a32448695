"""Vector-calculus operators over the spatial inputs, for residuals that read better with them.

Each takes the :class:`~pinn.derivatives.fields.Fields` object first. A quantity is an output name (its cached
derivatives are reused) or any tensor computed from the fields (differentiated by autograd)::

    def heat(f):
        k = 1 + f.x * f.y
        return f.u_t - pinn.div(f, k * pinn.grad(f, "u"))
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from pinn.derivatives.fields import Fields


def grad(f: Fields, quantity: str | Tensor) -> Tensor:
    """Spatial gradient, shape (N, number of spatial inputs)."""
    if isinstance(quantity, str):
        return torch.stack([f.derivative(quantity, (n,)) for n in f.space_inputs], dim=1)
    return f.gradient(quantity, f.space_columns)


def div(f: Fields, vector: Tensor | Sequence[str | Tensor]) -> Tensor:
    """Divergence of a spatial vector field: a (N, d) tensor or one component per spatial input."""
    components = list(vector.unbind(dim=1)) if isinstance(vector, Tensor) else list(vector)
    names = f.space_inputs
    if len(components) != len(names):
        raise ValueError(f"div needs {len(names)} components (one per {', '.join(names)}), got {len(components)}")
    total = torch.zeros_like(f.points[:, 0])
    for name, component in zip(names, components):
        if isinstance(component, str):
            total = total + f.derivative(component, (name,))
        else:
            total = total + f.gradient(component, [f.inputs.index(name)])[:, 0]
    return total


def laplacian(f: Fields, quantity: str | Tensor) -> Tensor:
    """Sum of the second derivatives over the spatial inputs."""
    if isinstance(quantity, str):  # one quantity: Taylor mode carries the sum, not its terms
        return f.laplacian(quantity)
    return div(f, grad(f, quantity))


def normal_derivative(f: Fields, quantity: str | Tensor) -> Tensor:
    """n · grad(quantity) on boundary points (outward normal)."""
    return (f.normal * grad(f, quantity)).sum(dim=1)
