"""One solve, from a checked problem to a complete run folder (the output contract of DESIGN.md §2).

The folder is created only once every user mistake that can be caught has been caught; from then on
each file is written atomically, and ``metrics.json`` is written last, so its presence means the run
completed. Ctrl-C (SIGINT) or SIGTERM stops training after the current step with a checkpoint, from
which ``--resume`` continues exactly as if nothing had happened; so does a resume after a hard kill
(SIGKILL, power cut), from the last periodic checkpoint.
"""
from __future__ import annotations

import dataclasses
import math
import platform
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import torch

from pinn.faults import culprit, fault, reference_name, solve_command, user_frame
from pinn.output.files import (CorruptFileError, atomic_write, load_checkpoint, read_history, save_checkpoint, write_history,
                     write_json, write_solution)
from pinn.loading import ProblemSource, UserError
from pinn.problem import Problem
from pinn.recorded import model_description, record_model
from pinn.output.folder import RunFolder, same_run
from pinn.references.grid import GridReference
from pinn.training.trainer import Monitor, Trainer, TrainingDiverged, resolve_device
from pinn.validation import FieldError, field_errors, usable_reference, worst

EXIT_PASSED, EXIT_MISSED, EXIT_INTERRUPTED = 0, 1, 130
EXIT_FAULT = EXIT_MISSED  # a fault during the run: it did not meet its tolerance either



class _RunMonitor(Monitor):
    """Progress bar, history.csv and checkpoints."""

    def __init__(self, folder: RunFolder, rows: list[dict], total: int, quiet: bool, identity: dict) -> None:
        from tqdm import tqdm

        self.folder = folder
        self.identity = identity  # stamped on every checkpoint: it must match config.json to resume
        self.rows = rows
        interactive = sys.stderr.isatty()
        self.bar = tqdm(total=total, initial=int(rows[-1]["step"]) if rows else 0, disable=quiet, unit="step",
                        mininterval=0.5 if interactive else 10, dynamic_ncols=True, file=sys.stderr)
        self.latest_error = float("nan")
        self.saved_step: int | None = None  # the step of the checkpoint on disk

    def on_step(self, trainer: Trainer, row: dict) -> None:
        self.rows.append(row)
        self.latest_error = row.get("rel_l2", self.latest_error)
        losses = {k[5:]: v for k, v in row.items() if k.startswith("loss_") and k != "loss_total"}
        self.bar.set_postfix_str(
            f"{row['optimizer']} loss {row['loss_total']:.2e} ("
            + ", ".join(f"{k} {v:.1e}" for k, v in losses.items())
            + (f") lr {row['lr']:.1e}" if row["optimizer"] == "adam" else ")")
            + ("" if math.isnan(self.latest_error) else f" rel_l2 {self.latest_error:.2e}")  # none measured yet
            + "".join(f" {k[6:]} {v:.4g}" for k, v in row.items() if k.startswith("param_")), refresh=False)
        self.bar.update(row["step"] - self.bar.n)

    def on_checkpoint(self, trainer: Trainer) -> None:
        self.save(trainer)

    def save(self, trainer: Trainer) -> None:
        # History first: killed in between, the history runs ahead of the checkpoint, and a resume
        # drops the rows past the checkpoint's step; the other order would lose rows.
        write_history(self.folder.history, self.rows)
        save_checkpoint(self.folder.checkpoint, {**trainer.state_dict(), "run": self.identity})
        self.saved_step = trainer.step
        self.folder.discard_replaced()  # the new run has something to show: the old one can go

    def close(self) -> None:
        self.bar.close()


