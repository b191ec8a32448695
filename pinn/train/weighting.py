"""Loss balancing by gradient norms (Wang, Teng & Perdikaris 2021, "learning-rate annealing").

Every ``every`` Adam steps each loss term's gradient norm ``g_i = ||grad L_i||`` is measured and
the weights move towards ``lambda_i = sum_j g_j / g_i`` by a moving average (a term whose ``g_i`` is
round-off next to ``sum_j g_j`` keeps its weight),
``w_i <- momentum * w_i + (1 - momentum) * lambda_i``, so that no term's gradient drowns the
others. The trained loss is ``sum_i w_i L_i``; the weights start at 1 and are kept (fixed) for
L-BFGS, which needs one objective. The reported loss terms stay unweighted.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from pinn.train import distributed

ROUND_OFF = 1e-8  # a term whose gradient norm is below this fraction of the sum of all terms' is not reweighted


def weighted_total(terms: Mapping[str, Tensor | float], weights: Mapping[str, float]) -> Tensor | float:
    """``sum_k w_k L_k`` over the terms, ``w_k = weights[k]`` and 1 where absent (tensors or numbers)."""
    return sum(weights.get(name, 1.0) * term for name, term in terms.items())


class GradientBalance:
    """The loss weights of a run and their updates; ``every = 0`` switches balancing off."""

    def __init__(self, every: int, momentum: float) -> None:
        self.every = every
        self.momentum = momentum
        self.weights: dict[str, float] = {}

    def due(self, step: int) -> bool:
        return self.every > 0 and step % self.every == 0

    def update(self, terms: dict[str, Tensor], parameters: list[Tensor]) -> None:
        """Measure every term's gradient norm (keeping the graph for the step's own backward); across
        processes, the norm of each term's gradient averaged over them (the global term's gradient)."""
        if distributed.active():
            norms = self._global_norms(terms, parameters)
        else:
            norms = {}
            for name, term in terms.items():
                grads = torch.autograd.grad(term, parameters, retain_graph=True, allow_unused=True)
                squares = [g.square().sum() for g in grads if g is not None]
                norms[name] = float(torch.stack(squares).sum().sqrt()) if squares else 0.0
        total = sum(norms.values())
        for name, norm in norms.items():
            # A term without gradient, or with one at round-off next to the others (a term met up to
            # round-off), keeps its weight: weighting it up would blow the round-off up to the size of
            # the whole gradient, a direction the loss does not descend along.
            if norm > ROUND_OFF * total and total > 0:
                target = total / norm
                self.weights[name] = self.momentum * self.weights.get(name, 1.0) + (1 - self.momentum) * target

    @staticmethod
    def _global_norms(terms: dict[str, Tensor], parameters: list[Tensor]) -> dict[str, float]:
        rows = []
        for term in terms.values():
            grads = torch.autograd.grad(term, parameters, retain_graph=True, allow_unused=True)
            rows.append(torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                                   for p, g in zip(parameters, grads)]))
        gradients = torch.stack(rows)
        distributed.average_([gradients])
        return {name: float(norm) for name, norm in zip(terms, gradients.norm(dim=1))}

    def total(self, terms: Mapping[str, Tensor | float]) -> Tensor | float:
        """The weighted sum of the terms (the plain sum while no weight was set)."""
        return weighted_total(terms, self.weights)

    def state_dict(self) -> dict:
        return {"weights": dict(self.weights)}

    def load_state_dict(self, state: dict) -> None:
        self.weights = {k: float(v) for k, v in state.get("weights", {}).items()}
