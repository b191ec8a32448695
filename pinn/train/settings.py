"""How a run is trained, one small value object per concern, each checking itself when made.

A problem's ``training=pinn.Training(...)`` holds:

* ``schedule``: the optimiser phases, run in order (:mod:`pinn.train.phases`), e.g.
  ``[pinn.Adam(500, learning_rate=3e-3), pinn.LBFGS(2500), pinn.LevenbergMarquardt(40)]``;
* ``numerics``: :class:`Numerics`, the dtype, device, seed and derivative engine;
* ``checks``: :class:`Checks`, how often the error is measured and a checkpoint written;
* ``guard``: :class:`Guard`, when a step counts as diverged and how often to recover;
* ``balance``: :class:`Balance`, loss weighting by gradient norms.

Every setting can be changed from the command line without editing the file:
``--set adam.learning_rate=1e-3``, ``--set numerics.dtype=float32``, ``--set checks.check_every=100``
(a phase's settings under its name; see :mod:`pinn.overrides`).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pinn.train.phases import LBFGS, Adam, LevenbergMarquardt, Phase, Stall
from pinn.train.validate import one_of, positive, whole

DTYPES = ("float32", "float64")
DEVICES = ("auto", "cpu", "cuda")
DERIVATIVES = ("auto", "autograd", "taylor")
COMPILE = ("auto", "on", "off")
LARGEST_SEED = 2**63 - 1  # the largest signed 64-bit integer, which torch, numpy and int64 file fields all hold


@dataclass(frozen=True)
class Numerics:
    """What the numbers are and where they are computed.

    Args:
        dtype: ``float32`` or ``float64``.
        device: ``auto`` (cuda when available, else cpu), ``cpu`` or ``cuda``.
        seed: fixes the network initialisation and every point drawn (0 to 2**63 - 1).
        derivatives: the derivative engine of a physics-informed problem: ``auto`` (Taylor mode where
            the net and residuals allow, else autograd), ``taylor`` or ``autograd``
            (see :mod:`pinn.derivatives.engine`).
        compile: ``torch.compile`` the Taylor-mode pass: ``auto`` (when the run is long enough to repay
            the compile time, checked against the eager result), ``on`` or ``off``.
    """

    dtype: str = "float64"
    device: str = "auto"
    seed: int = 0
    derivatives: str = "auto"
    compile: str = "auto"

    def __post_init__(self) -> None:
        whole("Numerics", "seed", self.seed)
        if self.seed > LARGEST_SEED:
            raise ValueError(f"Numerics seed must be a whole number from 0 to 2**63 - 1, got {self.seed!r}")
        one_of("Numerics", "dtype", self.dtype, DTYPES)
        one_of("Numerics", "device", self.device, DEVICES)
        one_of("Numerics", "derivatives", self.derivatives, DERIVATIVES)
        one_of("Numerics", "compile", self.compile, COMPILE)


@dataclass(frozen=True)
class Checks:
    """How often a run looks at itself.

    Args:
        check_every: steps between measurements of the error against the reference.
        checkpoint_every: steps between checkpoints (and history.csv writes).
    """

    check_every: int = 250
    checkpoint_every: int = 500

    def __post_init__(self) -> None:
        whole("Checks", "check_every", self.check_every, 1)
        whole("Checks", "checkpoint_every", self.checkpoint_every, 1)


@dataclass(frozen=True)
class Guard:
    """When a step counts as diverged, and how the run recovers (:mod:`pinn.train.guard`).

    Args:
        divergence_factor: a step that makes the total loss grow more than this many times
            (checked in phases that take small steps, such as Adam) has diverged; None for no check.
        max_recoveries: consecutive recoveries before the run stops.
        recovery_lr_factor: each recovery multiplies the learning rate by this (or divides the
            Levenberg-Marquardt damping by it).
    """

    divergence_factor: float | None = 1e3
    max_recoveries: int = 3
    recovery_lr_factor: float = 0.5

    def __post_init__(self) -> None:
        factor = self.divergence_factor
        if factor is not None and (isinstance(factor, bool) or not isinstance(factor, (int, float))
                                   or not 1 < factor < float("inf")):
            raise ValueError(f"Guard divergence_factor must be a number > 1 or None, got {factor!r}")
        whole("Guard", "max_recoveries", self.max_recoveries)
        factor = self.recovery_lr_factor
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor < 1:
            raise ValueError(f"Guard recovery_lr_factor must be a number between 0 and 1, got {factor!r}")


@dataclass(frozen=True)
class Balance:
    """Loss weighting by gradient norms (:mod:`pinn.train.weighting`), in phases that balance (Adam).

    Args:
        every: reweight the loss terms every this many steps; 0 for equal weights.
        momentum: the moving-average factor of the weights, in [0, 1).
    """

    every: int = 0
    momentum: float = 0.9

    def __post_init__(self) -> None:
        whole("Balance", "every", self.every)
        momentum = self.momentum
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
            raise ValueError(f"Balance momentum must be a number in [0, 1), got {momentum!r}")


AUTOMATIC_BALANCE_EVERY = 100  # Adam steps between loss reweightings under the automatic schedule
DEFAULT_TIME_BUDGET = 600.0  # seconds: the automatic schedule's budget unless one is given


def automatic_schedule() -> tuple[Phase, ...]:
    """The schedule a problem gets when it sets none: each phase ends when its loss stalls (or
    converges, or its share of the time budget is spent), and the next begins.

    * Adam at learning rate 3e-3 (decaying to 3e-4 over its step cap) finds the basin: every
      shipped problem was tuned to 3e-3, and 1e-3 left Burgers and Helmholtz short;
    * L-BFGS refines while it makes progress;
    * Levenberg-Marquardt finishes where the network is small enough for its ``P x P`` solves
      (up to 6000 weights) and the points outnumber the weights 1.5 to 1; it decided the accuracy
      of the wave and Allen-Cahn problems (L-BFGS stalls around a loss of 1e-7 there).

    Where observations declare their noise, L-BFGS and Levenberg-Marquardt stop (or do not start)
    once the loss is as low as the true solution's would be (``stop_at_noise``: the data at their
    noise and the whole loss within it): their fast fit of the last digits would fit the noise. Adam,
    whose small steps fit it slowly, is left to its stall rule. On the inverse Poisson problem of the
    benchmarks (20 % noise, 2 threads), Adam stalled at u 8.4e-3, a 1.0e-2 with the loss already there;
    L-BFGS had taken u to 1.19e-2 and Levenberg-Marquardt's first eight steps a to 2.2e-2. Inverse
    Burgers' L-BFGS still runs: its 1 % data reach their noise while its PDE residual is well above it.

    Only the losses steer it, never the reference. The run stops when the last phase ends or the
    time budget (:data:`DEFAULT_TIME_BUDGET`, or ``Training(time_budget=...)``, ``--time-budget``)
    is spent. Time shares: Adam at most 15 % of the budget, L-BFGS up to 30 % in all, the rest to
    Levenberg-Marquardt, whose steps gained the most per second: on the wave equation 75 of them
    took the error from 0.25 (after 2 minutes of Adam and 2 of L-BFGS) to 2.2e-3; a skipped phase leaves its time to the one before it.
    """
    return (Adam(20000, learning_rate=3e-3, learning_rate_final=3e-4, stall=Stall(500, 2e-2), time_share=0.15),
            LBFGS(100000, stall=Stall(500, 1e-2), time_share=0.15, stop_at_noise=True),
            LevenbergMarquardt(5000, stall=Stall(20, 1e-3), max_weights=6000, min_rows_per_weight=1.5,
                               stop_at_noise=True))


@dataclass(frozen=True)
class Training:
    """How a problem is trained: a schedule of optimiser phases and the settings of every concern.

    Args:
        schedule: the phases, run in order; None (the default) is :func:`automatic_schedule`, whose
            phases switch when the loss stalls. Each phase has a name (its kind, numbered when a kind
            repeats: ``adam``, ``adam_2``) under which ``--set`` reaches its settings and
            history.csv logs its steps.
        balance: with the automatic schedule and no balance of its own, every 100 Adam steps (loss
            terms weighted by their gradient norms, kept for L-BFGS and Levenberg-Marquardt: a
            soft condition such as an initial velocity is not drowned by a residual 1e4 times its size).
        time_budget: seconds of training after which the run ends (resumes count the time already
            spent), and which phases with a ``time_share`` divide; None: no limit, except with the
            automatic schedule, which gets :data:`DEFAULT_TIME_BUDGET` (10 minutes). A run ended by
            its budget depends on the machine's speed: its step counts per phase are in history.csv,
            and setting them as the phases' steps (``--set adam.steps=...``) repeats it exactly.
        numerics: :class:`Numerics`. checks: :class:`Checks`. guard: :class:`Guard`.
        balance: :class:`Balance`; see above for its default under the automatic schedule.
    """

    schedule: Sequence[Phase] | None = None
    numerics: Numerics = field(default_factory=Numerics)
    checks: Checks = field(default_factory=Checks)
    guard: Guard = field(default_factory=Guard)
    balance: Balance = field(default_factory=Balance)
    time_budget: float | None = None

    automatic = False  # set when the schedule is automatic_schedule()

    def __post_init__(self) -> None:
        if self.time_budget is not None:
            positive("Training", "time_budget", self.time_budget)
            object.__setattr__(self, "time_budget", float(self.time_budget))
        if self.schedule is None:
            object.__setattr__(self, "schedule", automatic_schedule())
            object.__setattr__(self, "automatic", True)
            if self.balance == Balance():  # unset: the automatic schedule balances its loss terms
                object.__setattr__(self, "balance", Balance(every=AUTOMATIC_BALANCE_EVERY))
            if self.time_budget is None:
                object.__setattr__(self, "time_budget", DEFAULT_TIME_BUDGET)
        schedule = self.schedule
        if isinstance(schedule, Phase):
            schedule = (schedule,)
        if not isinstance(schedule, (list, tuple)) or not schedule:
            raise ValueError("Training schedule must be a list of phases, e.g. [pinn.Adam(2000), pinn.LBFGS(1000)]")
        for phase in schedule:
            if not isinstance(phase, Phase):
                raise ValueError(f"Training schedule: {phase!r} is not a phase (pinn.Adam, pinn.LBFGS, "
                                 "pinn.LevenbergMarquardt)")
        object.__setattr__(self, "schedule", _named(tuple(schedule)))
        for label, value, kind in (("numerics", self.numerics, Numerics), ("checks", self.checks, Checks),
                                   ("guard", self.guard, Guard), ("balance", self.balance, Balance)):
            if not isinstance(value, kind):
                raise ValueError(f"Training {label} must be a pinn.{kind.__name__}, got {type(value).__name__}")
        if self.steps < 1:
            raise ValueError("Training needs at least one step (the phases' steps add up to 0)")

    @property
    def steps(self) -> int:
        """The schedule's steps in all (a phase that ends early leaves some untaken)."""
        return sum(phase.steps for phase in self.schedule)

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.schedule if p.name == name), None)

    def with_total_steps(self, steps: int) -> "Training":
        """The same schedule cut or stretched to ``steps`` in all (``--steps``): each phase keeps its
        share of the schedule, rounded and never more than its own steps, and the first L-BFGS phase
        (the first phase where there is none) takes what is left."""
        if steps < 1:
            raise ValueError(f"--steps must be >= 1, got {steps}")
        total = self.steps
        elastic = next((i for i, p in enumerate(self.schedule) if isinstance(p, LBFGS) and p.steps), 0)
        counts = [min(p.steps, round(steps * p.steps / total)) for p in self.schedule]
        counts[elastic] = 0
        counts[elastic] = steps - sum(counts)
        if counts[elastic] < 0:  # the other phases' rounded shares already exceed it
            raise ValueError(f"--steps {steps} is too few for a schedule of {len(self.schedule)} phases")
        schedule = tuple(dataclasses.replace(p, steps=n) for p, n in zip(self.schedule, counts))
        return self.replace(schedule=schedule)

    def replace(self, **changes) -> "Training":
        """A copy with ``changes`` (as :func:`dataclasses.replace`), keeping whether the schedule is
        the automatic one."""
        changed = dataclasses.replace(self, **changes)
        if self.automatic:  # the schedule passed on is resolved, no longer None: say it is still the automatic one
            object.__setattr__(changed, "automatic", True)
        return changed

    def describe(self) -> dict:
        """The settings as plain data (config.json), each phase with its kind."""
        return {"schedule": [{"phase": type(p).__name__, **dataclasses.asdict(p)} for p in self.schedule],
                "automatic_schedule": self.automatic, "time_budget": self.time_budget,
                **{name: dataclasses.asdict(getattr(self, name)) for name in ("numerics", "checks", "guard", "balance")}}


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str | float | int) -> float:
    """Seconds from ``90``, ``90s``, ``10m``, ``1.5h`` or ``1h30m``; ValueError naming the text otherwise."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        value = str(text).strip().lower()
        match = re.fullmatch(r"(?:(\d+(?:\.\d*)?)h)?(?:(\d+(?:\.\d*)?)m)?(?:(\d+(?:\.\d*)?)s?)?", value)
        if not value or match is None or not any(match.groups()):
            raise ValueError(f"time budget {text!r} is not a duration (e.g. 90s, 10m, 1.5h, 1h30m)")
        hours, minutes, secs = (float(g) if g else 0.0 for g in match.groups())
        seconds = 3600 * hours + 60 * minutes + secs
    if not 0 < seconds < float("inf"):
        raise ValueError(f"time budget {text!r} must be a positive duration")
    return seconds


def _named(schedule: tuple[Phase, ...]) -> tuple[Phase, ...]:
    """Every phase with a name: its own, else its kind's, numbered from the second of a kind on."""
    taken = {p.name for p in schedule if p.name is not None}
    named, counts = [], {}
    for phase in schedule:
        if phase.name is None:
            counts[phase.kind] = counts.get(phase.kind, 0) + 1
            name = phase.kind if counts[phase.kind] == 1 else f"{phase.kind}_{counts[phase.kind]}"
            while name in taken:
                counts[phase.kind] += 1
                name = f"{phase.kind}_{counts[phase.kind]}"
            phase = dataclasses.replace(phase, name=name)
        named.append(phase)
        taken.add(phase.name)
    names = [p.name for p in named]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"Training schedule: more than one phase is named {', '.join(map(repr, repeated))}; "
                         "names must differ")
    return tuple(named)
