"""2-D linear elasticity: an isotropic material, its stresses, the equilibrium equations and the traction condition.

A :class:`LinearElastic` material is given by Young's modulus and Poisson's ratio, ``E`` and
``nu``, or by the Lamé constants ``lam`` and ``mu``, and says whether the 2-D model is plane
stress (thin plate, sigma_zz = 0) or plane strain (long body, eps_zz = 0)::

    steel = pinn.LinearElastic(E=210e3, nu=0.3, plane="stress")
    plate = pinn.LinearElastic(lam=1.0, mu=0.5, plane="strain")

Two formulations are available; the **displacement form is the default**:

* **Displacement form** (outputs ``ux uy``): the stresses are computed from the displacement
  derivatives (:meth:`LinearElastic.stress`) and the residuals are the Navier–Cauchy equations
  ``div sigma(u) + b = 0`` (:meth:`LinearElastic.divergence`). Two outputs, two residuals;
  compatibility and the constitutive law hold exactly, so the stresses are consistent with the
  displacements by construction. Displacement conditions can be exact (output transform),
  tractions are loss terms (:class:`pinn.Traction` with ``material=``). The stresses are
  validated as derived quantities (``Problem(derived=material.stress_fields())``).
* **Mixed form** (outputs ``ux uy sxx syy sxy``): the stresses are network outputs too, tied to
  the displacements by three constitutive residuals (:meth:`LinearElastic.constitutive_residuals`)
  and in equilibrium through ``pinn.div(f, ["sxx", "sxy"]) + bx`` and ``pinn.div(f, ["sxy",
  "syy"]) + by`` (first derivatives only, so each step is cheaper). Its advantage: traction
  conditions on straight sides become exact conditions on stress outputs (``sxx = 0`` on
  ``x = L`` is ``pinn.Dirichlet(side, 0.0, field="sxx", exact=True, distance=...)``). Give each
  output a distance whose scale is the field's size (see :class:`pinn.Dirichlet`): stresses and
  displacements may differ by orders of magnitude, and unscaled it did not converge (0.55 after
  3000 steps on the cantilever).

Why the displacement form is the default: fewer outputs and residuals to balance, no scaling to
choose, and on the manufactured plate it reached 7.4e-4 (worst field) in 5000 steps where the
mixed form, with every condition exact, reached 1.5e-2. The mixed form wins where soft traction
conditions are what limits the accuracy: on the slender cantilever, whose long traction-free
edges must hold the shear to 1e-4 for a 1e-3 deflection, the displacement form stalled at 1.4e-3
and the mixed form with exact tractions reached 1e-4 to 2.5e-4 in the displacements;
``problems/elasticity_cantilever.py`` uses it.

Traction (Neumann-type) conditions ``sigma · n = t`` on part of the boundary are
:class:`Traction` conditions (``pinn.Traction``), which take the material (displacement form) or
the names of the stress outputs (mixed form).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from pinn.pde.conditions import Batch, OnBoundary, Value, evaluate
from pinn.derivatives.fields import Fields
from pinn.geometry import Boundary, Geometry, SpaceTime

PLANES = ("stress", "strain")


@dataclass(frozen=True, kw_only=True)
class LinearElastic:
    """An isotropic, linear elastic material in a 2-D model.

    Give either ``E`` and ``nu`` or ``lam`` and ``mu`` (the others are computed), and ``plane``.

    Args:
        plane: ``"stress"`` (thin plate loaded in its plane, sigma_zz = 0) or ``"strain"``
            (long body, eps_zz = 0). No default: the two differ by tens of percent.
        E: Young's modulus, > 0.
        nu: Poisson's ratio, in (-1, 0.5).
        lam: the first Lamé constant (3-D), > -2 mu / 3 (which is nu in (-1, 0.5)); with ``mu``
            instead of ``E`` and ``nu``.
        mu: the shear modulus, > 0; with ``lam``.

    Attributes:
        E, nu, lam, mu: all four constants, whichever pair was given.
        plane_lam: the first Lamé constant of the 2-D model: ``lam`` in plane strain,
            ``2 lam mu / (lam + 2 mu)`` in plane stress. With it, in both models,
            ``sxx = (plane_lam + 2 mu) exx + plane_lam eyy``.
    """

    plane: str
    E: float | None = None
    nu: float | None = None
    lam: float | None = None
    mu: float | None = None

    def __post_init__(self) -> None:
        if self.plane not in PLANES:
            raise ValueError(f"LinearElastic plane must be 'stress' or 'strain', got {self.plane!r}")
        engineering = self.E is not None or self.nu is not None
        lame = self.lam is not None or self.mu is not None
        if engineering == lame:
            raise ValueError("LinearElastic needs either E and nu, or lam and mu (not both pairs)")
        if engineering:
            E, nu = _number(self.E, "E"), _number(self.nu, "nu")
            if not E > 0:
                raise ValueError(f"LinearElastic E (Young's modulus) must be > 0, got {E!r}")
            if not -1.0 < nu < 0.5:
                raise ValueError(f"LinearElastic nu (Poisson's ratio) must lie in (-1, 0.5), got {nu!r}")
            lam, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
        else:
            lam, mu = _number(self.lam, "lam"), _number(self.mu, "mu")
            if not mu > 0:
                raise ValueError(f"LinearElastic mu (shear modulus) must be > 0, got {mu!r}")
            if not lam > -2 * mu / 3:
                raise ValueError(f"LinearElastic lam must be > -2 mu / 3 = {-2 * mu / 3:.6g} (Poisson's ratio "
                                 f"in (-1, 0.5)), got {lam!r}")
            E, nu = mu * (3 * lam + 2 * mu) / (lam + mu), lam / (2 * (lam + mu))
        for name, value in (("E", E), ("nu", nu), ("lam", lam), ("mu", mu)):
            object.__setattr__(self, name, float(value))

    # -------------------------------------------------------------- constants
    @property
    def plane_lam(self) -> float:
        """The first Lamé constant of the 2-D model (see the class docstring)."""
        if self.plane == "strain":
            return self.lam
        return 2 * self.lam * self.mu / (self.lam + 2 * self.mu)

    def constants(self, f: Fields) -> tuple[Any, Any]:
        """``(plane_lam, mu)`` as the stresses use them (numbers here; tensors for :class:`UnknownElastic`)."""
        return self.plane_lam, self.mu

    # ------------------------------------------------------ displacement form
    def stress(self, f: Fields, ux: str = "ux", uy: str = "uy") -> tuple[Tensor, Tensor, Tensor]:
        """``(sxx, syy, sxy)`` from the derivatives of the displacement outputs ``ux``, ``uy``."""
        x, y = _plane_inputs(f)
        lam, mu = self.constants(f)
        exx, eyy = f.derivative(ux, (x,)), f.derivative(uy, (y,))
        return ((lam + 2 * mu) * exx + lam * eyy, lam * exx + (lam + 2 * mu) * eyy,
                mu * (f.derivative(ux, (y,)) + f.derivative(uy, (x,))))

    def divergence(self, f: Fields, ux: str = "ux", uy: str = "uy") -> tuple[Tensor, Tensor]:
        """``div sigma(u)``, both components, in Navier–Cauchy form from second derivatives:
        ``mu lap u + (plane_lam + mu) grad div u``. Equilibrium is ``divergence + b = 0``."""
        x, y = _plane_inputs(f)
        lam, mu = self.constants(f)
        d = f.derivative
        return ((lam + 2 * mu) * d(ux, (x, x)) + mu * d(ux, (y, y)) + (lam + mu) * d(uy, (x, y)),
                mu * d(uy, (x, x)) + (lam + 2 * mu) * d(uy, (y, y)) + (lam + mu) * d(ux, (x, y)))

    def stress_fields(self, ux: str = "ux", uy: str = "uy",
                      names: str = "sxx syy sxy") -> dict[str, Callable[[Fields], Tensor]]:
        """The three stresses as derived quantities, for ``Problem(derived=...)``: validated
        against the reference like outputs, though computed from the displacements."""
        sxx, syy, sxy = _three(names, "names")
        return {sxx: lambda f: self.stress(f, ux, uy)[0],
                syy: lambda f: self.stress(f, ux, uy)[1],
                sxy: lambda f: self.stress(f, ux, uy)[2]}

    # -------------------------------------------------------------- mixed form
    def constitutive(self, f: Fields, ux: str = "ux", uy: str = "uy",
                     stress: str = "sxx syy sxy") -> tuple[Tensor, Tensor, Tensor]:
        """Mixed form: the three residuals ``s - sigma(u)`` tying the stress outputs ``stress``
        to the displacement outputs."""
        sxx, syy, sxy = _three(stress, "stress")
        computed = self.stress(f, ux, uy)
        return tuple(f.field(name) - value for name, value in zip((sxx, syy, sxy), computed))

    def constitutive_residuals(self, ux: str = "ux", uy: str = "uy",
                               stress: str = "sxx syy sxy") -> dict[str, Callable[[Fields], Tensor]]:
        """Mixed form: the three constitutive residuals by name (``hooke_xx``, ``hooke_yy``,
        ``hooke_xy``), ready to join a problem's ``residuals``."""
        _three(stress, "stress")
        return {f"hooke_{axes}": (lambda f, k=k: self.constitutive(f, ux, uy, stress)[k])
                for k, axes in enumerate(("xx", "yy", "xy"))}

    # ------------------------------------------------------------- reporting
    def von_mises(self, sxx: Any, syy: Any, sxy: Any) -> Any:
        """The von Mises equivalent stress from the in-plane stresses (numpy arrays or tensors).

        Plane stress has sigma_zz = 0, plane strain sigma_zz = nu (sxx + syy).
        """
        szz = 0 * sxx if self.plane == "stress" else self.nu * (sxx + syy)
        squares = (sxx - syy) ** 2 + (syy - szz) ** 2 + (szz - sxx) ** 2 + 6 * sxy ** 2
        return (0.5 * squares) ** 0.5


