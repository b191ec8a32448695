"""``pinn.fit``: one solve, from a problem to a complete run folder, the same from Python and from the
command line (``python -m pinn.solve`` parses its arguments, loads the problem file and calls
:func:`fit_problem`, as :func:`fit` does).

The folder is created only once every user mistake that can be caught has been caught; from then on
each file is written atomically, and ``metrics.json`` is written last, so its presence means the run
completed. Ctrl-C (SIGINT) or SIGTERM stops training after the current step with a checkpoint, from
which a resume continues exactly as if nothing had happened; so does a resume after a hard kill
(SIGKILL, power cut), from the last periodic checkpoint.

Under torchrun (``torchrun --nproc-per-node N -m pinn.solve FILE``) every process trains its share
of the points (:mod:`pinn.train.distributed`); process 0 alone checks and writes the run folder and
the others follow it: they stop when it stops and end with its verdict.

Messages go to the ``pinn`` loggers (the command line shows them on stderr); the progress bar is
drawn on stderr when ``progress`` is on.
"""
from __future__ import annotations

import errno
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pinn.declaration import Declaration
from pinn.faults import Interrupted, RunFault, culprit, fault, solve_command, user_frame
from pinn.loading import ProblemSource, UserError, load_problem_source
from pinn.pde.memory import check_memory
from pinn.output import figures
from pinn.output import declared
from pinn.output.config import run_config
from pinn.output.files import atomic_write, write_json, write_solution
from pinn.output.xdmf import write_xdmf
from pinn.output.folder import RunFolder
from pinn.output.metrics import metrics, parameters_report, prediction_grid, trainer_facts
from pinn.output.progress import Callbacks, RunMonitor
from pinn.output.report import write_run_report
from pinn.output.resume import (check_same_problem, checkpoint, resume_trainer, resumed_history, resumed_run_id,
                                saved_overrides)
from pinn.output.signals import StopOnSignal
from pinn.output.summary import summary
from pinn.overrides import apply_overrides, step_overrides
from pinn.pde.problem import Problem
from pinn.recorded import record_model
from pinn.references.build import build_reference
from pinn.references.grid import GridReference
from pinn.solution import Solution
from pinn.pde.objective import pinn_trainer
from pinn.train import distributed
from pinn.train.phases import Stall
from pinn.train.trainer import Monitor, TrainingDiverged, resolve_device
from pinn.validation import FieldError, field_errors

