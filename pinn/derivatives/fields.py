"""The fields of a problem and their derivatives at a batch of points, asked for by name.

A residual receives a :class:`Fields` object ``f`` and reads what it needs::

    f.x, f.t          # input coordinates, shape (N,)
    f.u               # an output field, shape (N,)
    f.u_t, f.u_xx     # derivatives: <output>_<inputs, in any order>, e.g. f.u_xyt
    f.normal          # outward unit normals (N, d_space), on boundary points only
    f.kappa           # an unknown parameter of the problem (pinn.Unknown), a 0-d tensor

Each derivative is computed once per batch (nested reverse-mode autograd) and cached: one backward
pass yields the derivatives of a quantity with respect to every input at once, so ``f.u_x``,
``f.u_y`` and ``f.u_t`` together cost a single pass, and mixed derivatives commute (``u_xt`` is
``u_tx``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor


Key = tuple[int, tuple[int, ...]]
"""A derivative: (output index, sorted input indices), e.g. (0, (0, 0)) for u_xx when inputs are x, y,
or (output index, LAPLACIAN) for the sum of an output's second derivatives over the spatial inputs."""

LAPLACIAN: tuple[int, ...] = (-1,)
"""The input indices of a Laplacian key: asked for as one quantity (:meth:`Fields.laplacian`), so that
an engine may compute the sum without its terms."""


class FieldNameError(AttributeError):
    """A residual or condition asked for a name that is neither an input, an output nor a derivative."""


class Fields:
    """Values and derivatives of the outputs at ``points``, by name (see the module docstring)."""

    def __init__(
        self,
        points: Tensor,
        values: Tensor | Sequence[Tensor],
        inputs: Sequence[str],
        outputs: Sequence[str],
        time: str | None = None,
        normals: Tensor | None = None,
        parameters: dict[str, Tensor] | None = None,
    ) -> None:
        self._points = points
        self._inputs = tuple(inputs)
        self._outputs = tuple(outputs)
        self._time = time
        self._normals = normals
        self._parameters = parameters or {}
        columns = values.unbind(dim=1) if isinstance(values, Tensor) else tuple(values)
        # One tensor per output, shared by both maps, so derivatives taken with respect to it (by the
        # chain rule of pinn.derivatives) see every use of it.
        self._values = dict(zip(self._outputs, columns))
        # key: (output index, sorted tuple of input indices) -> derivative tensor (N,)
        self._cache: dict[Key, Tensor] = {(j, ()): column for j, column in enumerate(columns)}

    # ----------------------------------------------------------------- names
    @property
    def inputs(self) -> tuple[str, ...]:
        return self._inputs

    @property
    def outputs(self) -> tuple[str, ...]:
        return self._outputs

    @property
    def space_inputs(self) -> tuple[str, ...]:
        """The inputs that are spatial coordinates (every input but time)."""
        return tuple(n for n in self._inputs if n != self._time)

    @property
    def points(self) -> Tensor:
        """The evaluation points, shape (N, number of inputs)."""
        return self._points

    @property
    def normal(self) -> Tensor:
        """Outward unit normals at boundary points, shape (N, number of spatial inputs)."""
        if self._normals is None:
            raise FieldNameError("normals exist only on boundary points (in Neumann/Robin conditions)")
        return self._normals

    def unknown(self, name: str) -> Tensor:
        """The unknown parameter ``name`` (the same as ``f.<name>``)."""
        if name not in self._parameters:
            known = ", ".join(self._parameters) or "none"
            raise FieldNameError(f"unknown parameter {name!r}: the problem's unknowns are {known}")
        return self._parameters[name]

    def __getattr__(self, name: str) -> Tensor:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self._inputs:
            return self._points[:, self._inputs.index(name)]
        if name in self._values:
            return self._values[name]
        if name in self._parameters:
            return self._parameters[name]
        output, wrt = parse_derivative(name, self._inputs, self._outputs, tuple(self._parameters))
        return self.derivative(output, wrt)

    # ----------------------------------------------------------- derivatives
    def derivative(self, output: str, wrt: Sequence[str]) -> Tensor:
        """The derivative of ``output`` with respect to the inputs ``wrt`` (e.g. ``("x", "x")``)."""
        j = self._outputs.index(output)
        key = (j, tuple(sorted(self._inputs.index(n) for n in wrt)))
        return self._derivative(key)

    def laplacian(self, output: str) -> Tensor:
        """The sum of the second derivatives of ``output`` over the spatial inputs."""
        return self._derivative((self._outputs.index(output), LAPLACIAN))

    def _derivative(self, key: Key) -> Tensor:
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        j, order = key
        if order == LAPLACIAN:
            terms = [self._derivative((j, (c, c))) for c in self.space_columns]
            self._cache[key] = terms[0] if len(terms) == 1 else torch.stack(terms).sum(dim=0)
            return self._cache[key]
        lower = self._derivative((j, order[:-1]))
        # One backward pass gives d(lower)/d(every input): cache them all.
        for i, column in enumerate(self.gradient(lower).unbind(dim=1)):
            self._cache.setdefault((j, tuple(sorted(order[:-1] + (i,)))), column)
        return self._cache[key]

    def gradient(self, quantity: Tensor, columns: Sequence[int] | None = None) -> Tensor:
        """d quantity / d inputs at every point, differentiable again: shape (N, number of inputs), or
        (N, len(columns)) for the input columns ``columns`` only."""
        width = self._points.shape[1] if columns is None else len(columns)
        if not quantity.requires_grad:
            return self._points.new_zeros(self._points.shape[0], width)
        (grad,) = torch.autograd.grad(
            quantity, self._points, torch.ones_like(quantity), create_graph=True, allow_unused=True
        )
        if grad is None:
            return self._points.new_zeros(self._points.shape[0], width)
        return grad if columns is None else grad[:, list(columns)]

    def field(self, quantity: str | Tensor) -> Tensor:
        """An output by name, or a tensor passed through unchanged."""
        return getattr(self, quantity) if isinstance(quantity, str) else quantity

    @property
    def space_columns(self) -> list[int]:
        """The columns of :attr:`points` that hold spatial coordinates."""
        return [self._inputs.index(n) for n in self.space_inputs]


