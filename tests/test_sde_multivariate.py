"""Several states with general noise (issue 18): the multivariate Ornstein-Uhlenbeck reference, the
full-covariance transition likelihood, torchsde's general noise, validation of d states, bad input."""
import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from scipy import linalg, stats

import pinn
from pinn.dynamics import sde
from pinn.dynamics.sde.covariance import euler_step, gaussian_loss, local_linear_step

ROOT = Path(__file__).resolve().parents[1]
TRUTH = sde.MultivariateOrnsteinUhlenbeck(A=[[1.2, 0.8], [-0.8, 1.0]], mu=[1.0, -1.0],
                                          S=[[0.5, 0.0], [0.3, 0.4]], start=[2.0, 0.0])


def drift(x, t, p):
    return -(x - sde.matrix([[p.mu1, p.mu2]])) @ sde.matrix([[p.a11, p.a12], [p.a21, p.a22]]).T


def noise(x, t, p):
    return sde.matrix([[p.s11, 0.0], [p.s21, p.s22]])


def unknowns(values: dict | None = None) -> tuple[list, list]:
    start = {"a11": 0.5, "a12": 0.0, "a21": 0.0, "a22": 0.5, "mu1": 0.0, "mu2": 0.0, "s11": 1.0, "s21": 0.0,
             "s22": 1.0, **(values or {})}
    positive = {"s11", "s22"}
    made = {k: pinn.Unknown(k, v, positive=k in positive) for k, v in start.items()}
    return [made[k] for k in ("a11", "a12", "a21", "a22", "mu1", "mu2")], [made[k] for k in ("s11", "s21", "s22")]


