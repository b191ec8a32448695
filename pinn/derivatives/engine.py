"""The derivative engine: how the fields a residual reads are computed, chosen per evaluation site.

- ``autograd``: nested reverse-mode autograd with caching (:class:`pinn.derivatives.fields.Fields`). Always
  available; the reference every other engine is tested against.
- ``taylor``: values, first and second derivatives propagated forward through the network's layers
  (:mod:`pinn.derivatives.jet`), carrying only the directions the residual asks for, found once by a
  recording run of the residual (:class:`~pinn.derivatives.known.RecordingFields`). Needs a network
  with a ``jet`` method (every net in :mod:`pinn.nets`) and derivatives of order <= 2.
- ``auto``: ``taylor`` where it applies, else ``autograd`` (per site: the interior residuals and each
  loss condition are planned separately).

Exact conditions (``u = offset + scale * N``) enter by the product rule; the derivatives of offset
and scale do not depend on the weights, so they are computed once per batch of points. Singular
corner terms are extra raw columns, added to their outputs after the transform (``Plan.fold``).
"""
from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from pinn.derivatives.jet import Directions, Jet, directions_for
from pinn.derivatives.known import KnownFields, RecordingFields
from pinn.derivatives.fields import LAPLACIAN, Fields, Key

ENGINES = ("auto", "autograd", "taylor")
MAX_TAYLOR_ORDER = 2


@dataclass(frozen=True)
class Plan:
    """What Taylor mode computes at one site: these derivatives, along these directions."""

    keys: tuple[Key, ...]
    directions: Directions
    chain_rule: bool = False  # the residual differentiates tensor expressions (needs coordinates' autograd)
    space: tuple[int, ...] = ()  # the input columns a Laplacian key sums over
    summed: tuple[int, ...] = ()  # outputs whose u_xx, u_yy, ... the residual only adds up: served from the Laplacian
    fold: tuple[int, ...] = ()  # the output each raw column past the outputs' own adds to (corner terms)

    @classmethod
    def for_keys(cls, keys: set[Key], n_outputs: int, space_columns: tuple[int, ...] = (),
                 chain_rule: bool = False, summed: set[int] = frozenset(), fold: tuple[int, ...] = ()) -> "Plan":
        """The plan for ``keys``; Laplacian keys sum second derivatives over ``space_columns``. For the
        outputs in ``summed`` the terms ``(j, (c, c))`` are computed as one Laplacian key instead.
        ``fold`` is the output transform's (:attr:`pinn.pde.exact.OutputTransform.fold`)."""
        keys = keys | {(j, ()) for j in range(n_outputs)}
        diagonal = {(c, c) for c in space_columns}
        keys = {k for k in keys if not (k[0] in summed and k[1] in diagonal)}
        keys |= {(j, LAPLACIAN) for j in summed}
        laplacian = space_columns if any(order == LAPLACIAN for _, order in keys) else ()
        orders = [order for _, order in keys if order != LAPLACIAN]
        return cls(tuple(sorted(keys)), directions_for(orders, laplacian), chain_rule, tuple(space_columns),
                   tuple(sorted(summed)), tuple(fold))