def parse_derivative(name: str, inputs: Sequence[str], outputs: Sequence[str],
                     unknowns: Sequence[str] = ()) -> tuple[str, tuple[str, ...]]:
    """Split ``u_xyt`` into ``("u", ("x", "y", "t"))``; raise :class:`FieldNameError` if it is not one."""
    output, sep, suffix = name.rpartition("_")
    if not sep or output not in outputs or not suffix:
        raise FieldNameError(_unknown(name, inputs, outputs, unknowns))
    wrt: list[str] = []
    rest = suffix
    by_length = sorted(inputs, key=len, reverse=True)  # inputs may have multi-letter names
    while rest:
        match = next((n for n in by_length if rest.startswith(n)), None)
        if match is None:
            raise FieldNameError(_unknown(name, inputs, outputs, unknowns))
        wrt.append(match)
        rest = rest[len(match):]
    return output, tuple(wrt)


def _unknown(name: str, inputs: Sequence[str], outputs: Sequence[str], unknowns: Sequence[str] = ()) -> str:
    example = f"{outputs[0]}_{inputs[0]}{inputs[0]}" if outputs and inputs else "u_xx"
    parameters = f"; unknown parameters are {', '.join(unknowns)}" if unknowns else ""
    return (
        f"unknown field name {name!r}: inputs are {', '.join(inputs)}; outputs are {', '.join(outputs)}{parameters}; "
        f"derivatives are written <output>_<inputs>, e.g. {example}"
    )


def describe(value: Any) -> str:
    """A short description of a residual's return value, for error messages."""
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    return f"a {type(value).__name__}"
