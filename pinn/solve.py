"""Command line: ``python -m pinn.solve PROBLEM.py [options]`` trains, validates and writes a run folder.

Exit status: 0 the run met its tolerance (or has none), 1 it completed but missed it (or diverged, or a
fault stopped it: an exception in the problem's code during training, a file that could not be written;
``--resume`` continues), 2 a user mistake (bad problem file, option or folder), reported in one paragraph,
130 interrupted (Ctrl-C or SIGTERM; ``--resume`` continues).
"""
from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

from pinn.loading import ProblemSource, UserError, load_problem_source
from pinn.memory import check_memory
from pinn.overrides import apply_overrides, parse_assignments
from pinn.faults import RunFault
from pinn.problem import Problem
from pinn.run import EXIT_FAULT, EXIT_INTERRUPTED, execute
from pinn.output.folder import RunFolder
from pinn.training.config import LARGEST_SEED

EXIT_USER_ERROR = 2  # the other statuses come from pinn.run


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one paragraph, exit 2, as for every user mistake
        raise UserError(f"{message} (see `python -m pinn.solve --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m pinn.solve", description=__doc__.split("\n\n")[0])
    parser.add_argument("problem", help="the problem file (e.g. problems/heat.py)")
    parser.add_argument("--out", type=Path, help="run folder (default runs/<problem name>)")
    parser.add_argument("--steps", type=int, help="total optimisation steps (Adam keeps its share of the default)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], help="default: the problem's (auto)")
    parser.add_argument("--dtype", choices=["float32", "float64"], help="default: the problem's")
    parser.add_argument("--seed", type=_seed, help="fixes initialisation and sampling (0 to 2**63 - 1)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    parser.add_argument("--force-resume", action="store_true",
                        help="with --resume: continue even though the problem file (or a module it imports) changed")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing run folder (only a run folder; the old run is kept until the new "
                             "one has a checkpoint)")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                        help="override a training default, e.g. training.adam_steps=500 or net.width=64")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not 0 <= seed <= LARGEST_SEED:  # past 2**64 torch's generator fails deep inside, with an overflow
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 2**63 - 1, got {seed}")
    return seed


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except RunFault as err:  # the run folder holds what was saved; the message says how to continue
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAULT
    except KeyboardInterrupt:  # before training started (once it runs, pinn.run handles Ctrl-C)
        print("\ninterrupted before training started", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    problem_path = Path(args.problem)
    problem, source = load_problem_source(problem_path)
    out = args.out or Path("runs") / problem.name
    _check_name_length(out)
    folder = RunFolder(out)
    overrides = _overrides(args)
    if args.force_resume and not args.resume:
        raise UserError("--force-resume goes with --resume")
    if args.resume:
        saved = folder.saved_config()
        _check_same_problem(saved, problem, source, out, force=args.force_resume)
        overrides = {**_saved_overrides(problem, folder, saved), **overrides}
    try:
        problem = apply_overrides(problem, overrides)
    except ValueError as err:
        raise UserError(str(err)) from None
    if args.steps is not None:
        try:
            training = problem.training.with_total_steps(args.steps)
        except ValueError as err:
            raise UserError(str(err)) from None
        overrides.update({"training.adam_steps": training.adam_steps, "training.lbfgs_steps": training.lbfgs_steps,
                          "training.gauss_newton_steps": training.gauss_newton_steps})
        problem = apply_overrides(problem, overrides)
    try:
        check_memory(problem)  # before anything is allocated: the points alone can exhaust the memory
    except ValueError as err:
        raise UserError(str(err)) from None
    return execute(problem, source, folder, overrides, resume=args.resume, overwrite=args.overwrite,
                   quiet=args.quiet)


def _check_same_problem(saved: dict, problem: Problem, source: ProblemSource, out: Path, force: bool) -> None:
    """--resume continues only the problem that started the run: same declaration, same file."""
    ours = {"problem": problem.name, "inputs": list(problem.inputs), "outputs": list(problem.outputs)}
    theirs = {key: saved.get(key) for key in ours}
    started_from = saved.get("problem_file", "its own problem file")
    if theirs != ours:
        raise UserError(f"--resume: {out} holds a run of problem {theirs['problem']!r} (inputs {theirs['inputs']}, "
                        f"outputs {theirs['outputs']}), not of {source.path} ({problem.name!r}, inputs "
                        f"{ours['inputs']}, outputs {ours['outputs']}); resume it with its own problem file, the "
                        f"one it was started from ({started_from}), or choose another --out")
    recorded = saved.get("problem_sha256")
    if recorded == source.sha256 or force:
        return
    if recorded is None:
        raise UserError(f"--resume: the run in {out} records no hash of its problem file (an older pinn made it), so "
                        f"it cannot be checked that {source.path} is the file it ran; pass --force-resume to continue "
                        "with this file, or start a new run with --overwrite or another --out")
    raise UserError(f"--resume: {source.path} (or a module it imports) has changed since the run in {out} started "
                    f"(sha256 {recorded[:12]} then, {source.sha256[:12]} now), so resuming would continue a "
                    "different problem from the saved state; pass --force-resume to continue with the file as it "
                    "is now (the folder then keeps the new copy), or start a new run with --overwrite or another "
                    "--out")


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    try:
        overrides: dict[str, object] = dict(parse_assignments(args.assignments))
    except ValueError as err:
        raise UserError(str(err)) from None
    for option, key in (("device", "training.device"), ("dtype", "training.dtype"), ("seed", "training.seed")):
        value = getattr(args, option)
        if value is not None:
            overrides[key] = value
    return overrides


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


def _saved_overrides(problem: Problem, folder: RunFolder, saved: dict) -> dict:
    """The ``--set`` settings a run was started with, as its config.json holds them; a UserError if this
    problem does not accept them (the file was edited, or written by something else)."""
    try:
        apply_overrides(problem, saved["overrides"])
    except (ValueError, TypeError) as err:
        raise UserError(f"--resume: {folder.config} holds settings this problem does not accept ({err}); start the "
                        "run again with --overwrite") from None
    return saved["overrides"]


if __name__ == "__main__":
    sys.exit(main())
