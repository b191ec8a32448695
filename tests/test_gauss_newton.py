"""The Gauss-Newton (Levenberg-Marquardt) refinement: its Jacobian is right by both routes, it lowers
the loss past L-BFGS, it resumes exactly and it is guarded."""
import warnings

import pytest
import torch

import pinn
from conftest import ROOT, parameters, phases, run, run_until, trainer_of
from pinn.output.files import load_checkpoint, save_checkpoint
from pinn.loading import load_problem
from pinn.overrides import apply_overrides
from pinn.train.phases import UnderdeterminedWarning
from pinn.train.settings import Training


@pytest.fixture
def tiny(write_problem):
    return apply_overrides(load_problem(write_problem()), {"numerics.dtype": "float64"})


def loss(trainer):
    return float(sum(trainer.objective.terms().values()).detach())


def spelled_out_flow():
    """Navier-Stokes with its viscous terms written u_xx + u_yy: Taylor mode serves them from one
    Laplacian row (the Laplacian and a zero), so the per-point rows must come out right from those."""
    from test_engines import flow_problem, navier_stokes

    problem = flow_problem(navier_stokes, pinn.MLP(width=8, depth=2))
    return apply_overrides(problem, {"numerics.dtype": "float64"})


@pytest.mark.parametrize("name", ["kovasznay.py", "cavity.py", "navier_stokes_inverse.py", "spelled-out flow"])
def test_jacobian_per_point_equals_reverse_mode_and_its_square_is_the_loss(name):
    # Exact conditions, a data condition, corner weights, the modified MLP, an unknown coefficient (its
    # column too): the whole path of a real problem.
    if name == "spelled-out flow":
        problem = spelled_out_flow()
    else:
        problem = apply_overrides(load_problem(ROOT / "problems" / name),
                                  {"net.width": 8, "net.depth": 2, "sampling.interior": 50})
    trainer = run(problem, schedule=phases(problem, adam=5, levenberg_marquardt=1))
    objective = trainer.objective
    newton, weights = objective.jacobian, {"momentum_x": 2.0}  # a balancing weight enters the rows too
    residuals, jacobian = newton(objective.points, weights)
    assert not newton._vmap_failed  # the per-point route served the interior
    if name == "spelled-out flow":
        assert objective.loss.engine.plans["residuals"].summed == (0, 1)
    n = objective.points.interior.shape[0]
    k = len(problem.residuals)
    assert jacobian.shape == (residuals.numel(), sum(p.numel() for p in objective.model.parameters()))
    newton._vmap_failed = True  # force the reverse-mode route
    slow_residuals, slow_jacobian = newton(objective.points, weights)
    # per point: point-major rows; reverse mode: residual-major
    by_residual = lambda t: torch.cat([t[:k * n].reshape(n, k, -1).transpose(0, 1).reshape(k * n, -1), t[k * n:].reshape(-1, t.shape[-1])])
    assert torch.allclose(by_residual(jacobian), slow_jacobian, rtol=1e-12, atol=1e-14)
    assert torch.allclose(by_residual(residuals[:, None])[:, 0], slow_residuals, rtol=1e-12, atol=1e-14)
    terms = objective.terms()
    weighted = sum(weights.get(name, 1.0) * float(v.detach()) for name, v in terms.items())
    assert float(residuals @ residuals) == pytest.approx(weighted, rel=1e-12)


@pytest.mark.parametrize("name", ["heat.py", "heat_inverse.py"])
def test_jacobian_through_the_chain_rule_equals_reverse_mode(name):
    # pinn.div(f, k * pinn.grad(f, "u")): the rows of the derivatives the residual is built from, then
    # the chain rule through the residual's arithmetic (and the unknown's direct column).
    problem = apply_overrides(load_problem(ROOT / "problems" / name),
                              {"net.width": 8, "net.depth": 2, "sampling.interior": 50})
    trainer = run(problem, schedule=phases(problem, adam=5, levenberg_marquardt=1))
    objective = trainer.objective
    newton, weights = objective.jacobian, {"heat": 2.0}
    assert objective.loss.engine.plans["residuals"].chain_rule
    residuals, jacobian = newton(objective.points, weights)
    assert not newton._vmap_failed
    newton._vmap_failed = True  # force the reverse-mode route
    slow_residuals, slow_jacobian = newton(objective.points, weights)
    assert torch.equal(residuals, slow_residuals)
    assert torch.allclose(jacobian, slow_jacobian, rtol=1e-12, atol=1e-14)
    if problem.unknowns:
        assert float(slow_jacobian[:50, -1].abs().max()) > 0  # the unknown's column is really tested


