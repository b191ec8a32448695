"""The viscous Burgers equation with a sine initial profile, by the Cole-Hopf transformation.

    u_t + u u_x = nu u_xx,   x in [-1, 1],   u(x, 0) = -sin(pi x),   u(-1, t) = u(1, t) = 0

Cole-Hopf (u = -2 nu phi_x / phi, phi solving the heat equation) gives, on the whole line (whose
solution is odd about x = +-1, so it satisfies the boundary conditions),

    u(x, t) = - int sin(pi (x - eta)) f(x - eta) exp(-eta^2 / (4 nu t)) d eta
              / int f(x - eta) exp(-eta^2 / (4 nu t)) d eta,        f(y) = exp(-cos(pi y) / (2 pi nu)).

With eta = sqrt(4 nu t) z both integrals are Gauss-Hermite integrals in z, evaluated here with
``order`` nodes, in log space (f spans e^{+-1/(2 pi nu)}, e^{+-50} for nu = 0.01/pi), as Basdevant et
al. (1986) did. For nu = 0.01/pi, 100 nodes agree to round-off (4e-16) with a fine trapezoidal rule in
z and to 4e-11 with an independent Fourier pseudo-spectral solve of 2048 modes
(``tests/test_burgers_reference.py``); the reference reports the difference between ``order`` and
``order // 2`` nodes as its own error.
"""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from pinn.references.grid import GridReference

NU_RAISSI = 0.01 / math.pi


def burgers_cole_hopf(x: np.ndarray, t: np.ndarray, nu: float = NU_RAISSI, order: int = 120) -> np.ndarray:
    """``u(x, t)`` of the problem above at the points ``(x, t)`` (arrays broadcast together), by
    Gauss-Hermite quadrature of ``order`` nodes (at most 300: numpy's nodes break down beyond)."""
    if isinstance(order, bool) or not isinstance(order, Integral) or not 2 <= order <= 300:
        raise ValueError(f"burgers_cole_hopf order must be a whole number in 2..300, got {order!r}")
    if isinstance(nu, bool) or not isinstance(nu, Real) or not 0 < nu < math.inf:
        raise ValueError(f"burgers_cole_hopf nu must be a positive number, got {nu!r}")
    x, t = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(t, dtype=np.float64))
    if np.any(t < 0):
        raise ValueError("burgers_cole_hopf needs t >= 0")
    z, w = np.polynomial.hermite.hermgauss(int(order))
    xs, ts = x.ravel(), t.ravel()
    scale = np.sqrt(4 * nu * ts)[:, None]
    y = xs[:, None] - scale * z[None, :]
    log_weight = np.log(w)[None, :] - np.cos(np.pi * y) / (2 * np.pi * nu)
    weight = np.exp(log_weight - log_weight.max(axis=1, keepdims=True))
    u = -(np.sin(np.pi * y) * weight).sum(axis=1) / weight.sum(axis=1)
    u = np.where(ts > 0, u, -np.sin(np.pi * xs))  # t = 0: the initial profile itself
    return u.reshape(x.shape)


def burgers_reference(nu: float = NU_RAISSI, points: int = 256, times: int = 101, t_end: float = 1.0,
                      order: int = 120, names: tuple[str, str] = ("x", "t"), field: str = "u") -> GridReference:
    """The solution on a ``points`` x ``times`` grid of ``[-1, 1] x [0, t_end]`` (Raissi et al.'s data set
    is 256 x 100), with the difference from half the quadrature order as its error estimate."""
    x = np.linspace(-1.0, 1.0, points)
    t = np.linspace(0.0, t_end, times)
    xx, tt = np.meshgrid(x, t, indexing="ij")
    u = burgers_cole_hopf(xx, tt, nu, order)
    coarse = burgers_cole_hopf(xx, tt, nu, max(order // 2, 2))
    estimate = float(np.linalg.norm(u - coarse) / np.linalg.norm(u))
    return GridReference({names[0]: x, names[1]: t}, {field: u}, {field: estimate},
                         f"Cole-Hopf solution by {order}-node Gauss-Hermite quadrature (own error estimate "
                         f"{estimate:.1e}, against {max(order // 2, 2)} nodes)")