@dataclass(frozen=True, kw_only=True)
class UnknownElastic(LinearElastic):
    """A linear elastic material whose constants are unknowns of the problem (an inverse problem),
    named by ``lam`` and ``mu`` or by ``E`` and ``nu``: each the name of a :class:`pinn.Unknown`,
    read from the fields wherever the material computes a stress. Everything that takes a
    :class:`LinearElastic` (``stress``, ``divergence``, ``stress_fields``, :class:`pinn.Traction`)
    takes it too::

        material = pinn.UnknownElastic(lam="lam", mu="mu", plane="strain")
        problem = pinn.Problem(..., unknowns=[pinn.Unknown("lam", 2.0, positive=True), pinn.Unknown("mu", ...)])
    """

    def __post_init__(self) -> None:
        if self.plane not in PLANES:
            raise ValueError(f"UnknownElastic plane must be 'stress' or 'strain', got {self.plane!r}")
        lame, engineering = (self.lam, self.mu), (self.E, self.nu)
        names = [pair for pair in (lame, engineering) if pair != (None, None)]
        if len(names) != 1 or not all(isinstance(n, str) and n.isidentifier() for n in names[0]):
            raise ValueError("UnknownElastic needs the names of two unknowns: lam and mu, or E and nu, e.g. "
                             f"UnknownElastic(lam='lam', mu='mu', plane='strain'); got lam={self.lam!r}, "
                             f"mu={self.mu!r}, E={self.E!r}, nu={self.nu!r}")

    @property
    def plane_lam(self) -> float:
        raise ValueError("an UnknownElastic material has no numbers: its constants are read from the fields")

    def constants(self, f: Fields) -> tuple[Tensor, Tensor]:
        if self.lam is not None:
            lam, mu = f.unknown(self.lam), f.unknown(self.mu)
        else:
            E, nu = f.unknown(self.E), f.unknown(self.nu)
            lam, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
        return (lam if self.plane == "strain" else 2 * lam * mu / (lam + 2 * mu)), mu

    def von_mises(self, sxx: Any, syy: Any, sxy: Any) -> Any:
        if self.plane == "strain":
            raise ValueError("von Mises in plane strain needs Poisson's ratio, unknown for an UnknownElastic material")
        return super().von_mises(sxx, syy, sxy)