@dataclass(frozen=True)
class Site:
    """One evaluation site: its name, points, outward normals (boundary sites), what it computes from
    the fields (run once, to plan), and the exact conditions' jets at its points if already known."""

    name: str
    points: Tensor
    normals: Tensor | None
    evaluate: Callable[[Fields], object]
    transform: tuple[Jet, Jet] | None = None


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
        device = next(self.model.parameters()).device
        self._compiled = compile_function(assemble, device)
        self.compiled_sites = set(sites)

    def fields(self, sites: list[Site], eager: bool = False) -> dict[str, Fields]:
        """The fields at every site. Taylor sites that need the same derivatives share one network
        pass over their joined points: fewer, larger operations than one pass per site. ``eager``
        bypasses the compiled pass: a compiled backward may run only once per graph, so fields that
        are differentiated row by row (``retain_graph``) must come from the eager one."""
        for site in sites:
            if site.name not in self.plans:
                self.plans[site.name] = self._plan(site.name, site.points, site.normals, site.evaluate)
        groups: dict[tuple, list[Site]] = {}
        out: dict[str, Fields] = {}
        m = self.model
        for site in sites:
            plan = self.plans[site.name]
            if plan is None:
                out[site.name] = m.fields(site.points, site.normals)
            else:
                compiled = not eager and site.name in self.compiled_sites
                groups.setdefault((plan.directions, compiled), []).append(site)
        unknowns = m.unknowns() if groups else {}
        for (_, compiled), group in groups.items():
            for site, known in zip(group, self._known(group, compiled)):
                plan = self.plans[site.name]
                coordinates = site.points.detach().requires_grad_(True) if plan.chain_rule else site.points.detach()
                out[site.name] = KnownFields(coordinates, known, m.inputs, m.outputs, m.time, site.normals,
                                             unknowns)
        return out

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
            with recording.sums:
                evaluate(recording)
        except Exception as err:  # anything the stand-ins cannot run is autograd's to handle
            return None, f"its residual could not be planned ({type(err).__name__}: {err})"
        too_high = [key for key in recording.requested if len(key[1]) > MAX_TAYLOR_ORDER]
        if too_high:
            return None, f"it needs derivatives of order {max(len(k[1]) for k in too_high)} (Taylor mode carries 2)"
        space = tuple(i for i, name in enumerate(m.inputs) if name != m.time)
        fold = () if m.transform is None else m.transform.fold
        return Plan.for_keys(recording.requested, len(m.outputs), space, recording.chain_rule,
                             recording.summed_laplacians(), fold), ""

    # ------------------------------------------------------------- compute
    def _known(self, group: list[Site], compiled: bool) -> tuple[dict[Key, Tensor], ...]:
        """Every planned derivative at each site of ``group`` (sites with the same directions), by
        one Taylor-mode pass through the network."""
        transforms = tuple(site.transform if site.transform is not None else self.transform_jet(site.name, site.points)
                           for site in group)
        args = (self.model.net, tuple(site.points.detach() for site in group),
                tuple(self.plans[site.name] for site in group), transforms)
        names = [site.name for site in group]
        if not compiled:
            return assemble(*args)
        known = self._compiled(*args)
        if any(name not in self._verified for name in names):
            for name, got, want in zip(names, known, assemble(*args)):
                _check_same(got, want, name)
            self._verified.update(names)
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


def compile_function(fn: Callable, device: torch.device) -> Callable:
    """``torch.compile`` of ``fn`` for fixed shapes, with a cache of its own (see :func:`_private_copy`).
    On a CPU with Inductor's C++ wrapper: the compiled code launches its kernels and allocates its
    buffers from C++ rather than Python, which is a tenth of a small network's step (DeepXDE's heat
    1-D) and nothing to a large one's."""
    options = {"cpp_wrapper": True} if device.type == "cpu" else None
    return torch.compile(_private_copy(fn), dynamic=False, options=options)


def _private_copy(fn: Callable) -> Callable:
    """``fn`` (a function or a bound method) with a code object of its own. ``torch.compile`` keeps
    what it compiled per code object, at most ``torch._dynamo.config.recompile_limit`` (8) variants,
    and past that runs the code uncompiled with no more than a logged warning: without a copy, the
    ninth problem or network size compiled in one process (a benchmark, a notebook) would silently
    run eager. A copy also lets its compiled graphs go when the loss function that made it goes."""
    if isinstance(fn, types.MethodType):
        return types.MethodType(_private_copy(fn.__func__), fn.__self__)
    copy = types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__, copy.__qualname__, copy.__module__ = fn.__kwdefaults__, fn.__qualname__, fn.__module__
    return copy


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


