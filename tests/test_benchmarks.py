"""The benchmark suite (benchmarks/*.py): its files set no training options, declare what a case
needs, have a published-figure entry, and their closed forms satisfy their equations; and two quick
cases reach a real error bound with the framework's defaults in a few hundred steps."""
from __future__ import annotations

import ast
import importlib.util
import json
import runpy
from pathlib import Path

import numpy as np
import pytest
import torch

import pinn
from pinn.derivatives.fields import Fields

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "benchmarks"
CASES = sorted(p.stem for p in SUITE.glob("*.py") if not p.name.startswith("_"))
TRAINING_OPTIONS = {"net", "sampling", "training"}


def _script():
    spec = importlib.util.spec_from_file_location("benchmarks_script", ROOT / "scripts" / "benchmarks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _problem_calls(tree: ast.AST) -> list[ast.Call]:
    def is_problem(func: ast.expr) -> bool:
        return (isinstance(func, ast.Attribute) and func.attr == "Problem") or (
            isinstance(func, ast.Name) and func.id == "Problem")

    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and is_problem(node.func)]


def test_the_suite_has_at_least_twelve_cases():
    assert len(CASES) >= 12, CASES


@pytest.mark.parametrize("case", CASES)
def test_a_case_sets_no_training_options(case):
    """The defaults must do the job: no net=, sampling= or training= (nor **options that could hide them),
    and no pinn.MLP / Sampling / Training / optimiser object anywhere in the file."""
    tree = ast.parse((SUITE / f"{case}.py").read_text())
    calls = _problem_calls(tree)
    assert len(calls) == 1, f"{case}: expected one pinn.Problem(...) call, found {len(calls)}"
    keywords = {k.arg for k in calls[0].keywords}
    assert None not in keywords, f"{case}: pinn.Problem(**...) could pass training options"
    assert not keywords & TRAINING_OPTIONS, f"{case} sets {sorted(keywords & TRAINING_OPTIONS)}"
    assert {"name", "inputs", "outputs", "domain", "residuals", "reference", "tolerance"} <= keywords, case
    made = {node.func.attr for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not made & {"MLP", "ModifiedMLP", "Sampling", "Training", "Adam", "LBFGS", "LevenbergMarquardt",
                       "Numerics", "Checks", "Guard", "Balance", "Stall"}, case
    assert ast.get_docstring(tree), f"{case} has no docstring stating the mathematics and its source"


def test_every_case_has_a_published_entry():
    table = json.loads((SUITE / "published.json").read_text())
    assert set(CASES) <= set(table), sorted(set(CASES) - set(table))
    for case in CASES:
        figures = table[case]["figures"]
        assert figures, case
        for figure in figures:
            assert {"value", "metric", "method", "source", "verified"} <= set(figure), (case, figure)
            if figure["value"] is not None:
                assert figure["source"] and figure["method"] and figure["value"] > 0, (case, figure)
            else:
                assert figure.get("note"), f"{case}: a null figure says why"


def _exact_fields(case: str, ns: dict):
    """The closed-form outputs of a manufactured case as a function of the inputs, or None."""
    if case == "poisson_inverse":
        return lambda *c: [ns["u_exact"](*c), ns["a_exact"](*c)]
    if "exact" in ns and case not in ("burgers1d", "inverse_burgers", "allen_cahn"):
        return lambda *c: [ns["exact"](*c)]
    return None


MANUFACTURED = ["convection", "diffusion_reaction", "heat_multiscale", "helmholtz2d", "klein_gordon", "poisson3d",
                "poisson5d", "poisson_holes", "poisson_inverse"]


@pytest.mark.parametrize("case", MANUFACTURED)
def test_the_closed_form_satisfies_the_equation(case):
    """Every residual of the case vanishes (to round-off, float64, autograd) on the closed form at 256
    points inside the domain: the manufactured sources are right."""
    try:
        ns = runpy.run_path(str(SUITE / f"{case}.py"))
    except TypeError as error:  # an API the case needs has not landed (klein_gordon: Initial(derivative=1))
        pytest.skip(f"{case} does not build yet: {error}")
    problem = ns["problem"]
    exact = _exact_fields(case, ns)
    assert exact is not None, case
    points = np.asarray(problem.domain.sample_interior(256, "sobol", np.random.default_rng(0)))
    points = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    values = exact(*points.unbind(dim=1))
    f = Fields(points, values, problem.inputs, problem.outputs, time="t" if "t" in problem.inputs else None)
    for name, residual in problem.residuals.items():
        r = residual(f).detach()
        # the terms reach ~2e2 (Helmholtz: 17 pi^2 u); a wrong source leaves O(1)
        assert float(r.abs().max()) < 1e-8, (case, name, float(r.abs().max()))


def test_diffusion_reaction_source_is_the_one_deepxde_states():
    """DeepXDE writes the source as e^{-t} (3/2 sin 2x + 8/3 sin 3x + 15/4 sin 4x + 63/8 sin 8x)."""
    ns = runpy.run_path(str(SUITE / "diffusion_reaction.py"))
    x = torch.linspace(-np.pi, np.pi, 101, dtype=torch.float64)
    t = torch.full_like(x, 0.3)
    stated = torch.exp(-t) * (1.5 * torch.sin(2 * x) + 8 / 3 * torch.sin(3 * x) + 15 / 4 * torch.sin(4 * x)
                              + 63 / 8 * torch.sin(8 * x))
    assert torch.allclose(ns["source"](x, t), stated, atol=1e-13, rtol=0)


def test_the_script_picks_the_best_published_figure():
    script = _script()
    table = {"a": {"figures": [{"value": 2e-2, "method": "m1", "source": "s"}, {"value": None},
                               {"value": 5e-3, "method": "m2", "source": "s2"}]}}
    assert script.best_published("a", table)["method"] == "m2"
    assert script.best_published("b", table) is None
    assert set(script.cases()) == set(CASES)


# Quick runs with the framework's defaults and --steps: bounds at about 3x the figures measured on
# 2 CPU cores, torch 2.13 CPU, seed default (commit of this test, defaults of main at a2b5180):
#   poisson5d           300 steps: 8.9e-3 in 23 s
#   diffusion_reaction 1000 steps: 3.0e-2 in 35 s
# When the defaults change, measure again (python scripts/benchmarks.py --cases CASE --steps N --out x.json).
QUICK = {"poisson5d": (300, 3e-2), "diffusion_reaction": (1000, 1e-1)}


@pytest.mark.parametrize("case", sorted(QUICK))
def test_a_quick_run_reaches_a_real_error_bound(case, tmp_path):
    steps, bound = QUICK[case]
    # A day's time budget: the steps end the run, not the machine's load (the automatic schedule's
    # phases otherwise end at their share of 10 minutes, which a loaded machine reaches first).
    row = _script().run_case(case, steps=steps, time_budget=24 * 3600.0, runs=tmp_path)
    assert "error" not in row, row.get("error")
    assert row["worst"] < bound, row
    assert row["steps"] == steps and row["wall_time_s"] > 0
    assert row["published"] is None or row["published"]["value"] > 0


def test_a_built_in_problem_runs_with_its_settings_removed(tmp_path):
    spec = importlib.util.spec_from_file_location("without_settings", ROOT / "scripts" / "without_settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "table.json"
    assert module.main(["heat1d", "--time-budget", "2s", "--runs", str(tmp_path / "runs"), "--out", str(out)]) == 0
    row, = json.loads(out.read_text())["rows"]
    assert row["problem"] == "heat1d" and row["fields"]["u"]["tol"] == 5e-5 and row["steps"] > 0
    # the framework chose what the file had set: its own network was 3 x 32 on 1000 Sobol points
    assert row["automatic"]["net"].startswith("MLP 3 x 32") and row["automatic"]["sampling"].startswith("interior 4000")
    assert "time budget 2 s" in row["automatic"]["training"]
