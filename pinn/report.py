"""(Re)build the report of a finished run: ``python -m pinn.report RUN_FOLDER`` writes RUN_FOLDER/report.html.

A run writes its report itself at its end; this rebuilds it, say for a run made before reports existed.
Exit status 0 when written, 2 when RUN_FOLDER is not a finished run folder (the message names it).
"""
from __future__ import annotations

import argparse
import sys

from pinn.loading import UserError
from pinn.output.files import WriteError
from pinn.output.finished import read_finished_run
from pinn.output.folder import RunFolder
from pinn.output.report import write_report

EXIT_WRITTEN, EXIT_USER_ERROR = 0, 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pinn.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a finished run folder (one with metrics.json)")
    args = parser.parse_args(argv)
    try:
        run = read_finished_run(args.run)
        folder = RunFolder(run.path)
        folder.acquire()  # not while a run writes the folder
        try:
            path = write_report(run.path, run.metrics)
        finally:
            folder.release()
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except WriteError as err:
        print(f"error: could not write {err.filename}: {err.strerror}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(path)
    return EXIT_WRITTEN


if __name__ == "__main__":
    sys.exit(main())
