"""Neural SDEs (issue 18): bad input, seeded reproducibility, exact resume and short fits with real bounds."""
import math

import numpy as np
import pytest
import torch

import pinn
from pinn.dynamics import sde
from pinn.dynamics.sde.plots import all_figures
from pinn.output.files import load_checkpoint, save_checkpoint
from pinn.train.trainer import Monitor, Trainer

OU = sde.OrnsteinUhlenbeck(theta=1.0, mu=0.5, sigma=0.5, start=2.0)


def ou_paths(count: int = 200, end: float = 10.0, step: float = 0.1, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    times = np.arange(0.0, end + 1e-9, step)
    return sde.paths_from_arrays(times, OU.simulate(times, rng.uniform(-1.0, 2.0, count), rng))


def ou_problem(**changes) -> sde.SDEProblem:
    settings = dict(
        name="ou", states="x",
        drift=sde.Parametric(lambda x, t, p: p.theta * (p.mu - x),
                             [pinn.Unknown("theta", 0.3, positive=True), pinn.Unknown("mu", 0.0)]),
        diffusion=sde.Parametric(lambda x, t, p: p.sigma, [pinn.Unknown("sigma", 1.0, positive=True)]),
        paths=ou_paths(), reference=OU, tolerance={"theta": 0.1, "sigma": 0.02},
        validation=sde.Validation(times=(0.5, 1.0), paths=400, step=0.02, seed=3),
        training=pinn.Training([pinn.LBFGS(25)], checks=pinn.Checks(check_every=1000)))
    settings.update(changes)
    return sde.SDEProblem(**settings)


# ------------------------------------------------------------------ bad input
def test_paths_of_different_dimension_are_refused_naming_the_path():
    paths = sde.paths_from_arrays([np.arange(3.0), np.arange(3.0)], [np.zeros(3), np.zeros((3, 2))])
    with pytest.raises(ValueError, match="trajectory 'path 1' has 2 values per time, but the states are 1"):
        ou_problem(paths=paths)


def test_times_that_do_not_increase_are_refused_naming_the_index():
    with pytest.raises(ValueError, match=r"'path 0': times must be strictly increasing, but time 2 \(1\) does not follow"):
        sde.paths_from_arrays(np.array([0.0, 1.0, 1.0]), np.zeros((2, 3)))


def test_nan_in_values_or_times_is_refused():
    values = np.zeros((2, 4))
    values[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"'path 1': the values at time 2 \(row 2\) hold NaN"):
        sde.paths_from_arrays(np.arange(4.0), values)
    with pytest.raises(ValueError, match="'path 0': time 1 is NaN"):
        sde.paths_from_arrays(np.array([0.0, np.nan, 2.0]), np.zeros((1, 3)))


def test_a_diffusion_that_is_not_positive_is_refused():
    with pytest.raises(ValueError, match="the diffusion must be positive, got the constant 0"):
        ou_problem(diffusion=sde.Known(0.0))
    negative = sde.Parametric(lambda x, t, p: p.sigma * x, [pinn.Unknown("sigma", 0.5, positive=True)])
    with pytest.raises(ValueError, match=r"the diffusion must be positive where paths are observed, but it is \[-"):
        ou_problem(diffusion=negative).build()  # sigma * x < 0 where x < 0


def test_states_that_do_not_match_the_paths_and_stray_tolerances_are_refused():
    with pytest.raises(ValueError, match="has 1 values per time, but the states are 2"):
        ou_problem(states="x y")
    with pytest.raises(ValueError, match="has one point; a path needs two"):
        ou_problem(paths=sde.paths_from_arrays(np.zeros(1), np.zeros((1, 1))))
    with pytest.raises(ValueError, match="tolerance names 'kappa'"):
        ou_problem(tolerance={"kappa": 0.1})
    with pytest.raises(ValueError, match="Validation times must be positive, increasing"):
        sde.Validation(times=(1.0, 0.5))


# ------------------------------------------------------------------ references
def test_the_closed_form_moments_match_the_exact_simulation():
    rng = np.random.default_rng(1)
    times = np.array([0.0, 0.5, 1.5])
    paths = OU.simulate(times, np.full(20000, OU.start), rng)
    se = paths.std(axis=0)[1:] / math.sqrt(20000)
    assert np.all(np.abs(paths.mean(axis=0)[1:] - OU.mean(times[1:])) < 4 * se)
    assert np.all(np.abs(paths.var(axis=0)[1:] / OU.variance(times[1:]) - 1) < 0.04)
    gbm = sde.GeometricBrownian(mu=0.5, sigma=0.3, start=1.0)
    paths = gbm.simulate(times, np.ones(20000), rng)
    assert np.all(np.abs(paths.mean(axis=0)[1:] / gbm.mean(times[1:]) - 1) < 0.01)
    assert abs(np.cov(paths[:, 1], paths[:, 2])[0, 1] / gbm.autocovariance(0.5, 1.5) - 1) < 0.06


def test_the_computed_euler_bias_is_what_the_euler_likelihood_finds():
    """At a coarse step the bias is large (theta: -21% at dt 0.5); the fit must land on it, not on the truth."""
    problem = ou_problem(paths=ou_paths(count=400, end=100.0, step=0.5), tolerance={})
    fit = sde.fit_sde(problem)
    bias = fit.report["discretisation_bias"]
    assert bias["theta"] == pytest.approx(math.expm1(-0.5) / -0.5 - 1)
    theta = fit.report["coefficients"]["theta"]["value"]
    assert abs(theta - (1 + bias["theta"])) < 0.02  # 400 paths of 100 time units: statistical SE ~0.007
    assert abs(fit.report["coefficients"]["sigma"]["value"] / 0.5 - 1 - bias["sigma"]) < 0.01


def test_the_stationary_density_of_the_true_drift_is_the_exact_one(tmp_path):
    truth = sde.GradientDiffusion(lambda x: (x**2 - 1) ** 2 / 4, lambda x: x - x**3, sigma=0.7, support=(-2.5, 2.5))
    paths = sde.paths_from_arrays(np.arange(3.0), np.array([[0.0, 0.5, -0.5]]))
    exact = sde.Parametric(lambda x, t, p: p.a * (x - x**3), [pinn.Unknown("a", 1.0)])
    problem = sde.SDEProblem(name="dw", states="x", drift=exact, diffusion=sde.Known(0.7), paths=paths,
                             reference=truth, tolerance={"density": 2e-2},
                             validation=sde.Validation(times=(0.5,), paths=200, step=0.05))
    _, validator = problem.build()
    report = validator.report()
    assert report["density"]["l1"] < 1e-5  # the trapezoidal rule on 2001 points: O(h^2) = O(6e-6)
    assert float(np.trapezoid(report["density"]["exact"], report["density"]["grid"])) == pytest.approx(1, abs=1e-6)
    written = all_figures(problem.paths, truth, report, tmp_path)
    assert {p.name for p in written} == {"sample_paths.png", "moments.png", "stationary_density.png"}


# ------------------------------------------------------------------ validation catches what is wrong
def test_a_diffusion_that_is_too_small_fails_the_moments_and_the_terminal_test():
    problem = ou_problem(diffusion=sde.Known(0.3), tolerance={})  # the truth is 0.5 (cf. torchsde issue 113)
    objective, validator = problem.build()
    with torch.no_grad():
        objective.module.drift.unknowns.raw["theta"].fill_(math.log(1.0 / 0.3))
        objective.module.drift.unknowns.raw["mu"].fill_(0.5)  # initial 0: value = raw
    errors = validator.check()
    assert not errors["moments"].passed and errors["moments"].rel_l2 > 3
    assert not errors["terminal"].passed


def test_the_truth_passes_its_own_validation():
    problem = ou_problem(diffusion=sde.Known(0.5),
                         drift=sde.Known(lambda x, t: 1.0 * (0.5 - x)), tolerance={})
    _, validator = problem.build()
    report = validator.report()
    assert report["errors"]["moments"].passed and report["errors"]["terminal"].passed
    assert all(m.standard_error > 0 and m.bias >= 0 for m in report["moments"])
    assert len(report["moments"]) == 5  # mean and variance at 2 times, one autocovariance


# ------------------------------------------------------------------ short fits with real bounds
def test_ornstein_uhlenbeck_coefficients_from_200_short_paths():
    fit = sde.fit_sde(ou_problem(likelihood=sde.Likelihood(scheme="local_linear")))
    found = {k: v["value"] for k, v in fit.report["coefficients"].items()}
    # 200 paths of 10 time units: theta's standard error is about 3%, sigma's about 0.3%
    assert abs(found["theta"] - 1) < 0.1 and abs(found["sigma"] / 0.5 - 1) < 0.02 and abs(found["mu"] - 0.5) < 0.05
    assert fit.passed


def test_geometric_brownian_coefficients_from_euler_maruyama():
    gbm = sde.GeometricBrownian(mu=1.0, sigma=0.2, start=1.0)
    rng = np.random.default_rng(5)
    times = np.arange(0.0, 1.0 + 1e-9, 0.01)
    paths = sde.paths_from_arrays(times, gbm.simulate(times, np.ones(300), rng))
    problem = sde.SDEProblem(
        name="gbm", states="x", reference=gbm, paths=paths, tolerance={"mu": 0.1, "sigma": 0.03},
        drift=sde.Parametric(lambda x, t, p: p.mu * x, [pinn.Unknown("mu", 0.3)]),
        diffusion=sde.Parametric(lambda x, t, p: p.sigma * x, [pinn.Unknown("sigma", 0.5, positive=True)]),
        validation=sde.Validation(times=(0.5, 1.0), paths=400, step=0.02, seed=3),
        training=pinn.Training([pinn.LBFGS(25)]))
    fit = sde.fit_sde(problem)
    # 300 paths of 1 time unit: mu's standard error is 0.2 / sqrt(300) = 0.012
    assert abs(fit.report["coefficients"]["mu"]["value"] - 1) < 0.05
    assert abs(fit.report["coefficients"]["sigma"]["value"] / 0.2 - 1) < 0.03
    assert fit.passed


# ------------------------------------------------------------------ seeds and resume
def batched(**changes) -> sde.SDEProblem:
    settings = dict(likelihood=sde.Likelihood(batch_steps=500), training=pinn.Training([pinn.Adam(12, learning_rate=0.05)]))
    return ou_problem(**{**settings, **changes})


def test_a_seeded_run_is_reproduced_exactly():
    first, second = sde.fit_sde(batched()), sde.fit_sde(batched())
    assert first.report["coefficients"] == second.report["coefficients"]
    assert [m.learnt for m in first.report["moments"]] == [m.learnt for m in second.report["moments"]]
    other = sde.fit_sde(batched(training=pinn.Training([pinn.Adam(12, learning_rate=0.05)],
                                                       numerics=pinn.Numerics(seed=1))))
    assert other.report["coefficients"] != first.report["coefficients"]  # the batches follow the seed


def test_a_phase_that_keeps_its_batch_fits_every_observed_step():
    problem = batched(training=pinn.Training([pinn.Adam(3, learning_rate=0.05), pinn.LBFGS(2)]))
    objective, _ = problem.build()
    assert objective.batch.shape == (500,)
    Trainer(objective, problem.training).run()
    assert objective.batch is None
    assert float(objective.terms()["likelihood"].detach()) == pytest.approx(float(objective.negative_log_likelihood().detach()))


class StopAt(Monitor):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step(self, trainer, row):
        if row["step"] == self.step:
            trainer.request_stop()


def test_resume_from_a_checkpoint_continues_exactly(tmp_path):
    whole = sde.fit_sde(batched())
    objective, validator = batched().build()
    half = Trainer(objective, batched().training)
    half.run(StopAt(5))
    assert half.step == 5
    save_checkpoint(tmp_path / "checkpoint.pt", half.state_dict())
    saved = load_checkpoint(tmp_path / "checkpoint.pt")
    assert "generator" in saved["objective"] and saved["objective"]["brownian_seed"] == 3
    resumed = sde.fit_sde(batched(), state=saved)
    assert resumed.trainer.step == whole.trainer.step == 12
    assert resumed.report["coefficients"] == whole.report["coefficients"]
    assert [m.learnt for m in resumed.report["moments"]] == [m.learnt for m in whole.report["moments"]]
