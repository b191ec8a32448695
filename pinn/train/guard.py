"""The divergence guard: notice a step that went wrong, go back to the last good state, retry gently.

A step has diverged when a loss term or the gradient is NaN or infinite, or when an Adam step made
the total loss grow more than ``Guard.divergence_factor`` times. The guard keeps a copy of the
last state whose loss and gradient were good (the parameters and the optimiser's state just
before its update), so checking costs a copy per step and no extra evaluation; a recovery costs
one evaluation. After ``Guard.max_recoveries`` consecutive failures the run stops with
:class:`TrainingDiverged`, whose message names the loss term that failed first.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

import torch
from torch import Tensor

if TYPE_CHECKING:
    from pinn.train.settings import Guard


class TrainingDiverged(RuntimeError):
    """Training failed repeatedly (NaN, infinity or a loss explosion); the message names the loss term."""


class StepDiverged(Exception):
    """One step failed a check; ``reason`` says how and names the loss term at fault."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DivergenceGuard:
    """Checks each step and remembers the last good state; the trainer restores it on a failure."""

    def __init__(self, settings: Guard) -> None:
        self.factor = settings.divergence_factor
        self.max_recoveries = settings.max_recoveries
        self.lr_factor = settings.recovery_lr_factor
        self.last_good: dict[str, Any] | None = None  # step, parameters, optimizer (Adam only), terms
        self.previous_terms: dict[str, float] | None = None  # the previous good loss terms, for the jump check
        self.failures = 0  # consecutive
        self.first_failure: str | None = None
        self.retrying = False  # after a restore the re-evaluated good state proves nothing new
        self.recoveries: list[dict[str, Any]] = []
        self.pending_event: str | None = None  # logged with the next history row

    # ----------------------------------------------------------------- checks
    def check_loss(self, terms: dict[str, float], jump: bool) -> None:
        """Raise :class:`StepDiverged` if a term is not finite or (``jump``) the total exploded."""
        for name, value in terms.items():
            if not math.isfinite(value):
                raise StepDiverged(f"loss term {name!r} became {value}")
        total = sum(terms.values())
        if not math.isfinite(total):
            raise StepDiverged(f"the total loss overflowed to {total}")
        previous = self.previous_terms
        if not jump or self.factor is None or previous is None:
            return
        before = sum(previous.values())
        if before > 0 and total > self.factor * before:
            growth = {k: v / previous[k] for k, v in terms.items() if previous.get(k, 0) > 0}
            worst = max(growth, key=growth.get) if growth else next(iter(terms))
            raise StepDiverged(f"the loss jumped from {before:.3g} to {total:.3g} (more than divergence_factor="
                               f"{self.factor:g} times), most in loss term {worst!r} "
                               f"({previous.get(worst, 0.0):.3g} -> {terms[worst]:.3g})")

    @staticmethod
    def check_gradients(parameters: list[Tensor], diagnose: Callable[[], str]) -> None:
        """Raise :class:`StepDiverged` (with ``diagnose()`` as reason) if a gradient is not finite."""
        grads = [p.grad for p in parameters if p.grad is not None]
        if grads and not bool(torch.isfinite(torch.stack([g.norm() for g in grads]).sum())):
            raise StepDiverged(diagnose())

    # ------------------------------------------------------------ bookkeeping
    def remember(self, step: int, parameters: list[Tensor], optimizer: dict | None, terms: dict[str, float]) -> None:
        """Keep the current state as the last good one (its loss and gradient passed the checks)."""
        previous = self.last_good or {}
        self.last_good = {"step": step,
                          "parameters": _copy_into(previous.get("parameters"), [p.detach() for p in parameters]),
                          "optimizer": _copy_into(previous.get("optimizer"), optimizer), "terms": dict(terms)}

    def accepted(self, terms: dict[str, float]) -> None:
        """A step went through with these loss terms."""
        self.previous_terms = dict(terms)
        if self.retrying:
            self.retrying = False
        else:
            self.failures, self.first_failure = 0, None

    def forget_previous_terms(self) -> None:
        """Fresh points: the next loss is not comparable with the last one."""
        self.previous_terms = None

    def failed(self, failure: StepDiverged, step: int) -> str | None:
        """Count a failure; return why the run must stop, or None when it may recover."""
        self.failures += 1
        self.first_failure = self.first_failure or failure.reason
        if self.last_good is None:
            return (f"{failure.reason} at step {step}, before any good step to go back to: check the residuals and "
                    "conditions for operations that can fail (log or sqrt of a negative number, division by zero)")
        if self.failures > self.max_recoveries:
            tried = (f"{self.max_recoveries} recoveries (back to step {self.last_good['step']}, each time with a lower "
                     "learning rate or more damping) did not help" if self.max_recoveries
                     else "recovery is off (max_recoveries=0)")
            return f"training diverged at step {step}: {self.first_failure}; {tried}"
        return None

    def recovered(self, failure: StepDiverged, step: int, old_lr: float, new_lr: float,
                  setting: str = "learning rate") -> None:
        """Log a recovery: the next evaluation is of the restored (known good) state. ``setting`` names
        what was made gentler (the learning rate, or Gauss-Newton's damping)."""
        self.retrying = True
        self.recoveries.append({"step": step, "reason": failure.reason, "back_to_step": self.last_good["step"],
                                setting.replace(" ", "_"): new_lr})
        self.pending_event = (f"recovered from step {step} ({failure.reason}): back to step "
                              f"{self.last_good['step']}, {setting} {old_lr:.2e} -> {new_lr:.2e}")

    def take_event(self) -> str | None:
        event, self.pending_event = self.pending_event, None
        return event

    # ------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {"last_good": self.last_good, "previous_terms": self.previous_terms, "failures": self.failures,
                "first_failure": self.first_failure, "retrying": self.retrying, "recoveries": self.recoveries,
                "pending_event": self.pending_event}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.last_good = state["last_good"]
        self.previous_terms = state["previous_terms"]
        self.failures = int(state["failures"])
        self.first_failure = state["first_failure"]
        self.retrying = bool(state["retrying"])
        self.recoveries = list(state["recoveries"])
        self.pending_event = state["pending_event"]


def clone(value: Any) -> Any:
    """A deep copy of nested dicts, lists and tuples of tensors (for handing a snapshot back)."""
    return _copy_into(None, value)


def _copy_into(old: Any, new: Any) -> Any:
    """A copy of ``new`` that reuses ``old``'s tensors as buffers where the structure matches."""
    if isinstance(new, Tensor):
        if isinstance(old, Tensor) and old.shape == new.shape and old.dtype == new.dtype and old.device == new.device:
            return old.copy_(new)
        return new.detach().clone()
    if isinstance(new, dict):
        old = old if isinstance(old, dict) else {}
        return {k: _copy_into(old.get(k), v) for k, v in new.items()}
    if isinstance(new, (list, tuple)):
        old = old if isinstance(old, (list, tuple)) and len(old) == len(new) else [None] * len(new)
        return type(new)(_copy_into(o, v) for o, v in zip(old, new))
    return new
