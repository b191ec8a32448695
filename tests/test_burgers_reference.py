"""The Burgers reference (Cole-Hopf by Gauss-Hermite quadrature): convergence in the quadrature order,
agreement with an independent trapezoidal quadrature and with an independent pseudo-spectral solve."""
import numpy as np
import pytest

from pinn.references.cole_hopf import NU_RAISSI, burgers_cole_hopf, burgers_reference
from pinn.references.spectral1d import etdrk4_solve


def _trapezoid(x, t, nu=NU_RAISSI, h=0.005, reach=60.0):
    """The same two integrals by the trapezoidal rule in z on [-reach, reach] (exponentially accurate for
    this analytic, Gaussian-decaying integrand): an independent quadrature."""
    z = np.arange(-reach, reach + h / 2, h)
    y = x[:, None] - np.sqrt(4 * nu * t) * z[None, :]
    log_weight = -z[None, :] ** 2 - np.cos(np.pi * y) / (2 * np.pi * nu)
    weight = np.exp(log_weight - log_weight.max(axis=1, keepdims=True))
    return -(np.sin(np.pi * y) * weight).sum(axis=1) / weight.sum(axis=1)


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


X = np.linspace(-1.0, 1.0, 1025)


@pytest.mark.parametrize("t", [0.1, 0.5, 1.0])
def test_converges_in_the_quadrature_order(t):
    u = {n: burgers_cole_hopf(X, t, order=n) for n in (30, 60, 120, 240)}
    assert _rel(u[120], u[240]) < 1e-13
    # the error falls with the order; 60 nodes is already at ~1e-8 at t = 1 (sharpest front)
    assert _rel(u[30], u[240]) >= _rel(u[60], u[240]) >= _rel(u[120], u[240])
    assert _rel(u[60], u[240]) < 1e-6


@pytest.mark.parametrize("t", [0.25, 0.75, 1.0])
def test_agrees_with_an_independent_trapezoidal_quadrature(t):
    assert _rel(burgers_cole_hopf(X, t), _trapezoid(X, t)) < 1e-13


def test_agrees_with_an_independent_pseudo_spectral_solve():
    # measured: 4.0e-11 relative L2 over 11 times in [0, 1] at 2048 modes (1.3e-6 at 1024: the front
    # at x = 0 is ~0.01 wide); the two methods share nothing but the equation
    x, t, u = etdrk4_solve(lower=-1.0, upper=1.0, t_start=0.0, t_end=1.0, diffusivity=NU_RAISSI,
                           reaction=lambda u, u_x, x, t: -u * u_x, initial=lambda x: -np.sin(np.pi * x),
                           modes=2048, steps=4000, output_times=11)
    exact = np.stack([burgers_cole_hopf(x, tt) for tt in t], axis=1)
    assert _rel(u, exact) < 1e-9


def test_initial_profile_and_zero_ends():
    t = np.linspace(0, 1, 11)
    assert np.allclose(burgers_cole_hopf(X, 0.0), -np.sin(np.pi * X), atol=0, rtol=0)
    assert np.max(np.abs(burgers_cole_hopf(np.full_like(t, -1.0), t))) < 1e-12
    assert np.max(np.abs(burgers_cole_hopf(np.full_like(t, 1.0), t))) < 1e-12
    # odd in x, and Basdevant et al.'s (1986) benchmark figure: the steepest slope, du/dx(0, t) = -152.00516
    # at t = 1.6037 / pi
    assert np.allclose(burgers_cole_hopf(-X, 0.6), -burgers_cole_hopf(X, 0.6), atol=1e-14)
    h = 1e-6
    t_steepest = 1.6037 / np.pi
    slope = (burgers_cole_hopf(np.array([h]), t_steepest) - burgers_cole_hopf(np.array([-h]), t_steepest)) / (2 * h)
    assert slope[0] == pytest.approx(-152.00516, abs=2e-4)


def test_grid_reference_reports_its_error():
    ref = burgers_reference(points=65, times=11)
    assert ref.shape == (65, 11)
    assert ref.error_estimate["u"] < 1e-7
    assert list(ref.axes) == ["x", "t"]


@pytest.mark.parametrize("bad", [dict(order=1), dict(order=400), dict(nu=0.0), dict(order=2.5)])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        burgers_cole_hopf(X, 0.5, **bad)
