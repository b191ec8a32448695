"""The latent-SDE evidence lower bound (issue 18, item 2): its terms, its gradient, a short fit, bad input, resume."""
import dataclasses
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import pinn
from pinn.dynamics import sde
from pinn.dynamics.sde.grid import gap_steps, grids
from pinn.overrides import apply_overrides

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
OU = sde.OrnsteinUhlenbeck(theta=1.0, mu=0.5, sigma=0.5, start=2.0)


def noisy_paths(count: int = 40, noise: float = 0.2, most: int = 10, seed: int = 0) -> tuple:
    """``count`` paths from uniform starts at t = 0, each seen at its own 5 to ``most`` times in [0, 5]."""
    rng = np.random.default_rng(seed)
    times, values = [], []
    for start in rng.uniform(-1.0, 2.0, count):
        seen = np.sort(rng.uniform(0.0, 5.0, rng.integers(5, most + 1)))
        exact = OU.simulate(np.concatenate([[0.0], seen]), np.array([start]), rng)[0, 1:]
        times.append(seen)
        values.append(exact + noise * rng.standard_normal(seen.size))
    return sde.paths_from_arrays(times, values)


def latent_problem(paths=None, steps: int = 4, **latent) -> sde.SDEProblem:
    settings = dict(observation_noise=0.2, step=0.25)
    settings.update(latent)
    return sde.SDEProblem(
        name="ou_latent", states="x",
        drift=sde.Parametric(lambda x, t, p: p.theta * (p.mu - x),
                             [pinn.Unknown("theta", 0.3, positive=True), pinn.Unknown("mu", 0.0)]),
        diffusion=sde.Parametric(lambda x, t, p: p.sigma, [pinn.Unknown("sigma", 1.0, positive=True)]),
        paths=paths if paths is not None else noisy_paths(), reference=OU, tolerance={"theta": 0.2},
        latent=sde.LatentSDE(**settings),
        validation=sde.Validation(times=(0.5, 1.0), paths=200, step=0.05, seed=3),
        training=pinn.Training([pinn.Adam(steps, learning_rate=0.1, learning_rate_final=0.01)],
                               checks=pinn.Checks(check_every=1000, checkpoint_every=2)))


# ------------------------------------------------------------------ the grid and the bound's terms
def test_each_path_has_its_own_grid_through_its_observation_times():
    assert list(gap_steps(0.25, 0.1)) == pytest.approx([0.25 / 3] * 3)
    assert list(gap_steps(0.005, 0.1)) == [0.005]
    paths = sde.paths_from_arrays([np.array([0.0, 0.25, 0.3]), np.array([1.0, 1.5])], [np.zeros(3), np.ones(2)])
    grid = grids(paths, 0.1, torch.float64, torch.device("cpu"))
    assert grid.lengths.tolist() == [4, 5] and grid.steps.shape == (2, 5)
    assert grid.steps[0].tolist() == pytest.approx([0.25 / 3] * 3 + [0.05, 0.0])  # padded with a step of 0
    assert grid.at.tolist() == [[0, 3, 4], [0, 5, 0]] and grid.observed.tolist() == [[True] * 3, [True, True, False]]
    assert grid.target[0].tolist() == [1, 1, 1, 2, 2] and grid.target[1].tolist() == [1] * 5
    ends = grid.start[:, None] + torch.cumsum(grid.steps, dim=1)
    assert ends[0, 2] == pytest.approx(0.25) and ends[1, 4] == pytest.approx(1.5)


def test_the_path_kl_is_zero_when_the_posterior_step_is_the_prior_step_and_integrates_a_constant_shift():
    objective, _ = latent_problem().build()
    module = objective.module
    spans = sum(float(p.times[-1] - p.times[0]) for p in objective_paths(objective))
    count = int(objective.grids.observed.sum())
    for shift in (0.0, 0.3):
        module.step = lambda z, g, ahead, remaining, features, dt, c=shift: (torch.full_like(z, c), torch.ones_like(z))
        terms = objective.bound(None, 5)
        # 0.5 |u|^2 dt with u = shift / sigma (sigma = 1 initially), over each path's own time span
        assert float(terms["kl_path"].detach()) == pytest.approx(0.5 * shift**2 * spans / count, rel=1e-10, abs=1e-15)
    assert float(terms["likelihood"].detach()) > 0 and math.isfinite(float(terms["kl_start"].detach()))


def objective_paths(objective):
    grids = objective.grids
    return [sde.paths_from_arrays([t[m].numpy()], [v[m].numpy()])[0]
            for t, v, m in zip(grids.times, grids.values, grids.observed)]


def test_the_gradient_is_the_finite_difference_of_the_bound():
    objective, _ = latent_problem(paths=noisy_paths(count=6)).build()
    parameters = dict(objective.module.named_parameters())
    chosen = ["prior.drift.unknowns.raw.theta", "prior.diffusion.unknowns.raw.sigma", "start_mean",
              "correction_state.weight", "encoder.weight_hh_l0"]
    total = lambda: sum(objective.bound(None, 11).values())  # noqa: E731 (fixed increments: deterministic)
    objective.module.correction_out.weight.data.fill_(0.1)  # a correction whose inputs' weights matter
    gradients = torch.autograd.grad(total(), [parameters[name] for name in chosen])
    for name, gradient in zip(chosen, gradients):
        parameter = parameters[name].data.view(-1)
        with torch.no_grad():
            parameter[0] += 1e-6
            above = float(total())
            parameter[0] -= 2e-6
            below = float(total())
            parameter[0] += 1e-6
        assert gradient.view(-1)[0].item() == pytest.approx((above - below) / 2e-6, rel=1e-5, abs=1e-8), name


