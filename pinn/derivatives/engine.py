"""The derivative engine: how the fields a residual reads are computed, chosen per evaluation site.

- ``autograd``: nested reverse-mode autograd with caching (:class:`pinn.fields.Fields`). Always
  available; the reference every other engine is tested against.
- ``taylor``: values, first and second derivatives propagated forward through the network's layers
  (:mod:`pinn.derivatives.jet`), carrying only the directions the residual asks for, found once by a
  recording run of the residual (:class:`~pinn.derivatives.known.RecordingFields`). Needs a network
  with a ``jet`` method (every net in :mod:`pinn.nets`) and derivatives of order <= 2.
- ``auto``: ``taylor`` where it applies, else ``autograd`` (per site: the interior residuals and each
  loss condition are planned separately).

Exact conditions (``u = offset + scale * N``) enter by the product rule; the derivatives of offset
and scale do not depend on the weights, so they are computed once per batch of points.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from pinn.derivatives.jet import Directions, Jet, directions_for
from pinn.derivatives.known import KnownFields, RecordingFields
from pinn.fields import Fields, Key

ENGINES = ("auto", "autograd", "taylor")
MAX_TAYLOR_ORDER = 2


@dataclass(frozen=True)
class Plan:
    """What Taylor mode computes at one site: these derivatives, along these directions."""

    keys: tuple[Key, ...]
    directions: Directions
    chain_rule: bool = False  # the residual differentiates tensor expressions (needs coordinates' autograd)

    @classmethod
    def for_keys(cls, keys: set[Key], n_outputs: int, chain_rule: bool = False) -> "Plan":
        keys = keys | {(j, ()) for j in range(n_outputs)}
        return cls(tuple(sorted(keys)), directions_for([order for _, order in keys]), chain_rule)


class Engine:
    """Computes the fields of one model at batches of points, by the engine ``choice``."""

    def __init__(self, model: torch.nn.Module, choice: str = "auto") -> None:
        if choice not in ENGINES:
            raise ValueError(f"derivatives must be one of {', '.join(ENGINES)}, got {choice!r}")
        self.model = model
        self.choice = choice
        self.plans: dict[str, Plan | None] = {}  # None: autograd at that site
        self.reasons: dict[str, str] = {}  # why a site uses autograd
        self._transform_jets: dict[str, tuple[Tensor, Jet, Jet]] = {}
        self._compiled: Callable | None = None
        self.compiled_sites: set[str] = set()
        self._verified: set[str] = set()

    def compile(self, sites: set[str]) -> None:
        """Run the Taylor pass of ``sites`` through ``torch.compile`` from now on. The first compiled
        result at each site is checked against the eager one (:class:`CompileMismatch` if it differs)."""
        self._compiled = torch.compile(assemble, dynamic=False)
        self.compiled_sites = set(sites)

    def fields(self, site: str, points: Tensor, normals: Tensor | None, evaluate: Callable[[Fields], object],
               transform: tuple[Jet, Jet] | None = None) -> Fields:
        """The fields at ``points``; ``evaluate`` is what the site computes from them (used once, to plan).
        ``transform``: the exact conditions' jets at these points, if already computed."""
        if site not in self.plans:
            self.plans[site] = self._plan(site, points, normals, evaluate)
        plan = self.plans[site]
        if plan is None:
            return self.model.fields(points, normals)
        known = self.known(site, plan, points, transform)
        coordinates = points.detach().requires_grad_(True) if plan.chain_rule else points.detach()
        m = self.model
        return KnownFields(coordinates, known, m.inputs, m.outputs, m.time, normals, m.unknowns())

    @property
    def summary(self) -> str:
        """One line: the engine used at each site."""
        return ", ".join(f"{site}: {'autograd' if plan is None else 'taylor'}" for site, plan in self.plans.items())

    # ---------------------------------------------------------------- plan
    def _plan(self, site: str, points: Tensor, normals: Tensor | None,
              evaluate: Callable[[Fields], object]) -> Plan | None:
        if self.choice == "autograd":
            self.reasons[site] = "chosen"
            return None
        plan, reason = self._record(points, normals, evaluate)
        if plan is not None:
            return plan
        if self.choice == "taylor":
            raise ValueError(f"derivatives=taylor cannot serve {site!r}: {reason}; use derivatives=auto or autograd")
        self.reasons[site] = reason
        return None

    def _record(self, points: Tensor, normals: Tensor | None,
                evaluate: Callable[[Fields], object]) -> tuple[Plan | None, str]:
        """The Taylor plan of a site, or None and the reason Taylor mode cannot serve it."""
        if not hasattr(self.model.net, "jet"):
            return None, f"the network {type(self.model.net).__name__} has no jet method"
        m = self.model
        with torch.no_grad():  # the unknowns' values only: the recording needs no gradient of them
            parameters = m.unknowns()
        recording = RecordingFields(points, m.inputs, m.outputs, m.time, normals, parameters)
        try:
            evaluate(recording)
        except Exception as err:  # anything the stand-ins cannot run is autograd's to handle
            return None, f"its residual could not be planned ({type(err).__name__}: {err})"
        too_high = [key for key in recording.requested if len(key[1]) > MAX_TAYLOR_ORDER]
        if too_high:
            return None, f"it needs derivatives of order {max(len(k[1]) for k in too_high)} (Taylor mode carries 2)"
        return Plan.for_keys(recording.requested, len(m.outputs), recording.chain_rule), ""

    # ------------------------------------------------------------- compute
    def known(self, site: str, plan: Plan, points: Tensor,
              transform: tuple[Jet, Jet] | None = None) -> dict[Key, Tensor]:
        """Every derivative of ``plan`` at ``points``, by Taylor mode through the network."""
        if transform is None:
            transform = self.transform_jet(site, points)
        args = (self.model.net, points.detach(), plan, transform)
        if site not in self.compiled_sites:
            return assemble(*args)
        known = self._compiled(*args)
        if site not in self._verified:
            _check_same(known, assemble(*args), site)
            self._verified.add(site)
        return known

    def transform_jet(self, site: str, points: Tensor) -> tuple[Jet, Jet] | None:
        """The jets of the exact conditions' offset and scale at a Taylor site (None without exact
        conditions), computed once per batch of points: they do not depend on the weights."""
        plan = self.plans.get(site)
        if self.model.transform is None or plan is None:
            return None
        directions = plan.directions
        cached = self._transform_jets.get(site)
        if cached is not None and cached[0] is points:
            return cached[1], cached[2]
        with torch.enable_grad():
            x = points.detach().requires_grad_(True)
            offset, scale = self.model.transform.parts(x)
            jets = (_jet_by_autograd(offset, x, directions), _jet_by_autograd(scale, x, directions))
        self._transform_jets[site] = (points, *jets)
        return jets