__all__ = ["Options", "execute", "fit", "fit_problem"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Options:
    """How to run a problem: :func:`fit`'s keywords (the command line's options)."""

    resume: bool = False
    overwrite: bool = False
    force_resume: bool = False
    steps: int | None = None
    time_budget: str | float | None = None
    seed: int | None = None
    device: str | None = None
    dtype: str | None = None
    settings: dict = field(default_factory=dict)
    progress: bool = True
    callbacks: Callbacks = Callbacks()


def fit(problem: Problem | Declaration | str | os.PathLike, out: str | os.PathLike | None = None, *, resume: bool = False,
        overwrite: bool = False, force_resume: bool = False, steps: int | None = None,
        time_budget: str | float | None = None, seed: int | None = None,
        device: str | None = None, dtype: str | None = None, settings: dict | None = None, progress: bool = True,
        on_step: Callable[[dict], object] | None = None,
        on_check: Callable[[dict[str, FieldError]], object] | None = None,
        stop_when: Callable[[dict], object] | None = None) -> Solution:
    """Train ``problem``, validate it against its reference and write its run folder, as
    ``python -m pinn.solve`` does; return the trained :class:`pinn.Solution` with its verdict.

    Args:
        problem: a :class:`pinn.Problem` or another family's declaration (:class:`pinn.Dynamics`, ...) (defined in Python: the folder then holds no copy of a problem
            file, and config.json records ``problem_file`` null), or the path of a problem file (exactly
            as the command line runs it).
        out: the run folder; default ``runs/<problem name>``.
        resume: continue the run in ``out`` from its checkpoint. A run started from a file is resumed
            from that file (its hash is checked; ``force_resume`` continues after an edit); one started
            from a problem defined in Python is resumed from a problem of the same name, inputs and
            outputs, whose functions cannot be checked (that they are the same is yours to ensure).
        overwrite: replace the run in ``out`` (only a run folder; the old run is kept until the new one
            has a checkpoint).
        steps: total optimisation steps (each phase keeps its share of the schedule), as ``--steps``.
        time_budget: seconds, or a duration such as ``"10m"``: training ends once it has run this long,
            as ``--time-budget`` (the automatic schedule's default is 10 minutes).
        seed: as ``--seed``: fixes initialisation and sampling.
        device: as ``--device``: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        dtype: as ``--dtype``: ``"float32"`` or ``"float64"``.
        settings: ``--set`` overrides by key, e.g. ``{"adam.steps": 500, "net.width": 32}``.
        progress: draw the progress bar (on stderr).
        on_step: called with each history row (a dict: step, optimizer, lr, loss_total, loss_<term>, ...).
        on_check: called with the errors against the reference at each check ({field: FieldError}).
        stop_when: called with each history row; a true result ends training there as if the schedule
            had ended: the run is validated and gets its verdict (metrics.json ``stopped_early_at``), and
            its checkpoint is its final state (a resume continues the schedule from there).

    Returns:
        The solution, its ``metrics`` those of metrics.json: ``solution.passed`` is the verdict. A missed
        tolerance, or training that diverged, is a verdict, not an exception.

    Raises:
        pinn.UserError: a mistake in the problem, the options or the folder, in one paragraph (the command
            line's exit status 2); nothing was written.
        pinn.RunFault: a fault once the run had started (the problem's code raised, a file could not be
            written); the message says what the folder keeps and how to continue.
        pinn.Interrupted: Ctrl-C or SIGTERM stopped training; the message says how to continue.
    """
    source = None
    if not isinstance(problem, (Problem, Declaration)):
        if not isinstance(problem, (str, os.PathLike)):
            raise UserError(f"pinn.fit: the problem must be a pinn.Problem or the path of a problem file (or another "
                            f"family's declaration, such as pinn.Dynamics), got "
                            f"{type(problem).__name__}")
        problem, source = load_problem_source(problem)
    callbacks = Callbacks(on_step=on_step, on_check=on_check, stop_when=stop_when)
    options = Options(resume=resume, overwrite=overwrite, force_resume=force_resume, steps=steps,
                      time_budget=time_budget, seed=seed,
                      device=device, dtype=dtype, settings=dict(settings or {}), progress=progress,
                      callbacks=callbacks)
    return fit_problem(problem, source, out, options)


def fit_problem(problem: Problem | Declaration, source: ProblemSource | None, out: str | os.PathLike | None,
                options: Options) -> Solution:
    """:func:`fit` once the problem is loaded (``source``: its file, None for a problem defined in Python)."""
    out = Path(out) if out is not None else Path("runs") / problem.name
    _check_name_length(out)
    folder = RunFolder(out)
    overrides = {key: _as_recorded(value) for key, value in options.settings.items()}
    for key, value in (("numerics.device", options.device), ("numerics.dtype", options.dtype),
                       ("numerics.seed", options.seed), ("time_budget", options.time_budget)):
        if value is not None:
            overrides[key] = value
    if options.force_resume and not options.resume:
        raise UserError("--force-resume goes with --resume")
    if options.resume:
        saved = folder.saved_config()
        check_same_problem(saved, problem, source, out, force=options.force_resume)
        overrides = {**saved_overrides(problem, folder, saved), **overrides}
    problem = _configured(problem, overrides, options.steps)
    return execute(problem, source, folder, overrides, options)


def _as_recorded(value: object) -> object:
    """A setting as config.json keeps it for a resume: a tuple (``net.hidden=(32, 16)``) as the text ``--set``
    takes (``32,16``), since JSON would make it a list."""
    if isinstance(value, (tuple, list)):
        return ",".join(str(item) for item in value)
    if isinstance(value, Stall):
        return f"{value.patience},{value.min_decrease!r}"
    return value


def _configured(problem: Problem | Declaration, overrides: dict, steps: int | None) -> Problem | Declaration:
    """``problem`` with the overrides applied (``--steps`` adds its own to them), its memory checked."""
    try:
        problem = apply_overrides(problem, overrides)
        if steps is not None:
            overrides.update(step_overrides(problem, steps))
            problem = apply_overrides(problem, overrides)
        if isinstance(problem, Problem):
            check_memory(problem)  # before anything is allocated: the points alone can exhaust the memory
    except ValueError as err:
        raise UserError(str(err)) from None
    return problem


def _check_name_length(out: Path) -> None:
    """A UserError if ``out``, or a file the run writes in it, has a name longer than the file system allows."""
    try:
        os.stat(out / "plots" / ("x" * 64))  # plots/.<figure>.png.<random>.tmp: the run's deepest files
    except OSError as err:
        if err.errno != errno.ENAMETOOLONG:
            return  # it need not exist; other faults are the folder checks' to report
        shown = str(out) if len(str(out)) <= 80 else f"{str(out)[:60]}...{str(out)[-10:]}"
        raise UserError(f"--out {shown}: the name is longer than the file system allows ({err.strerror}); choose a "
                        "shorter --out") from None


def execute(problem: Problem | Declaration, source: ProblemSource | None, folder: RunFolder, overrides: dict,
            options: Options) -> Solution:
    """Train, validate and write the run folder of the configured ``problem``.

    The folder is locked while this process writes it; an old run that ``overwrite`` replaces is
    kept aside until the new run's first checkpoint, and put back if the new run ends before it.
    """
    try:
        device = str(resolve_device(problem.training.numerics.device))
    except ValueError as err:
        raise UserError(str(err)) from None
    try:
        joined = distributed.setup(device)  # torchrun started this process as one of several
    except ValueError as err:
        raise UserError(str(err)) from None
    except distributed.ProcessLost as err:
        raise RunFault(f"the processes could not start the run together: {err}") from err
    try:
        if distributed.rank() != 0:
            return _follow(problem, folder, options)
        return _lead(problem, source, folder, overrides, options, device)
    except distributed.ProcessLost as err:  # process 0 reports one during training itself, with its checkpoint
        resume = solve_command(None if source is None else source.path, folder.path, "--resume")
        raise RunFault(f"the run stopped: {err}; the run folder keeps process 0's last checkpoint: continue with any "
                       f"number of processes:\n  {resume}") from err
    finally:
        if joined:
            distributed.teardown()


def _lead(problem: Problem | Declaration, source: ProblemSource | None, folder: RunFolder, overrides: dict,
          options: Options, device: str) -> Solution:
    """The run, by process 0 (or the only process), which writes the folder; the other processes are told
    whether the folder may be used, and how the run ended."""
    problem_file = None if source is None else source.path
    try:
        folder.check(resume=options.resume, overwrite=options.overwrite, problem_file=problem_file)
        folder.acquire()  # a second writer is refused before any long work
    except UserError as err:
        distributed.broadcast_object({"error": str(err)})
        raise
    distributed.broadcast_object({"error": None})
    try:
        solution = _execute(problem, source, folder, overrides, options, device)
    except Interrupted as err:
        if not isinstance(err.__context__, KeyboardInterrupt):  # stopped after a step: the others wait for word
            distributed.broadcast_object({"interrupted": str(err)})
        raise
    finally:
        folder.restore_replaced()  # nothing to do once the new run has written a checkpoint
        folder.release()
    distributed.broadcast_object({"metrics": solution.metrics})
    return solution


def _follow(problem: Problem | Declaration, folder: RunFolder, options: Options) -> Solution:
    """Process 1, 2, ... of a run across processes: trains its share alongside process 0 and writes
    nothing; ends as process 0 does (its verdict, or the same interruption)."""
    verdict = distributed.broadcast_object(None)
    if verdict["error"] is not None:
        raise UserError(verdict["error"])
    state = checkpoint(folder) if options.resume else None
    reference = (declared.reference(problem) if isinstance(problem, Declaration) else build_reference(problem))[0]
    trainer = _trainer(problem, reference)
    if state is not None:
        resume_trainer(trainer, folder, state)
    try:
        with StopOnSignal(trainer):
            trainer.run(Monitor())
    except TrainingDiverged:
        pass  # every process diverged alike (from the same global numbers); process 0 reports it
    outcome = distributed.broadcast_object(None)
    if "interrupted" in outcome:
        raise Interrupted(outcome["interrupted"])
    # as process 0's: a physics-informed model, another family's module (pinn.output.declared.finish)
    model = trainer.objective.module if isinstance(problem, Declaration) else trainer.objective.model
    return Solution(model, outcome["metrics"], {}, folder.path)


def _trainer(problem: Problem | Declaration, reference):
    """The problem's trainer; a mistake the problem's code makes on the training points is a UserError."""
    try:
        return problem.trainer(reference) if isinstance(problem, Declaration) else pinn_trainer(problem, reference)
    except ValueError as err:  # observations made from the reference only now (pinn.observe) can fail here
        raise UserError(f"problem {problem.name!r}: {err}") from None
    except (Exception, SystemExit) as err:  # the problem's own functions on the training points (pinn's bug: re-raised)
        if user_frame(err) is None:
            raise
        raise UserError(f"problem {problem.name!r}: {culprit(err, problem)}") from None


def _execute(problem: Problem | Declaration, source: ProblemSource | None, folder: RunFolder, overrides: dict, options: Options,
             device: str) -> Solution:
    identity = {"id": uuid.uuid4().hex, "problem_sha256": None if source is None else source.sha256}
    state = None
    if options.resume:  # a corrupt or mismatched file is reported before any long work
        state = checkpoint(folder)
        identity["id"] = resumed_run_id(folder, state)
    if isinstance(problem, Declaration):
        reference, reference_time = declared.reference(problem)
    else:
        reference, reference_time = build_reference(problem)
    trainer = _trainer(problem, reference)
    rows: list[dict] = []
    if state is not None:
        resume_trainer(trainer, folder, state)
        rows = resumed_history(folder, trainer.step)
    if reference is not None:  # with the progress bar: a quiet run keeps it for the log
        logger.log(logging.INFO if options.progress else logging.DEBUG, "reference (%.1f s): %s", reference_time,
                   reference.description)
    problem_file = None if source is None else source.path
    folder.prepare(resume=options.resume, overwrite=options.overwrite, problem_file=problem_file)
    monitor = RunMonitor(folder, rows, problem.training.steps, options.progress, identity, options.callbacks,
                         problem.training.time_budget)
    if options.resume:
        monitor.saved_step = trainer.step
    try:
        configure = declared.run_config if isinstance(problem, Declaration) else run_config
        config = configure(problem, source, overrides, problem.training.describe(), device, identity)
        return _train_and_finish(problem, source, folder, config, trainer, monitor, reference, reference_time,
                                 options.resume)
    except (KeyboardInterrupt, UserError):
        raise
    except BaseException as err:  # the problem's code, a file that could not be written, a bug: all reported alike
        raise fault(err, problem, problem_file, folder, trainer.step, monitor.saved_step) from err
    finally:
        monitor.close()


def _train_and_finish(problem: Problem | Declaration, source: ProblemSource | None, folder: RunFolder, config: dict, trainer,
                      monitor: RunMonitor, reference: GridReference | None, reference_time: float,
                      resume: bool) -> Solution:
    if resume:
        folder.remove_leftovers()
    write_json(folder.config, config)
    resume_command = solve_command(None if source is None else source.path, folder.path, "--resume")
    _keep_source(source, folder)
    failure = None
    signals = StopOnSignal(trainer)
    try:
        with signals:
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
            raise Interrupted("stopped before the first checkpoint; start again"
                              + (" (the run it was replacing is back in its place)" if folder.replacing else "")) \
                from None
        raise Interrupted(f"stopped at once; the checkpoint of step {monitor.saved_step} is kept. Continue with:\n"
                          f"  {resume_command}") from None
    finally:
        monitor.close()
    monitor.save(trainer)
    if trainer.stopped_early and (signals.received or monitor.stopped_at is None):
        raise Interrupted(f"interrupted at step {trainer.step}; checkpoint saved. Continue with:\n  {resume_command}")
    stopped_early_at = trainer.step if trainer.stopped_early else None  # by stop_when: the run is validated
    try:
        return _finish(problem, trainer, folder, config, monitor.rows, reference, reference_time, failure,
                       stopped_early_at)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted while writing the results; the checkpoint of step {trainer.step} is saved and "
                          f"a resume writes them:\n  {resume_command}") from None