def test_a_learnt_noise_has_a_gradient_and_several_samples_per_path_average_their_terms():
    objective, _ = latent_problem(paths=noisy_paths(count=5), learn_noise=True, samples=3).build()
    terms = objective.bound(None, 2)
    sum(terms.values()).backward()
    assert objective.module.log_noise.grad is not None and float(objective.module.log_noise.grad) != 0
    one, _ = latent_problem(paths=noisy_paths(count=5)).build()
    kl_start = float(one.bound(None, 2)["kl_start"].detach())
    assert float(terms["kl_start"].detach()) == pytest.approx(kl_start)  # per observation, whatever the samples


# ------------------------------------------------------------------ a short fit with a real bound
def test_a_short_fit_recovers_theta_mu_and_sigma_from_noisy_irregular_observations():
    """60 paths seen 5 to 10 times each with noise 0.2, from theta 0.3, mu 0, sigma 1: theta within 20%
    (it reaches 6.8%; 6.5% with another data seed), mu within 0.12, sigma within 0.06."""
    problem = latent_problem(paths=noisy_paths(count=60), steps=60)
    fit = sde.fit_sde(problem)
    found = {k: v["value"] for k, v in fit.report["coefficients"].items()}
    assert abs(found["theta"] - 1.0) < 0.2, found
    assert abs(found["mu"] - 0.5) < 0.12, found
    assert abs(found["sigma"] - 0.5) < 0.06, found
    assert fit.report["discretisation_bias"]["theta"] == pytest.approx(math.expm1(-0.25) / -0.25 - 1, rel=0.05)


# ------------------------------------------------------------------ settings and bad input
def test_bad_latent_settings_are_refused_naming_the_setting():
    for noise in (0.0, -0.1, float("nan"), True):
        with pytest.raises(ValueError, match="LatentSDE observation_noise must be a standard deviation > 0"):
            sde.LatentSDE(observation_noise=noise)
    with pytest.raises(ValueError, match="LatentSDE step must be a positive number"):
        sde.LatentSDE(observation_noise=0.1, step=0)
    with pytest.raises(ValueError, match="latent batch_paths 50 exceeds the 40 paths"):
        latent_problem(batch_paths=50)
    with pytest.raises(ValueError, match="leave one of them out"):
        dataclasses.replace(latent_problem(), likelihood=sde.Likelihood(scheme="local_linear"))


def test_set_reaches_the_latent_settings():
    changed = apply_overrides(latent_problem(), {"latent.step": "0.5", "latent.learn_noise": "true"})
    assert changed.latent.step == 0.5 and changed.latent.learn_noise is True
    objective, _ = changed.build()
    assert "observation_noise" in objective.reported()


BAD = '''
import numpy as np
import pinn
from pinn.dynamics import sde

truth = sde.OrnsteinUhlenbeck(theta=1.0, mu=0.0, sigma=0.5, start=1.0)
problem = sde.SDEProblem(
    name="bad", states="x", reference=truth,
    drift=sde.Parametric(lambda x, t, p: -p.theta * x, [pinn.Unknown("theta", 0.5, positive=True)]),
    diffusion=sde.Known(0.5),
    paths=sde.paths_from_arrays([np.array(TIMES)], [np.zeros(4)]),
    latent=sde.LatentSDE(observation_noise=NOISE),
)
'''


@pytest.mark.parametrize("times, noise, message", [
    ("[0.0, 0.1, 0.3, 0.4]", "0.0", "LatentSDE observation_noise must be a standard deviation > 0, got 0.0"),
    ("[0.0, 0.1, 0.1, 0.3]", "0.05", "'path 0': times must be strictly increasing"),
])
def test_bad_input_exits_2_naming_the_cause(tmp_path, times, noise, message):
    path = tmp_path / "bad.py"
    path.write_text(textwrap.dedent(BAD).replace("TIMES", times).replace("NOISE", noise))
    done = subprocess.run([sys.executable, "-m", "pinn.solve", str(path), "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()


# ------------------------------------------------------------------ the run folder and exact resume
def test_a_stopped_run_resumes_exactly_and_the_folder_holds_the_verdicts(tmp_path):
    problem = latent_problem(paths=noisy_paths(count=10), steps=6, batch_paths=4)
    whole = pinn.fit(problem, tmp_path / "whole", progress=False)
    pinn.fit(problem, tmp_path / "run", progress=False, stop_when=lambda row: row["step"] >= 3)
    resumed = pinn.fit(problem, tmp_path / "run", resume=True, progress=False)
    assert resumed.metrics["steps"] == whole.metrics["steps"] == 6
    assert resumed.metrics["parameters"] == whole.metrics["parameters"]
    assert resumed.metrics["moments"] == whole.metrics["moments"]
    assert whole.metrics["likelihood"]["objective"] == "elbo" and whole.metrics["family"] == "sde"
    assert set(whole.metrics["fields"]) == {"moments", "terminal"}
    assert (tmp_path / "whole" / "solution.h5").is_file()
