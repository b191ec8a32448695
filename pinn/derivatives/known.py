"""Fields whose derivatives were computed ahead of the residual, and the recording stand-in that
finds out which ones a residual needs.

Derivatives of a tensor built inside a residual (``pinn.div(f, k * pinn.grad(f, "u"))``) follow by
the chain rule: with the known derivatives as intermediate variables, a reverse pass through the
residual's own (cheap, pointwise) arithmetic gives ∂T/∂x explicitly and ∂T/∂(u, u_x, ...), and

    dT/dx_i = ∂T/∂x_i + Σ_key ∂T/∂key · key_{+i}

where ``key_{+i}`` is one more derivative along x_i, itself known. The network is never traversed
twice, which is what makes Taylor mode pay.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_leaves

from pinn.derivatives.fields import LAPLACIAN, Fields, Key


class PlanMissing(RuntimeError):
    """A residual asked for a derivative that was not computed ahead."""


class KnownFields(Fields):
    """Fields with every needed derivative given in ``known`` (outputs' values included).

    ``points`` is a leaf that requires grad and is used only for explicit coordinates; the known
    tensors must not depend on it through autograd (they are computed from a detached copy).
    """

    def __init__(self, points: Tensor, known: dict[Key, Tensor], inputs: Sequence[str], outputs: Sequence[str],
                 time: str | None = None, normals: Tensor | None = None,
                 parameters: dict[str, Tensor] | None = None) -> None:
        super().__init__(points, [known[(j, ())] for j in range(len(outputs))], inputs, outputs, time, normals,
                         parameters)
        self._cache.update(known)

    def _derivative(self, key: Key) -> Tensor:
        cached = self._cache.get(key)
        if cached is None:
            raise PlanMissing(
                f"derivative {self._name(key)} was not among those computed ahead for this residual (does the "
                "residual ask for different derivatives on different points?); use --set training.derivatives=autograd")
        return cached

    def gradient(self, quantity: Tensor, columns: Sequence[int] | None = None) -> Tensor:
        columns = list(range(len(self.inputs))) if columns is None else list(columns)
        if not quantity.requires_grad:
            return self._points.new_zeros(self._points.shape[0], len(columns))
        keys = list(self._cache)
        grads = torch.autograd.grad(quantity, [self._points, *(self._cache[k] for k in keys)],
                                    torch.ones_like(quantity), create_graph=True, allow_unused=True)
        explicit, partials = grads[0], grads[1:]
        result = []
        for c in columns:
            total = self._points.new_zeros(self._points.shape[0]) if explicit is None else explicit[:, c]
            for key, partial in zip(keys, partials):
                if partial is not None:
                    total = total + partial * self._one_more(key, c)
            result.append(total)
        return torch.stack(result, dim=1)

    def _one_more(self, key: Key, column: int) -> Tensor:
        """The derivative ``key`` differentiated once more along input ``column``."""
        j, order = key
        if order == LAPLACIAN:  # third derivatives: never planned, so a recording sends this site to autograd
            return sum(self._derivative((j, tuple(sorted((c, c, column))))) for c in self.space_columns)
        return self._derivative((j, tuple(sorted(order + (column,)))))

    def _name(self, key: Key) -> str:
        j, order = key
        if order == LAPLACIAN:
            return f"laplacian of {self.outputs[j]}"
        return self.outputs[j] + ("_" + "".join(self.inputs[i] for i in order) if order else "")


class RecordingFields(KnownFields):
    """Hands out stand-in tensors and records which derivatives were asked for (directly or through
    :meth:`gradient`). Used once per evaluation site to plan what Taylor mode computes."""

    def __init__(self, points: Tensor, inputs: Sequence[str], outputs: Sequence[str], time: str | None = None,
                 normals: Tensor | None = None, parameters: dict[str, Tensor] | None = None) -> None:
        self._generator = torch.Generator().manual_seed(0)
        self.requested: set[Key] = set()
        self.chain_rule = False  # whether a derivative of a tensor expression was asked for
        n = points.shape[0]
        known = {(j, ()): self._stand_in(n, points) for j in range(len(outputs))}
        super().__init__(points.detach().requires_grad_(True), known, inputs, outputs, time, normals, parameters)
        self.sums = SumWatch(len(self.space_columns))  # entered around the recorded residual

    def summed_laplacians(self) -> set[int]:
        """The outputs whose second derivatives along the space columns the residual only ever adds
        up, all of them (``f.u_xx + f.u_yy``): a Laplacian, which Taylor mode carries as one row."""
        if self.chain_rule or len(self.space_columns) < 2:  # the chain rule differentiates each key
            return set()
        return self.sums.summed()

    def _stand_in(self, n: int, like: Tensor) -> Tensor:
        # Positive, varied values: a residual that divides by a field or takes its log still runs.
        values = 0.5 + torch.rand(n, generator=self._generator, dtype=like.dtype)
        return values.to(like.device).requires_grad_(True)

    def gradient(self, quantity: Tensor, columns: Sequence[int] | None = None) -> Tensor:
        self.chain_rule = self.chain_rule or quantity.requires_grad
        return super().gradient(quantity, columns)

    def _derivative(self, key: Key) -> Tensor:
        self.requested.add(key)
        if key not in self._cache:
            self._cache[key] = self._stand_in(self._points.shape[0], self._points)
            j, order = key
            if len(order) == 2 and order[0] == order[1] and order[0] in self.space_columns:
                self.sums.watch(self._cache[key], j, order[0])
        return self._cache[key]


_ADDS = (torch.Tensor.__add__, torch.Tensor.add, torch.add)
_METADATA = frozenset({"shape", "dtype", "device", "ndim", "requires_grad", "is_leaf", "grad_fn"})


class SumWatch(TorchFunctionMode):
    """Follows every torch operation on the stand-ins of the second derivatives along single space
    columns (``u_xx``, ``u_yy``, ...) while a residual is recorded. Plain additions of such terms of
    one output (``u_xx + u_yy``, ``(u_xx + u_yy) + u_zz``) make partial sums; any other use of a term
    or a partial sum is where it leaves. An output whose terms leave only as the sum of all of them,
    never alone or partly summed, uses nothing but its Laplacian: replacing the terms by the
    Laplacian and zeros changes no value the residual computes. Anything unforeseen (a comparison,
    ``.item()``, a scaled term) counts as a use, so the watch can only miss a Laplacian, never invent one.
    """

    def __init__(self, n_space: int) -> None:
        super().__init__()
        self.n_space = n_space
        self._sums: dict[int, tuple[Tensor, int, frozenset[int]]] = {}  # id -> (tensor kept alive, output, columns)
        self._left: list[tuple[int, frozenset[int]]] = []  # (output, columns) of every sum that was used

    def watch(self, term: Tensor, output: int, column: int) -> None:
        self._sums[id(term)] = (term, output, frozenset({column}))

    def summed(self) -> set[int]:
        outputs = {j for j, _ in self._left}
        return {j for j in outputs if all(len(columns) == self.n_space for k, columns in self._left if k == j)}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if getattr(func, "__name__", "") == "__get__" and getattr(getattr(func, "__self__", None), "__name__", "") in _METADATA:
            return result  # reading a tensor's shape or dtype uses no value
        watched = [self._sums[id(a)] for a in tree_leaves((args, kwargs)) if isinstance(a, Tensor) and id(a) in self._sums]
        if not watched:
            return result
        if (func in _ADDS and len(args) == 2 and not kwargs and len(watched) == 2 and isinstance(result, Tensor)
                and watched[0][1] == watched[1][1] and not watched[0][2] & watched[1][2]):
            self._sums[id(result)] = (result, watched[0][1], watched[0][2] | watched[1][2])
        else:
            self._left.extend((j, columns) for _, j, columns in watched)
        return result
