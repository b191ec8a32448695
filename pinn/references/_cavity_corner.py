"""The Stokes flow in a corner between a sliding lid and a fixed wall (private).

A lid sliding at speed ``U`` past a fixed wall at a right angle makes the velocity jump from
``U`` to 0 at the corner. Close to it viscosity dominates and the flow tends to Taylor's
"scraper" solution, the Stokes flow ``psi = U r f(theta)`` in polar coordinates about the corner
(``theta = 0`` along the lid, ``theta = pi/2`` along the wall)::

    f = A sin(theta) + C theta sin(theta) + D theta cos(theta),
    A = -pi^2 / (4 - pi^2),  C = 2 pi / (4 - pi^2),  D = 4 / (4 - pi^2),

with ``u_r = f'(theta)``, ``u_theta = -f(theta)`` (so ``f = 0`` on both walls, ``f' = 1`` on the
lid, ``f' = 0`` on the wall) and the pressure ``p = 2 nu U (C sin(theta) + D cos(theta)) / r``.
The velocity is bounded but takes every direction at the corner; the pressure is infinite there.

:func:`corner_flow` adds the two top corners of the unit-square cavity, each scaled by the lid
velocity at that corner. The sum satisfies the Stokes equations exactly, so a solver can subtract
it from the flow and compute only the smoother remainder. The functions take numpy arrays or torch
tensors (then with torch operations, so a network's output transform can differentiate them).
"""
from __future__ import annotations

import math

import numpy as np
import torch

_D = 4.0 / (4.0 - math.pi**2)
_C = 2.0 * math.pi / (4.0 - math.pi**2)
_A = -math.pi**2 / (4.0 - math.pi**2)


def _scraper(xi, eta, nu: float) -> dict:
    """The solution for ``U = 1`` in local coordinates (lid along ``xi``, wall along ``eta``).

    At the corner itself ``psi = 0`` and the pressure is infinite; the velocity there is the lid's.
    """
    xp = torch if isinstance(xi, torch.Tensor) else np
    r = xp.hypot(xi, eta)
    theta = xp.arctan2(eta, xi)
    s, c = xp.sin(theta), xp.cos(theta)
    f = _A * s + _C * theta * s + _D * theta * c
    df = _A * c + _C * (s + theta * c) + _D * (c - theta * s)
    u_r, u_theta = df, -f
    with np.errstate(divide="ignore", invalid="ignore"):
        p = xp.where(r > 0, 2.0 * nu * (_C * s + _D * c) / xp.where(r > 0, r, 1.0), np.inf)
    return {"psi": r * f, "u": u_r * c - u_theta * s, "v": u_r * s + u_theta * c, "p": p}


def corner_flow(x, y, lid_left: float, lid_right: float, nu: float) -> dict:
    """Scraper flows at the corners (0, 1) and (1, 1) of the unit square, lid ``u(x, 1)``.

    ``lid_left`` and ``lid_right`` are the lid velocities at the two corners (positive to the
    right). Returns ``psi`` (with ``u = psi_y``, ``v = -psi_x``), ``u``, ``v`` and ``p``.
    The lid moves away from the left corner and into the right one, which is why the right
    corner's local frame is turned by half a turn and its local lid speed is ``-lid_right``.
    """
    if isinstance(x, torch.Tensor) or isinstance(y, torch.Tensor):
        x, y = torch.broadcast_tensors(torch.as_tensor(x), torch.as_tensor(y))
        total = {k: torch.zeros_like(x) for k in ("psi", "u", "v", "p")}
    else:
        x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
        total = {k: np.zeros(x.shape) for k in ("psi", "u", "v", "p")}
    if lid_left != 0.0:  # xi = x, eta = 1 - y: a mirror image, so psi and v change sign
        local = _scraper(x, 1.0 - y, nu)
        total["psi"] = total["psi"] - lid_left * local["psi"]
        total["u"] = total["u"] + lid_left * local["u"]
        total["v"] = total["v"] - lid_left * local["v"]
        total["p"] = total["p"] + lid_left * local["p"]
    if lid_right != 0.0:  # xi = 1 - x, eta = 1 - y: half a turn, local speed -lid_right
        local = _scraper(1.0 - x, 1.0 - y, nu)
        total["psi"] = total["psi"] - lid_right * local["psi"]
        total["u"] = total["u"] + lid_right * local["u"]
        total["v"] = total["v"] + lid_right * local["v"]
        total["p"] = total["p"] - lid_right * local["p"]
    return total


def mean_pressure(lid_left: float, lid_right: float, nu: float) -> float:
    """The mean of :func:`corner_flow`'s pressure over the unit square (it is integrable).

    ``int_0^1 int_0^1 xi / (xi^2 + eta^2) = ln(2) / 2 + pi / 4``, the same with ``eta`` on top.
    """
    integral = 2.0 * nu * (_C + _D) * (math.log(2.0) / 2.0 + math.pi / 4.0)
    return (lid_left - lid_right) * integral
