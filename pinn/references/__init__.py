"""Reference solutions every run is validated against.

A reference is an object with ``build(inputs, outputs, domain) -> GridReference``; it is computed
only when a run needs it (never at import of a problem file).

- :class:`Analytic` — a closed-form solution.
- :func:`heat_fd` — the heat equation by finite differences (scipy), with its own error estimate.
- :func:`cavity_fd` — the steady lid-driven cavity (Navier-Stokes) by finite differences (scipy).
- :func:`elasticity_fd` — 2-D linear elasticity on a rectangle by finite differences (scipy).
- :func:`burgers` — the viscous Burgers equation with u0 = -sin(pi x), by Cole-Hopf and Gauss-Hermite quadrature.
- :func:`periodic_spectral` — a 1-D periodic diffusion-reaction(-advection) equation by a Fourier
  pseudo-spectral method and ETDRK4 (Allen-Cahn, Burgers), with its own error estimate.
- :func:`poisson_fd` — Poisson's equation on a rectilinear polygon (an L-shape) by finite differences (scipy).
- :class:`GridReference` — values already on a grid (for example loaded from a file).
"""
from __future__ import annotations

from typing import Any, Protocol

from pinn.references.analytic import Analytic
from pinn.references.grid import GridReference


class Reference(Protocol):
    def build(self, inputs: tuple[str, ...], outputs: tuple[str, ...], domain: Any) -> GridReference: ...


class Deferred:
    """A reference solver with its settings, run when the reference is first needed."""

    def __init__(self, solver: Any, settings: dict[str, Any], settings_as_given: dict[str, Any] | None = None) -> None:
        self.solver = solver
        self.settings = settings
        self.settings_as_given = settings if settings_as_given is None else settings_as_given
        self._built: GridReference | None = None

    def build(self, inputs, outputs, domain) -> GridReference:
        """The solver's result, computed once (observations made from it and the run share it)."""
        if self._built is None:
            self._built = self.solver(**self.settings)
        return self._built

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings_as_given.items())
        return f"{getattr(self.solver, '__name__', 'solver')}({args})"


def heat_fd(**settings: Any) -> Deferred:
    """The heat equation by finite differences, computed when a run needs it.

    Takes the settings of :func:`pinn.references.heat_fd_solver.heat_fd`. Its functions
    (``diffusivity``, ``source``, ``initial``, wall values) may be the very ones the problem's residual
    uses, written with torch operations: they are called with tensors and their results turned
    into numpy arrays.
    """
    from pinn.references.heat_fd_solver import heat_fd as solve

    adapted = {k: _numpy_function(v) if callable(v) else v for k, v in settings.items()}
    if isinstance(settings.get("walls"), dict):
        adapted["walls"] = {side: (kind, _numpy_function(v) if callable(v) else v)
                            for side, (kind, v) in settings["walls"].items()}
    return Deferred(solve, adapted, settings)


def elasticity_fd(**settings: Any) -> Deferred:
    """2-D linear elasticity on a rectangle by finite differences, computed when a run needs it.

    Takes the settings of :func:`pinn.references.elasticity_fd_solver.elasticity_fd`. Its
    functions (body force, wall displacements and tractions) may be the very ones the problem's
    residuals and conditions use, written with torch operations.
    """
    from pinn.references.elasticity_fd_solver import elasticity_fd as solve

    return Deferred(solve, {k: _numpy_functions(v) for k, v in settings.items()}, settings)


def poisson_fd(**settings: Any) -> Deferred:
    """Poisson's equation ``-lap u = f`` on a polygon with horizontal and vertical edges, ``u = g`` on its
    boundary, by finite differences, computed when a run needs it.

    Takes the settings of :func:`pinn.references.poisson_fd_solver.poisson_fd` (``vertices``,
    ``source``, ``boundary``, ``cells``, ...). ``source`` and ``boundary`` may be the very functions the
    problem uses, written with torch operations."""
    from pinn.references.poisson_fd_solver import poisson_fd as solve

    return Deferred(solve, {k: _numpy_function(v) if callable(v) else v for k, v in settings.items()}, settings)


