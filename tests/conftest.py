"""Shared helpers: small problem files written on the fly, running the command line, and training."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

# A complete, quick 1-D problem; tests break one piece of it at a time.
TINY_PROBLEM = '''
from math import pi
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
    conditions={
        "ends": pinn.Dirichlet(space.boundary, 0.0),
        "initial": pinn.Initial(lambda x: torch.sin(pi * x)),
    },
    reference=pinn.references.analytic(exact, resolution=21),
    tolerance={"u": 0.5},
    net=pinn.MLP(width=8, depth=2),
    sampling=pinn.Sampling(interior=64, boundary=16, initial=16),
    training=pinn.Training(adam_steps=8, lbfgs_steps=4, check_every=4, checkpoint_every=4),
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
    return torch.cat([p.detach().ravel() for p in trainer.model.parameters()])


def run(problem, monitor=None, **changes):
    """Train ``problem`` with its training settings changed by ``changes``; the trainer at the end."""
    from pinn.training import Trainer

    trainer = Trainer(problem, dataclasses.replace(problem.training, **changes))
    trainer.run(monitor)
    return trainer


def run_until(trainer, step: int) -> None:
    """Run the real training loop and stop it abruptly, as a kill would, once ``step`` is reached."""
    from pinn.training import Monitor

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
