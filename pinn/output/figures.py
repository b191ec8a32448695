"""A finished run's figures in plots/: the fields against the reference, the history, the recovered
parameters, and the problem's own figures. A figure that fails is a logged warning: it never costs
the run its numbers."""
from __future__ import annotations

import logging

import numpy as np

from pinn.output.folder import RunFolder
from pinn.pde.problem import Problem
from pinn.references.grid import GridReference

logger = logging.getLogger(__name__)


def run_plots(folder: RunFolder, grid: GridReference, predicted: dict, rows: list[dict], problem: Problem) -> None:
    """The fields (where the grid holds reference values), the history and the parameters' history."""
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
        logger.warning("warning: plotting failed (%s: %s); the numbers are unaffected", type(err).__name__, err)


def problem_plots(problem: Problem, model, reference: GridReference | None, folder: RunFolder) -> None:
    """The problem's own figures (``Problem(plots=...)``), each given the trained solution."""
    from pinn.solution import Solution

    for plot in problem.plots:
        try:
            plot(Solution(model, None, {}), reference, folder.plots)
        except (Exception, SystemExit) as err:  # a plot must never cost the user the run's numbers
            name = getattr(plot, "__name__", type(plot).__name__)
            logger.warning("warning: plot %s failed (%s: %s); the numbers are unaffected", name,
                           type(err).__name__, err)