def _numpy_functions(value: Any) -> Any:
    """Every function inside nested tuples, lists and dicts wrapped by :func:`_numpy_function`."""
    if callable(value):
        return _numpy_function(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_numpy_functions(v) for v in value)
    if isinstance(value, dict):
        return {k: _numpy_functions(v) for k, v in value.items()}
    return value


def _numpy_function(fn: Any) -> Any:
    """Wrap a function of torch tensors so it takes and returns numpy arrays."""
    import functools

    import numpy as np
    import torch

    @functools.wraps(fn)
    def wrapped(*args: Any) -> np.ndarray:
        tensors = [torch.as_tensor(a, dtype=torch.float64) for a in args]
        result = fn(*tensors)
        return result.numpy() if isinstance(result, torch.Tensor) else np.asarray(result, dtype=np.float64)

    return wrapped


def cavity_fd(**settings: Any) -> Deferred:
    """The steady lid-driven cavity by finite differences, computed when a run needs it.

    Takes the settings of :func:`pinn.references.cavity_fd_solver.cavity_fd`. ``lid(x)`` and
    ``force(x, y) -> (f_x, f_y)`` may be written with torch operations.
    """
    from pinn.references.cavity_fd_solver import _gauge, cavity_fd as solve

    # Checked now, when the problem is built, not when a run first needs the reference.
    reynolds = settings.get("reynolds", 100.0)
    if isinstance(reynolds, bool) or not isinstance(reynolds, (int, float)) or not 0 < reynolds < float("inf"):
        raise ValueError(f"cavity_fd reynolds must be a positive number, got {reynolds!r}")
    _gauge(settings.get("pressure_gauge", (0.5, 0.5)), [])
    adapted = dict(settings)
    if callable(settings.get("lid")):
        adapted["lid"] = _numpy_function(settings["lid"])
    if callable(settings.get("force")):
        force = settings["force"]
        adapted["force"] = lambda x, y: tuple(_numpy_function(lambda a, b, i=i: force(a, b)[i])(x, y)
                                              for i in range(2))
    return Deferred(solve, adapted, settings)


def cavity_corner_flow(x, y, lid_left: float, lid_right: float, nu: float) -> dict:
    """Taylor's Stokes "scraper" flow at the top corners (0, 1) and (1, 1) of the unit-square
    cavity, each scaled by the lid velocity at that corner: a dict of ``psi``, ``u``, ``v``, ``p``
    (``p`` infinite at a corner). Takes numpy arrays or torch tensors (then differentiable), so a
    problem can use it as the known singular part of its flow; the cavity FD solver subtracts it.
    """
    from pinn.references._cavity_corner import corner_flow

    return corner_flow(x, y, lid_left, lid_right, nu)


def burgers(**settings: Any) -> Deferred:
    """The viscous Burgers equation on [-1, 1] with u0 = -sin(pi x) and zero ends, by the Cole-Hopf
    closed form (Gauss-Hermite quadrature), computed when a run needs it.

    Takes the settings of :func:`pinn.references.cole_hopf.burgers_reference` (``nu``, ``points``,
    ``times``, ``t_end``, ``order``).
    """
    from pinn.references.cole_hopf import burgers_reference

    return Deferred(burgers_reference, dict(settings))


def periodic_spectral(**settings: Any) -> Deferred:
    """``u_t = nu u_xx + N(u, u_x, x, t)``, periodic in x, by a Fourier pseudo-spectral method with
    ETDRK4 time steps, computed when a run needs it.

    Takes the settings of :func:`pinn.references.spectral1d.periodic_spectral`. ``reaction(u, u_x,
    x, t)`` and ``initial(x)`` may be written with torch operations.
    """
    from pinn.references.spectral1d import periodic_spectral as solve

    adapted = {k: _numpy_function(v) if k in ("reaction", "initial") and callable(v) else v
               for k, v in settings.items()}
    return Deferred(solve, adapted, settings)


def analytic(solution: Any, resolution: Any = 64) -> Analytic:
    """Shorthand for :class:`Analytic`."""
    return Analytic(solution, resolution)


__all__ = ["Analytic", "Deferred", "GridReference", "Reference", "analytic", "burgers", "cavity_corner_flow", "cavity_fd",
           "elasticity_fd", "heat_fd", "periodic_spectral", "poisson_fd"]
