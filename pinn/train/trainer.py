"""The training loop every model family shares: a schedule of phases over an objective.

The trainer knows nothing of any model family: it minimises an :class:`~pinn.train.objective.Objective`
through the phases of a :class:`~pinn.train.settings.Training` schedule and reports to a
:class:`Monitor` (progress, history and checkpoints live there). A
:class:`~pinn.train.guard.DivergenceGuard` checks every step and undoes one that diverged. Every
``checks.check_every`` steps it measures the error with ``check`` (the family's validation
against its reference), which only reports: nothing it measures reaches the training.

Across processes (torchrun, :mod:`pinn.train.distributed`) every loss term and gradient the phases
see is the mean over the processes, so each process takes the same step; the wall time and a stop
request are agreed after every step, and the weights are checked identical at every checkpoint.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from pinn.train import distributed
from pinn.train.guard import DivergenceGuard, StepDiverged, TrainingDiverged
from pinn.train.objective import Objective
from pinn.train.phases import Phase, PhaseRun
from pinn.train.settings import Training
from pinn.train.weighting import GradientBalance
from pinn.validation import FieldError, worst

logger = logging.getLogger(__name__)

NOISE_REACHED = "the data are fitted down to their declared noise"  # why a stop_at_noise phase ends

CHECKPOINT_FORMAT = 2  # 2: phases as objects (issue 14); 1 was the fixed Adam, L-BFGS, Gauss-Newton order

__all__ = ["Monitor", "Trainer", "TrainingDiverged", "resolve_device"]


class Monitor:
    """Receives what the trainer does. Override what you need."""

    def on_step(self, trainer: "Trainer", row: dict) -> None: ...

    def on_check(self, trainer: "Trainer", errors: dict[str, FieldError]) -> None: ...

    def on_checkpoint(self, trainer: "Trainer") -> None: ...


def resolve_device(name: str) -> torch.device:
    """``auto`` is cuda when available, else cpu."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but no CUDA device is available; use --device cpu")
    return torch.device(name)


