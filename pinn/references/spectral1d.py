"""A Fourier pseudo-spectral solver for 1-D periodic diffusion-reaction-advection equations.

Solves ``u_t = nu u_xx + N(u, u_x, x, t)`` on a periodic interval ``[lower, upper)`` with
Fourier collocation in space (``modes`` points, the 2/3 rule against aliasing of the nonlinear
term) and the fourth-order exponential time-differencing Runge-Kutta scheme ETDRK4 in time
(Cox & Matthews 2002, with the contour-integral evaluation of its coefficients of Kassam &
Trefethen 2005), which treats the stiff diffusion exactly. It reports its own error: the relative
L2 difference from a solve with half the modes and half the steps (the coarser solve's error, so an
upper estimate of this one's).

Examples, the benchmark problems it serves::

    # Allen-Cahn: u_t = 1e-4 u_xx + 5 u - 5 u^3, u0 = x^2 cos(pi x) on [-1, 1)
    periodic_spectral(lower=-1, upper=1, t_end=1, diffusivity=1e-4,
                      reaction=lambda u, u_x, x, t: 5 * u - 5 * u**3,
                      initial=lambda x: x**2 * np.cos(np.pi * x), modes=1024, steps=2000)
    # viscous Burgers: u_t + u u_x = (0.01 / pi) u_xx, u0 = -sin(pi x)
    periodic_spectral(lower=-1, upper=1, t_end=1, diffusivity=0.01 / np.pi,
                      reaction=lambda u, u_x, x, t: -u * u_x,
                      initial=lambda x: -np.sin(np.pi * x), modes=4096, steps=10000)
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Callable

import numpy as np

from pinn.references.grid import GridReference

Reaction = Callable[[np.ndarray, np.ndarray, np.ndarray, float], np.ndarray]


def etdrk4_solve(*, lower: float, upper: float, t_start: float, t_end: float, diffusivity: float,
                 reaction: Reaction, initial: Callable[[np.ndarray], np.ndarray], modes: int, steps: int,
                 output_times: int, dealias: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One ETDRK4 solve: ``(x, t, u)`` with ``x`` the ``modes`` collocation points of ``[lower, upper)``,
    ``t`` the ``output_times`` output times and ``u`` of shape ``(len(x), len(t))``."""
    if (steps % (output_times - 1)) != 0:
        raise ValueError(f"steps ({steps}) must be a multiple of output_times - 1 ({output_times - 1})")
    length = upper - lower
    x = lower + length * np.arange(modes) / modes
    k = 2 * np.pi / length * np.arange(modes // 2 + 1)
    ik = 1j * k
    if modes % 2 == 0:
        ik[-1] = 0.0  # the Nyquist mode has no odd derivative
    keep = np.ones(k.shape, dtype=bool)
    if dealias:
        keep[k > 2 / 3 * k[-1]] = False
    h = (t_end - t_start) / steps
    lin = -diffusivity * k**2
    e, e2 = np.exp(h * lin), np.exp(h * lin / 2)
    # Kassam & Trefethen: phi-function coefficients by a contour mean around each h*lin
    roots = np.exp(1j * np.pi * (np.arange(1, 33) - 0.5) / 32)
    lr = h * lin[:, None] + roots[None, :]
    q = h * np.real(np.mean((np.exp(lr / 2) - 1) / lr, axis=1))
    f1 = h * np.real(np.mean((-4 - lr + np.exp(lr) * (4 - 3 * lr + lr**2)) / lr**3, axis=1))
    f2 = h * np.real(np.mean((2 + lr + np.exp(lr) * (lr - 2)) / lr**3, axis=1))
    f3 = h * np.real(np.mean((-4 - 3 * lr - lr**2 + np.exp(lr) * (4 - lr)) / lr**3, axis=1))

    def nonlinear(v_hat: np.ndarray, t: float) -> np.ndarray:
        u = np.fft.irfft(v_hat, n=modes)
        u_x = np.fft.irfft(ik * v_hat, n=modes)
        n_hat = np.fft.rfft(np.broadcast_to(np.asarray(reaction(u, u_x, x, t), dtype=np.float64), u.shape))
        return np.where(keep, n_hat, 0.0)

    v = np.fft.rfft(np.asarray(initial(x), dtype=np.float64) * np.ones(modes))
    stride = steps // (output_times - 1)
    out = [np.fft.irfft(v, n=modes)]
    t = t_start
    for step in range(1, steps + 1):
        nv = nonlinear(v, t)
        a = e2 * v + q * nv
        na = nonlinear(a, t + h / 2)
        b = e2 * v + q * na
        nb = nonlinear(b, t + h / 2)
        c = e2 * a + q * (2 * nb - nv)
        nc = nonlinear(c, t + h)
        v = e * v + nv * f1 + 2 * (na + nb) * f2 + nc * f3
        t = t_start + step * h
        if step % stride == 0:
            out.append(np.fft.irfft(v, n=modes))
    if not np.all(np.isfinite(out[-1])):
        raise ValueError("the spectral solve blew up: take more steps")
    return x, np.linspace(t_start, t_end, output_times), np.stack(out, axis=1)


def _closed(x: np.ndarray, u: np.ndarray, upper: float) -> tuple[np.ndarray, np.ndarray]:
    """The periodic solution on the closed interval: the first row repeated at ``x = upper``."""
    return np.append(x, upper), np.concatenate([u, u[:1]], axis=0)


def periodic_spectral(*, lower: float, upper: float, t_end: float, diffusivity: float, reaction: Reaction,
                      initial: Callable[[np.ndarray], np.ndarray], t_start: float = 0.0, modes: int = 1024,
                      steps: int = 2000, output_times: int = 101, output_stride: int = 4,
                      names: tuple[str, str] = ("x", "t"), field: str = "u",
                      estimate_error: bool = True) -> GridReference:
    """Solve ``u_t = diffusivity u_xx + reaction(u, u_x, x, t)``, periodic on ``[lower, upper]``, and
    return it on a grid (every ``output_stride``-th collocation point, both ends, ``output_times`` times).

    Args:
        reaction: ``N(u, u_x, x, t)`` of numpy arrays (``t`` a float). Through
            :func:`pinn.references.periodic_spectral` (what a problem file uses) it may be written
            with torch operations instead: that wrapper converts.
        initial: ``u0(x)`` of a numpy array (or torch, through the wrapper).
        modes: collocation points (even; a power of two is fastest).
        steps: ETDRK4 steps, a multiple of ``output_times - 1``.
        estimate_error: also solve with half the modes and half the steps and report the relative L2
            difference on the common grid as the error estimate.
    """
    for name, value in (("lower", lower), ("upper", upper), ("t_start", t_start), ("t_end", t_end),
                        ("diffusivity", diffusivity)):
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(f"periodic_spectral {name} must be a finite number, got {value!r}")
    if not lower < upper or not t_start < t_end or diffusivity < 0:
        raise ValueError("periodic_spectral needs lower < upper, t_start < t_end and diffusivity >= 0")
    for name, value in (("modes", modes), ("steps", steps), ("output_times", output_times),
                        ("output_stride", output_stride)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < (2 if name != "output_stride" else 1):
            raise ValueError(f"periodic_spectral {name} must be a whole number >= 2, got {value!r}")
    if modes % output_stride:
        raise ValueError(f"modes ({modes}) must be a multiple of output_stride ({output_stride})")
    settings = dict(lower=float(lower), upper=float(upper), t_start=float(t_start), t_end=float(t_end),
                    diffusivity=float(diffusivity), reaction=reaction, initial=initial)
    x, t, u = etdrk4_solve(modes=modes, steps=steps, output_times=output_times, **settings)
    estimate = {}
    if estimate_error:
        if steps % (2 * (output_times - 1)) or modes % 4:
            raise ValueError("estimate_error needs steps a multiple of 2 * (output_times - 1) and modes of 4")
        _, _, coarse = etdrk4_solve(modes=modes // 2, steps=steps // 2, output_times=output_times, **settings)
        fine = u[::2]  # the coarse collocation points are every other fine one
        estimate[field] = float(np.linalg.norm(fine - coarse) / np.linalg.norm(fine))
    x, u = _closed(x[::output_stride], u[::output_stride], float(upper))
    return GridReference(
        {names[0]: x, names[1]: t}, {field: u}, estimate,
        f"Fourier pseudo-spectral, {modes} modes, ETDRK4 with {steps} steps"
        + (f" (own error estimate {estimate[field]:.1e}, against half the modes and steps)" if estimate else ""),
    )
