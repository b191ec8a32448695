"""The generic training loop: Adam, then L-BFGS, with checks against the reference.

The trainer knows nothing of any particular PDE: it minimises the sum of the problem's loss terms
and reports to a :class:`Monitor` (progress, history, checkpoints live there).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import time

import numpy as np
import torch
from torch import Tensor

if TYPE_CHECKING:
    from pinn.problem import Problem

from pinn.references.grid import GridReference
from pinn.training.config import Training
from pinn.training.losses import Points, draw_points, loss_terms
from pinn.validation import FieldError, field_errors, worst

LBFGS_CHUNK = 10  # L-BFGS iterations per optimiser call: one history row, one check opportunity


class TrainingDiverged(RuntimeError):
    """A loss term became NaN or infinite."""


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
    """Trains a problem's model from its seed; ``run`` continues from wherever the state is."""

    def __init__(self, problem: Problem, training: Training, reference: GridReference | None = None) -> None:
        self.problem = problem
        self.training = training
        self.device = resolve_device(training.device)
        self.dtype = getattr(torch, training.dtype)
        self.reference = reference
        self.rng = np.random.default_rng(training.seed)
        self.model = problem.build_model(self.dtype, self.device, training.seed)
        self.points = draw_points(problem, self.rng, self.dtype, self.device)
        self.adam = torch.optim.Adam(self.model.parameters(), lr=training.learning_rate)
        decay = (training.learning_rate_final / training.learning_rate) ** (1 / max(training.adam_steps, 1))
        self.scheduler = torch.optim.lr_scheduler.ExponentialLR(self.adam, gamma=decay)
        self.lbfgs = torch.optim.LBFGS(
            self.model.parameters(), lr=1.0, max_iter=LBFGS_CHUNK, max_eval=2 * LBFGS_CHUNK + 5,
            history_size=training.lbfgs_history, line_search_fn="strong_wolfe",
            tolerance_grad=1e-14, tolerance_change=0.0,
        )
        self.step = 0
        self._previous_step = 0  # the step before the last optimiser call
        self.lbfgs_converged = False
        self.elapsed = 0.0  # training wall time, carried over a resume
        self.last_errors: dict[str, FieldError] | None = None
        self._reference_points = None if reference is None else torch.as_tensor(
            reference.points(), dtype=self.dtype, device=self.device)

    # ---------------------------------------------------------------- losses
    def losses(self) -> dict[str, Tensor]:
        return loss_terms(self.problem, self.model, self.points)

    def _total(self) -> tuple[Tensor, dict[str, Tensor]]:
        terms = self.losses()
        total = sum(terms.values())
        if not torch.isfinite(total):
            bad = next(name for name, value in terms.items() if not torch.isfinite(value))
            raise TrainingDiverged(f"loss term {bad!r} became {float(terms[bad])} at step {self.step}")
        return total, terms

    # ------------------------------------------------------------------ loop
    def run(self, monitor: Monitor | None = None) -> None:
        """Train until ``training.steps``, reporting to ``monitor``."""
        monitor = monitor or Monitor()
        started = time.perf_counter() - self.elapsed
        if self.step == 0 and self.reference is not None:
            self._check(monitor)
        while self.step < self.training.steps and not self._done():
            phase = "adam" if self.step < self.training.adam_steps else "lbfgs"
            terms, lr = self._adam_step() if phase == "adam" else self._lbfgs_step()
            self.elapsed = time.perf_counter() - started
            row = {"step": self.step, "wall_time_s": self.elapsed, "optimizer": phase, "lr": lr,
                   "loss_total": sum(terms.values())}
            row.update({f"loss_{k}": v for k, v in terms.items()})
            every = self.problem.sampling.resample_every
            if every and self._due(every) and self.step < self.training.steps:
                self.points = draw_points(self.problem, self.rng, self.dtype, self.device, self.points)
                self.lbfgs.state.clear()  # its curvature pairs belong to the old points' loss
            if self.reference is not None and (self._due(self.training.check_every) or self._finished()):
                row.update(self._check(monitor))
            monitor.on_step(self, row)
            if self._due(self.training.checkpoint_every) or self._finished():
                monitor.on_checkpoint(self)

    def _finished(self) -> bool:
        return self.step >= self.training.steps or self._done()

    def _done(self) -> bool:
        return self.step >= self.training.adam_steps and self.lbfgs_converged

    def _due(self, every: int) -> bool:
        # L-BFGS advances several steps at once: trigger when a multiple of `every` was crossed.
        return self.step // every > self._previous_step // every

    def _adam_step(self) -> tuple[dict[str, float], float]:
        self._previous_step = self.step
        lr = self.adam.param_groups[0]["lr"]
        self.adam.zero_grad(set_to_none=True)
        total, terms = self._total()
        total.backward()
        self.adam.step()
        self.scheduler.step()
        self.step += 1
        return {k: float(v.detach()) for k, v in terms.items()}, lr

    def _lbfgs_step(self) -> tuple[dict[str, float], float]:
        self._previous_step = self.step
        last: dict[str, float] = {}

        def closure() -> Tensor:
            self.lbfgs.zero_grad(set_to_none=True)
            total, terms = self._total()
            total.backward()
            last.update({k: float(v.detach()) for k, v in terms.items()})  # the latest evaluation's terms
            return total

        first_parameter = self.lbfgs.param_groups[0]["params"][0]  # L-BFGS keeps its state there
        before = self.lbfgs.state[first_parameter].get("n_iter", 0)
        remaining = self.training.steps - self.step
        self.lbfgs.param_groups[0]["max_iter"] = min(LBFGS_CHUNK, remaining)
        self.lbfgs.step(closure)
        done = self.lbfgs.state[first_parameter].get("n_iter", 0) - before
        if done == 0:
            self.lbfgs_converged = True  # not even one iteration: no descent direction left
        self.step += max(done, 1)  # count a step even if none was taken, so the loop always ends
        return last, 1.0

    # ------------------------------------------------------------ validation
    def predict_reference(self) -> dict[str, np.ndarray]:
        return self.model.predict(self._reference_points)

    def _check(self, monitor: Monitor) -> dict[str, float]:
        errors = field_errors(self.predict_reference(), self.reference, self.problem.tolerance)
        self.last_errors = errors
        monitor.on_check(self, errors)
        row = {"rel_l2": worst(errors)}
        row.update({f"rel_l2_{k}": e.rel_l2 for k, e in errors.items()})
        return row

    # ---------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """Everything needed to continue exactly (loadable with ``torch.load(weights_only=True)``)."""
        return {
            "step": self.step,
            "elapsed": self.elapsed,
            "lbfgs_converged": self.lbfgs_converged,
            "model": self.model.state_dict(),
            "adam": self.adam.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "lbfgs": self.lbfgs.state_dict(),
            "rng": _rng_state(self.rng),
            "points": self.points.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.step = int(state["step"])
        self._previous_step = self.step
        self.elapsed = float(state["elapsed"])
        self.lbfgs_converged = bool(state["lbfgs_converged"])
        self.model.load_state_dict(state["model"])
        self.adam.load_state_dict(state["adam"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.lbfgs.load_state_dict(state["lbfgs"])
        self.rng.bit_generator.state = _rng_restore(state["rng"])
        self.points = Points.from_state_dict(state["points"], self.device)


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
