"""Viscous Burgers ``u_t + u u_x = nu u_xx`` on the periodic unit interval, many initial values at once.

A thin layer over the ETDRK4 Fourier pseudo-spectral solver of :mod:`pinn.references.spectral1d`
(``modes`` collocation points, 2/3 dealiasing, the diffusion integrated exactly): every initial value of
a batch is advanced together (numpy's FFTs work along the last axis), and the solution at ``t_end`` is
returned at ``points`` evenly spaced points ``x_i = i / points`` (every ``modes / points``-th
collocation point). ``tests/test_operators.py`` checks it against the Cole-Hopf closed form and
measures its fourth order in time.

Example, Li et al.'s Burgers benchmark (nu = 0.1, t = 1, 256 points)::

    u1 = burgers_periodic(lambda x: u0_values_at(x), nu=0.1, t_end=1.0, points=256)   # (batch, 256)
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from pinn.references.spectral1d import etdrk4_solve
from pinn.train.validate import positive, whole


def burgers_periodic(initial: Callable[[np.ndarray], np.ndarray], *, nu: float = 0.1, t_end: float = 1.0,
                     points: int = 256, modes: int = 1024, steps: int = 200) -> np.ndarray:
    """The solutions at ``t_end`` of a batch of initial values, shape ``(batch, points)``.

    Args:
        initial: ``u0(x)`` for the ``modes`` collocation points ``x`` in [0, 1): an array of shape
            ``(batch, modes)`` (or ``(modes,)`` for one).
        nu: viscosity. t_end: the final time.
        points: output points, a divisor of ``modes``.
        modes: collocation points (even). steps: ETDRK4 time steps.
    """
    positive("burgers_periodic", "nu", nu)
    positive("burgers_periodic", "t_end", t_end)
    whole("burgers_periodic", "points", points, 2)
    whole("burgers_periodic", "modes", modes, 4)
    whole("burgers_periodic", "steps", steps, 1)
    if modes % points or modes % 2:
        raise ValueError(f"burgers_periodic modes ({modes}) must be even and a multiple of points ({points})")

    def start(x: np.ndarray) -> np.ndarray:
        values = np.asarray(initial(x), dtype=np.float64)
        if values.shape[-1] != len(x) or values.ndim > 2:
            raise ValueError(f"burgers_periodic initial must return (batch, {len(x)}) values, got shape {values.shape}")
        return values

    _, _, u = etdrk4_solve(lower=0.0, upper=1.0, t_start=0.0, t_end=float(t_end), diffusivity=float(nu),
                           reaction=lambda u, u_x, x, t: -u * u_x, initial=start, modes=modes, steps=steps,
                           output_times=2)
    # one initial value: u is (modes, 2); a batch: (batch, 2, modes)
    final = u[:, -1] if u.ndim == 2 else u[:, -1, :]
    return final[..., ::modes // points]