class CompileMismatch(RuntimeError):
    """The compiled Taylor pass disagreed with the eager one."""


def _check_same(compiled: dict[Key, Tensor], eager: dict[Key, Tensor], site: str) -> None:
    tolerance = 1e-10 if next(iter(eager.values())).dtype == torch.float64 else 1e-4
    for key, value in eager.items():
        scale = float(value.detach().abs().max()) or 1.0
        difference = float((compiled[key].detach() - value.detach()).abs().max())
        if not difference <= tolerance * scale:
            raise CompileMismatch(f"compiled derivatives at {site!r} differ from eager ones by {difference:.3g} "
                                  f"(relative to {scale:.3g}) for {key}")


def assemble(net: torch.nn.Module, points: Tensor, plan: Plan,
             transform: tuple[Jet, Jet] | None) -> dict[Key, Tensor]:
    """The plan's derivatives: the network's jet, through ``offset + scale * N`` if there is a transform.
    Plain tensor code with no autograd calls, so ``torch.compile`` can compile it."""
    jet = net.jet(points, plan.directions)
    if transform is not None:
        jet = transform[0] + transform[1] * jet
    return {key: _component(jet, key, plan.directions, points.shape[0]) for key in plan.keys}


def _component(jet: Jet, key: Key, directions: Directions, n: int) -> Tensor:
    j, order = key
    if not order:
        return jet.value[:, j]
    position = {column: k for k, column in enumerate(directions.first)}
    if len(order) == 1:
        rows, row = jet.first, position[order[0]]
    else:
        rows, row = jet.second, directions.pairs.index((position[order[0]], position[order[1]]))
    if rows is None:
        return jet.value.new_zeros(n)
    return rows[row, :, j].expand(n)


def _jet_by_autograd(values: Tensor, x: Tensor, directions: Directions) -> Jet:
    """The jet of ``values`` (N, m), a function of ``x`` free of trainable weights, detached."""
    n, m = values.shape
    first = values.new_zeros(len(directions.first), n, m)
    second = values.new_zeros(len(directions.pairs), n, m)
    for j in range(m):
        if not values.requires_grad:
            break
        (grad,) = torch.autograd.grad(values[:, j].sum(), x, create_graph=True, allow_unused=True)
        if grad is None:
            continue
        for row, column in enumerate(directions.first):
            first[row, :, j] = grad[:, column].detach()
        for row, (a, b) in enumerate(directions.pairs):
            component = grad[:, directions.first[a]]
            if not component.requires_grad:
                continue
            (hessian_row,) = torch.autograd.grad(component.sum(), x, retain_graph=True, allow_unused=True)
            if hessian_row is not None:
                second[row, :, j] = hessian_row[:, directions.first[b]]
    return Jet(values.detach(), first, second, directions)
