"""The generic training loop: Adam, then L-BFGS (then, optionally, Gauss-Newton), with checks against the reference.

The trainer knows nothing of any particular PDE: it minimises the sum of the problem's loss terms
and reports to a :class:`Monitor` (progress, history, checkpoints live there). A
:class:`~pinn.training.guard.DivergenceGuard` checks every step and undoes one that diverged.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import time

import numpy as np
import torch
from torch import Tensor

if TYPE_CHECKING:
    from pinn.problem import Problem

from pinn.pde.build import build_model
from pinn.references.grid import GridReference
from pinn.training.config import Training
from pinn.training.gauss_newton import GaussNewton
from pinn.training.guard import DivergenceGuard, StepDiverged, TrainingDiverged, clone
from pinn.training.losses import LossFunction, Points, draw_points
from pinn.training.weighting import GradientBalance
from pinn.validation import FieldError, field_errors, worst

LBFGS_CHUNK = 10  # L-BFGS iterations per optimiser call: one history row, one check opportunity
CHECKPOINT_FORMAT = 1

__all__ = ["Monitor", "Trainer", "TrainingDiverged", "adam", "resolve_device"]


class Monitor:
    """Receives what the trainer does. Override what you need."""

    def on_step(self, trainer: "Trainer", row: dict) -> None: ...

    def on_check(self, trainer: "Trainer", errors: dict[str, FieldError]) -> None: ...

    def on_checkpoint(self, trainer: "Trainer") -> None: ...


def adam(parameters, lr: float) -> torch.optim.Adam:
    """Adam with the fused update (one kernel over all parameters) where the parameters' device has it,
    else the default one. The same algorithm; on a small network the fused update takes a third of the
    time of the per-tensor one, which is a tenth of a compiled step."""
    parameters = list(parameters)
    try:
        return torch.optim.Adam(parameters, lr=lr, fused=True)
    except (RuntimeError, ValueError):  # a device or dtype without the fused kernel
        return torch.optim.Adam(parameters, lr=lr)


def resolve_device(name: str) -> torch.device:
    """``auto`` is cuda when available, else cpu."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but no CUDA device is available; use --device cpu")
    return torch.device(name)


