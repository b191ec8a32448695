"""``pinn.Dynamics``: a neural ODE or universal differential equation learned from observed trajectories.

A problem file declares the states, the vector field (a network alone, known terms plus a network, or a
parametric form with :class:`pinn.Unknown` coefficients), the observed trajectories, the true system as the
reference and the validation cases; ``python -m pinn.solve FILE`` trains it and judges it against
``scipy.integrate.solve_ivp`` of the true system::

    problem = pinn.Dynamics(
        name="lotka_volterra_ude",
        states="x y",
        rhs=lambda t, s, m: {"x": 1.5 * s.x + m.net(s.values)[:, 0], "y": -3.0 * s.y + m.net(s.values)[:, 1]},
        net=pinn.MLP(width=16, depth=2),
        data=[pinn.Trajectory(times, observed)],
        reference=pinn.TrueSystem(lotka_volterra),
        validation={"forecast": pinn.Forecast(window=(3.5, 10.0))},
        tolerance={"x": 2e-2, "y": 2e-2},
    )

The vector field ``rhs(t, s, m)`` reads the time ``t`` (batch, 1), the states ``s`` (``s.x`` or
``s.values``) and the learned parts ``m`` (``m.net(z)``, ``m.<unknown>``); see :mod:`pinn.dynamics.model`.
Without ``rhs`` the field is the network of the states, ``dy/dt = net(y)``.

The network sees its inputs scaled by the data's range of each state when it takes one input per state, and
its outputs scaled by the typical rate of each state in the data (finite differences of the observations),
so a field of size 300 or 1e-3 trains like one of size one; config.json ``declaration.net_scaling`` records both.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import CodeType
from typing import Any, ClassVar

import numpy as np
import torch

from pinn.declaration import Declaration, Outcome
from pinn.dynamics.integrate import Integration
from pinn.dynamics.model import ScaledOutputs, VectorField
from pinn.dynamics.objective import TrajectoryObjective
from pinn.dynamics.rates import Rates
from pinn.dynamics.reference import DynamicsReference, Forecast, TrueSystem, build_cases, stack_initial
from pinn.dynamics.sparse import SparseTerms
from pinn.dynamics.trajectories import Trajectory, check_states
from pinn.dynamics.windows import Windows
from pinn.nets import MLP, Net
from pinn.pde.unknowns import Unknown
from pinn.train.phases import LBFGS, Stall
from pinn.train.settings import Checks, Training
from pinn.train.trainer import Trainer, resolve_device


def default_training() -> Training:
    """A warm start (L-BFGS fitting the field to the rates estimated from the data), then L-BFGS fitting the
    integrated trajectories to the observations; each ends when its loss stalls."""
    # The warm start's loss floors at the error of the rate estimates: a 0.1 % decrease over 20 steps is
    # enough to stop (Lotka-Volterra measured: 2000 warm-start steps bought nothing over 500).
    return Training([LBFGS(2000, terms=("rates",), stall=Stall(20, 1e-3), name="warm_start"),
                     LBFGS(300, terms=("data",), stall=Stall(20, 1e-4))],
                    checks=Checks(check_every=100, checkpoint_every=50))


@dataclass(frozen=True)
class Dynamics(Declaration):
    """A dynamical system ``dy/dt = f(t, y)`` learned from trajectories, validated against the true system.

    Args:
        name: the problem's name (the default run folder is ``runs/<name>``).
        states: the state names, e.g. ``"x y"``.
        data: the observed trajectories (:class:`pinn.Trajectory`, or :func:`pinn.read_trajectories`).
        rhs: the vector field ``rhs(t, s, m)`` (module documentation); None: ``net(y)``.
        net: the network (:class:`pinn.MLP`, ...); None without ``rhs`` is ``MLP(width=32, depth=2)``, None
            with ``rhs`` is no network (a parametric field).
        net_inputs: the network's number of inputs (default: one per state).
        net_outputs: the network's number of outputs (default: one per state).
        unknowns: coefficients to recover (:class:`pinn.Unknown`, read as ``m.<name>``).
        reference: the true system (:class:`pinn.TrueSystem`); None: the run is not validated.
        validation: the validation cases by name (:class:`pinn.Forecast`); default one case, ``data``: the
            training trajectories' initial states over their own time spans.
        tolerance: relative L2 each state must reach, by state (every case) or ``"<case>.<state>"``; and by
            unknown name, the relative error of its recovered value.
        integration: the solver (:class:`pinn.Integration`).
        windows: how the observations are batched (:class:`pinn.Windows`).
        rates: how the rates of the warm start are estimated from the data (:class:`pinn.Rates`; a phase
            minimises them with ``terms=("rates",)``, as the default training's first phase does).
        discover: a sparse regression naming what the network learned (:class:`pinn.SparseTerms`).
        training: the schedule; None: :func:`default_training`.
    """

    family: ClassVar[str] = "dynamics"

    name: str
    states: Sequence[str] | str
    data: Sequence[Trajectory]
    rhs: Callable | None = None
    net: Net | None = None
    net_inputs: int | None = None
    net_outputs: int | None = None
    unknowns: Sequence[Unknown] = ()
    reference: TrueSystem | None = None
    validation: Mapping[str, Forecast] | None = None
    tolerance: Mapping[str, float] = field(default_factory=dict)
    integration: Integration = Integration()
    windows: Windows = Windows()
    rates: Rates = Rates()
    discover: SparseTerms | None = None
    training: Training | None = None

    def __post_init__(self) -> None:
        where = f"pinn.Dynamics {self.name!r}"
        if not isinstance(self.name, str) or not self.name or "/" in self.name or self.name.startswith("."):
            raise ValueError(f"pinn.Dynamics name must be a plain name (no '/'), got {self.name!r}")
        states = tuple(self.states.split()) if isinstance(self.states, str) else tuple(self.states)
        if not states or len(set(states)) != len(states) or not all(isinstance(s, str) and s.isidentifier()
                                                                    for s in states):
            raise ValueError(f"{where}: states must be distinct names, e.g. \"x y\", got {self.states!r}")
        object.__setattr__(self, "states", states)
        data = (self.data,) if isinstance(self.data, Trajectory) else tuple(self.data or ())
        if not data:
            raise ValueError(f"{where}: data must hold at least one pinn.Trajectory")
        check_states(data, states, f"{where} data")
        object.__setattr__(self, "data", data)
        if self.rhs is not None and not callable(self.rhs):
            raise ValueError(f"{where}: rhs must be a function rhs(t, s, m), got {type(self.rhs).__name__}")
        if self.rhs is None and self.net is None:
            object.__setattr__(self, "net", MLP(width=32, depth=2))
        if self.net is not None and not isinstance(self.net, Net):
            raise ValueError(f"{where}: net must be a pinn network such as pinn.MLP(...), got {type(self.net).__name__}")
        for name in ("net_inputs", "net_outputs"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{where}: {name} must be a whole number >= 1 or None, got {value!r}")
        if self.rhs is None and (self.net_inputs or len(states)) != len(states):
            raise ValueError(f"{where}: without rhs the network is the field and takes the {len(states)} states; "
                             f"net_inputs={self.net_inputs} needs an rhs that gives it those inputs")
        unknowns = tuple(self.unknowns)
        for unknown in unknowns:
            if not isinstance(unknown, Unknown):
                raise ValueError(f"{where}: unknowns must be pinn.Unknown objects, got {type(unknown).__name__}")
            if unknown.name in states or unknown.name == "net":
                raise ValueError(f"{where}: unknown {unknown.name!r} has the name of a state (or of the network)")
        object.__setattr__(self, "unknowns", unknowns)
        if self.reference is not None and not isinstance(self.reference, TrueSystem):
            raise ValueError(f"{where}: reference must be a pinn.TrueSystem, got {type(self.reference).__name__}")
        validation = dict(self.validation) if self.validation is not None else {
            "data": Forecast(window=(min(t.times[0] for t in data), max(t.times[-1] for t in data)))}
        for key, case in validation.items():
            if not isinstance(key, str) or not key.isidentifier() or not isinstance(case, Forecast):
                raise ValueError(f"{where}: validation must map names to pinn.Forecast cases, got {key!r}: "
                                 f"{type(case).__name__}")
        object.__setattr__(self, "validation", validation)
        known = set(states) | {u.name for u in unknowns} | {f"{c}.{s}" for c in validation for s in states}
        for key, value in dict(self.tolerance).items():
            if key not in known:
                raise ValueError(f"{where}: tolerance {key!r} names no state, unknown or <case>.<state>; valid: "
                                 f"{', '.join(sorted(known))}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{where}: tolerance {key!r} must be a number > 0, got {value!r}")
        object.__setattr__(self, "tolerance", dict(self.tolerance))
        for name, kind in (("integration", Integration), ("windows", Windows), ("rates", Rates)):
            if not isinstance(getattr(self, name), kind):
                raise ValueError(f"{where}: {name} must be a pinn.{kind.__name__}, got "
                                 f"{type(getattr(self, name)).__name__}")
        if self.discover is not None:
            if not isinstance(self.discover, SparseTerms):
                raise ValueError(f"{where}: discover must be a pinn.SparseTerms, got {type(self.discover).__name__}")
            if self.net is None:
                raise ValueError(f"{where}: discover names what the network learned, but there is no network")
            if (self.net_inputs or len(states)) != len(states) or len(self.discover.outputs) != (
                    self.net_outputs or len(states)):
                raise ValueError(f"{where}: discover fits the network's {self.net_outputs or len(states)} outputs as "
                                 f"polynomials of the states: it needs a network of the {len(states)} states with one "
                                 f"name in SparseTerms outputs per output")
        if self.training is None:
            object.__setattr__(self, "training", default_training())
        elif not isinstance(self.training, Training):
            raise ValueError(f"{where}: training must be a pinn.Training, got {type(self.training).__name__}")

    # ------------------------------------------------------------- the run's questions
    def identity(self) -> dict[str, Any]:
        return {"problem": self.name, "family": self.family, "states": list(self.states)}

    def sections(self) -> dict[str, Any]:
        sections = {"integration": self.integration, "windows": self.windows, "rates": self.rates}
        if self.net is not None:
            sections["net"] = self.net
        return sections

    def build_reference(self) -> DynamicsReference | None:
        if self.reference is None:
            return None
        initial, starts = stack_initial(self.data)
        return build_cases(self.reference, dict(self.validation), initial, starts)

    def field(self) -> VectorField:
        """The vector field with freshly initialised parameters (from the training seed), checked on the data."""
        numerics = self.training.numerics
        dtype = getattr(torch, numerics.dtype)
        device = resolve_device(numerics.device)
        generator = torch.Generator().manual_seed(numerics.seed)
        net = None
        if self.net is not None:
            lower, upper, scale = self._scaling()
            n_in = self.net_inputs or len(self.states)
            n_out = self.net_outputs or len(self.states)
            if n_in != len(self.states):
                lower, upper = -np.ones(n_in), np.ones(n_in)
            net = self.net.build(n_in, n_out, torch.as_tensor(lower, dtype=dtype),
                                 torch.as_tensor(upper, dtype=dtype), generator)
            if self.net.output_scale is None and n_out == len(self.states):
                net = ScaledOutputs(net, torch.as_tensor(scale, dtype=dtype))
        vector_field = VectorField(self.states, self.rhs, net, self.unknowns).to(device=device, dtype=dtype)
        sample = torch.as_tensor(np.stack([t.values[0] for t in self.data]), dtype=dtype, device=device)
        starts = torch.as_tensor([[t.times[0]] for t in self.data], dtype=dtype, device=device)
        try:
            vector_field.check(starts, sample)
        except ValueError as err:
            raise ValueError(f"pinn.Dynamics {self.name!r}: {err}") from None
        return vector_field

    def _scaling(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The data's range of each state, and the typical size of its rate (the root mean square of the
        observations' finite differences; 1 where the data cannot tell)."""
        values = np.concatenate([t.values for t in self.data])
        lower, upper = values.min(axis=0), values.max(axis=0)
        flat = upper <= lower
        lower, upper = np.where(flat, lower - 1, lower), np.where(flat, upper + 1, upper)
        rates = [np.diff(t.values, axis=0) / np.diff(t.times)[:, None] for t in self.data if len(t) > 1]
        if rates:
            size = np.sqrt(np.mean(np.concatenate(rates) ** 2, axis=0))
            size = np.where(np.isfinite(size) & (size > 0), size, 1.0)
        else:
            size = np.ones(len(self.states))
        return lower, upper, size

    def trainer(self, reference: DynamicsReference | None) -> Trainer:
        from pinn.dynamics.validate import DynamicsCheck

        numerics = self.training.numerics
        vector_field = self.field()
        warm = any("rates" in (phase.terms or ()) for phase in self.training.schedule)
        objective = TrajectoryObjective(vector_field, self.data, self.windows, self.integration,
                                        self.rates if warm else None, getattr(torch, numerics.dtype),
                                        resolve_device(numerics.device), numerics.seed)
        check = None if reference is None else DynamicsCheck(vector_field, reference, self.integration, self.states,
                                                             self.tolerance)
        return Trainer(objective, self.training, check)

    def finish(self, trainer: Trainer, reference: DynamicsReference | None, folder: Any) -> Outcome:
        from pinn.dynamics.finish import finish

        return finish(self, trainer.objective.module, reference, folder)

    def describe(self) -> dict[str, Any]:
        lower, upper, scale = self._scaling()
        return {
            "states": list(self.states),
            "rhs": None if self.rhs is None else getattr(self.rhs, "__name__", repr(self.rhs)),
            "net": None if self.net is None else {"kind": type(self.net).__name__, **dataclasses.asdict(self.net)},
            "net_scaling": {"input_lower": lower.tolist(), "input_upper": upper.tolist(), "output_scale": scale.tolist()},
            "unknowns": [dataclasses.asdict(u) for u in self.unknowns],
            "trajectories": [{"name": t.name, "observations": len(t), "t0": float(t.times[0]),
                              "t1": float(t.times[-1])} for t in self.data],
            "integration": dataclasses.asdict(self.integration),
            "windows": dataclasses.asdict(self.windows),
            "rates": dataclasses.asdict(self.rates),
            "validation": {k: dataclasses.asdict(v) for k, v in self.validation.items()},
            "reference": None if self.reference is None else repr(self.reference),
            "discover": None if self.discover is None else dataclasses.asdict(self.discover),
        }

    def functions(self) -> dict[CodeType, str]:
        named = {}
        if self.rhs is not None and hasattr(self.rhs, "__code__"):
            named[self.rhs.__code__] = "vector field rhs"
        if self.reference is not None and hasattr(self.reference.rhs, "__code__"):
            named[self.reference.rhs.__code__] = "the true system's rhs"
        return named