def ou2d_paths(count: int = 200, end: float = 4.0, step: float = 0.2, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    times = np.arange(0.0, end + 1e-9, step)
    return sde.paths_from_arrays(times, TRUTH.simulate(times, rng.uniform(-3.0, 4.0, (count, 2)), rng))


def ou2d_problem(initial: dict | None = None, **changes) -> sde.SDEProblem:
    a, s = unknowns(initial)
    settings = dict(name="ou2d", states="x y", drift=sde.Parametric(drift, a), diffusion=sde.Parametric(noise, s),
                    noise="general", paths=ou2d_paths(), reference=TRUTH,
                    likelihood=sde.Likelihood(scheme="local_linear"),
                    validation=sde.Validation(times=(0.5, 1.0), paths=400, step=0.02, seed=3),
                    training=pinn.Training([pinn.LBFGS(20)], checks=pinn.Checks(check_every=1000)))
    settings.update(changes)
    return sde.SDEProblem(**settings)


# ------------------------------------------------------------------ the reference
def test_the_closed_form_moments_match_a_fine_euler_ensemble():
    """An ensemble simulated independently of the closed forms (Euler-Maruyama at h = 1e-3, 20000 paths)."""
    rng = np.random.default_rng(11)
    a, s, mu = TRUTH.drift_matrix, np.array(TRUTH.S), np.array(TRUTH.mu)
    x = TRUTH.initial(20000, rng)
    h, kept = 1e-3, {}
    for k in range(1, 1001):
        x = x - (x - mu) @ a.T * h + rng.standard_normal(x.shape) @ s.T * math.sqrt(h)
        if k in (500, 1000):
            kept[k / 1000] = x.copy()
    for t, sample in kept.items():
        se = sample.std(axis=0) / math.sqrt(20000)
        assert np.all(np.abs(sample.mean(axis=0) - TRUTH.mean(t)) < 4 * se + 2e-3)
        covariance = np.cov(sample.T)
        assert np.allclose(covariance, TRUTH.covariance(t), rtol=0.05, atol=2e-3)
        assert abs(covariance[0, 1]) > 0.03  # the noise couples the states: a real off-diagonal term
    centred = [kept[t] - kept[t].mean(axis=0) for t in (0.5, 1.0)]
    cross = centred[0].T @ centred[1] / 19999
    assert np.allclose(cross, TRUTH.cross_covariance(0.5, 1.0), atol=3e-3)
    assert not np.allclose(cross, cross.T, atol=3e-3)  # A is not symmetric: Cov(X_s, X_t) is not either


def test_the_exact_transitions_and_the_stationary_covariance():
    rng = np.random.default_rng(12)
    paths = TRUTH.simulate(np.array([0.0, 0.3, 1.0]), TRUTH.initial(40000, rng), rng)
    assert paths.shape == (40000, 3, 2)
    assert np.allclose(np.cov(paths[:, 2].T), TRUTH.covariance(1.0), rtol=0.03)
    stationary = TRUTH.stationary_covariance()
    a, b = TRUTH.drift_matrix, TRUTH.diffusion_matrix
    assert np.allclose(a @ stationary + stationary @ a.T, b)
    assert np.allclose(TRUTH.covariance(40.0), stationary)  # the long-span branch
    phi, sigma = TRUTH.transition(3.0)  # Van Loan's branch against the Lyapunov form
    assert np.allclose(sigma, stationary - phi @ stationary @ phi.T, atol=1e-12)
    assert np.allclose(phi, linalg.expm(-3.0 * a))


def test_the_computed_euler_bias_has_the_order_of_the_step():
    bias = TRUTH.discretisation_bias(0.1)
    assert set(bias) == set(TRUTH.coefficients())
    assert 0.02 < abs(bias["a11"]) < 0.2 and abs(TRUTH.discretisation_bias(0.01)["a11"]) < abs(bias["a11"]) / 5
    assert all(v == 0 for v in TRUTH.discretisation_bias(0.1, "local_linear").values())


# ------------------------------------------------------------------ the likelihood
def test_the_local_linear_likelihood_is_the_exact_gaussian_transition_density():
    paths = ou2d_paths(count=20)
    problem = ou2d_problem(initial=TRUTH.coefficients(), paths=paths)
    objective, _ = problem.build()
    loss = float(objective.negative_log_likelihood().detach())
    before, after = objective.before.numpy(), objective.after.numpy()
    phi, sigma = TRUTH.transition(0.2)
    mean = np.array(TRUTH.mu) + (before - np.array(TRUTH.mu)) @ phi.T
    exact = stats.multivariate_normal(np.zeros(2), sigma).logpdf(after - mean)
    constant = -0.5 * 2 * math.log(2 * math.pi * 0.2)  # the loss leaves out 0.5 d log(2 pi dt)
    assert loss == pytest.approx(-(exact - constant).mean(), rel=1e-9)


def test_the_full_covariance_steps_reduce_to_the_one_state_formulas():
    x, f, g, dt = (torch.tensor([[0.3]], dtype=torch.float64), torch.tensor([[-0.7]], dtype=torch.float64),
                   torch.tensor([[0.4]], dtype=torch.float64), torch.tensor([[0.5]], dtype=torch.float64))
    slope = torch.tensor([[[-1.3]]], dtype=torch.float64)
    mean, covariance = local_linear_step(x, f, slope, (g**2)[:, :, None], dt)
    phi = lambda z: math.expm1(z) / z  # noqa: E731
    assert float(mean) == pytest.approx(0.3 - 0.7 * 0.5 * phi(-1.3 * 0.5), rel=1e-12)
    assert float(covariance) == pytest.approx(0.16 * 0.5 * phi(-2 * 1.3 * 0.5), rel=1e-12)
    mean, covariance = euler_step(x, f, (g**2)[:, :, None], dt)
    residual = torch.tensor([[0.1]], dtype=torch.float64)
    assert float(gaussian_loss(residual, covariance, dt).mean()) == pytest.approx(0.5 * (0.01 / (0.16 * 0.5) + math.log(0.16)))


@pytest.mark.parametrize("scheme", ["euler", "local_linear"])
def test_the_likelihood_gradient_is_the_finite_difference_one(scheme):
    objective, _ = ou2d_problem(initial={"a12": 0.3, "a21": -0.2, "s21": 0.2, "mu1": 0.4},
                                paths=ou2d_paths(count=5), likelihood=sde.Likelihood(scheme=scheme)).build()
    raws = list(objective.module.parameters())
    assert len(raws) == 9
    flat = torch.cat([r.detach().reshape(-1) for r in raws])

    def loss_of(values: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            for raw, value in zip(raws, values.split([r.numel() for r in raws])):
                raw.copy_(value.reshape(raw.shape))
        return objective.negative_log_likelihood()

    loss = loss_of(flat)
    gradient = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, raws)])
    for k in range(flat.numel()):
        step = torch.zeros_like(flat)
        step[k] = 1e-6
        central = (float(loss_of(flat + step).detach()) - float(loss_of(flat - step).detach())) / 2e-6
        assert float(gradient[k]) == pytest.approx(central, rel=1e-5, abs=1e-7)
    assert float(gradient.abs().min()) > 1e-4  # every coefficient moves the loss


# ------------------------------------------------------------------ simulation and validation
def test_the_true_sde_with_general_noise_passes_its_own_validation():
    """torchsde's general noise on the true coefficients: every moment of 2 states within its budget."""
    problem = ou2d_problem(initial=TRUTH.coefficients(), validation=sde.Validation(times=(0.5, 1.0), paths=2000,
                                                                                   step=0.02, seed=3))
    _, validator = problem.build()
    report = validator.report()
    assert report["errors"]["moments"].passed and report["errors"]["terminal"].passed
    names = [m.name for m in report["moments"]]
    # per time: 2 means, 2 variances, 1 covariance; then the 4 entries of Cov(X(0.5), X(1))
    assert len(names) == 14 and "cov[x,y](t=1)" in names and "cov[y,x](s=0.5,t=1)" in names
    assert report["terminal"]["paths"] == 2000 and report["density"] is None