class Trainer:
    """Trains a problem's model from its seed; ``run`` continues from wherever the state is."""

    def __init__(self, problem: Problem, training: Training, reference: GridReference | None = None) -> None:
        self.problem = problem
        self.training = training
        self.device = resolve_device(training.device)
        self.dtype = getattr(torch, training.dtype)
        self.reference = reference
        self.rng = np.random.default_rng(training.seed)
        self.model = build_model(problem, self.dtype, self.device, training.seed)
        self.points = draw_points(problem, self.rng, self.dtype, self.device)
        self.loss = LossFunction(problem, self.model, training.derivatives, training.compile, training.steps)
        decay = (training.learning_rate_final / training.learning_rate) ** (1 / max(training.adam_steps, 1))
        warmup = training.warmup_steps
        if warmup:
            # Chainable (lr <- lr * factor), so a recovery's lowered learning rate stays lowered.
            self.adam = adam(self.model.parameters(), lr=training.learning_rate / warmup)
            self.scheduler = torch.optim.lr_scheduler.MultiplicativeLR(
                self.adam, lambda s: decay * (min(s + 1, warmup) / min(s, warmup)))
        else:
            self.adam = adam(self.model.parameters(), lr=training.learning_rate)
            self.scheduler = torch.optim.lr_scheduler.ExponentialLR(self.adam, gamma=decay)
        self.balance = GradientBalance(training.balance_every, training.balance_momentum)
        self.lbfgs = torch.optim.LBFGS(
            self.model.parameters(), lr=1.0, max_iter=LBFGS_CHUNK, max_eval=2 * LBFGS_CHUNK + 5,
            history_size=training.lbfgs_history, line_search_fn="strong_wolfe",
            tolerance_grad=1e-14, tolerance_change=0.0,
        )
        self.newton = GaussNewton(self.loss, training.gauss_newton_damping) if training.gauss_newton_steps else None
        self.guard = DivergenceGuard(training)
        self.step = 0
        self._previous_step = 0  # the step before the last optimiser call
        self.lbfgs_converged = False
        self.elapsed = 0.0  # training wall time, carried over a resume
        self.last_errors: dict[str, FieldError] | None = None
        self.best: dict[str, float] | None = None  # the lowest worst-field error seen at a check, and its step
        self._stop_requested = False
        self._reference_points = None if reference is None else torch.as_tensor(
            reference.points(), dtype=self.dtype, device=self.device)

    # ---------------------------------------------------------------- losses
    def losses(self) -> dict[str, Tensor]:
        return self.loss(self.points)

    def _evaluate(self) -> tuple[Tensor, dict[str, float]]:
        """The total loss (to differentiate) and its terms as numbers, checked by the guard."""
        terms = self.losses()
        values = self._checked(terms)
        adam = self.step < self.training.adam_steps
        if not self.balance.every:
            return sum(terms.values()), values
        if adam and self.balance.due(self.step):
            self.balance.update(terms, [p for p in self.model.parameters() if p.requires_grad])
        return self.balance.total(terms), values

    def _differentiate(self) -> dict[str, float]:
        """The loss terms as numbers, checked by the guard, with the gradient of the total loss in the
        parameters' ``.grad``: from the loss function's own route (one compiled graph where it is compiled),
        except at a balancing step, which measures every term's gradient on the terms' graph."""
        if self.step < self.training.adam_steps and self.balance.due(self.step):
            total, values = self._evaluate()
            total.backward()
            return values
        return self._checked(self.loss.backward(self.points, self.balance.weights))

    def _checked(self, terms: dict[str, Tensor]) -> dict[str, float]:
        """The terms as numbers, after the guard has checked them (a jump counts only under Adam)."""
        values = {k: float(v.detach()) for k, v in terms.items()}
        self.guard.check_loss(values, jump=self.step < self.training.adam_steps)
        return values

    @staticmethod
    def _parameters(optimizer: torch.optim.Optimizer) -> list[Tensor]:
        return [p for group in optimizer.param_groups for p in group["params"]]

    def _check_gradients(self, optimizer: torch.optim.Optimizer) -> None:
        self.guard.check_gradients(self._parameters(optimizer), lambda: self._gradient_culprit(optimizer))

    def _gradient_culprit(self, optimizer: torch.optim.Optimizer) -> str:
        # Only after a failure: one more evaluation, differentiated term by term.
        parameters = self._parameters(optimizer)
        for name, term in self.losses().items():
            grads = torch.autograd.grad(term, parameters, retain_graph=True, allow_unused=True)
            if any(g is not None and not bool(torch.isfinite(g).all()) for g in grads):
                return f"the gradient of loss term {name!r} became NaN or infinite"
        return "the gradient became NaN or infinite"

    # ------------------------------------------------------------------ loop
    def request_stop(self) -> None:
        """Stop after the current step (safe to call from a signal handler); save the state then."""
        self._stop_requested = True

    @property
    def stopped_early(self) -> bool:
        """Whether the last :meth:`run` ended on :meth:`request_stop` rather than by finishing."""
        return self._stop_requested and not self._finished()

    def run(self, monitor: Monitor | None = None) -> None:
        """Train until ``training.steps`` (or a :meth:`request_stop`), reporting to ``monitor``.

        Raises:
            TrainingDiverged: steps kept diverging after ``training.max_recoveries`` recoveries;
                the model then holds the last good state.
        """
        monitor = monitor or Monitor()
        started = time.perf_counter() - self.elapsed
        if self.step == 0 and self.reference is not None:
            self._check(monitor)
        while self.step < self.training.steps and not self._done() and not self._stop_requested:
            phase = self._phase()
            step = {"adam": self._adam_step, "lbfgs": self._lbfgs_step, "gauss_newton": self._newton_step}[phase]
            try:
                terms, lr = step()
            except StepDiverged as failure:
                self._recover(failure, phase)
                continue
            self.elapsed = time.perf_counter() - started
            row = {"step": self.step, "wall_time_s": self.elapsed, "optimizer": phase, "lr": lr,
                   "loss_total": sum(terms.values())}
            row.update({f"loss_{k}": v for k, v in terms.items()})
            row.update({f"param_{k}": v for k, v in self.model.unknowns.as_floats().items()})
            event = self.guard.take_event()
            if event is not None:
                row["event"] = event
            every = self.problem.sampling.resample_every
            if every and self._due(every) and self.step < self.training.steps:
                self.points = draw_points(self.problem, self.rng, self.dtype, self.device, self.points)
                self.lbfgs.state.clear()  # its curvature pairs belong to the old points' loss
                self.guard.forget_reference()
            if self.reference is not None and (self._due(self.training.check_every) or self._finished()):
                row.update(self._check(monitor))
            monitor.on_step(self, row)
            if self._due(self.training.checkpoint_every) or self._finished():
                monitor.on_checkpoint(self)

    def _recover(self, failure: StepDiverged, phase: str) -> None:
        """Go back to the last good state with a lower learning rate, or stop if that keeps failing."""
        optimizer = self.adam if phase == "adam" else self.lbfgs
        good = self.guard.last_good
        stop = self.guard.failed(failure, self.step)
        old_lr = optimizer.param_groups[0]["lr"] if phase != "gauss_newton" else self.newton.damping
        if good is not None:
            with torch.no_grad():
                for parameter, saved in zip(self._parameters(optimizer), good["parameters"]):
                    parameter.copy_(saved)
            if good["optimizer"] is not None:
                self.adam.load_state_dict(clone(good["optimizer"]))  # a copy: the snapshot stays private
            else:
                self.lbfgs.state.clear()  # its history led here; start afresh from the good point
        if stop is not None:
            if good is not None:  # end in the last good state, as a consistent checkpoint
                self.step = self._previous_step = good["step"]
            raise TrainingDiverged(stop)
        if phase == "gauss_newton":  # a gentler Gauss-Newton step is a larger damping
            self.newton.damping = old_lr / self.guard.lr_factor
            self.guard.recovered(failure, self.step, old_lr, self.newton.damping, "damping")
            return
        for group in optimizer.param_groups:
            group["lr"] = old_lr * self.guard.lr_factor
        self.guard.recovered(failure, self.step, old_lr, optimizer.param_groups[0]["lr"])

    def _finished(self) -> bool:
        return self.step >= self.training.steps or self._done()

    def _done(self) -> bool:
        if self.step < self.training.adam_steps:
            return False
        return self.lbfgs_converged if self.newton is None else self.newton.converged

    def _phase(self) -> str:
        if self.step < self.training.adam_steps:
            return "adam"
        if self.step < self.training.adam_steps + self.training.lbfgs_steps and not self.lbfgs_converged:
            return "lbfgs"
        return "gauss_newton"

    def _due(self, every: int) -> bool:
        # L-BFGS advances several steps at once: trigger when a multiple of `every` was crossed.
        return self.step // every > self._previous_step // every

    def _adam_step(self) -> tuple[dict[str, float], float]:
        self._previous_step = self.step
        lr = self.adam.param_groups[0]["lr"]
        self.adam.zero_grad(set_to_none=True)
        terms = self._differentiate()
        self._check_gradients(self.adam)
        # This state passed: a failure at the next one comes back here.
        self.guard.remember(self.step, self._parameters(self.adam), self.adam.state_dict(), terms)
        self.adam.step()
        self.scheduler.step()
        self.step += 1
        self.guard.accepted(terms)
        return terms, lr

    def _lbfgs_step(self) -> tuple[dict[str, float], float]:
        self._previous_step = self.step
        last: dict[str, float] = {}
        # L-BFGS moves the parameters during its line search: keep where this chunk starts.
        self.guard.remember(self.step, self._parameters(self.lbfgs), None, self.guard.reference or {})

        def closure() -> float:
            self.lbfgs.zero_grad(set_to_none=True)
            terms = self._differentiate()
            self._check_gradients(self.lbfgs)
            last.update(terms)  # the latest evaluation's terms
            return self.balance.total(terms)

        first_parameter = self.lbfgs.param_groups[0]["params"][0]  # L-BFGS keeps its state there
        before = self.lbfgs.state[first_parameter].get("n_iter", 0)
        remaining = self.training.adam_steps + self.training.lbfgs_steps - self.step
        self.lbfgs.param_groups[0]["max_iter"] = min(LBFGS_CHUNK, remaining)
        self.lbfgs.step(closure)
        done = self.lbfgs.state[first_parameter].get("n_iter", 0) - before
        if done == 0:
            self.lbfgs_converged = True  # not even one iteration: no descent direction left
        self.step += max(done, 1)  # count a step even if none was taken, so the loop always ends
        if self.lbfgs_converged and self.newton is not None:  # Gauss-Newton takes over at once
            self.step = self.training.adam_steps + self.training.lbfgs_steps
        self.guard.accepted(last)
        return last, self.lbfgs.param_groups[0]["lr"]

    def _newton_step(self) -> tuple[dict[str, float], float]:
        self._previous_step = self.step
        self.guard.remember(self.step, self._parameters(self.lbfgs), None, self.guard.reference or {})
        damping = self.newton.damping
        terms = self.newton.step(self.points, self.balance.weights, self._evaluate)
        self.step += 1
        self.guard.accepted(terms)
        return terms, damping

    # ------------------------------------------------------------ validation
    def predict_reference(self) -> dict[str, np.ndarray]:
        return self.model.predict(self._reference_points)

    def _check(self, monitor: Monitor) -> dict[str, float]:
        errors = field_errors(self.predict_reference(), self.reference, self.problem.tolerance)
        self.last_errors = errors
        if self.best is None or worst(errors) < self.best["rel_l2"]:
            self.best = {"rel_l2": worst(errors), "step": self.step}
        monitor.on_check(self, errors)
        row = {"rel_l2": worst(errors)}
        row.update({f"rel_l2_{k}": e.rel_l2 for k, e in errors.items()})
        return row

    # ---------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """Everything needed to continue exactly, as a plain dict of named parts (tensors, numbers,
        strings and containers of them: ``torch.load(weights_only=True)`` reads it). A new part of
        the state is a new key; :meth:`load_state_dict` tolerates its absence in older checkpoints."""
        return {
            "format": CHECKPOINT_FORMAT,
            "step": self.step,
            "elapsed": self.elapsed,
            "lbfgs_converged": self.lbfgs_converged,
            "best": self.best,
            "guard": self.guard.state_dict(),
            "model": self.model.state_dict(),
            "adam": self.adam.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "lbfgs": self.lbfgs.state_dict(),
            "rng": _rng_state(self.rng),
            "points": self.points.state_dict(),
            "loss": self.loss.state_dict(),
            "balance": self.balance.state_dict(),
            "gauss_newton": {} if self.newton is None else self.newton.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue from a :meth:`state_dict`; KeyError, ValueError or RuntimeError if it does not fit."""
        missing = [k for k in ("step", "elapsed", "lbfgs_converged", "model", "adam", "scheduler", "lbfgs", "rng",
                               "points") if k not in state]
        if missing:
            raise KeyError(f"it has no {', '.join(missing)}")
        self.step = int(state["step"])
        self._previous_step = self.step
        self.elapsed = float(state["elapsed"])
        self.lbfgs_converged = bool(state["lbfgs_converged"])
        self.best = state.get("best")
        if "guard" in state:
            self.guard.load_state_dict(state["guard"])
        self.model.load_state_dict(state["model"])
        self.adam.load_state_dict(state["adam"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.lbfgs.load_state_dict(state["lbfgs"])
        self.rng.bit_generator.state = _rng_restore(state["rng"])
        self.points = Points.from_state_dict(state["points"], self.device)
        self.loss.load_state_dict(state.get("loss", {}))
        self.balance.load_state_dict(state.get("balance", {}))
        if self.newton is not None:
            self.newton.load_state_dict(state.get("gauss_newton", {}))


def _rng_state(rng: np.random.Generator) -> dict:
    # Stored as strings: 128-bit integers are not plain tensors, and weights_only loading accepts str.
    state = rng.bit_generator.state
    return {"bit_generator": state["bit_generator"], "state": str(state["state"]["state"]),
            "inc": str(state["state"]["inc"]), "has_uint32": int(state["has_uint32"]),
            "uinteger": int(state["uinteger"])}


def _rng_restore(saved: dict) -> dict:
    return {"bit_generator": saved["bit_generator"],
            "state": {"state": int(saved["state"]), "inc": int(saved["inc"])},
            "has_uint32": saved["has_uint32"], "uinteger": saved["uinteger"]}