@dataclass(frozen=True)
class Traction(OnBoundary):
    """Traction ``sigma · n = value`` on ``boundary`` in 2-D elasticity (n the outward normal): the
    Neumann-type condition of elasticity, on the two displacement outputs at once.

    ``value`` is ``(t_x, t_y)``; each is a number, a function of the coordinates, or ``None`` for a
    component not prescribed here (held by a displacement condition instead). For example a
    roller on the wall ``x = 0``, free to slide along it::

        pinn.Traction(rect.side(0, "lower"), (0.0, None), material=steel)   # no normal traction...
        pinn.Dirichlet(rect.side(0, "lower"), 0.0, field="uy")              # ...and no sliding

    The stress is computed from ``material`` (a :class:`pinn.LinearElastic`) and the displacement
    outputs named by ``displacement`` (the displacement form), or read from the stress outputs
    named by ``stress`` (the mixed form, ``stress="sxx syy sxy"``, no material).
    """

    boundary: Boundary
    value: tuple[Value | None, Value | None] = (0.0, 0.0)
    material: Any = None
    displacement: str = "ux uy"
    stress: str | None = None
    weight: float = 1.0
    points: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.value, tuple) or len(self.value) != 2 or self.value == (None, None):
            raise ValueError(f"Traction value must be a pair (t_x, t_y) with at least one not None, got {self.value!r}")
        for axis, component in zip("xy", self.value):
            if component is not None and not callable(component) and not (
                    isinstance(component, (int, float)) and not isinstance(component, bool) and np.isfinite(component)):
                raise ValueError(f"Traction value t_{axis} must be a finite number, a function or None, got {component!r}")
        if (self.material is None) == (self.stress is None):
            raise ValueError("Traction needs either material= (stresses from the displacements) or stress= "
                             "(the names of the stress outputs, mixed form), not both")
        if self.material is not None and not isinstance(self.material, LinearElastic):
            raise ValueError(f"Traction material must be a pinn.LinearElastic, got {type(self.material).__name__}")
        expected = 3 if self.stress is not None else 2
        names = _names(self.stress if self.stress is not None else self.displacement)
        if len(names) != expected:
            label = "stress must name sxx, syy, sxy" if expected == 3 else "displacement must name ux, uy"
            raise ValueError(f"Traction {label} (outputs, space-separated), got "
                             f"{self.stress if expected == 3 else self.displacement!r}")

    @property
    def field(self) -> str:
        """The first output the condition reads (it reads all of :meth:`fields_used`)."""
        return self.fields_used()[0]

    def fields_used(self) -> tuple[str, ...]:
        return _names(self.stress if self.stress is not None else self.displacement)

    def bind(self, inputs: tuple[str, ...], outputs: tuple[str, ...], domain: Geometry) -> Traction:
        space = domain.space if isinstance(domain, SpaceTime) else domain
        if self.boundary.geometry is not space:
            raise ValueError(f"the traction is on the boundary of {self.boundary.geometry!r}, which is not this "
                             f"problem's spatial domain {space!r}")
        if space.dim != 2:
            raise ValueError(f"a Traction needs a 2-D spatial domain, this one has {space.dim} dimension(s)")
        missing = [n for n in self.fields_used() if n not in outputs]
        if missing:
            raise ValueError(f"the traction reads {', '.join(missing)}, which are not outputs ({', '.join(outputs)})")
        return self

    def target(self, points: Tensor, inputs: tuple[str, ...], time: str | None) -> Tensor:
        return torch.stack([evaluate(v, points, inputs, time) for v in self.value if v is not None], dim=1)

    def residual(self, f: Fields, batch: Batch) -> Tensor:
        if self.stress is not None:
            sxx, syy, sxy = (f.field(name) for name in self.fields_used())
        else:
            sxx, syy, sxy = self.material.stress(f, *self.fields_used())
        nx, ny = f.normal.unbind(dim=1)
        traction = (sxx * nx + sxy * ny, sxy * nx + syy * ny)
        prescribed = torch.stack([t for t, v in zip(traction, self.value) if v is not None], dim=1)
        return (prescribed - batch.target).ravel()


def _number(value: Any, name: str) -> float:
    if value is None:
        raise ValueError(f"LinearElastic {name} is missing (give E and nu, or lam and mu)")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"LinearElastic {name} must be a finite number, got {value!r}")
    return float(value)


def _names(names: str | tuple[str, ...]) -> tuple[str, ...]:
    """Output names given as one string (space- or comma-separated) or as a sequence."""
    return tuple(names.replace(",", " ").split()) if isinstance(names, str) else tuple(names)


def _three(names: str | tuple[str, ...], label: str) -> tuple[str, str, str]:
    split = _names(names)
    if len(split) != 3:
        raise ValueError(f"{label} must name the three stresses sxx, syy, sxy, got {names!r}")
    return split


def _plane_inputs(f: Fields) -> tuple[str, str]:
    space = f.space_inputs
    if len(space) != 2:
        raise ValueError(f"2-D elasticity needs two spatial inputs, the problem has {len(space)} ({', '.join(space)})")
    return space[0], space[1]
