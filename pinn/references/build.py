"""A problem's reference, built and checked fit to judge a run, before any training: every way it
can fail is the problem's mistake, reported in one paragraph."""
from __future__ import annotations

import time

from pinn.faults import culprit, reference_name
from pinn.loading import UserError
from pinn.pde.problem import Problem
from pinn.references.grid import GridReference
from pinn.validation import usable_reference


def build_reference(problem: Problem) -> tuple[GridReference | None, float]:
    """The problem's reference on its grid (None without one) and the seconds it took; a UserError if
    it cannot be built or cannot judge the fields that have a tolerance."""
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
