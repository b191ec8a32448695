"""Gaussian steps with a full covariance: the transition likelihood of several states with general noise.

Euler-Maruyama reads a step of ``dX = f dt + S dW`` as ``x' ~ N(x + f dt, B dt)`` with ``B = S S^T``.
The local linearisation (``f(y) ~ f(x) + J (y - x)``, ``S`` frozen at the step's start) gives
``N(x + phi1(J dt) f dt, V)`` with ``phi1(z) = (e^z - 1) / z`` and ``V = ∫_0^dt e^{J u} B e^{J^T u} du``:
the mean from the matrix exponential of ``[[J, f], [0, 0]] dt`` and ``V`` by Van Loan's method, the
exponential of ``[[-J, B], [0, J^T]] dt`` (one pair per step, batched). It is the exact transition
density of a linear drift with constant noise (the multivariate Ornstein-Uhlenbeck process).
"""
from __future__ import annotations

import torch
from torch import Tensor


def diffusion_matrix(g: Tensor) -> Tensor:
    """``B = S S^T`` (N, d, d) from a general noise ``S`` (N, d, d) or a diagonal one (N, d)."""
    return torch.diag_embed(g.square()) if g.dim() == 2 else g @ g.transpose(1, 2)


def gaussian_loss(residual: Tensor, covariance: Tensor, dt: Tensor) -> Tensor:
    """Each step's ``0.5 (r^T C^-1 r + log det C) - 0.5 d log dt`` (N,) for residuals ``r`` (N, d) and
    covariances ``C`` (N, d, d): its negative log-likelihood less ``0.5 d log(2 pi dt)``, the constant
    the diagonal loss leaves out too. Per step, so that a process's share sums as the diagonal one does."""
    factor, info = torch.linalg.cholesky_ex(covariance)
    if bool((info > 0).any()):
        raise ValueError("a step's covariance S S^T dt is not positive definite: the diffusion matrix S is "
                         "singular there")
    whitened = torch.linalg.solve_triangular(factor, residual[..., None], upper=False)[..., 0]
    log_det = 2 * torch.diagonal(factor, dim1=1, dim2=2).log().sum(dim=1)
    d = residual.shape[1]
    return 0.5 * (whitened.square().sum(dim=1) + log_det - d * dt[:, 0].log())


def euler_step(x: Tensor, f: Tensor, b: Tensor, dt: Tensor) -> tuple[Tensor, Tensor]:
    """Euler-Maruyama's mean (N, d) and covariance (N, d, d) of the next state."""
    return x + f * dt, b * dt[:, :, None]


def local_linear_step(x: Tensor, f: Tensor, jacobian: Tensor, b: Tensor, dt: Tensor) -> tuple[Tensor, Tensor]:
    """The local linearisation's mean (N, d) and covariance (N, d, d) of the next state."""
    n, d = x.shape
    h = dt[:, :, None]
    shift = torch.zeros(n, d + 1, d + 1, dtype=x.dtype, device=x.device)
    shift[:, :d, :d], shift[:, :d, d] = jacobian * h, f * dt
    mean = x + torch.linalg.matrix_exp(shift)[:, :d, d]
    block = torch.zeros(n, 2 * d, 2 * d, dtype=x.dtype, device=x.device)
    block[:, :d, :d], block[:, :d, d:], block[:, d:, d:] = -jacobian * h, b * h, jacobian.transpose(1, 2) * h
    exponential = torch.linalg.matrix_exp(block)
    covariance = exponential[:, d:, d:].transpose(1, 2) @ exponential[:, :d, d:]
    return mean, (covariance + covariance.transpose(1, 2)) / 2


def drift_jacobian(f: Tensor, x: Tensor) -> Tensor:
    """``df_i / dx_j`` per point (N, d, d), for ``f`` (N, d) of ``x`` (N, d) with a graph (each point's
    drift depends on its own state only)."""
    rows = [torch.autograd.grad(f[:, i].sum(), x, create_graph=True)[0] for i in range(f.shape[1])]
    return torch.stack(rows, dim=1)