def assemble(net: torch.nn.Module, points: tuple[Tensor, ...], plans: tuple[Plan, ...],
             transforms: tuple[tuple[Jet, Jet] | None, ...]) -> tuple[dict[Key, Tensor], ...]:
    """Each plan's derivatives at its points, from one jet of the network over all the points (the
    plans share their directions), through ``offset + scale * N`` where a site has a transform.
    Plain tensor code with no autograd calls, so ``torch.compile`` can compile it."""
    directions = plans[0].directions
    sizes = [p.shape[0] for p in points]
    jets = net.jet(torch.cat(points) if len(points) > 1 else points[0], directions).split(sizes)
    known = []
    for jet, plan, transform, n in zip(jets, plans, transforms, sizes):
        if transform is not None:
            jet = transform[0] + transform[1] * jet
        if plan.fold:
            jet = _fold(jet, plan.fold)
        components = {key: _component(jet, key, directions, n, plan.space) for key in plan.keys}
        for j in plan.summed:  # the residual only reads u_xx + u_yy + ...: the Laplacian and zeros add up to it
            laplacian = components[(j, LAPLACIAN)]
            components.update({(j, (c, c)): laplacian if k == 0 else torch.zeros_like(laplacian)
                               for k, c in enumerate(plan.space)})
        known.append(components)
    return tuple(known)


def _fold(jet: Jet, fold: tuple[int, ...]) -> Jet:
    """The jet with each of its last ``len(fold)`` columns added to the column ``fold`` names (the
    singular corner terms of :mod:`pinn.pde.exact` added to their outputs)."""
    width = jet.value.shape[1]
    m = width - len(fold)
    matrix = torch.zeros(m, width, dtype=jet.value.dtype, device=jet.value.device)
    matrix[:, :m] = torch.eye(m, dtype=jet.value.dtype, device=jet.value.device)
    for k, j in enumerate(fold):
        matrix[j, m + k] = 1.0
    return jet.linear(matrix)


def _component(jet: Jet, key: Key, directions: Directions, n: int, space: tuple[int, ...]) -> Tensor:
    j, order = key
    if not order:
        return jet.value[:, j]
    position = {column: k for k, column in enumerate(directions.first)}
    rows = jet.first if len(order) == 1 and order != LAPLACIAN else jet.second
    if rows is None:
        return jet.value.new_zeros(n)
    if order == LAPLACIAN and not directions.laplacian:  # every term is a carried pair: their sum
        diagonal = [rows[directions.pairs.index((position[c], position[c])), :, j] for c in space]
        return (diagonal[0] if len(diagonal) == 1 else torch.stack(diagonal).sum(dim=0)).expand(n)
    if order == LAPLACIAN:
        row = len(directions.pairs)
    elif len(order) == 1:
        row = position[order[0]]
    else:
        row = directions.pairs.index((position[order[0]], position[order[1]]))
    return rows[row, :, j].expand(n)


def _jet_by_autograd(values: Tensor, x: Tensor, directions: Directions) -> Jet:
    """The jet of ``values`` (N, m), a function of ``x`` free of trainable weights, detached."""
    n, m = values.shape
    first = values.new_zeros(len(directions.first), n, m)
    second = values.new_zeros(directions.n_second, n, m)
    lap_row = len(directions.pairs)
    for j in range(m):
        if not values.requires_grad:
            break
        (grad,) = torch.autograd.grad(values[:, j].sum(), x, create_graph=True, allow_unused=True)
        if grad is None:
            continue
        for row, column in enumerate(directions.first):
            first[row, :, j] = grad[:, column].detach()
        hessian_rows: dict[int, Tensor] = {}  # position in first -> d grad[:, first[a]] / dx
        for a in sorted({a for a, _ in directions.pairs} | set(directions.laplacian)):
            component = grad[:, directions.first[a]]
            if component.requires_grad:
                (hessian_row,) = torch.autograd.grad(component.sum(), x, retain_graph=True, allow_unused=True)
                if hessian_row is not None:
                    hessian_rows[a] = hessian_row.detach()
        for row, (a, b) in enumerate(directions.pairs):
            if a in hessian_rows:
                second[row, :, j] = hessian_rows[a][:, directions.first[b]]
        for a in directions.laplacian:
            if a in hessian_rows:
                second[lap_row, :, j] += hessian_rows[a][:, directions.first[a]]
    return Jet(values.detach(), first, second, directions)
