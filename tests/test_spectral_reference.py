"""The 1-D periodic pseudo-spectral reference (Fourier collocation + ETDRK4): a closed form, refinement
in space and time on Allen-Cahn, and its own error estimate."""
import numpy as np
import pytest

import pinn
from pinn.references.spectral1d import etdrk4_solve, periodic_spectral

ALLEN_CAHN = dict(lower=-1.0, upper=1.0, t_start=0.0, t_end=1.0, diffusivity=1e-4,
                  reaction=lambda u, u_x, x, t: 5 * u - 5 * u**3, initial=lambda x: x**2 * np.cos(np.pi * x))


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_a_decaying_travelling_mode_is_exact():
    # u_t = nu u_xx - c u_x: u = exp(-nu k^2 t) sin(k (x - c t)), k = 2 pi / L
    nu, c, k = 0.05, 0.7, np.pi
    x, t, u = etdrk4_solve(lower=-1.0, upper=1.0, t_start=0.0, t_end=1.0, diffusivity=nu,
                           reaction=lambda u, u_x, x, t: -c * u_x, initial=lambda x: np.sin(k * x),
                           modes=32, steps=100, output_times=11)
    exact = np.exp(-nu * k**2 * t)[None, :] * np.sin(k * (x[:, None] - c * t[None, :]))
    assert _rel(u, exact) < 1e-8  # 2.3e-9: the advection, in N, has ETDRK4's fourth-order time error


def test_allen_cahn_converges_under_refinement():
    # measured (against 2048 modes): 256 modes 7.2e-4, 512 2.0e-5, 1024 4.2e-6 (the initial profile's
    # derivative jumps across the periodic ends, so the convergence is algebraic until diffusion smooths it)
    sols = {m: etdrk4_solve(modes=m, steps=500, output_times=11, **ALLEN_CAHN)[2] for m in (256, 512, 1024, 2048)}
    err = {m: _rel(sols[m], sols[2048][:: 2048 // m]) for m in (256, 512, 1024)}
    assert err[256] > err[512] > err[1024]
    assert err[1024] < 2e-5
    # time steps: 500 is converged to ~1e-10 (the stiff diffusion is integrated exactly)
    coarse_t = etdrk4_solve(modes=512, steps=250, output_times=11, **ALLEN_CAHN)[2]
    assert _rel(coarse_t, sols[512]) < 1e-8


def test_own_error_estimate_bounds_the_error():
    ref = periodic_spectral(modes=512, steps=500, output_times=11, output_stride=4, **ALLEN_CAHN)
    fine = etdrk4_solve(modes=2048, steps=500, output_times=11, **ALLEN_CAHN)[2]
    fine = np.concatenate([fine[::16], fine[:1]], axis=0)  # the reference's grid: every 4th of 512, both ends
    actual = _rel(ref.fields["u"], fine)
    assert actual <= ref.error_estimate["u"] < 2e-3  # 2.0e-5 <= 1.0e-3 (256 against 512 modes)
    assert ref.axes["x"][0] == -1.0 and ref.axes["x"][-1] == 1.0
    assert np.array_equal(ref.fields["u"][0], ref.fields["u"][-1])


def test_deferred_reference_takes_torch_functions():
    import torch

    ref = pinn.references.periodic_spectral(
        lower=-1.0, upper=1.0, t_end=0.1, diffusivity=1e-4, modes=64, steps=20, output_times=11,
        reaction=lambda u, u_x, x, t: 5 * u - 5 * u**3, initial=lambda x: x**2 * torch.cos(np.pi * x))
    grid = ref.build(("x", "t"), ("u",), None)
    assert grid.shape == (17, 11)
    assert np.isfinite(grid.fields["u"]).all()


@pytest.mark.parametrize("bad", [dict(modes=100, output_stride=3), dict(steps=15), dict(diffusivity=-1.0)])
def test_bad_settings_are_refused(bad):
    settings = dict(ALLEN_CAHN, modes=64, steps=20, output_times=11)
    settings.update(bad)
    with pytest.raises(ValueError):
        periodic_spectral(**settings)
