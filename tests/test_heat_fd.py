"""Tests of the finite-difference heat reference: convergence orders against
exact and manufactured solutions, the Richardson error estimate, the output
grid, and argument validation."""
from __future__ import annotations

import numpy as np
import pytest

from pinn.references.grid import GridReference
from pinn.references.heat_fd_solver import heat_fd

PI = np.pi
SCHEMES = ("crank-nicolson", "bdf2")


# --- problems with known solutions -------------------------------------------
# Each returns (keyword arguments for heat_fd without cells/steps, exact u(*x, t)).

def dirichlet_1d():
    """u = exp(-pi^2 t) sin(pi x): k = 1, no source, zero walls."""
    exact = lambda x, t: np.exp(-PI**2 * t) * np.sin(PI * x)
    return dict(lower=0.0, upper=1.0, t_end=0.2, initial=lambda x: exact(x, 0.0)), exact


def neumann_1d():
    """u = exp(-t) cos(2x) on [0.2, 1.4] with k = 1 + x/2, Neumann on both walls.

    (k u_x)_x = k' u_x + k u_xx = -exp(-t) (sin 2x + 4 (1 + x/2) cos 2x), so
    f = u_t - (k u_x)_x = exp(-t) ((3 + 2x) cos 2x + sin 2x).
    Outward derivatives: -u_x(0.2) = 2 exp(-t) sin 0.4, u_x(1.4) = -2 exp(-t) sin 2.8.
    """
    exact = lambda x, t: np.exp(-t) * np.cos(2 * x)
    return dict(
        lower=0.2, upper=1.4, t_end=0.5,
        diffusivity=lambda x: 1 + 0.5 * x,
        source=lambda x, t: np.exp(-t) * ((3 + 2 * x) * np.cos(2 * x) + np.sin(2 * x)),
        initial=lambda x: exact(x, 0.0),
        walls={"x-": ("neumann", lambda t: 2 * np.exp(-t) * np.sin(0.4)),
               "x+": ("neumann", lambda t: -2 * np.exp(-t) * np.sin(2.8))},
    ), exact


def manufactured_2d():
    """u = exp(-t) sin(pi x) sin(2 pi y) on [0,1] x [0,0.5] (zero walls), k = 1 + xy/2.

    div(k grad u) = k lap u + k_x u_x + k_y u_y with lap u = -5 pi^2 u,
    k_x = y/2, k_y = x/2, so
    f = -u + 5 pi^2 k u - exp(-t) (y/2 pi cos(pi x) sin(2 pi y) + x/2 2pi sin(pi x) cos(2 pi y)).
    """
    exact = lambda x, y, t: np.exp(-t) * np.sin(PI * x) * np.sin(2 * PI * y)
    k = lambda x, y: 1 + 0.5 * x * y

    def source(x, y, t):
        u = exact(x, y, t)
        drift = (0.5 * y * PI * np.cos(PI * x) * np.sin(2 * PI * y)
                 + 0.5 * x * 2 * PI * np.sin(PI * x) * np.cos(2 * PI * y))
        return -u + 5 * PI**2 * k(x, y) * u - np.exp(-t) * drift

    return dict(lower=(0.0, 0.0), upper=(1.0, 0.5), t_end=0.25, diffusivity=k,
                source=source, initial=lambda x, y: exact(x, y, 0.0)), exact


def mixed_walls_2d():
    """u = exp(-2t) sin(x + 0.3) cos(y - 0.2) on the unit square, k = 1 + xy/2.

    Neumann on x- and y- (so a Neumann-Neumann corner), time-dependent
    Dirichlet on x+ and y+ (so two Dirichlet-Neumann corners).
    lap u = -2u, hence f = u_t - k lap u - k_x u_x - k_y u_y = xy u - (y u_x + x u_y) / 2.
    """
    exact = lambda x, y, t: np.exp(-2 * t) * np.sin(x + 0.3) * np.cos(y - 0.2)
    u_x = lambda x, y, t: np.exp(-2 * t) * np.cos(x + 0.3) * np.cos(y - 0.2)
    u_y = lambda x, y, t: -np.exp(-2 * t) * np.sin(x + 0.3) * np.sin(y - 0.2)
    return dict(
        lower=(0.0, 0.0), upper=(1.0, 1.0), t_end=0.5,
        diffusivity=lambda x, y: 1 + 0.5 * x * y,
        source=lambda x, y, t: x * y * exact(x, y, t) - 0.5 * (y * u_x(x, y, t) + x * u_y(x, y, t)),
        initial=lambda x, y: exact(x, y, 0.0),
        walls={"x-": ("neumann", lambda y, t: -u_x(0.0, y, t)),
               "y-": ("neumann", lambda x, t: -u_y(x, 0.0, t)),
               "x+": ("dirichlet", lambda y, t: exact(1.0, y, t)),
               "y+": ("dirichlet", lambda x, t: exact(x, 1.0, t))},
    ), exact


