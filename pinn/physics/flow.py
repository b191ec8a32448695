"""Incompressible Navier–Stokes: the momentum and continuity residuals, written once.

:func:`navier_stokes` gives a flow problem's residuals by name, ready for ``Problem(residuals=...)``::

    problem = pinn.Problem(inputs="x y", outputs="u v p", residuals=pinn.navier_stokes(Re=100.0), ...)

For the velocity ``(u, v)`` (or ``(u, v, w)`` in 3-D) and the pressure ``p``, nondimensional with
the Reynolds number ``Re``::

    momentum_x:  u_t + u u_x + v u_y + p_x - (u_xx + u_yy) / Re = 0
    momentum_y:  v_t + u v_x + v v_y + p_y - (v_xx + v_yy) / Re = 0
    continuity:  u_x + v_y = 0

or with a kinematic viscosity ``nu``, whose viscous term is ``nu (u_xx + u_yy)``. The time
derivatives are there when the problem has a time input (steady otherwise). ``Re`` or ``nu`` may
also name a :class:`pinn.Unknown`, which an inverse problem recovers::

    residuals=pinn.navier_stokes(nu="nu"), unknowns=[pinn.Unknown("nu", initial=0.1, positive=True)]

Each residual is computed in the order written above, left to right, with the viscous term from the
Laplacian of the velocity component (:func:`pinn.laplacian`, one row in Taylor mode). To weight the
residuals (away from a singular corner, say), wrap them: ``lambda f: w(f.x, f.y) * residual(f)``.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from torch import Tensor

from pinn.derivatives.fields import FieldNameError, Fields

__all__ = ["navier_stokes"]

AXES = "xyz"  # the residuals' names: momentum_x, momentum_y, momentum_z


def navier_stokes(Re: float | str | None = None, *, nu: float | str | None = None, velocity: str = "u v",
                  pressure: str = "p") -> dict[str, Callable[[Fields], Tensor]]:
    """The incompressible Navier–Stokes residuals ``momentum_x``, ``momentum_y`` (``momentum_z``) and
    ``continuity`` (see the module docstring).

    Args:
        Re: the Reynolds number (a number > 0, or the name of an unknown); viscous term ``lap u / Re``.
        nu: instead of ``Re``, the kinematic viscosity (a number > 0, or the name of an unknown);
            viscous term ``nu lap u``.
        velocity: the names of the velocity outputs, one per spatial input (two or three).
        pressure: the name of the pressure output.
    """
    components = tuple(velocity.replace(",", " ").split()) if isinstance(velocity, str) else ()
    if len(components) not in (2, 3):
        raise ValueError(f"navier_stokes velocity must name two or three outputs (one per spatial input), "
                         f"got {velocity!r}")
    if not isinstance(pressure, str) or not pressure.isidentifier():
        raise ValueError(f"navier_stokes pressure must name one output, got {pressure!r}")
    viscous = _viscous_term(Re, nu)
    names = (*components, pressure)

    def momentum(k: int) -> Callable[[Fields], Tensor]:
        c = components[k]

        def residual(f: Fields) -> Tensor:
            space, time = _coordinates(f, names, len(components))
            total = f.derivative(c, time) if time else None
            for a, x in zip(components, space):
                term = f.field(a) * f.derivative(c, (x,))
                total = term if total is None else total + term
            return total + f.derivative(pressure, (space[k],)) - viscous(f, c)

        residual.__name__ = f"momentum_{AXES[k]}"
        return residual

    def continuity(f: Fields) -> Tensor:
        space, _ = _coordinates(f, names, len(components))
        total = f.derivative(components[0], (space[0],))
        for a, x in zip(components[1:], space[1:]):
            total = total + f.derivative(a, (x,))
        return total

    residuals = {f"momentum_{AXES[k]}": momentum(k) for k in range(len(components))}
    residuals["continuity"] = continuity
    return residuals


def _viscous_term(Re: Any, nu: Any) -> Callable[[Fields, str], Tensor]:
    """``(f, c) -> lap c / Re`` or ``nu lap c``, the constant a number or an unknown read from ``f``."""
    if (Re is None) == (nu is None):
        raise ValueError("navier_stokes needs either Re (the Reynolds number) or nu (the viscosity), not both")
    if isinstance(Re, str) or isinstance(nu, str):
        name = Re if Re is not None else nu
        if not name.isidentifier():
            raise ValueError(f"navier_stokes {'Re' if Re is not None else 'nu'} must be a number or the name of "
                             f"an unknown, got {name!r}")
        if Re is not None:
            return lambda f, c: f.laplacian(c) / f.unknown(name)
        return lambda f, c: f.unknown(name) * f.laplacian(c)
    if Re is not None:
        Re = _positive(Re, "Re must be a positive Reynolds number")
        return lambda f, c: f.laplacian(c) / Re
    nu = _positive(nu, "nu must be a positive viscosity")
    return lambda f, c: nu * f.laplacian(c)


def _positive(value: Any, message: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not value > 0:
        raise ValueError(f"{message}, got {value!r}")
    return float(value)


def _coordinates(f: Fields, names: tuple[str, ...], n_velocity: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The problem's spatial inputs and its time input (``()`` if steady), checked against the outputs."""
    space = f.space_inputs
    if len(space) != n_velocity:
        raise ValueError(f"navier_stokes with {n_velocity} velocity components needs {n_velocity} spatial inputs, "
                         f"the problem has {len(space)} ({', '.join(space)})")
    missing = ", ".join(n for n in names if n not in f.outputs)
    if missing:
        raise FieldNameError(f"navier_stokes reads {missing}, which are not outputs ({', '.join(f.outputs)})")
    return space, tuple(n for n in f.inputs if n not in space)
