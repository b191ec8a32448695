"""The optimisation schedule and numerics of a run."""
from __future__ import annotations

from dataclasses import dataclass

DTYPES = ("float32", "float64")
DEVICES = ("auto", "cpu", "cuda")
DERIVATIVES = ("auto", "autograd", "taylor")
COMPILE = ("auto", "on", "off")
LARGEST_SEED = 2**63 - 1  # the largest signed 64-bit integer, which torch, numpy and int64 file fields all hold


@dataclass(frozen=True)
class Training:
    """How a problem is trained: Adam with an exponentially decaying learning rate, then L-BFGS.

    Args:
        adam_steps: Adam iterations.
        lbfgs_steps: L-BFGS iterations afterwards (strong Wolfe line search), 0 to skip.
        learning_rate: Adam's initial learning rate.
        learning_rate_final: Adam's learning rate at its last step (exponential decay in between).
        lbfgs_history: L-BFGS memory (number of past updates kept).
        dtype: ``float32`` or ``float64``.
        device: ``auto`` (cuda when available, else cpu), ``cpu`` or ``cuda``.
        seed: fixes the network initialisation and every point drawn (0 to 2**63 - 1).
        check_every: steps between evaluations of the error against the reference.
        checkpoint_every: steps between checkpoints.
        derivatives: the derivative engine: ``auto`` (Taylor mode where the net and residuals allow,
            else autograd), ``taylor`` or ``autograd`` (see :mod:`pinn.derivatives.engine`).
        compile: ``torch.compile`` the Taylor-mode network pass: ``auto`` (when the run is long
            enough to repay the compile time, checked against the eager result), ``on`` or ``off``.
        warmup_steps: Adam's learning rate rises linearly from ``learning_rate / warmup_steps``
            over this many first steps (on top of the exponential decay); 0 for none.
        balance_every: every this many Adam steps, reweight the loss terms by their gradient norms
            (:mod:`pinn.training.weighting`); 0 for equal weights.
        balance_momentum: the moving-average factor of those weights, in [0, 1).
        gauss_newton_steps: Levenberg-Marquardt (damped Gauss-Newton) steps on the residual vector
            after L-BFGS (:mod:`pinn.training.gauss_newton`; for networks of up to a few thousand
            weights); 0 to skip. If L-BFGS converges early, this phase starts at once.
        gauss_newton_damping: its initial damping ``mu`` (relative to the diagonal of J^T J).
    """

    adam_steps: int = 2000
    lbfgs_steps: int = 1000
    learning_rate: float = 1e-3
    learning_rate_final: float = 1e-4
    lbfgs_history: int = 50
    dtype: str = "float64"
    device: str = "auto"
    seed: int = 0
    check_every: int = 250
    checkpoint_every: int = 500
    divergence_factor: float | None = 1e3
    max_recoveries: int = 3
    recovery_lr_factor: float = 0.5
    derivatives: str = "auto"
    compile: str = "auto"
    warmup_steps: int = 0
    balance_every: int = 0
    balance_momentum: float = 0.9
    gauss_newton_steps: int = 0
    gauss_newton_damping: float = 1e-3

    def __post_init__(self) -> None:
        for name in ("adam_steps", "lbfgs_steps", "seed", "max_recoveries", "warmup_steps", "balance_every",
                     "gauss_newton_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"Training {name} must be a whole number >= 0, got {value!r}")
        if self.seed > LARGEST_SEED:
            raise ValueError(f"Training seed must be a whole number from 0 to 2**63 - 1, got {self.seed!r}")
        for name in ("lbfgs_history", "check_every", "checkpoint_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Training {name} must be a whole number >= 1, got {value!r}")
        if self.steps < 1:
            raise ValueError("Training needs at least one step (adam_steps + lbfgs_steps + gauss_newton_steps >= 1)")
        for name in ("learning_rate", "learning_rate_final", "gauss_newton_damping"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 < value < float("inf"):
                raise ValueError(f"Training {name} must be a positive number, got {value!r}")
        factor = self.divergence_factor
        if factor is not None and (isinstance(factor, bool) or not isinstance(factor, (int, float))
                                   or not 1 < factor < float("inf")):
            raise ValueError(f"Training divergence_factor must be a number > 1 or None, got {factor!r}")
        factor = self.recovery_lr_factor
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor < 1:
            raise ValueError(f"Training recovery_lr_factor must be a number between 0 and 1, got {factor!r}")
        momentum = self.balance_momentum
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
            raise ValueError(f"Training balance_momentum must be a number in [0, 1), got {momentum!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"Training dtype {self.dtype!r} is not one of {', '.join(DTYPES)}")
        if self.device not in DEVICES:
            raise ValueError(f"Training device {self.device!r} is not one of {', '.join(DEVICES)}")
        if self.derivatives not in DERIVATIVES:
            raise ValueError(f"Training derivatives {self.derivatives!r} is not one of {', '.join(DERIVATIVES)}")
        if self.compile not in COMPILE:
            raise ValueError(f"Training compile {self.compile!r} is not one of {', '.join(COMPILE)}")

    @property
    def steps(self) -> int:
        return self.adam_steps + self.lbfgs_steps + self.gauss_newton_steps

    def with_total_steps(self, steps: int) -> "Training":
        """The same schedule scaled to ``steps`` in all, Adam and Gauss-Newton keeping their shares."""
        from dataclasses import replace

        if steps < 1:
            raise ValueError(f"--steps must be >= 1, got {steps}")
        adam = min(self.adam_steps, round(steps * self.adam_steps / self.steps))
        newton = min(self.gauss_newton_steps, round(steps * self.gauss_newton_steps / self.steps))
        if self.lbfgs_steps == 0:
            adam = steps - newton
        return replace(self, adam_steps=adam, lbfgs_steps=steps - adam - newton, gauss_newton_steps=newton)