def relative_error(ref: GridReference, exact) -> float:
    grids = np.meshgrid(*ref.axes.values(), indexing="ij")
    truth = exact(*grids)
    return float(np.linalg.norm(ref.fields["u"] - truth) / np.linalg.norm(truth))


def cells_for(kwargs: dict, n: int):
    """n cells on the first axis, the same spacing on the second (if any)."""
    if np.ndim(kwargs["lower"]) == 0:
        return n
    ratio = (kwargs["upper"][1] - kwargs["lower"][1]) / (kwargs["upper"][0] - kwargs["lower"][0])
    return (n, int(round(n * ratio)))


def observed_orders(problem, scheme: str, sizes: tuple[int, ...]) -> list[float]:
    """log2 of successive error ratios as h and dt are halved together."""
    kwargs, exact = problem()
    errors = [relative_error(heat_fd(**kwargs, cells=cells_for(kwargs, n), steps=n, scheme=scheme,
                                     output_times=5, estimate_error=False), exact)
              for n in sizes]
    return [float(np.log2(a / b)) for a, b in zip(errors, errors[1:])]


# --- convergence order -------------------------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("problem, sizes", [
    (dirichlet_1d, (16, 32, 64)),
    (neumann_1d, (16, 32, 64)),
    (manufactured_2d, (16, 32, 64)),
    (mixed_walls_2d, (16, 32, 64)),
], ids=["1d-dirichlet", "1d-neumann-variable-k", "2d-manufactured", "2d-neumann-moving-dirichlet"])
def test_second_order_in_space_and_time(problem, sizes, scheme):
    orders = observed_orders(problem, scheme, sizes)
    assert all(1.8 <= p <= 2.3 for p in orders), orders


def test_error_reaches_fine_level():
    # The order test alone would pass for a method converging to a wrong answer
    # at the right rate from far away; check the size of the error too.
    kwargs, exact = mixed_walls_2d()
    assert relative_error(heat_fd(**kwargs, cells=64, steps=64, output_times=5,
                                  estimate_error=False), exact) < 1e-4