def execute(problem: Problem, source: ProblemSource, folder: RunFolder, overrides: dict, *, resume: bool,
            overwrite: bool, quiet: bool) -> int:
    """Train, validate and write the run folder; return the exit status.

    The folder is locked while this process writes it; an old run that ``overwrite`` replaces is
    kept aside until the new run's first checkpoint, and put back if the new run ends before it.
    """
    try:
        resolve_device(problem.training.device)
    except ValueError as err:
        raise UserError(str(err)) from None
    folder.check(resume=resume, overwrite=overwrite, problem_file=source.path)
    folder.acquire()  # a second writer is refused before any long work
    try:
        return _execute(problem, source, folder, overrides, resume=resume, overwrite=overwrite, quiet=quiet)
    finally:
        folder.restore_replaced()  # nothing to do once the new run has written a checkpoint
        folder.release()


def _execute(problem: Problem, source: ProblemSource, folder: RunFolder, overrides: dict, *, resume: bool,
             overwrite: bool, quiet: bool) -> int:
    identity = {"id": uuid.uuid4().hex, "problem_sha256": source.sha256}
    state = None
    if resume:  # a corrupt or mismatched file is reported before any long work
        state = _checkpoint(folder)
        identity["id"] = _resumed_run_id(folder, state)
    reference, reference_time = _build_reference(problem)
    try:
        trainer = Trainer(problem, problem.training, reference)
    except ValueError as err:  # observations made from the reference only now (pinn.observe) can fail here
        raise UserError(f"problem {problem.name!r}: {err}") from None
    except (Exception, SystemExit) as err:  # the problem's own functions on the training points (pinn's bug: re-raised)
        if user_frame(err) is None:
            raise
        raise UserError(f"problem {problem.name!r}: {culprit(err, problem)}") from None
    rows: list[dict] = []
    if state is not None:
        _resume(trainer, folder, state)
        rows = _resumed_history(folder, trainer.step)
    if reference is not None and not quiet:
        print(f"reference ({reference_time:.1f} s): {reference.description}", file=sys.stderr)
    folder.prepare(resume=resume, overwrite=overwrite, problem_file=source.path)
    monitor = _RunMonitor(folder, rows, problem.training.steps, quiet, identity)
    if resume:
        monitor.saved_step = trainer.step
    try:
        return _train_and_finish(problem, source, folder, overrides, trainer, monitor, reference, reference_time,
                                 resume)
    except (KeyboardInterrupt, UserError):
        raise
    except BaseException as err:  # the problem's code, a file that could not be written, a bug: all reported alike
        raise fault(err, problem, source.path, folder, trainer.step, monitor.saved_step) from err
    finally:
        monitor.close()


