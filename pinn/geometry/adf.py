"""Approximate distance functions (ADFs): the smooth factors that impose Dirichlet conditions exactly.

An exact Dirichlet condition is imposed as ``u = g + D(x) N(x)`` with ``D`` zero on the boundary and
positive inside (:meth:`pinn.geometry.Geometry.distance_factor`). The domains other than boxes and
disks build ``D`` from a *signed* ADF, ``s(x)``: positive inside, negative outside, zero on the
boundary, and smooth off the boundary (the unions' and differences' parts, and disks, normalised to
first order: like the signed distance near the boundary). Following Sukumar & Srivastava (2022), "Exact imposition of
boundary conditions with distance functions in physics-informed deep neural networks" (CMAME 389):

- a polygon multiplies the trimmed distance functions of its edges (:func:`polygon_signed_adf` says
  why a product rather than their R-equivalence), which is smooth everywhere but on the boundary; its
  sign comes from a point-in-polygon test, and near an edge it is computed from the edge's signed
  line distance, so that it stays smooth, with its true gradient, across the edges themselves;
- a union is the R-disjunction ``a + b + sqrt(a^2 + b^2)`` of its parts' signed ADFs, a difference
  ``a - b`` the R-conjunction ``a - b - sqrt(a^2 + b^2)`` of ``a`` and ``-b``. Both keep the first-order
  normalisation and are smooth except where both boundaries meet, which is on the combined boundary.

A domain's ``distance_factor`` is its signed ADF divided by the ADF's largest value inside (estimated
once from a fixed sample), so it peaks near 1 whatever the domain's size.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def safe_sqrt(value: Tensor) -> Tensor:
    """``sqrt(max(value, 0))`` whose gradient is finite (zero) where the value is zero."""
    positive = value > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, value, torch.ones_like(value))),
                       torch.zeros_like(value))


def r_disjunction(a: Tensor, b: Tensor) -> Tensor:
    """``a + b + sqrt(a^2 + b^2)``: positive where ``a`` or ``b`` is (the union of two signed ADFs)."""
    return a + b + safe_sqrt(a * a + b * b)


def r_conjunction(a: Tensor, b: Tensor) -> Tensor:
    """``a + b - sqrt(a^2 + b^2)``: positive where ``a`` and ``b`` are (the intersection)."""
    return a + b - safe_sqrt(a * a + b * b)


def polygon_signed_adf(x: Tensor, vertices: np.ndarray, shift: float, nearest_only: bool = False) -> Tensor:
    """The signed ADF of the polygon with counter-clockwise ``vertices`` (n, 2), at ``x`` (N, 2).

    Each edge ``j`` (length ``L``, centre ``c``) has its signed line distance ``f`` (positive on the
    inner side), its trimming function ``t = ((L/2)^2 - |x - c|^2) / L`` and the trimmed distance
    ``d^2 = f^2 + q^2`` with ``q = (sqrt(t^2 + f^4) - t) / 2``, smooth off the segment and zero on it
    only. The ADF is their product, ``D = d_i prod_{j != i} d_j`` (``i`` the nearest edge), scaled by
    ``exp(-shift)``: at a convex corner it grows like ``d_1 d_2``, smooth, where a first-order
    normalised combination (R-equivalence, ``1 / D^m = sum_j 1 / d_j^m``) grows like ``r`` with second
    derivatives ``~ 1/r``, which the network's residual would have to cancel (on the L-shape's Poisson
    problem the product reached 2.4e-3 where R-equivalence, m = 2, reached 3.8e-3). Near the nearest
    edge ``d_i`` is taken with the sign of ``f_i`` (``f_i sqrt(1 + (q_i / f_i)^2)``, smooth across the
    edge), elsewhere with the point-in-polygon test's, so the function and its gradient are right on
    the boundary too, not only inside. ``nearest_only``: ``d_i`` alone (signed).
    """
    px, py = x[:, 0], x[:, 1]
    edges = np.roll(vertices, -1, axis=0) - vertices
    lengths = np.linalg.norm(edges, axis=1)
    scale = float(np.max(np.ptp(vertices, axis=0)))
    info = torch.finfo(x.dtype)
    floor = (info.eps * scale) ** 2  # 1 / d^2 of the other edges is capped at 1 / floor
    signed_near, squared, trims = [], [], []
    for (ax, ay), (ex, ey), length in zip(vertices, edges, lengths):
        ax, ay, ex, ey, length = float(ax), float(ay), float(ex), float(ey), float(length)
        f = (ex * (py - ay) - ey * (px - ax)) / length  # > 0 on the left, the inside of a CCW polygon
        cx, cy = ax + ex / 2, ay + ey / 2
        t = ((length / 2) ** 2 - (px - cx) ** 2 - (py - cy) ** 2) / length
        phi = torch.sqrt(t * t + f ** 4 + info.tiny)  # tiny: a finite gradient at the end points
        ahead = t > 0
        half_sum = 2 * torch.where(ahead, phi + t, torch.ones_like(t))
        # q = (phi - t) / 2, written without cancellation on either side of t = 0.
        q = torch.where(ahead, f ** 4 / half_sum, (phi - t) / 2)
        ratio = torch.where(ahead, f ** 3 / half_sum, torch.zeros_like(t))  # q / f where t > 0
        squared.append(f * f + q * q)
        signed_near.append(f * torch.sqrt(1 + ratio * ratio))
        trims.append(t)
    w = torch.stack(squared, dim=1)  # (N, edges): d_j^2
    nearest = torch.argmin(w.detach(), dim=1, keepdim=True)
    w_i = w.gather(1, nearest).squeeze(1)
    others = torch.ones_like(w).scatter(1, nearest, 0.0)
    spread = w_i * (others / torch.clamp(w, min=floor)).sum(dim=1)  # d_i^2 sum_{j != i} 1 / d_j^2
    t_i = torch.stack(trims, dim=1).gather(1, nearest).squeeze(1)
    # Near the nearest edge (its trimming function positive, the others well away) the sign is its
    # line's side; elsewhere the point-in-polygon test's, where the ADF is well away from zero.
    near = (spread < 0.25) & (t_i > 0)
    d_near = torch.stack(signed_near, dim=1).gather(1, nearest).squeeze(1)
    sign = _inside_sign(px.detach(), py.detach(), vertices, edges)
    d_far = sign * safe_sqrt(torch.where(near, torch.ones_like(w_i), w_i))
    if nearest_only:
        return torch.where(near, d_near, d_far)
    # The other edges' factor, prod_{j != i} d_j, in logarithms (many edges would underflow) and shifted
    # by ``shift`` so that its largest value inside is about 1.
    logs = 0.5 * torch.log(torch.clamp(w, min=floor)) * others
    return torch.where(near, d_near, d_far) * torch.exp(logs.sum(dim=1) - shift)


def polygon_shift(vertices: np.ndarray, interior: np.ndarray) -> float:
    """The ``shift`` of :func:`polygon_signed_adf`: the largest of ``sum_{j != i} log d_j`` over the
    points ``interior`` (float64)."""
    x = torch.as_tensor(interior, dtype=torch.float64)
    with torch.no_grad():
        signed = polygon_signed_adf(x, vertices, 0.0)
        nearest = polygon_signed_adf(x, vertices, 0.0, nearest_only=True)
    return float(torch.log(signed / nearest).max())


def _inside_sign(px: Tensor, py: Tensor, vertices: np.ndarray, edges: np.ndarray) -> Tensor:
    """+1 inside the polygon, -1 outside (even-odd rule; either on the boundary, where the ADF is 0)."""
    odd = torch.zeros_like(px, dtype=torch.bool)
    for (ax, ay), (ex, ey) in zip(vertices, edges):
        if ey == 0:
            continue  # a horizontal edge never straddles the ray
        ax, ay, ex, ey = float(ax), float(ay), float(ex), float(ey)
        straddles = (py < ay) != (py < ay + ey)
        odd = odd ^ (straddles & (px < ax + (py - ay) * ex / ey))
    return torch.where(odd, torch.ones_like(px), -torch.ones_like(px))


def peak(signed_adf, geometry) -> float:
    """The largest value of ``signed_adf`` over a fixed 4096-point Sobol sample of ``geometry``'s
    interior (float64), used to scale a distance factor to peak near 1."""
    rng = np.random.default_rng(0)
    points = torch.as_tensor(geometry.sample_interior(4096, "sobol", rng), dtype=torch.float64)
    with torch.no_grad():
        value = float(signed_adf(points).max())
    if not value > 0:
        raise RuntimeError(f"the distance function of {geometry!r} is not positive inside it")
    return value
