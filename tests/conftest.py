"""Shared helpers: small problem files written on the fly, running the command line, and training."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import pinn

ROOT = Path(__file__).resolve().parents[1]

# A complete, quick 1-D problem; tests break one piece of it at a time. Its two conditions stay loss
# terms (the tests of runs read their terms: history columns, balancing, faults at resampling) unless a
# test asks for exact=True: Dirichlet and Initial are exact by default since issue 15. The settling is
# written inside the lines that were there, so that line numbers and edited fragments stay as they were.
TINY_PROBLEM = '''
from math import pi; import dataclasses
import torch
import pinn

space = pinn.Interval(0.0, 1.0)
domain = space * pinn.TimeInterval(0.0, 1.0)

def heat(f):
    return f.u_t - 0.1 * f.u_xx

def exact(x, t):
    return torch.exp(-0.1 * pi**2 * t) * torch.sin(pi * x)

problem = pinn.Problem(
    name="tiny",
    inputs="x t",
    outputs="u",
    domain=domain,
    residuals={"heat": heat},
    conditions={name: c if c.exact is not None else dataclasses.replace(c, exact=False) for name, c in {
        "ends": pinn.Dirichlet(space.boundary, 0.0),
        "initial": pinn.Initial(lambda x: torch.sin(pi * x)),
    }.items()},
    reference=pinn.references.analytic(exact, resolution=21),
    tolerance={"u": 0.5},
    net=pinn.MLP(width=8, depth=2),
    sampling=pinn.Sampling(interior=64, boundary=16, initial=16),
    training=pinn.Training([pinn.Adam(8), pinn.LBFGS(4)], checks=pinn.Checks(check_every=4, checkpoint_every=4)),
)
'''


@pytest.fixture
def write_problem(tmp_path):
    """Write a problem file (default: the tiny one, optionally edited) and return its path."""

    def write(text: str = TINY_PROBLEM, name: str = "problem.py", replace: tuple[str, str] | None = None) -> Path:
        if replace is not None:
            assert replace[0] in text, f"test setup: {replace[0]!r} not in the problem text"
            text = text.replace(*replace)
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


def parameters(trainer) -> torch.Tensor:
    """Every trained weight of a trainer's model, flattened into one tensor (to compare runs)."""
    return torch.cat([p.detach().ravel() for p in trainer.objective.module.parameters()])


def with_settings(problem, settings: dict | None = None, schedule=None):
    """``problem`` with ``--set``-style ``settings`` (``{"adam.steps": 5}``) and, if given, a new schedule
    (a list of phases, applied first so that the settings can reach its phases)."""
    from pinn.overrides import apply_overrides

    if schedule is not None:
        problem = dataclasses.replace(problem, training=dataclasses.replace(problem.training, schedule=schedule))
    return apply_overrides(problem, settings or {})


def phases(problem, adam: int | None = None, lbfgs: int | None = None, levenberg_marquardt: int | None = None):
    """A schedule of ``problem``'s own Adam, L-BFGS and Levenberg-Marquardt phases (or default ones) in
    that order with these step counts; a kind given no count is left out."""
    own = {type(p).__name__: p for p in problem.training.schedule}
    chosen = []
    for kind, steps in ((pinn.Adam, adam), (pinn.LBFGS, lbfgs), (pinn.LevenbergMarquardt, levenberg_marquardt)):
        if steps is not None:
            chosen.append(dataclasses.replace(own.get(kind.__name__, kind()), steps=steps, name=None))
    return chosen


def trainer_of(problem, settings: dict | None = None, schedule=None, reference=None):
    """A trainer of ``problem`` changed as :func:`with_settings` says, checked against ``reference``."""
    from pinn.pde.objective import pinn_trainer

    return pinn_trainer(with_settings(problem, settings, schedule), reference)


def run(problem, monitor=None, settings: dict | None = None, schedule=None):
    """Train ``problem`` changed as :func:`with_settings` says; the trainer at the end."""
    trainer = trainer_of(problem, settings, schedule)
    trainer.run(monitor)
    return trainer


def run_until(trainer, step: int) -> None:
    """Run the real training loop and stop it abruptly, as a kill would, once ``step`` is reached."""
    from pinn.train.trainer import Monitor

    class Stop(Exception):
        pass

    class Stopper(Monitor):
        def on_step(self, t, row):
            if t.step >= step:
                raise Stop

    with pytest.raises(Stop):
        trainer.run(Stopper())


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m pinn.solve`` in a fresh process, as a user would."""
    return subprocess.run([sys.executable, "-m", "pinn.solve", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=timeout)


@pytest.fixture
def no_plots(monkeypatch):
    """Runs in this test skip their figures (seconds each; tests of the plots themselves keep them)."""
    monkeypatch.setattr("pinn.output.figures.run_plots", lambda *args, **kwargs: None)