def _train_and_finish(problem: Problem, source: ProblemSource, folder: RunFolder, overrides: dict, trainer: Trainer,
                      monitor: _RunMonitor, reference: GridReference | None, reference_time: float,
                      resume: bool) -> int:
    if resume:
        folder.remove_leftovers()
    write_json(folder.config, _config(problem, source, overrides, trainer, monitor.identity))
    resume_command = solve_command(source.path, folder.path, "--resume")
    _keep_source(source, folder)
    failure = None
    try:
        with _StopOnSignal(trainer):
            trainer.run(monitor)
    except TrainingDiverged as err:
        failure = str(err)
        # The trainer went back to its last good step: its row notes the stop, later rows go.
        monitor.rows[:] = [row for row in monitor.rows if row["step"] <= trainer.step]
        if monitor.rows:
            monitor.rows[-1]["event"] = "; ".join(filter(None, [monitor.rows[-1].get("event"), f"stopped: {failure}"]))
    except KeyboardInterrupt:  # a second signal: stop now, mid-step; the last checkpoint stays
        monitor.close()
        if monitor.saved_step is None:
            print("\nstopped before the first checkpoint; start again"
                  + (" (the run it was replacing is back in its place)" if folder.replacing else ""), file=sys.stderr)
        else:
            print(f"\nstopped at once; the checkpoint of step {monitor.saved_step} is kept. Continue with:\n"
                  f"  {resume_command}", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        monitor.close()
    monitor.save(trainer)
    if trainer.stopped_early:
        print(f"\ninterrupted at step {trainer.step}; checkpoint saved. Continue with:\n  {resume_command}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    try:
        return _finish(problem, trainer, folder, monitor.rows, reference, reference_time, failure)
    except KeyboardInterrupt:
        print(f"\ninterrupted while writing the results; the checkpoint of step {trainer.step} is saved and a "
              f"resume writes them:\n  {resume_command}", file=sys.stderr)
        return EXIT_INTERRUPTED


def _keep_source(source: ProblemSource, folder: RunFolder) -> None:
    """The problem file as it ran, and the local modules it imported, into the run folder."""
    atomic_write(folder.problem_copy, lambda p: p.write_bytes(source.text))
    for name, text in source.modules.items():
        target = folder.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda p, text=text: p.write_bytes(text))


def _resumed_run_id(folder: RunFolder, state: dict) -> str:
    """The run's id, the same in config.json and the checkpoint; a UserError if they differ."""
    config = folder.saved_config()
    if not same_run(config, state):
        raise UserError(f"--resume: config.json and checkpoint.pt in {folder.path} belong to different runs, as "
                        "when a run was replaced by hand or a writer was killed while another wrote; start the run "
                        "again with --overwrite")
    return config.get("run_id") or uuid.uuid4().hex  # a run made before runs had ids gets one now


def _checkpoint(folder: RunFolder) -> dict:
    """The folder's checkpoint (on the CPU), or a UserError saying why it cannot be read."""
    try:
        return load_checkpoint(folder.checkpoint)
    except (CorruptFileError, FileNotFoundError) as err:
        raise UserError(f"--resume: {err}; the run cannot be resumed: start it again with --overwrite") from None


def _resume(trainer: Trainer, folder: RunFolder, state: dict) -> None:
    """Continue ``trainer`` from ``state``, or explain in one paragraph why it cannot."""
    try:
        trainer.load_state_dict(state)
    except KeyError as err:
        raise UserError(f"--resume: {folder.checkpoint} is not a complete pinn checkpoint ({err.args[0]}); "
                        "start the run again with --overwrite") from None
    except (ValueError, RuntimeError, TypeError) as err:
        detail = " ".join(line.strip() for line in str(err).splitlines()[:3])
        raise UserError(f"--resume: the checkpoint in {folder.path} does not fit this problem and settings "
                        f"({detail}); resume with the settings the run was started with (no new --set net.* "
                        "or --dtype), or start a new run with --overwrite or another --out") from None


def _resumed_history(folder: RunFolder, step: int) -> list[dict]:
    """The rows of history.csv up to the checkpoint's step (later ones are trained again)."""
    if not folder.history.exists():
        return []
    try:
        return [row for row in read_history(folder.history) if row["step"] <= step]
    except CorruptFileError as err:
        raise UserError(f"--resume: {err}; delete it to resume without the earlier history") from None


class _StopOnSignal:
    """Within the block, SIGINT (Ctrl-C) and SIGTERM stop training after the current step (the
    caller then saves a checkpoint); a second signal stops at once, raising KeyboardInterrupt."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.received = False
        self.previous: dict[int, object] = {}

    def __enter__(self) -> "_StopOnSignal":
        if threading.current_thread() is threading.main_thread():  # signals can only be caught there
            self.previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)

    def _handle(self, signum: int, frame: object) -> None:
        if self.received:
            raise KeyboardInterrupt
        self.received = True
        self.trainer.request_stop()
        print(f"\n{signal.Signals(signum).name}: stopping after the current step to save a checkpoint "
              "(signal again to stop at once)", file=sys.stderr)


def _build_reference(problem: Problem) -> tuple[GridReference | None, float]:
    if problem.reference is None:
        return None, 0.0
    started = time.perf_counter()
    try:
        reference = problem.reference.build(problem.inputs, problem.outputs + tuple(problem.derived), problem.domain)
    except (ValueError, TypeError) as err:
        raise UserError(f"problem {problem.name!r}: the reference could not be built: {err}") from None
    except (Exception, SystemExit) as err:  # anything else its code raised: still the problem's fault, named
        raise UserError(f"problem {problem.name!r}: the reference {reference_name(problem.reference)} could not be "
                        f"built: {culprit(err, problem)}") from None
    unknowns = {u.name for u in problem.unknowns}  # their tolerance is checked against true_value, not the grid
    try:
        reference = usable_reference(reference, problem.domain, problem.inputs,
                                     problem.outputs + tuple(problem.derived),
                                     [n for n in problem.tolerance if n not in unknowns])
    except ValueError as err:
        raise UserError(f"problem {problem.name!r}: {err}") from None
    return reference, time.perf_counter() - started


def _finish(problem: Problem, trainer: Trainer, folder: RunFolder, rows: list[dict],
            reference: GridReference | None, reference_time: float, failure: str | None) -> int:
    errors: dict[str, FieldError] = {}
    grid = reference or _prediction_grid(problem)
    predicted = trainer.model.predict(grid.points())
    if reference is not None:
        errors = field_errors(predicted, reference, problem.tolerance)
    write_solution(folder.solution, grid, predicted, problem.time,
                   {"problem": problem.name, "reference": grid.description})
    _plots(folder, grid, predicted, rows, problem)
    _problem_plots(problem, trainer, reference, folder)
    parameters = _parameters(problem, trainer)
    passed = (failure is None and all(e.passed for e in errors.values())
              and all(p["passed"] is not False for p in parameters.values()))
    metrics = {
        "problem": problem.name,
        "passed": passed,
        "fields": {k: {"rel_l2": e.rel_l2, "max_abs": e.max_abs, "tolerance": e.tolerance, "passed": e.passed}
                   for k, e in errors.items()},
        "rel_l2": worst(errors) if errors else None,
        "parameters": parameters,
        "steps": trainer.step,
        "wall_time_s": trainer.elapsed + reference_time,
        "training_time_s": trainer.elapsed,
        "reference_time_s": reference_time,
        "device": str(trainer.device),
        "dtype": problem.training.dtype,
        "seed": problem.training.seed,
        "reference": None if reference is None else {"description": reference.description,
                                                      "error_estimate": reference.error_estimate},
        "final_loss": {k[5:]: v for k, v in rows[-1].items() if k.startswith("loss_")} if rows else {},
        "best": trainer.best,
        "recoveries": trainer.guard.recoveries,
        "derivatives": trainer.loss.engine.summary,
        "compile": trainer.loss.compile_status,
        "failure": failure,
        "versions": versions(),
    }
    record_model(problem, trainer.model, folder.path)  # before metrics.json, the mark of a finished run
    write_json(folder.metrics, metrics)
    _summary(problem, errors, parameters, passed, failure, folder, trainer)
    return EXIT_PASSED if passed else EXIT_MISSED


def _prediction_grid(problem: Problem, points_per_axis: int = 33) -> GridReference:
    """The grid a run without a reference is evaluated on: its bounding box, no reference values."""
    lower, upper = problem.domain.bbox
    axes = {n: np.linspace(lo, hi, points_per_axis) for n, lo, hi in zip(problem.inputs, lower, upper)}
    return GridReference(axes, {}, {}, "no reference: prediction only")


def _plots(folder: RunFolder, grid: GridReference, predicted: dict, rows: list[dict], problem: Problem) -> None:
    from pinn.plots import plot_fields, plot_history, plot_parameters

    try:
        if grid.fields:
            shaped = {k: np.asarray(predicted[k]).reshape(grid.shape) for k in grid.fields}
            plot_fields(folder.plots, grid.axes, shaped, grid.fields, problem.time)
        names = {u.name for u in problem.unknowns}
        plot_history(folder.plots / "history.png", rows,
                     tolerances={k: v for k, v in problem.tolerance.items() if k not in names})
        if problem.unknowns:
            plot_parameters(folder.plots / "parameters.png", rows, problem.unknowns)
    except Exception as err:  # a plot must never cost the user the run's numbers
        print(f"warning: plotting failed ({type(err).__name__}: {err}); the numbers are unaffected", file=sys.stderr)


def _problem_plots(problem: Problem, trainer: Trainer, reference: GridReference | None, folder: RunFolder) -> None:
    """The problem's own figures (``Problem(plots=...)``), each given the trained solution."""
    from pinn.solution import Solution

    for plot in problem.plots:
        try:
            plot(Solution(trainer.model, None, {}), reference, folder.plots)
        except (Exception, SystemExit) as err:  # a plot must never cost the user the run's numbers
            name = getattr(plot, "__name__", type(plot).__name__)
            print(f"warning: plot {name} failed ({type(err).__name__}: {err}); the numbers are unaffected",
                  file=sys.stderr)


def _parameters(problem: Problem, trainer: Trainer) -> dict[str, dict]:
    """metrics.json ``parameters``: each unknown's value, initial guess, true value, relative error,
    tolerance (from ``Problem(tolerance=...)``) and whether it was met (None without a tolerance)."""
    values = trainer.model.unknowns.as_floats()
    report = {}
    for unknown in problem.unknowns:
        entry = unknown.report(values[unknown.name])
        tolerance = problem.tolerance.get(unknown.name)
        entry.update(tolerance=tolerance,
                     passed=None if tolerance is None else bool(entry["rel_error"] <= tolerance))
        report[unknown.name] = entry
    return report


def _summary(problem, errors, parameters, passed, failure, folder, trainer) -> None:
    lines = [f"{problem.name}: {trainer.step} steps in {trainer.elapsed:.1f} s on {trainer.device}"]
    for name, e in errors.items():
        verdict = "" if e.tolerance is None else (" <= " if e.passed else " > ") + f"{e.tolerance:.1e}"
        lines.append(f"  {name}: relative L2 {e.rel_l2:.3e}{verdict}, max abs {e.max_abs:.3e}")
    for name, p in parameters.items():
        known = "" if p["true_value"] is None else f" (true {p['true_value']:.6g}, relative error {p['rel_error']:.3e}"
        known += "" if p["tolerance"] is None else (" <= " if p["passed"] else " > ") + f"{p['tolerance']:.1e}"
        lines.append(f"  {name} = {p['value']:.6g}{known}{')' if known else ''}")
    if failure:
        lines.append(f"  training failed: {failure}")
    verdict = "PASSED" if passed else "FAILED" if failure else "FAILED: tolerance not met"
    lines.append(f"  {verdict}; results in {folder.path}")
    print("\n".join(lines), file=sys.stderr)


def _config(problem: Problem, source: ProblemSource, overrides: dict, trainer: Trainer, identity: dict) -> dict:
    return {
        "problem": problem.name,
        "run_id": identity["id"],
        "problem_file": str(Path(source.path).resolve()),
        "problem_sha256": source.sha256,
        "local_modules": sorted(source.modules),
        "inputs": list(problem.inputs),
        "outputs": list(problem.outputs),
        "overrides": {k: v for k, v in overrides.items()},
        "net": dataclasses.asdict(problem.net),
        "sampling": dataclasses.asdict(problem.sampling),
        "training": dataclasses.asdict(problem.training),
        "device": str(trainer.device),
        "tolerance": problem.tolerance,
        "unknowns": [dataclasses.asdict(u) for u in problem.unknowns],
        "conditions": {k: type(c).__name__ + (" (exact)" if c.exact else "") for k, c in problem.conditions.items()},
        "reference": repr(problem.reference),
        "model": model_description(problem),  # what pinn.load(run) needs to read the model as data
        "versions": versions(),
    }


def versions() -> dict[str, str]:
    import h5py
    import scipy

    from pinn import __version__

    return {"pinn": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "scipy": scipy.__version__, "h5py": h5py.__version__}
