"""What a run shows and keeps while it trains: the progress bar, history.csv, checkpoints, and the
caller's own callbacks (``pinn.fit(on_step=..., on_check=..., stop_when=...)``)."""
from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass

from pinn.output.files import save_checkpoint, write_history
from pinn.output.folder import RunFolder
from pinn.train.trainer import Monitor
from pinn.validation import FieldError


@dataclass(frozen=True)
class Callbacks:
    """The caller's functions, each optional.

    Attributes:
        on_step: called with each history row (a dict: step, optimizer, lr, loss_total, loss_<term>, ...).
        on_check: called with the errors against the reference at each check ({field: FieldError}).
        stop_when: called with each history row; True ends training there, as if the schedule had
            ended: the run is then validated and gets its verdict.
    """

    on_step: Callable[[dict], object] | None = None
    on_check: Callable[[dict[str, FieldError]], object] | None = None
    stop_when: Callable[[dict], object] | None = None


_RATE_LABELS = {"learning rate": "lr"}  # how the bar names a phase's rate (Phase.rate_name)


class RunMonitor(Monitor):
    """Progress bar, history.csv and checkpoints; the caller's callbacks."""

    def __init__(self, folder: RunFolder, rows: list[dict], total: int, progress: bool, identity: dict,
                 callbacks: Callbacks = Callbacks(), time_budget: float | None = None) -> None:
        from tqdm import tqdm

        self.folder = folder
        self.identity = identity  # stamped on every checkpoint: it must match config.json to resume
        self.rows = rows
        self.callbacks = callbacks
        interactive = sys.stderr.isatty()
        # Under a time budget the bar measures the budget spent (phases end when their loss stalls,
        # so the step count is no measure of progress); otherwise the steps of the schedule.
        self.by_time = time_budget is not None
        total, initial, unit = ((round(time_budget), round(rows[-1]["wall_time_s"]) if rows else 0, "s")
                                if self.by_time else (total, int(rows[-1]["step"]) if rows else 0, "step"))
        self.bar = tqdm(total=total, initial=initial, disable=not progress, unit=unit,
                        bar_format=("{l_bar}{bar}| {n_fmt}/{total_fmt} s of the time budget{postfix}"
                                    if self.by_time else None),
                        mininterval=0.5 if interactive else 10, dynamic_ncols=True, file=sys.stderr)
        # The first step may compile (torch.compile): its time would make the bar promise hours, so
        # the bar says so and measures its rate from the steps after it.
        self.first_step = True
        self.bar.set_postfix_str("first step (compiling, if on)", refresh=False)
        self.latest_error = float("nan")
        self.saved_step: int | None = None  # the step of the checkpoint on disk
        self.stopped_at: int | None = None  # the step at which stop_when ended training

    def on_step(self, trainer, row: dict) -> None:
        self.rows.append(row)
        self.latest_error = row.get("rel_l2", self.latest_error)
        losses = {k[5:]: v for k, v in row.items() if k.startswith("loss_") and k != "loss_total"}
        self.bar.set_postfix_str(
            (f"step {row['step']} " if self.by_time else "") + f"{row['optimizer']} loss {row['loss_total']:.2e} ("
            + ", ".join(f"{k} {v:.1e}" for k, v in losses.items())
            + f") {_RATE_LABELS.get(trainer.phase.rate_name, trainer.phase.rate_name)} {row['lr']:.1e}"
            + ("" if math.isnan(self.latest_error) else f" rel_l2 {self.latest_error:.2e}")  # none measured yet
            + "".join(f" {k[6:]} {v:.4g}" for k, v in row.items() if k.startswith("param_")), refresh=False)
        reached = min(round(row["wall_time_s"]), self.bar.total) if self.by_time else row["step"]
        if self.first_step and not self.by_time:
            self._restart_rate(reached)
        else:
            self.bar.update(reached - self.bar.n)
        self.first_step = False
        if self.callbacks.on_step is not None:
            self.callbacks.on_step(dict(row))
        if self.callbacks.stop_when is not None and self.stopped_at is None and self.callbacks.stop_when(dict(row)):
            self.stopped_at = row["step"]
            trainer.request_stop()

    def _restart_rate(self, reached: int) -> None:
        """Count the steps so far as done before the bar started: its rate and estimate come from
        the steps after the first."""
        bar = self.bar
        if bar.disable:
            bar.n = reached
            return
        bar.n = bar.initial = bar.last_print_n = reached
        bar.start_t = bar.last_print_t = bar._time()
        bar.refresh()

    def on_check(self, trainer, errors: dict[str, FieldError]) -> None:
        if self.callbacks.on_check is not None:
            self.callbacks.on_check(dict(errors))

    def on_checkpoint(self, trainer) -> None:
        self.save(trainer)

    def save(self, trainer) -> None:
        # History first: killed in between, the history runs ahead of the checkpoint, and a resume
        # drops the rows past the checkpoint's step; the other order would lose rows.
        write_history(self.folder.history, self.rows)
        save_checkpoint(self.folder.checkpoint, {**trainer.state_dict(), "run": self.identity})
        self.saved_step = trainer.step
        self.folder.discard_replaced()  # the new run has something to show: the old one can go

    def close(self) -> None:
        self.bar.close()
