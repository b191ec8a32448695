"""L-BFGS with a strong Wolfe line search, in chunks of a few iterations."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor

from pinn.train.phases.base import OptimizerRun, Phase
from pinn.train.validate import whole

if TYPE_CHECKING:
    from pinn.train.trainer import Trainer

CHUNK = 10  # iterations per optimiser call: one history row, one check opportunity


@dataclass(frozen=True)
class LBFGS(Phase):
    """L-BFGS iterations (strong Wolfe line search). The phase ends early when an iteration finds no
    descent direction.

    Args:
        steps: L-BFGS iterations.
        history: the number of past updates kept (the memory of the curvature estimate).
        stall: see :class:`~pinn.train.phases.base.Phase`.
        name: see :class:`~pinn.train.phases.base.Phase`.
    """

    steps: int = 1000
    history: int = 50

    kind: ClassVar[str] = "lbfgs"

    def __post_init__(self) -> None:
        super().__post_init__()
        whole("LBFGS", "history", self.history, 1)

    def start(self, parameters: list[Tensor]) -> "LBFGSRun":
        return LBFGSRun(self, parameters)


class LBFGSRun(OptimizerRun):
    def __init__(self, phase: LBFGS, parameters: list[Tensor]) -> None:
        self.parameters = parameters
        self.optimizer = torch.optim.LBFGS(
            parameters, lr=1.0, max_iter=CHUNK, max_eval=2 * CHUNK + 5, history_size=phase.history,
            line_search_fn="strong_wolfe", tolerance_grad=1e-14, tolerance_change=0.0)

    def step(self, trainer: "Trainer", remaining: int) -> tuple[dict[str, float], float, int]:
        last: dict[str, float] = {}
        # L-BFGS moves the parameters during its line search: keep where this chunk starts.
        trainer.remember(None)

        def closure() -> float:
            self.optimizer.zero_grad(set_to_none=True)
            terms = trainer.differentiate()
            trainer.check_gradients()
            last.update(terms)  # the latest evaluation's terms
            return trainer.balance.total(terms)

        first = self.parameters[0]  # L-BFGS keeps its state there
        before = self.optimizer.state[first].get("n_iter", 0)
        self.optimizer.param_groups[0]["max_iter"] = min(CHUNK, remaining)
        self.optimizer.step(closure)
        done = self.optimizer.state[first].get("n_iter", 0) - before
        if done == 0:
            self.converged = True  # not even one iteration: no descent direction left
        return last, self.rate(), max(done, 1)  # count a step even if none was taken, so the loop always ends

    def restore(self, snapshot: Any) -> None:
        self.optimizer.state.clear()  # its history led here; start afresh from the good point

    def forget(self) -> None:
        self.optimizer.state.clear()  # its curvature pairs belong to the old batch's loss

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict(), "converged": self.converged}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.converged = bool(state["converged"])
