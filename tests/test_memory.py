"""The memory estimate refuses settings that cannot fit, and never the built-in problems."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

import pinn
from pinn.loading import load_problem
from pinn.pde.memory import available_memory, check_memory, count_weights, estimate_memory

from conftest import ROOT, TINY_PROBLEM

GIB = 2**30


@pytest.fixture
def tiny(write_problem) -> pinn.Problem:
    return load_problem(write_problem(TINY_PROBLEM))


@pytest.mark.parametrize("net", [
    pinn.MLP(), pinn.MLP(width=7, depth=5, fourier_features=11), pinn.MLP(periodic=(0, 2)),
    pinn.MLP(hidden=(5, 9, 3)), pinn.ModifiedMLP(width=9, depth=2), pinn.ModifiedMLP(periodic=(1,)),
    pinn.MLP(harmonics=((0, 10), (2, 2.5))), pinn.MLP(periodic=(0,), harmonics=((0, 1), (0, 3), (1, 4))),
])
def test_the_weights_counted_are_the_network_s(net):
    lower, upper = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    module = net.build(3, 2, lower, upper, torch.Generator().manual_seed(0))
    assert count_weights(net, 3, 2) == sum(p.numel() for p in module.parameters())


PDE_PROBLEMS = sorted(p for p in (ROOT / "problems").glob("*.py") if "pinn.Problem(" in p.read_text())


@pytest.mark.parametrize("path", PDE_PROBLEMS, ids=lambda p: p.stem)  # the estimate is of collocation training
def test_no_built_in_problem_needs_a_gibibyte(path: Path):
    # The estimate is a lower bound; the built-in problems are far below any machine's free memory.
    assert estimate_memory(load_problem(path)).total < GIB


def test_settings_that_cannot_fit_are_refused_naming_the_setting(tiny, monkeypatch):
    monkeypatch.setattr("pinn.pde.memory.available_memory", lambda device: GIB)
    check_memory(tiny)
    for changes, setting in [({"sampling": pinn.Sampling(interior=10**9)}, "sampling.interior=1000000000"),
                             ({"net": pinn.MLP(width=30_000)}, "net.width=30000"),
                             ({"net": pinn.MLP(width=8, depth=3_000_000)}, "net.depth=3000000"),
                             ({"net": pinn.MLP(hidden=(8, 30_000, 30_000))}, "net.hidden=(8, 30000, 30000)")]:
        with pytest.raises(ValueError, match=rf"^{setting.replace('(', '.').replace(')', '.')} needs at least .* "
                                             r"more than the 1\.0 GiB of memory available; lower "):
            check_memory(dataclasses.replace(tiny, **changes))


def test_gauss_newton_s_jacobian_is_counted(tiny, monkeypatch):
    monkeypatch.setattr("pinn.pde.memory.available_memory", lambda device: GIB)
    wide = dataclasses.replace(tiny, net=pinn.MLP(width=1000, depth=2), sampling=pinn.Sampling(interior=5000))
    check_memory(wide)  # a million weights: Adam and L-BFGS fit
    schedule = (*wide.training.schedule, pinn.LevenbergMarquardt(5))
    newton = dataclasses.replace(wide, training=dataclasses.replace(wide.training, schedule=schedule))
    with pytest.raises(ValueError, match="levenberg_marquardt.steps=5 .* set levenberg_marquardt.steps=0"):
        check_memory(newton)


def test_nothing_is_refused_where_the_free_memory_is_unknown(tiny, monkeypatch):
    monkeypatch.setattr("pinn.pde.memory.available_memory", lambda device: None)
    check_memory(dataclasses.replace(tiny, sampling=pinn.Sampling(interior=10**12)))


def test_the_free_memory_of_this_machine_is_read():
    free = available_memory(torch.device("cpu"))
    assert free is None or free > 0


def test_the_points_of_one_condition_are_named(tiny, monkeypatch):
    monkeypatch.setattr("pinn.pde.memory.available_memory", lambda device: GIB)
    conditions = {**tiny.conditions, "ends": pinn.Dirichlet(tiny.domain.space.boundary, 0.0, points=10**9,
                                                                 exact=False)}  # a loss term: it has points
    with pytest.raises(ValueError, match=r"^condition 'ends' with points=1000000000 needs at least .* lower the "
                                         r"points of condition 'ends'$"):
        check_memory(dataclasses.replace(tiny, conditions=conditions))