def test_gauss_newton_lowers_the_loss_far_below_lbfgs(tiny):
    lbfgs = run(tiny, schedule=phases(tiny, adam=100, lbfgs=100))
    refined = run(tiny, schedule=phases(tiny, adam=100, lbfgs=100, levenberg_marquardt=10))
    assert loss(refined) < 0.1 * loss(lbfgs)
    assert not refined.runs[-1].converged


def test_gauss_newton_follows_lbfgs_and_starts_when_it_converges(tiny):
    trainer = trainer_of(tiny, schedule=phases(tiny, adam=2, lbfgs=10, levenberg_marquardt=3))
    assert trainer.phase.name == "adam"
    trainer.step = 2
    trainer._end_phase(0)  # Adam took its 2 steps
    assert trainer.phase.name == "lbfgs"
    trainer.step = 5
    trainer._end_phase(1)  # L-BFGS converged at step 5: Levenberg-Marquardt starts there
    assert trainer.step == 5 and trainer.phase.name == "levenberg_marquardt" and not trainer.finished
    trainer.step = 8
    trainer._end_phase(2)
    assert trainer.finished


def test_gauss_newton_resumes_exactly(tiny, tmp_path):
    problem = apply_overrides(tiny, {})
    schedule = phases(problem, adam=20, lbfgs=20, levenberg_marquardt=6)
    whole = run(problem, schedule=schedule)

    first = trainer_of(problem, schedule=schedule)
    run_until(first, 43)
    save_checkpoint(tmp_path / "checkpoint.pt", first.state_dict())
    resumed = trainer_of(problem, schedule=schedule)
    resumed.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt"))
    assert resumed.runs[2].damping == first.runs[2].damping != schedule[2].damping
    resumed.run()
    assert torch.equal(parameters(resumed), parameters(whole))


def test_a_nan_jacobian_is_recovered_by_the_guard(tiny, monkeypatch):
    schedule = phases(tiny, adam=20, levenberg_marquardt=3)
    trainer = trainer_of(tiny, schedule=schedule)
    real = trainer.objective.residuals_and_jacobian
    calls = []

    def poisoned(weights):
        residuals, jacobian = real(weights)
        calls.append(1)
        return (residuals, jacobian * float("nan")) if len(calls) == 1 else (residuals, jacobian)

    monkeypatch.setattr(trainer.objective, "residuals_and_jacobian", poisoned)
    trainer.run()
    (recovery,) = trainer.guard.recoveries
    assert "Jacobian became NaN" in recovery["reason"] and recovery["back_to_step"] == 20
    assert recovery["damping"] == schedule[1].damping / tiny.training.guard.recovery_lr_factor
    assert trainer.step == 23 and torch.isfinite(parameters(trainer)).all()


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="LevenbergMarquardt steps"):
        pinn.LevenbergMarquardt(steps=-1)
    with pytest.raises(ValueError, match="LevenbergMarquardt damping"):
        pinn.LevenbergMarquardt(damping=0.0)
    training = Training([pinn.Adam(100), pinn.LBFGS(300), pinn.LevenbergMarquardt(100)])
    scaled = training.with_total_steps(50)
    assert [p.steps for p in scaled.schedule] == [10, 30, 10]


def test_gauss_newton_after_a_compiled_network_pass_with_a_chain_rule_residual():
    # heat.py differentiates an expression (div of k grad u). Its reverse-mode rows (the fallback when
    # vmap cannot batch a residual) must come from the eager network pass: a compiled backward cannot
    # be replayed row by row.
    problem = apply_overrides(load_problem(ROOT / "problems" / "heat.py"),
                              {"net.width": 8, "net.depth": 2, "sampling.interior": 40})
    compiled = {"numerics.compile": "on"}
    trainer = trainer_of(problem, compiled, schedule=phases(problem, adam=5, levenberg_marquardt=3))
    trainer.objective.jacobian._vmap_failed = True
    trainer.run()
    assert trainer.objective.loss.compile_status["compiled"]
    assert trainer.objective.loss.engine.plans["residuals"].chain_rule
    assert trainer.step == 8 and loss(trainer) < loss(run(problem, settings=compiled, schedule=phases(problem, adam=5)))


def test_fewer_residual_values_than_weights_is_warned_about():
    problem = apply_overrides(load_problem(ROOT / "problems" / "heat.py"), {"net.width": 8, "net.depth": 2})
    weights = 3 * 8 + 8 + 8 * 8 + 8 + 8 + 1  # 113
    with pytest.warns(UnderdeterminedWarning, match="50 residual values for 113 weights"):
        run(problem, settings={"sampling.interior": 50}, schedule=phases(problem, adam=2, levenberg_marquardt=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnderdeterminedWarning)
        run(problem, settings={"sampling.interior": 2 * weights}, schedule=phases(problem, adam=2, levenberg_marquardt=2))