def test_a_noise_too_small_off_the_diagonal_fails_the_covariances():
    problem = ou2d_problem(initial={**TRUTH.coefficients(), "s21": 0.0, "s22": 0.5}, tolerance={},
                           validation=sde.Validation(times=(0.5, 1.0), paths=2000, step=0.02, seed=3))
    _, validator = problem.build()  # the same variances of y, without the coupling: Cov(x, y) is wrong
    failed = {m.name for m in validator.report()["moments"] if not m.passed}
    assert "cov[x,y](t=1)" in failed and not any(n.startswith("mean") for n in failed)


def test_a_short_fit_recovers_a_and_s_and_writes_its_run_folder(tmp_path):
    problem = ou2d_problem(tolerance={"a11": 0.1, "s21": 0.1}, paths=ou2d_paths(count=400))
    out = tmp_path / "run"
    solution = pinn.fit(problem, out, progress=False)
    metrics = json.loads((out / "metrics.json").read_text())
    values = {k: v["value"] for k, v in metrics["parameters"].items()}
    truth = TRUTH.coefficients()
    # 400 paths of 4 time units (8000 steps): A's standard errors are about 0.02, s21's about 2%
    assert all(abs(values[k] - truth[k]) < 0.1 for k in ("a11", "a12", "a21", "a22", "mu1", "mu2"))
    assert all(abs(values[k] / truth[k] - 1) < 0.08 for k in ("s11", "s21", "s22"))
    assert solution.passed and metrics["parameters"]["s21"]["tolerance"] == 0.1
    with h5py.File(out / "solution.h5") as handle:
        assert handle["ensemble/fine"].shape == (3, 400, 2)
        assert list(handle["ensemble"].attrs["states"]) == ["x", "y"]
    assert {p.name for p in (out / "plots").iterdir()} >= {"sample_paths.png", "moments.png"}


# ------------------------------------------------------------------ bad input
def test_a_noise_matrix_of_the_wrong_shape_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"S must be a square matrix of shape \(2, 2\).*got shape \(2, 3\)"):
        sde.MultivariateOrnsteinUhlenbeck(A=[[1, 0], [0, 1]], mu=[0, 0], S=[[1, 0, 0], [0, 1, 0]], start=[0, 0])
    with pytest.raises(ValueError, match="A must be a square d x d matrix"):
        sde.MultivariateOrnsteinUhlenbeck(A=[[1, 0]], mu=[0], S=[[1]], start=[0])
    with pytest.raises(ValueError, match="S must be non-singular"):
        sde.MultivariateOrnsteinUhlenbeck(A=[[1, 0], [0, 1]], mu=[0, 0], S=[[1, 0], [1, 0]], start=[0, 0])
    wide = sde.Parametric(lambda x, t, p: sde.matrix([[p.s11, 0.0, 0.0], [0.0, p.s11, 0.0]]),
                          [pinn.Unknown("s11", 1.0, positive=True)])
    with pytest.raises(ValueError, match=r"general noise must give the 2 x 2 matrix S .* got shape \(2, 3\)"):
        ou2d_problem(diffusion=wide).build()
    singular = sde.Parametric(lambda x, t, p: sde.matrix([[p.s11, 0.0], [p.s11, 0.0]]),
                              [pinn.Unknown("s11", 1.0, positive=True)])
    with pytest.raises(ValueError, match="diffusion matrix S must be non-singular"):
        ou2d_problem(diffusion=singular).build()
    with pytest.raises(ValueError, match="the reference has 2 states, the problem 1"):
        ou2d_problem(states="x", paths=sde.paths_from_arrays(np.arange(3.0), np.zeros((2, 3))))
    with pytest.raises(ValueError, match="noise must be one of diagonal, general"):
        ou2d_problem(noise="full")


BAD_NOISE = '''
import numpy as np
import pinn
from pinn.dynamics import sde

truth = sde.MultivariateOrnsteinUhlenbeck(A=[[1.0, 0.0], [0.0, 1.0]], mu=[0.0, 0.0], S=[[0.5], [0.3]],
                                          start=[1.0, 1.0])
'''


def test_a_problem_file_with_a_wrong_noise_matrix_exits_2_naming_it(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(textwrap.dedent(BAD_NOISE))
    done = subprocess.run([sys.executable, "-m", "pinn.solve", str(path), "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert "MultivariateOrnsteinUhlenbeck S must be a square matrix of shape (2, 2)" in done.stderr
    assert not (tmp_path / "run").exists()
