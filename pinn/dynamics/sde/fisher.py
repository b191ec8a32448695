"""One observed step's Gaussian moments, and the Fisher information of the transition likelihood.

With diagonal noise, each state of a step from ``x`` over ``dt`` is read as ``N(x + shift, V)``:

- Euler-Maruyama: ``shift = f dt``, ``V = g^2 dt``;
- local linearisation (one state): ``shift = f dt phi(f' dt) + (g^2 / 2) f'' dt^2 psi(f' dt)``,
  ``V = g^2 dt phi(2 f' dt)`` (see :mod:`pinn.dynamics.sde.likelihood`).

:class:`StepMoments` computes them for the loss (derivatives in ``x`` by autograd) and, with
``functional=True``, by forward-mode ``torch.func.jvp``, which ``vmap`` and ``jacrev`` can run through
to give every step's Jacobian in the weights. :func:`fisher_system` builds from those Jacobians the
Fisher information of the mean negative log-likelihood, ``mean_i sum_k [dm dm^T / V + dV dV^T / (2 V^2)]``,
the expected Hessian: the Gauss-Newton matrix of a Gaussian likelihood (Fisher scoring), which the
Levenberg-Marquardt phase solves with the exact gradient. It is estimated on a fixed subset of the
steps (the curvature only steers the step; the gradient and the loss that accepts it are all the
steps'), as each step's Jacobian row costs about a backward pass of its own.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from pinn.dynamics.sde.model import SDEModel

CHUNK = 32768  # steps per vmap call of the per-step Jacobian (memory: CHUNK x 2d x weights; a call has a fixed cost)


class StepMoments(nn.Module):
    """``(shift, V)`` of the steps from ``x`` (N, d) at ``t`` (N, 1) over ``dt`` (N, 1), each (N, d)."""

    def __init__(self, model: SDEModel, scheme: str) -> None:
        super().__init__()
        self.model, self.scheme = model, scheme

    def forward(self, x: Tensor, t: Tensor, dt: Tensor, functional: bool = False) -> tuple[Tensor, Tensor]:
        variance = self.model.diffusion(x, t).square()
        if self.scheme != "local_linear":
            return self.model.drift(x, t) * dt, variance * dt
        f, slope, curvature = (_slopes_by_jvp(self.model.drift, x, t) if functional
                               else self.model.drift.with_slopes(x, t))
        shift = f * dt * _phi(slope * dt)
        if curvature is not None:  # Ito's term of f(X): (g^2 / 2) f'' dt^2 psi(f' dt)
            shift = shift + 0.5 * variance * curvature * dt.square() * _psi(slope * dt)
        return shift, variance * dt * _phi(2 * slope * dt)


def fisher_system(moments: StepMoments, x: Tensor, t: Tensor, dt: Tensor) -> Tensor:
    """The Fisher information (P, P) of the mean negative log-likelihood of the steps from ``x`` at ``t``
    over ``dt`` in the trainable weights of ``moments.model`` (in their order)."""
    names = [name for name, p in moments.named_parameters() if p.requires_grad]
    weights = {name: p.detach() for name, p in moments.named_parameters() if p.requires_grad}
    frozen = {name: p.detach() for name, p in moments.named_parameters() if not p.requires_grad}
    d = x.shape[1]

    def one_step(w: dict[str, Tensor], xi: Tensor, ti: Tensor, dti: Tensor) -> tuple[Tensor, Tensor]:
        shift, v = torch.func.functional_call(moments, {**w, **frozen}, (xi[None], ti[None], dti[None], True))
        out = torch.cat([shift.reshape(-1), v.reshape(-1)])
        return out, out

    rows_of = torch.func.vmap(torch.func.jacrev(one_step, has_aux=True), in_dims=(None, 0, 0, 0))
    total = x.new_zeros(sum(w.numel() for w in weights.values()), sum(w.numel() for w in weights.values()))
    for start in range(0, x.shape[0], CHUNK):
        part = slice(start, start + CHUNK)
        jacobian, values = rows_of(weights, x[part], t[part], dt[part])
        rows = torch.cat([jacobian[name].reshape(values.shape[0], 2 * d, -1) for name in names], dim=2)
        v = values[:, d:]
        scaled = torch.cat([rows[:, :d] / v.sqrt()[..., None], rows[:, d:] / (v * 2**0.5)[..., None]], dim=1)
        flat = scaled.reshape(-1, scaled.shape[-1])
        total += flat.T @ flat
    return total / x.shape[0]


def _slopes_by_jvp(term: nn.Module, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """A one-state term, its first and second derivatives in ``x``: nested forward mode (each point's
    value depends on its own ``x`` only), which ``torch.func`` transforms compose with."""
    ones = torch.ones_like(x)

    def value_and_slope(z: Tensor) -> tuple[Tensor, Tensor]:
        return torch.func.jvp(lambda y: term(y, t), (z,), (ones,))

    (value, slope), (_, curvature) = torch.func.jvp(value_and_slope, (x,), (ones,))
    return value, slope, curvature


def _psi(z: Tensor) -> Tensor:
    """``(e^z - 1 - z) / z^2``, 1 / 2 + z / 6 + z^2 / 24 near 0 (no cancellation)."""
    small = z.abs() < 1e-3
    safe = torch.where(small, torch.ones_like(z), z)
    return torch.where(small, 0.5 + z / 6 + z.square() / 24, (torch.expm1(safe) - safe) / safe.square())


def _phi(z: Tensor) -> Tensor:
    """``(e^z - 1) / z``, 1 + z / 2 near 0 (no 0 / 0)."""
    small = z.abs() < 1e-6
    safe = torch.where(small, torch.ones_like(z), z)
    return torch.where(small, 1 + z / 2, torch.expm1(safe) / safe)
