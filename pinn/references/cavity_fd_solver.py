"""Finite-difference reference for the steady lid-driven cavity.

Solves the steady incompressible Navier-Stokes equations ::

    u u_x + v u_y + p_x = (u_xx + u_yy) / Re + f_x
    u v_x + v v_y + p_y = (v_xx + v_yy) / Re + f_y
    u_x + v_y = 0

on the unit square, with no slip on the walls except the lid ``u(x, 1) = lid(x)``, ``v = 0``.
Second-order central differences on a uniform staggered (MAC) grid, Newton's method on the
discrete equations with a sparse LU factorisation (see :mod:`pinn.references._cavity_mac`).

The corners. The classic lid ``u = 1`` is discontinuous at the two top corners: the velocity
there is undefined (it takes every direction in any neighbourhood) and the pressure is infinite
(like ``1/r``). The solver never samples the lid at the corners (on the staggered grid the lid
enters only at ``0 < x < 1``), and by default it subtracts the exact Stokes corner flow (Taylor's
scraper flow, :mod:`pinn.references._cavity_corner`) scaled by the lid velocity at each corner,
and computes only the remainder, whose derivatives are far milder. Measured at Re = 100 on the
65 x 65 nodes, the relative L2 change of the velocity magnitude between successive grids falls
at order 1.5 without the subtraction (the corners dominate the error) and 1.9-2.0 with it; the
pressure, which without it does not converge near the corners at all (order ~0 on the 65 x 65
nodes up to 256 cells), converges at order ~1.8. The returned grid holds NaN in every field at a
top corner where the lid does not vanish (the flow has no value there), and its ``inside`` mask
leaves those two points out of validation; elsewhere the values are the whole flow (remainder
plus corner flow). A lid that vanishes at both corners (``lid="regularised"``,
``16 x^2 (1 - x)^2``) has no singularity and converges at order 2 everywhere.

The pressure is defined up to a constant; ``pressure_gauge`` chooses it: ``p(x0, y0) = 0`` at a
point (default the centre, interpolated bilinearly when not on a node) or ``"mean"`` (zero mean
over the square). Choose the gauge the network is trained with.

Default: 128 x 128 cells, Richardson-extrapolated with the 64 x 64 solution onto the 65 x 65
nodes (and 32, 16 cells for the error estimate), about 3 s on one core. At Re = 100 the estimated
relative L2 error of the velocity magnitude is 3.1e-4 (2.3e-4 measured against the extrapolation
from 256 and 128 cells), of the pressure 5.8e-3 (2.6e-3 measured: the pressure converges slowly
within a few cells of the corners). The centreline velocity extrema agree with the spectral
values of Botella & Peyret (1998) to 2e-5.
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Callable, Sequence

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from pinn.references._cavity_corner import corner_flow, mean_pressure
from pinn.references._cavity_mac import MacSolution, node_fields, remainder_pressure, solve_cavity
from pinn.references._levels import relative
from pinn.references.grid import GridReference

#: ``lid=REGULARISED`` selects :func:`regularised_lid`.
REGULARISED = "regularised"
#: The key of the velocity magnitude's estimate in ``error_estimate``.
SPEED = "velocity_magnitude"


def regularised_lid(x: np.ndarray) -> np.ndarray:
    """``16 x^2 (1 - x)^2``: 1 at the middle, 0 with zero slope at both corners."""
    return 16.0 * x**2 * (1.0 - x) ** 2


def cavity_fd(
    *,
    reynolds: float = 100.0,
    lid: float | str | Callable[[np.ndarray], np.ndarray] = 1.0,
    force: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
    cells: int = 128,
    extrapolate: bool = True,
    estimate_error: bool = True,
    output_stride: int = 2,
    pressure_gauge: tuple[float, float] | str = (0.5, 0.5),
    subtract_corners: bool = True,
    names: Sequence[str] = ("x", "y"),
    fields: Sequence[str] = ("u", "v", "p"),
) -> GridReference:
    """Solve the steady lid-driven cavity and return ``u``, ``v``, ``p`` on a grid of nodes.

    Args:
        reynolds: the Reynolds number ``Re = U L / nu`` (lid speed 1, side 1), positive. Above
            200 Newton's method is continued from half the Reynolds number, repeatedly.
        lid: the lid velocity ``u(x, 1)``: a number (the classic cavity, 1), a callable of
            ``x`` (numpy in, numpy out), or ``"regularised"`` for ``16 x^2 (1 - x)^2``.
        force: ``None`` or a body force ``(f_x, f_y) = force(x, y)`` (numpy arrays).
        cells: cells per side of the finest grid; ``cells + 1`` nodes per side.
        extrapolate: return the Richardson extrapolation ``(4 q_h - q_2h) / 3`` of the solutions
            on ``cells`` and ``cells / 2``, which lives on the nodes of the coarser grid; so
            ``output_stride`` must then be even.
        estimate_error: repeat two levels coarser (solutions on ``cells / 2`` and
            ``cells / 4``, or with ``extrapolate`` the extrapolations from ``cells / 2`` and
            ``cells / 4``, and from ``cells / 4`` and ``cells / 8``) and report, per field and
            for the velocity magnitude (``error_estimate["velocity_magnitude"]``), the relative
            L2 error ``||q - q_2|| / (2^k - 1) / ||q||`` over the output nodes that ``q_2``
            (the next coarser result) also holds. ``k`` is the order observed from the three
            results (on the coarsest one's nodes) clipped to [1, 2]: never more than 2, even
            where the extrapolation converges faster (~2.8 for the velocity, so the estimate is
            then on the safe side), and less for a field that converges more slowly (the
            pressure near the corners of the classic lid, ~0.6 after extrapolation).
        output_stride: keep every ``output_stride``-th node of the ``cells`` grid.
        pressure_gauge: ``(x0, y0)`` for ``p(x0, y0) = 0`` (a point of the closed square that is
            not a singular corner) or ``"mean"`` for a zero mean over the square.
        subtract_corners: subtract the Stokes corner flow at each top corner where the lid does
            not vanish (see the module notes); ``False`` only to see what it buys.
        names: the two axis names.
        fields: the names of the three fields (velocity components, pressure).

    Returns:
        A :class:`GridReference` on ``(cells / output_stride + 1)`` nodes per side, fields of
        shape ``(nx, ny)`` (``indexing="ij"``), NaN at a singular top corner
        (left out by its ``inside`` mask).

    Raises:
        ValueError: naming the offending argument. RuntimeError if Newton's method fails.
    """
    if isinstance(reynolds, bool) or not isinstance(reynolds, Real) or not (0 < reynolds < math.inf):
        raise ValueError(f"reynolds must be a positive number, got {reynolds!r}")
    lid_fn, force_fn = _lid(lid), _force(force)
    levels = 1 + bool(extrapolate) + 2 * bool(estimate_error)
    coarsest = 2 ** (levels - 1)
    if (not isinstance(cells, Integral) or isinstance(cells, bool) or cells % coarsest
            or cells // coarsest < 4):
        raise ValueError(f"cells must be an integer divisible by {coarsest} into at least 4 cells "
                         f"(extrapolate={extrapolate}, estimate_error={estimate_error}), got {cells!r}")
    if not isinstance(output_stride, Integral) or isinstance(output_stride, bool) or output_stride < 1 \
            or cells % output_stride:
        raise ValueError(f"output_stride must be a positive integer dividing cells {cells}, got {output_stride!r}")
    if extrapolate and output_stride % 2:
        raise ValueError(f"output_stride must be even with extrapolate=True, got {output_stride}")
    names, fields = _labels(names, 2, "names"), _labels(fields, 3, "fields")
    # A lid speed at a corner below round-off (sin(pi)^2, say) is no jump.
    ends = lid_fn(np.array([0.0, 1.0]))
    scale = max(1.0, float(np.max(np.abs(lid_fn(np.linspace(0.0, 1.0, 101))))))
    ends = np.where(np.abs(ends) > 1e-12 * scale, ends, 0.0)
    singular = [corner for corner, speed in zip(((0.0, 1.0), (1.0, 1.0)), ends) if speed != 0.0]
    strengths = (float(ends[0]), float(ends[1])) if subtract_corners else (0.0, 0.0)
    gauge = _gauge(pressure_gauge, singular)

    solutions = [solve_cavity(cells // 2**level, float(reynolds), lid_fn, force_fn, strengths)
                 for level in range(levels)]
    grids = [_singular_corners(_gauged(node_fields(s), s, gauge), singular) for s in solutions]
    if extrapolate:
        results = [{k: (4.0 * fine[k][::2, ::2] - coarse[k]) / 3.0 for k in fine}
                   for fine, coarse in zip(grids, grids[1:])]
        spacing = 2
    else:
        results, spacing = grids, 1

    stride = output_stride // spacing
    out = {k: np.array(v[::stride, ::stride]) for k, v in results[0].items()}
    error: dict[str, float] = {}
    if estimate_error:
        common = math.lcm(output_stride, 2 * spacing) // spacing
        for k, name in [*zip("uvp", fields), ("speed", SPEED)]:
            error[name] = _estimate([_speed(r) if k == "speed" else r[k] for r in results], common)

    nodes = np.linspace(0.0, 1.0, cells // output_stride + 1)
    inside = np.ones((nodes.size, nodes.size), dtype=bool)
    for x0, _ in singular:  # the flow has no value there: validation leaves the corner out
        inside[0 if x0 == 0.0 else -1, -1] = False
    label = "Richardson-extrapolated " if extrapolate else ""
    estimate = f"{error[SPEED]:.1e} (pressure {error[fields[2]]:.1e})" if estimate_error else "not estimated"
    description = (f"{label}finite differences (MAC grid, Newton), lid-driven cavity Re={reynolds:g}, "
                   f"cells {cells}x{cells}{', corner flows subtracted' if singular and subtract_corners else ''}; "
                   f"estimated relative L2 error of the velocity magnitude {estimate}")
    return GridReference(axes={names[0]: nodes, names[1]: nodes.copy()},
                         fields={fields[i]: out[k] for i, k in enumerate("uvp")},
                         error_estimate=error, description=description, inside=inside)


def _lid(lid) -> Callable[[np.ndarray], np.ndarray]:
    if isinstance(lid, str):
        if lid != REGULARISED:
            raise ValueError(f"lid must be a number, a callable or {REGULARISED!r}, got {lid!r}")
        return regularised_lid
    if callable(lid):
        def checked(x: np.ndarray) -> np.ndarray:
            values = np.broadcast_to(np.asarray(lid(x), dtype=float), np.shape(x))
            if not np.all(np.isfinite(values)):
                raise ValueError("lid returned non-finite values")
            return values
        return checked
    if isinstance(lid, bool) or not isinstance(lid, Real) or not math.isfinite(lid):
        raise ValueError(f"lid must be a number, a callable or {REGULARISED!r}, got {lid!r}")
    return lambda x: np.full(np.shape(x), float(lid))


def _force(force) -> Callable | None:
    if force is None:
        return None
    if not callable(force):
        raise ValueError(f"force must be None or a callable force(x, y) -> (f_x, f_y), got {force!r}")

    def checked(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = force(x, y)
        if not (isinstance(values, (tuple, list)) and len(values) == 2):
            raise ValueError(f"force must return a pair (f_x, f_y), got {type(values).__name__}")
        pair = tuple(np.broadcast_to(np.asarray(v, dtype=float), np.shape(x)) for v in values)
        if not all(np.all(np.isfinite(v)) for v in pair):
            raise ValueError("force returned non-finite values")
        return pair

    return checked


def _labels(labels, count: int, what: str) -> tuple[str, ...]:
    labels = tuple(labels) if not isinstance(labels, str) else tuple(labels.split())
    if len(labels) != count or len(set(labels)) != count or not all(isinstance(s, str) and s for s in labels):
        raise ValueError(f"{what} must be {count} distinct non-empty strings, got {labels!r}")
    return labels


def _gauge(gauge, singular: list[tuple[float, float]]) -> tuple[float, float] | str:
    if isinstance(gauge, str):
        if gauge != "mean":
            raise ValueError(f"pressure_gauge must be 'mean' or a point (x0, y0), got {gauge!r}")
        return gauge
    try:
        x0, y0 = (float(c) for c in gauge)
    except (TypeError, ValueError):
        raise ValueError(f"pressure_gauge must be 'mean' or a point (x0, y0), got {gauge!r}") from None
    if not (0.0 <= x0 <= 1.0 and 0.0 <= y0 <= 1.0):
        raise ValueError(f"pressure_gauge point ({x0:g}, {y0:g}) is outside the unit square")
    if (x0, y0) in singular:
        raise ValueError(f"pressure_gauge point ({x0:g}, {y0:g}) is a lid corner, where the pressure is infinite")
    return x0, y0


def _gauged(grid: dict[str, np.ndarray], solution: MacSolution, gauge) -> dict[str, np.ndarray]:
    """Shift the node pressure so that it meets the gauge."""
    nu = 1.0 / solution.reynolds
    if gauge == "mean":
        level = solution.p.mean() + mean_pressure(*solution.corners, nu)
    else:
        # Interpolate the smooth remainder; add the corner flow's pressure exactly.
        nodes = np.linspace(0.0, 1.0, solution.cells + 1)
        remainder = RegularGridInterpolator((nodes, nodes), remainder_pressure(solution))
        level = float(remainder([gauge])[0] + corner_flow(*gauge, *solution.corners, nu)["p"])
    return {**grid, "p": grid["p"] - level}


def _singular_corners(grid: dict[str, np.ndarray], singular) -> dict[str, np.ndarray]:
    """NaN in every field at a top corner where the lid jumps: the flow has no value there."""
    for x0, _ in singular:
        for values in grid.values():
            values[0 if x0 == 0.0 else -1, -1] = np.nan
    return grid


def _estimate(results: list[np.ndarray], common: int) -> float:
    """Relative error of ``results[0]`` from the two coarser results (see ``estimate_error``).

    ``results[k]`` holds the nodes of a grid ``2^k`` times coarser than ``results[0]``;
    ``common`` is the stride of ``results[0]`` onto the output nodes that ``results[1]`` holds.
    """
    fine, middle, coarse = results
    difference = relative(fine[::common, ::common] - middle[::common // 2, ::common // 2],
                           fine[::common, ::common])
    if difference == 0.0:
        return 0.0
    on_coarse = relative(fine[::4, ::4] - middle[::2, ::2], fine[::4, ::4])
    before = relative(middle[::2, ::2] - coarse, middle[::2, ::2])
    order = math.log2(before / on_coarse) if on_coarse > 0.0 and before > 0.0 else 1.0
    order = min(max(order, 1.0), 2.0)
    return difference / (2.0**order - 1.0)


def _speed(grid: dict[str, np.ndarray]) -> np.ndarray:
    return np.hypot(grid["u"], grid["v"])