def test_extrapolation_is_fourth_order_with_crank_nicolson():
    kwargs, exact = manufactured_2d()
    errors = [relative_error(heat_fd(**kwargs, cells=(n, n // 2), steps=n, output_times=5,
                                     output_stride=2, extrapolate=True, estimate_error=False), exact)
              for n in (16, 32)]
    assert 3.5 <= np.log2(errors[0] / errors[1]) <= 4.6, errors


# --- the Richardson error estimate ----------------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("problem", [dirichlet_1d, neumann_1d, manufactured_2d, mixed_walls_2d])
def test_error_estimate_within_factor_two(problem, scheme):
    kwargs, exact = problem()
    ref = heat_fd(**kwargs, cells=cells_for(kwargs, 32), steps=32, scheme=scheme, output_times=5)
    truth = relative_error(ref, exact)
    assert 0.5 <= ref.error_estimate["u"] / truth <= 2.0, (ref.error_estimate, truth)


@pytest.mark.parametrize("problem", [dirichlet_1d, neumann_1d, manufactured_2d, mixed_walls_2d])
def test_extrapolated_error_estimate_within_factor_two(problem):
    kwargs, exact = problem()
    ref = heat_fd(**kwargs, cells=cells_for(kwargs, 64), steps=64, output_times=5,
                  output_stride=2, extrapolate=True)
    truth = relative_error(ref, exact)
    assert 0.5 <= ref.error_estimate["u"] / truth <= 2.0, (ref.error_estimate, truth)
    plain = heat_fd(**kwargs, cells=cells_for(kwargs, 64), steps=64,
                    output_times=5, output_stride=2, estimate_error=False)
    assert truth < 0.2 * relative_error(plain, exact)  # extrapolation must pay off


# --- the returned grid --------------------------------------------------------

def test_grid_layout_and_names():
    kwargs, _ = manufactured_2d()
    ref = heat_fd(**kwargs, cells=(16, 8), steps=8, output_times=[0.0, 0.125, 0.25],
                  output_stride=2, names=("a", "b", "s"), field="temp")
    assert list(ref.axes) == ["a", "b", "s"]
    np.testing.assert_allclose(ref.axes["a"], np.linspace(0, 1, 9))
    np.testing.assert_allclose(ref.axes["b"], np.linspace(0, 0.5, 5))
    np.testing.assert_allclose(ref.axes["s"], [0.0, 0.125, 0.25])
    assert ref.fields["temp"].shape == (9, 5, 3)
    assert set(ref.error_estimate) == {"temp"}
    assert "crank-nicolson" in ref.description and "16x8" in ref.description


def test_default_names_and_times_in_1d():
    kwargs, exact = dirichlet_1d()
    ref = heat_fd(**kwargs, cells=8, steps=20, estimate_error=False)
    assert list(ref.axes) == ["x", "t"]
    np.testing.assert_allclose(ref.axes["t"], np.linspace(0, 0.2, 11))
    assert ref.error_estimate == {}
    # The first output time is the initial condition itself.
    np.testing.assert_allclose(ref.fields["u"][:, 0], exact(ref.axes["x"], 0.0), atol=1e-15)


def test_strided_output_is_the_full_solution_subsampled():
    kwargs, _ = manufactured_2d()
    full = heat_fd(**kwargs, cells=(16, 8), steps=8, output_times=3, estimate_error=False)
    thin = heat_fd(**kwargs, cells=(16, 8), steps=8, output_times=3, output_stride=(4, 2),
                   estimate_error=False)
    np.testing.assert_array_equal(thin.fields["u"], full.fields["u"][::4, ::2])


def test_dirichlet_wins_at_corners_and_over_initial():
    # u0 = 1 everywhere, x+ Dirichlet 5 meets y- Neumann: the corner must hold 5.
    ref = heat_fd(lower=(0, 0), upper=(1, 1), t_end=0.1, initial=lambda x, y: 1 + 0 * x,
                  walls={"x+": ("dirichlet", 5.0), "y-": ("neumann", 0.0), "x-": ("neumann", 0.0),
                         "y+": ("neumann", 0.0)},
                  cells=8, steps=4, output_times=2, estimate_error=False)
    u = ref.fields["u"]
    np.testing.assert_array_equal(u[-1, :, :], 5.0)
    assert np.all(u[:-1, :, 0] == 1.0)


def test_constant_state_is_preserved_with_insulated_walls():
    # Zero-flux walls and no source: a constant stays constant (tests the wall
    # stencil's consistency, including the Neumann-Neumann corners).
    ref = heat_fd(lower=(0, 0), upper=(2, 1), t_end=1.0, initial=lambda x, y: 3 + 0 * x,
                  diffusivity=lambda x, y: 1 + x * y,
                  walls={side: ("neumann", 0.0) for side in ("x-", "x+", "y-", "y+")},
                  cells=(8, 4), steps=4, output_times=2, estimate_error=False)
    np.testing.assert_allclose(ref.fields["u"], 3.0, rtol=1e-12)


def test_insulated_walls_conserve_heat_with_variable_k():
    # With zero-flux walls the trapezoidal-rule integral of u is conserved
    # exactly by the half-cell wall treatment.
    ref = heat_fd(lower=0, upper=1, t_end=1.0, initial=lambda x: np.exp(-20 * (x - 0.3) ** 2),
                  diffusivity=lambda x: 0.5 + x, cells=20, steps=40, output_times=3,
                  walls={"x-": ("neumann", 0.0), "x+": ("neumann", 0.0)}, estimate_error=False)
    weights = np.full(21, 1.0)
    weights[[0, -1]] = 0.5
    heat = weights @ ref.fields["u"]
    np.testing.assert_allclose(heat, heat[0], rtol=1e-12)
    assert not np.allclose(ref.fields["u"][:, 0], ref.fields["u"][:, -1])  # it did diffuse


# --- validation ---------------------------------------------------------------

def base_1d(**changes):
    kwargs = dict(lower=0.0, upper=1.0, t_end=1.0, initial=lambda x: np.sin(PI * x),
                  cells=8, steps=8, output_times=3)
    kwargs.update(changes)
    return kwargs


def base_2d(**changes):
    kwargs = dict(lower=(0.0, 0.0), upper=(1.0, 1.0), t_end=1.0,
                  initial=lambda x, y: np.sin(PI * x) * np.sin(PI * y),
                  cells=8, steps=8, output_times=3)
    kwargs.update(changes)
    return kwargs


@pytest.mark.parametrize("kwargs, argument", [
    (base_1d(lower=1.0, upper=1.0), "lower"),
    (base_2d(lower=(0.0, 1.0)), "lower"),
    (base_1d(lower=(0.0, 0.0, 0.0), upper=(1.0, 1.0, 1.0)), "lower"),
    (base_1d(upper=(1.0, 1.0)), "lower and upper"),
    (base_1d(lower="a"), "lower"),
    (base_1d(upper=np.inf), "upper"),
    (base_1d(t_end=0.0), "t_end"),
    (base_1d(t_start=2.0), "t_end"),
    (base_1d(cells=1), "cells"),
    (base_2d(cells=(8, 1)), "cells"),
    (base_2d(cells=(8, 8, 8)), "cells"),
    (base_1d(cells=2.5), "cells"),
    (base_1d(steps=1), "steps"),
    (base_1d(steps=8.0), "steps"),
    (base_1d(cells=6, estimate_error=False, output_stride=4), "output_stride"),
    (base_1d(output_stride=0), "output_stride"),
    (base_1d(cells=9), "cells"),  # odd: no half grid for the error estimate
    (base_1d(steps=10, output_times=3, extrapolate=True, output_stride=2), "steps"),  # needs steps % 4 == 0
    (base_1d(extrapolate=True, estimate_error=False), "output_stride"),  # must be even
    (base_1d(scheme="euler"), "scheme"),
    (base_1d(scheme="bdf2", extrapolate=True, output_stride=2, steps=16, output_times=3), "extrapolate"),
    (base_1d(walls={"y-": ("dirichlet", 0.0)}), "walls"),
    (base_1d(walls={"x-": ("robin", 0.0)}), "walls"),
    (base_1d(walls={"x-": "dirichlet"}), "walls"),
    (base_1d(walls={"x-": ("dirichlet", "hot")}), "walls"),
    (base_2d(walls={"x-": ("neumann", lambda y, t: np.zeros(3))}), "walls"),
    (base_2d(walls={"y+": ("dirichlet", lambda x, t: np.nan * x)}), "walls"),
    (base_1d(output_times=1), "output_times"),
    (base_1d(output_times=[0.0, 0.3]), "output_times"),  # 0.3 is not on a step
    (base_1d(output_times=[0.5, 0.25]), "output_times"),
    (base_1d(output_times=[0.0, 1.5]), "output_times"),
    (base_1d(output_times=[0.125]), "output_times"),  # on a fine step, not on a coarse one
    (base_1d(names=("x", "y", "t")), "names"),
    (base_1d(names=("x", "x")), "names"),
    (base_1d(field=""), "field"),
    (base_1d(initial=None), "initial"),
    (base_1d(initial=lambda x: np.ones(3)), "initial"),
    (base_2d(initial=lambda x, y: x[:, :1] + 0 * y[:, :1]), "initial"),
    (base_1d(initial=lambda x: np.where(x > 0.5, np.inf, x)), "initial"),
    (base_1d(source=3.0), "source"),
    (base_1d(source=lambda x, t: np.ones((2, 2))), "source"),
    (base_1d(source=lambda x, t: np.nan * x if t > 0.5 else 0 * x), "source"),
    (base_1d(diffusivity=0.0), "diffusivity"),
    (base_1d(diffusivity=-1.0), "diffusivity"),
    (base_1d(diffusivity="1"), "diffusivity"),
    (base_1d(diffusivity=lambda x: x - 0.5), "diffusivity"),
    # Zero only on the wall nodes: must still be caught.
    (base_1d(diffusivity=lambda x: x * (1 - x)), "diffusivity"),
    (base_2d(diffusivity=lambda x, y: np.ones(4)), "diffusivity"),
    (base_2d(diffusivity=lambda x, y: np.inf + 0 * x), "diffusivity"),
])
def test_bad_arguments_raise_value_error_naming_them(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        heat_fd(**kwargs)


@pytest.mark.parametrize("kwargs", [base_1d(), base_2d(), base_1d(steps=8, output_times=[0.25, 1.0])])
def test_validation_base_cases_are_valid(kwargs):
    # Guards the validation test: each bad case differs from a valid call.
    assert isinstance(heat_fd(**kwargs), GridReference)
