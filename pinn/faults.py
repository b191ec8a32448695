"""Faults once a run has started: which of the problem's functions failed, where in the user's code,
and the one paragraph a user reads instead of a traceback (which goes to ``error.log``)."""
from __future__ import annotations

import os
import shlex
import sysconfig
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from pinn.output.files import WriteError, atomic_write
from pinn.loading import describe_exit
from pinn.train.distributed import ProcessLost

if TYPE_CHECKING:
    from pinn.pde.problem import Problem
    from pinn.output.folder import RunFolder


class RunFault(Exception):
    """A fault once the run folder exists (an exception in the problem's code during training, a file that
    could not be written, a bug): the message says what failed and how to continue; the traceback is in
    ``error.log`` in the run folder."""


class Interrupted(KeyboardInterrupt):
    """Training was stopped by a signal (Ctrl-C, SIGTERM): the message says what was kept and how to
    continue. A KeyboardInterrupt, as Ctrl-C is."""


def solve_command(problem_path: Path | None, out: Path, option: str) -> str:
    """``python -m pinn.solve FILE --out DIR OPTION``, quoted for a shell: what a message tells to run; for a
    problem defined in Python (no file), the :func:`pinn.fit` call that does the same."""
    if problem_path is None:
        return f"pinn.fit(problem, out={str(out)!r}, {option.lstrip('-').replace('-', '_')}=True)"
    return shlex.join(["python", "-m", "pinn.solve", str(problem_path), "--out", str(out), option])


def fault(err: BaseException, problem: Problem, problem_path: Path | None, folder: RunFolder, step: int,
          saved_step: int | None) -> RunFault:
    """The :class:`RunFault` for ``err``, raised once the run folder exists; its traceback goes to error.log."""
    if isinstance(err, WriteError):
        what, cause = f"could not write {err.filename}: {err.strerror}", "once there is room (or the cause is fixed)"
    elif isinstance(err, ProcessLost):  # a checkpoint resumes with any number of processes
        what, cause = f"the run stopped at step {step}: {err}", "with any number of processes"
    else:
        what, cause = f"the run stopped at step {step}: {culprit(err, problem)}", "once the cause is fixed"
    start_again = solve_command(problem_path, folder.path, "--overwrite")
    if saved_step is None and folder.replacing:  # the old run goes back in its place: write nothing there
        return RunFault(f"{what}; no checkpoint was saved yet, so the run it was replacing is back in its place: "
                        f"{cause}, start again with:\n  {start_again}")
    if saved_step is None:
        message = f"{what}; no checkpoint was saved yet: {cause}, start again with:\n  {start_again}"
    else:
        # --resume checks the problem file is the one that ran: a fix in it needs --force-resume.
        message = (f"{what}; the checkpoint of step {saved_step} is kept: {cause}, continue with:\n  "
                   f"{solve_command(problem_path, folder.path, '--resume')}")
        if problem_path is not None and not isinstance(err, ProcessLost):
            message += "\n(add --force-resume if the fix is an edit of the problem file)"
    log = folder.path / "error.log"
    try:
        atomic_write(log, lambda p: p.write_text("".join(traceback.format_exception(err))))
        message += f"\n(the traceback is in {log})"
    except OSError:  # the disk may be full: the message above says what matters
        pass
    return RunFault(message)


# Code of these folders is pinn's, Python's or an installed package's: a traceback's deepest frame outside them
# is the user's (the problem file, or a module of the user's that it imports).
_LIBRARY_FOLDERS = tuple(sorted({str(Path(folder).resolve()) + os.sep for folder in (
    Path(__file__).parent, *(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")))}))


def user_frame(err: BaseException) -> traceback.FrameSummary | None:
    """The deepest frame of ``err``'s traceback in the user's code, if any."""
    frames = [frame for frame in traceback.extract_tb(err.__traceback__) if not frame.filename.startswith("<")
              and not str(Path(frame.filename).resolve()).startswith(_LIBRARY_FOLDERS)]
    return frames[-1] if frames else None


def culprit(err: BaseException, problem: Problem) -> str:
    """``residual 'heat' raised ZeroDivisionError: division by zero (problem.py, line 12, in heat)``: which of the
    problem's functions raised (when known), what, and where in the user's code."""
    if isinstance(err, SystemExit):
        did = f"called sys.exit({'' if err.code is None else repr(err.code)})"
    else:
        lines = str(err).strip().splitlines()  # the first line: the rest, with the traceback, is in error.log
        did = f"raised {type(err).__name__}" + (f": {lines[0]}" if lines else "")
    frame = user_frame(err)
    where = "" if frame is None else f" ({Path(frame.filename).name}, line {frame.lineno}, in {frame.name})"
    functions = _problem_functions(problem)
    for code in reversed([frame.f_code for frame, _ in traceback.walk_tb(err.__traceback__)]):
        if code in functions:
            return f"{functions[code]} {did}{where}"
    return f"{describe_exit(err) if isinstance(err, SystemExit) else did[len('raised '):]}{where}"


def reference_name(reference: object) -> str:
    """``analytic(exact)``, ``heat_fd(...)``: a reference as the problem file wrote it, in short."""
    solution, solver = getattr(reference, "solution", None), getattr(reference, "solver", None)
    if callable(solution):
        return f"analytic({getattr(solution, '__name__', type(solution).__name__)})"
    if callable(solver):
        return f"{getattr(solver, '__name__', 'solver')}(...)"
    return type(reference).__name__


def _problem_functions(problem: Problem) -> dict[object, str]:
    """The code object of each function the problem was given, and what it is (``residual 'heat'``)."""
    if not hasattr(problem, "residuals"):  # another family's declaration names its own functions
        return dict(problem.functions())
    named: dict[object, str] = {}
    for kind, functions in (("residual", problem.residuals), ("derived quantity", problem.derived),
                            ("known part of", problem.known)):
        for name, function in functions.items():
            named.setdefault(getattr(function, "__code__", None), f"{kind} {name!r}")
    for name, condition in problem.conditions.items():
        for value in getattr(condition, "__dict__", {}).values():
            for item in value if isinstance(value, tuple) else (value,):
                named.setdefault(getattr(item, "__code__", None), f"condition {name!r}")
    named.pop(None, None)
    return named