class Trainer:
    """Trains ``objective`` through ``training.schedule``; :meth:`run` continues from wherever the state is.

    Args:
        objective: what to minimise.
        training: the schedule and the settings of checks, guard and loss balancing.
        check: the errors against the reference, by field (None: no checks).
    """

    def __init__(self, objective: Objective, training: Training,
                 check: Callable[[], dict[str, FieldError]] | None = None) -> None:
        self.objective = objective
        self.training = training
        self.check = check
        self.parameters = objective.parameters()
        self.schedule: tuple[Phase, ...] = tuple(training.schedule)
        self.runs: list[PhaseRun] = [phase.start(self.parameters) for phase in self.schedule]
        weights = sum(p.numel() for p in objective.trainable())
        self.skipped = {phase.name: reason for phase in self.schedule
                        if (reason := phase.skip_reason(weights)) is not None}
        for phase in self.schedule:
            unknown = [t for t in phase.terms or () if t not in objective.selectable_terms]
            if unknown:
                offered = ", ".join(objective.selectable_terms) or "none: it minimises all its terms in every phase"
                raise ValueError(f"phase {phase.name} minimises terms {unknown} that this problem cannot choose "
                                 f"(the terms a phase can choose: {offered})")
        self.counts = [0 if phase.name in self.skipped else phase.steps for phase in self.schedule]
        self.deadlines = _deadlines(self.schedule, self.counts, training.time_budget)
        self._events: list[str] = []  # phase ends and the like, for the next history row
        self._noise_limits: dict[str, float] | None = None  # per noisy data term, its loss at the noise (once)
        self.balance = GradientBalance(training.balance.every, training.balance.momentum)
        self.guard = DivergenceGuard(training.guard)
        self.step = 0  # steps taken in all phases
        self._previous_step = 0  # the step before the last phase step
        self.ended = False  # the last phase has ended: the run is done
        self.taken = [0] * len(self.schedule)  # steps each phase has taken
        self.closed: set[int] = set()  # phases that ended before their step count (stall, convergence, time)
        self.elapsed = 0.0  # training wall time, carried over a resume
        self.setup = 0.0  # the first step's wall time (compiling, where on): no phase's time share pays it
        self.best: dict[str, float] | None = None  # the lowest worst-field error seen at a check, and its step
        self.untrained: dict[str, Any] | None = None  # the check before the first step: worst error, all met
        self.stalls: dict[str, dict[str, float]] = {}  # per phase with a stall rule: its best loss and step
        self._stop_requested = False
        self._stop_agreed = False  # across processes: some process was asked to stop (agreed after each step)
        self._index = self._next_running(0)
        if self._index is None:
            self._index, self.ended = len(self.schedule) - 1, True

    @property
    def device(self) -> torch.device:
        return self.parameters[0].device

    @property
    def phase(self) -> Phase:
        """The phase under way (or the last one, once finished)."""
        return self.schedule[self._index]

    # ------------------------------------------------------ phase services
    def differentiate(self) -> dict[str, float]:
        """The loss terms as numbers, checked by the guard, with the gradient of the total loss in the
        parameters' ``.grad``: from the objective's own route (one compiled graph where it is compiled),
        except at a balancing step, which measures every term's gradient on the terms' graph."""
        if self.phase.balances and self.balance.due(self.step):
            total, values = self.evaluate()
            total.backward()
            distributed.average_(self._gradients())
            return values
        terms = self.objective.backward(self.balance.weights)
        if distributed.active():
            terms = self._averaged(terms, self._gradients())
        return self._checked(terms)

    def evaluate(self) -> tuple[Tensor, dict[str, float]]:
        """The total loss (to differentiate) and its terms as numbers, checked by the guard."""
        terms = self.objective.terms()
        if distributed.active():
            return self._evaluate_across(terms)
        values = self._checked(terms)
        if not self.balance.every:
            return sum(terms.values()), values
        if self.phase.balances and self.balance.due(self.step):
            self.balance.update(terms, self.objective.trainable())
        return self.balance.total(terms), values

    def _evaluate_across(self, terms: dict[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        """:meth:`evaluate` across processes: the terms' means over the processes; the total's value is
        the global one, its gradient this process's (averaged by whoever differentiates it)."""
        values = self._checked(self._averaged(terms))
        if self.balance.every and self.phase.balances and self.balance.due(self.step):
            self.balance.update(terms, self.objective.trainable())  # global norms (GradientBalance)
        local = self.balance.total(terms) if self.balance.every else sum(terms.values())
        return local + (self.balance.total(values) - local.detach()), values

    def _gradients(self) -> list[Tensor]:
        return [p.grad for p in self.parameters if p.grad is not None]

    @staticmethod
    def _averaged(terms: dict[str, Tensor], gradients: list[Tensor] = ()) -> dict[str, Tensor]:
        """The terms' means over the processes (detached), the ``gradients`` averaged in place with them
        in the same all-reduce."""
        values = torch.stack([t.detach().reshape(()) for t in terms.values()])
        distributed.average_([*gradients, values])
        return dict(zip(terms, values.unbind()))

    def check_gradients(self) -> None:
        """Raise :class:`StepDiverged` if a gradient is NaN or infinite, naming the term at fault."""
        self.guard.check_gradients(self.parameters, self.gradient_culprit)

    def remember(self, optimizer_state: Any, terms: dict[str, float] | None = None) -> None:
        """Keep the current parameters (and the phase's optimiser state) as the last good state; its loss
        terms are ``terms``, or the last accepted step's."""
        self.guard.remember(self.step, self.parameters, optimizer_state,
                            terms if terms is not None else self.guard.previous_terms or {})

    def _checked(self, terms: dict[str, Tensor]) -> dict[str, float]:
        """The terms as numbers, after the guard has checked them (a jump counts only where the phase says)."""
        values = {k: float(v.detach()) for k, v in terms.items()}
        self.guard.check_loss(values, jump=self.phase.guards_jumps)
        return values

    def gradient_culprit(self, otherwise: str = "the gradient became NaN or infinite") -> str:
        """Only after a failure, one more evaluation, differentiated term by term: the loss term that is
        NaN or infinite, else the one whose gradient is; ``otherwise`` when neither shows it."""
        terms = self.objective.terms()
        for name, term in terms.items():
            value = float(term.detach())
            if not math.isfinite(value):
                return f"loss term {name!r} became {value}"
        trainable = self.objective.trainable()
        for name, term in terms.items():
            if not term.requires_grad:
                continue
            grads = torch.autograd.grad(term, trainable, retain_graph=True, allow_unused=True)
            if any(g is not None and not bool(torch.isfinite(g).all()) for g in grads):
                return f"the gradient of loss term {name!r} became NaN or infinite"
        return otherwise

    # ------------------------------------------------------------------ loop
    def request_stop(self) -> None:
        """Stop after the current step (safe to call from a signal handler); save the state then."""
        self._stop_requested = True

    @property
    def stopped_early(self) -> bool:
        """Whether the last :meth:`run` ended on :meth:`request_stop` rather than by finishing."""
        return self._stop_requested and not self.finished

    @property
    def finished(self) -> bool:
        return self.ended

    def run(self, monitor: Monitor | None = None) -> None:
        """Train until the schedule ends (or a :meth:`request_stop`), reporting to ``monitor``.

        Raises:
            TrainingDiverged: steps kept diverging after ``guard.max_recoveries`` recoveries;
                the module then holds the last good state.
        """
        monitor = monitor or Monitor()
        started = time.perf_counter() - self.elapsed
        self._select()  # a resumed run continues with its phase's terms
        if self.step == 0:
            distributed.broadcast_(self.parameters)  # every process starts from process 0's weights
            for name, reason in self.skipped.items():
                logger.info("phase %s is skipped: %s", name, reason)
            if self.check is not None:
                self._check(monitor)
            if not self.phase.redraws_points:
                self._fix_batch()
        while not self.finished and not self._stopping():
            index = self._index
            phase, run = self.schedule[index], self.runs[index]
            self._previous_step = self.step
            try:
                terms, rate, taken = run.step(self, self.counts[index] - self.taken[index])
            except StepDiverged as failure:
                self._recover(failure, run)
                continue
            self.step += taken
            self.taken[index] += taken
            self.elapsed = time.perf_counter() - started
            if distributed.active():
                self._agree()  # the longest elapsed time: every process gets the same deadlines
            if self._previous_step == 0:  # the first step compiles where compiling is on (up to minutes)
                self.setup = self.elapsed
                self.deadlines = _deadlines(self.schedule, self.counts, self.training.time_budget, self.setup)
            reason = self._ending(index, run, terms)
            if reason is not None:
                self._events.append(f"{phase.name} ended: {reason}")
                logger.info("phase %s ended at step %d: %s", phase.name, self.step, reason)
            if reason is not None:
                self.closed.add(index)
            if reason is not None or self.taken[index] >= self.counts[index]:
                self._end_phase(index)
            self.guard.accepted(terms)
            row = {"step": self.step, "wall_time_s": self.elapsed, "optimizer": phase.name, "lr": rate,
                   "loss_total": sum(terms.values())}
            row.update({f"loss_{k}": v for k, v in terms.items()})
            row.update({f"param_{k}": v for k, v in self.objective.reported().items()})
            event = self.guard.take_event()
            events = ([event] if event is not None else []) + self._events
            self._events = []
            if events:
                row["event"] = "; ".join(events)
            every = self.objective.resample_every
            if every and self._due(every) and not self.finished and phase.redraws_points:
                self.objective.resample()
                for each in self.runs:
                    each.forget()
                self.guard.forget_previous_terms()
            if self._index != index and phase.redraws_points and not self.phase.redraws_points:
                self._fix_batch()  # after the ending phase's last redraw: the batch the next phase keeps
            # Measured every check_every steps of the phase under way, and when a phase ends.
            every = phase.check_every or self.training.checks.check_every
            if self.check is not None and (self._due(every) or self._index != index or self.finished):
                row.update(self._check(monitor))
            monitor.on_step(self, row)
            if self._due(self.training.checks.checkpoint_every) or self.finished:
                distributed.check_identical(self.parameters)
                monitor.on_checkpoint(self)

    def _stopping(self) -> bool:
        """Whether to stop before the next step: alone, on request; across processes, once they agreed."""
        return self._stop_agreed if distributed.active() else self._stop_requested

    def _agree(self) -> None:
        """Across processes: the longest wall time (the time budget ends every process at the same step)
        and whether any process was asked to stop."""
        elapsed, stop = distributed.maximum([self.elapsed, float(self._stop_requested)], self.parameters[0])
        self.elapsed = elapsed
        if stop:
            self._stop_requested = self._stop_agreed = True

    def _select(self) -> None:
        """The phase under way minimises its terms: the objective is told; a change of terms is a new loss."""
        if self.objective.select(self.phase.terms):
            for each in self.runs:
                each.forget()
            self.guard.forget_previous_terms()

    def _fix_batch(self) -> None:
        """A phase that keeps one batch begins: the objective may choose that batch."""
        if self.objective.fix_batch():
            for each in self.runs:
                each.forget()
            self.guard.forget_previous_terms()

    def _still_to_run(self, start: int) -> list[int]:
        """The phases from ``start`` on that have steps left to take and have not ended early."""
        return [i for i in range(start, len(self.schedule)) if self.taken[i] < self.counts[i] and i not in self.closed]

    def _next_running(self, start: int) -> int | None:
        """The first of :meth:`_still_to_run` (None: none is)."""
        return next(iter(self._still_to_run(start)), None)

    def _ending(self, index: int, run: PhaseRun, terms: dict[str, float]) -> str | None:
        """Why the phase under way ends after this step, if it does (other than its step count)."""
        budget = self.training.time_budget
        if budget is not None and self.elapsed >= budget:
            return f"the time budget ({budget:g} s) is spent"
        if run.converged:
            return "converged"
        if self._stalled(self.schedule[index], terms):
            return "the loss stalled"
        if (self.deadlines[index] is not None and self.elapsed >= self.deadlines[index]
                and not self._rest_skipped(index, terms)):
            return "its share of the time budget is spent"
        if self.schedule[index].stop_at_noise and self._within_noise(terms):
            return NOISE_REACHED
        return None

    def _end_phase(self, index: int) -> None:
        """The phase took its steps, converged, stalled or ran out of time: the next one starts now;
        after the last (or once the whole time budget is spent), the run is done."""
        budget = self.training.time_budget
        spent = budget is not None and self.elapsed >= budget
        following = self._next_running(index + 1)
        # A stop_at_noise phase whose data the phases before it already fitted to their noise does not start.
        while not spent and following is not None and self.schedule[following].stop_at_noise and self._within_noise():
            name = self.schedule[following].name
            self._events.append(f"{name} skipped: {NOISE_REACHED}")
            logger.info("phase %s is skipped at step %d: %s", name, self.step, NOISE_REACHED)
            self.closed.add(following)
            following = self._next_running(following + 1)
        if following is not None and not spent:
            self._index = following
            self._select()
        else:
            self.ended = True

    def _rest_skipped(self, index: int, terms: dict[str, float]) -> bool:
        """Whether every phase after ``index`` still to run would be skipped at the noise (each
        ``stop_at_noise``, and the loss at ``terms`` within it). The phase under way is then the last
        to run, and the share of the budget kept for the skipped phases is its own, as in
        :func:`_deadlines` (the measured case: :func:`pinn.train.settings.automatic_schedule`)."""
        rest = self._still_to_run(index + 1)
        return bool(rest) and all(self.schedule[i].stop_at_noise for i in rest) and self._within_noise(terms)

    def _within_noise(self, terms: dict[str, float] | None = None) -> bool:
        """Whether the loss is as low as the true solution's would be (``Phase.stop_at_noise``), at ``terms``,
        or at the current parameters (None: evaluated here): every term fitting noisy observations down to
        its noise, and the whole loss (residuals and other terms too) within the sum of those limits, since
        the true solution's residuals are zero: data at their noise with residuals still above it leave a
        phase going. False where none declares noise."""
        if self._noise_limits is None:  # fixed once the observations exist: asked for once
            self._noise_limits = {name: floor * (1 + 2 * math.sqrt(2 / count))
                                  for name, (floor, count) in self.objective.noise_floors().items()}
        if not self._noise_limits:
            return False
        if terms is None:
            values = self.objective.terms()
            terms = {name: float(value.detach()) for name, value in
                     (self._averaged(values) if distributed.active() else values).items()}
        return (all(terms.get(name, math.inf) <= limit for name, limit in self._noise_limits.items())
                and sum(terms.values()) <= sum(self._noise_limits.values()))

    def _stalled(self, phase: Phase, terms: dict[str, float]) -> bool:
        """Whether ``phase``'s stall rule ends it after a step that reached ``terms``."""
        if phase.stall is None:
            return False
        total = sum(terms.values())
        best = self.stalls.get(phase.name)
        # Relative to the best's size: a loss may be negative (a likelihood), where (1 - d) * best
        # would count a slightly worse value as progress.
        if best is None or total < best["loss"] - phase.stall.min_decrease * abs(best["loss"]):
            self.stalls[phase.name] = {"loss": total, "step": self.step}
            return False
        return self.step - best["step"] >= phase.stall.patience

    def _recover(self, failure: StepDiverged, run: PhaseRun) -> None:
        """Go back to the last good state with a gentler phase, or stop if that keeps failing."""
        good = self.guard.last_good
        stop = self.guard.failed(failure, self.step)
        old = run.rate()
        if good is not None:
            with torch.no_grad():
                for parameter, saved in zip(self.parameters, good["parameters"]):
                    parameter.copy_(saved)
            run.restore(good["optimizer"])
        if stop is not None:
            if good is not None:  # end in the last good state, as a consistent checkpoint
                self.taken[self._index] = max(0, self.taken[self._index] - (self.step - good["step"]))
                self.step = self._previous_step = good["step"]
            raise TrainingDiverged(stop)
        new = run.soften(old, self.guard.lr_factor)
        self.guard.recovered(failure, self.step, old, new, self.phase.rate_name)

    def _due(self, every: int) -> bool:
        # A phase may advance several steps at once: trigger when a multiple of `every` was crossed.
        return self.step // every > self._previous_step // every

    # ------------------------------------------------------------ validation
    def _check(self, monitor: Monitor) -> dict[str, float]:
        errors = self.check()
        if self.best is None or worst(errors) < self.best["rel_l2"]:
            self.best = {"rel_l2": worst(errors), "step": self.step}
        if self.step == 0:
            self.untrained = {"rel_l2": worst(errors),
                              "passed": all(e.passed for e in errors.values()) and any(
                                  e.tolerance is not None for e in errors.values())}
        monitor.on_check(self, errors)
        row = {"rel_l2": worst(errors)}
        row.update({f"rel_l2_{k}": e.rel_l2 for k, e in errors.items()})
        return row

    # ---------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """Everything needed to continue exactly, as a plain dict of named parts (tensors, numbers,
        strings and containers of them: ``torch.load(weights_only=True)`` reads it)."""
        return {
            "format": CHECKPOINT_FORMAT,
            "step": self.step,
            "elapsed": self.elapsed,
            "setup": self.setup,
            "ended": self.ended,
            "phase_index": self._index,
            "phase_taken": list(self.taken),
            "phase_closed": sorted(self.closed),
            "best": self.best,
            "untrained": self.untrained,
            "stalls": self.stalls,
            "guard": self.guard.state_dict(),
            "model": self.objective.module.state_dict(),
            "objective": self.objective.state_dict(),
            "phases": {phase.name: run.state_dict() for phase, run in zip(self.schedule, self.runs)},
            "balance": self.balance.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue from a :meth:`state_dict`; KeyError, ValueError or RuntimeError if it does not fit."""
        if state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"it is a checkpoint of format {state.get('format')!r}, written by an earlier pinn; "
                             f"this one reads format {CHECKPOINT_FORMAT}")
        missing = [k for k in ("step", "elapsed", "ended", "guard", "model", "objective", "phases", "balance")
                   if k not in state]
        if missing:
            raise KeyError(f"it has no {', '.join(missing)}")
        names = [phase.name for phase in self.schedule]
        if sorted(state["phases"]) != sorted(names):
            raise ValueError(f"its schedule has the phases {', '.join(state['phases'])}, this one "
                             f"{', '.join(names)}")
        self.step = int(state["step"])
        self._previous_step = self.step
        self.elapsed = float(state["elapsed"])
        self.setup = float(state.get("setup", 0.0))
        self.deadlines = _deadlines(self.schedule, self.counts, self.training.time_budget, self.setup)
        self.best = state.get("best")
        self.untrained = state.get("untrained")
        self.stalls = dict(state.get("stalls") or {})
        self.guard.load_state_dict(state["guard"])
        self.objective.module.load_state_dict(state["model"])
        self.objective.load_state_dict(state["objective"])
        for phase, run in zip(self.schedule, self.runs):
            run.load_state_dict(state["phases"][phase.name])
        self.balance.load_state_dict(state["balance"])
        if "phase_taken" in state:
            self.taken = [int(n) for n in state["phase_taken"]]
            self.closed = {int(i) for i in state["phase_closed"]}
        else:  # written before phases counted their own steps: the step was the position in the schedule
            ends = [sum(self.counts[:i + 1]) for i in range(len(self.counts))]
            self.taken = [min(max(self.step - (ends[i] - n), 0), n) for i, n in enumerate(self.counts)]
        # Where the run goes on: the first phase with steps left that did not end early, so that a
        # resume with more steps (--steps) continues each phase to its new count; done if none has,
        # or the time budget is spent.
        following = self._next_running(0)
        budget = self.training.time_budget
        self.ended = following is None or (budget is not None and self.elapsed >= budget)
        self._index = following if following is not None else len(self.schedule) - 1


def _deadlines(schedule: tuple[Phase, ...], counts: list[int], budget: float | None,
               setup: float = 0.0) -> list[float | None]:
    """Each phase's end in elapsed seconds under ``budget``: after ``setup`` (the run's first step,
    which compiles where compiling is on), the rest of the budget times the shares of the phases up to
    it (a phase without a share: only the budget ends it). The last phase that runs has the whole
    budget, so a skipped phase leaves its time to the one before it."""
    if budget is None:
        return [None] * len(schedule)
    deadlines: list[float | None] = []
    spent = 0.0
    rest = max(budget - setup, 0.0)
    for phase in schedule:
        spent += phase.time_share or 0.0
        deadlines.append(None if phase.time_share is None else setup + rest * min(spent, 1.0))
    running = [i for i, n in enumerate(counts) if n]
    if running:
        deadlines[running[-1]] = None
    return deadlines