def _keep_source(source: ProblemSource | None, folder: RunFolder) -> None:
    """The problem file as it ran, and the local modules it imported, into the run folder (nothing for a
    problem defined in Python)."""
    if source is None:
        return
    atomic_write(folder.problem_copy, lambda p: p.write_bytes(source.text))
    for name, text in source.modules.items():
        target = folder.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda p, text=text: p.write_bytes(text))


def _finish(problem: Problem | Declaration, trainer, folder: RunFolder, config: dict, rows: list[dict],
            reference: GridReference | None, reference_time: float, failure: str | None,
            stopped_early_at: int | None) -> Solution:
    """Validate the trained model, write solution.h5, the figures, report.html and metrics.json (last), log the
    summary."""
    if isinstance(problem, Declaration):
        return declared.finish(problem, trainer, folder, config, rows, reference, reference_time, failure,
                               stopped_early_at)
    errors: dict[str, FieldError] = {}
    grid = reference or prediction_grid(problem)
    predicted = trainer.objective.model.predict(grid.points())
    if reference is not None:
        errors = field_errors(predicted, reference, problem.tolerance)
    write_solution(folder.solution, grid, predicted, problem.time,
                   {"problem": problem.name, "reference": grid.description})
    write_xdmf(folder.xdmf, folder.xdmf_data, grid, predicted, problem.time)
    figures.run_plots(folder, grid, predicted, rows, problem)
    figures.problem_plots(problem, trainer.objective.model, reference, folder)
    parameters = parameters_report(problem, trainer.objective.model.unknowns.as_floats())
    result = metrics(problem, errors, parameters, failure, rows, reference, reference_time,
                     trainer_facts(problem.training, trainer), stopped_early_at)
    result["processes"] = distributed.world_size()
    record_model(problem, trainer.objective.model, folder.path)  # before metrics.json, the mark of a finished run
    write_run_report(folder.path, result)
    write_json(folder.metrics, result)
    logger.info("%s", summary(result, folder.path))
    return Solution(trainer.objective.model, result, config, folder.path)
