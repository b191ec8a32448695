"""Command line: ``python -m pinn.solve PROBLEM.py [options]`` trains, validates and writes a run folder.

Exit status: 0 the run met its tolerance (or has none), 1 it completed but missed it (or diverged, or a
fault stopped it: an exception in the problem's code during training, a file that could not be written;
``--resume`` continues), 2 a user mistake (bad problem file, option or folder), reported in one paragraph,
130 interrupted (Ctrl-C or SIGTERM; ``--resume`` continues).

Across processes: ``torchrun --nproc-per-node N -m pinn.solve PROBLEM.py [options]`` (gloo on CPUs, one
process per GPU with NCCL; several machines through torchrun's rendezvous, see
:mod:`pinn.train.distributed`). Process 0 writes the run folder and speaks; a checkpoint resumes with
any number of processes.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pinn.api import Options, fit_problem
from pinn.faults import Interrupted, RunFault
from pinn.loading import UserError, load_problem_source
from pinn.overrides import parse_assignments
from pinn.train.settings import LARGEST_SEED

EXIT_PASSED, EXIT_MISSED, EXIT_USER_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_FAULT = EXIT_MISSED  # a fault during the run: it did not meet its tolerance either


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one paragraph, exit 2, as for every user mistake
        raise UserError(f"{message} (see `python -m pinn.solve --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m pinn.solve", description=__doc__.split("\n\n")[0])
    parser.add_argument("problem", help="the problem file (e.g. problems/heat.py)")
    parser.add_argument("--out", type=Path, help="run folder (default runs/<problem name>)")
    parser.add_argument("--steps", type=int, help="total optimisation steps: each phase keeps its share of the schedule (L-BFGS takes the rest)")
    parser.add_argument("--time-budget", metavar="DURATION",
                        help="end training after this long (90s, 10m, 1h): the automatic schedule's is 10m")
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
                        help="override a training default, one KEY=VALUE per --set (repeat --set for each setting), "
                             "e.g. --set adam.steps=500 --set net.width=64")
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
    # under torchrun, process 0 speaks for the run; another names itself when it has something to say
    rank = os.environ.get("RANK", "0")
    who = "" if rank == "0" else f"process {rank}: "
    with _console():
        try:
            return _main(argv)
        except UserError as err:
            print(f"{who}error: {err}", file=sys.stderr)
            return EXIT_USER_ERROR
        except RunFault as err:  # the run folder holds what was saved; the message says how to continue
            print(f"{who}error: {err}", file=sys.stderr)
            return EXIT_FAULT
        except Interrupted as err:  # training stopped by a signal; the message says what was kept
            if not who:  # every process stopped at the same step; process 0 says so
                print(f"\n{err}", file=sys.stderr)
            return EXIT_INTERRUPTED
        except KeyboardInterrupt:  # before training started
            print("\ninterrupted before training started", file=sys.stderr)
            return EXIT_INTERRUPTED


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    problem, source = load_problem_source(Path(args.problem))
    try:
        settings = parse_assignments(args.assignments)
    except ValueError as err:
        raise UserError(str(err)) from None
    options = Options(resume=args.resume, overwrite=args.overwrite, force_resume=args.force_resume, steps=args.steps,
                      seed=args.seed, device=args.device, dtype=args.dtype, settings=settings,
                      progress=not args.quiet, time_budget=args.time_budget)
    solution = fit_problem(problem, source, args.out, options)
    return EXIT_PASSED if solution.passed else EXIT_MISSED


class _Console(logging.StreamHandler):
    """Each message of pinn's loggers, plain, on the stderr of the moment (a test may have replaced it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler sets it; the stderr of the moment is used instead
        pass


@contextmanager
def _console() -> Iterator[None]:
    """Within the block, pinn's messages (INFO and above) go to stderr as they are."""
    logger = logging.getLogger("pinn")
    handler, level = _Console(), logger.level
    logger.addHandler(handler)
    # under torchrun, process 0 speaks for the run: the others only warn
    logger.setLevel(logging.INFO if os.environ.get("RANK", "0") == "0" else logging.WARNING)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


if __name__ == "__main__":
    sys.exit(main())
