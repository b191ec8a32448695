"""The SDE likelihood's Levenberg-Marquardt route (Fisher scoring) and the local linearisation's Ito term."""
import numpy as np
import pytest
import torch

import pinn
from pinn.dynamics import sde
from pinn.dynamics.sde.fisher import StepMoments
from pinn.dynamics.sde.model import SDEModel
from test_sde import OU, ou_problem

SIGMA = 0.7


def flat_gradient(objective) -> torch.Tensor:
    loss = objective.terms()["likelihood"]
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, objective.trainable())])


@pytest.mark.parametrize("scheme", ["euler", "local_linear"])
def test_the_normal_equations_hold_the_exact_gradient_and_the_expected_hessian(scheme, monkeypatch):
    monkeypatch.setattr("pinn.dynamics.sde.likelihood.GRADIENT_CHUNK", 3000)  # several chunks of the 20000 steps
    truth = {"theta": OU.theta, "mu": OU.mu, "sigma": OU.sigma}
    unknowns = [pinn.Unknown("theta", truth["theta"], positive=True), pinn.Unknown("mu", truth["mu"])]
    problem = ou_problem(drift=sde.Parametric(lambda x, t, p: p.theta * (p.mu - x), unknowns),
                         diffusion=sde.Parametric(lambda x, t, p: p.sigma,
                                                  [pinn.Unknown("sigma", truth["sigma"], positive=True)]),
                         likelihood=sde.Likelihood(scheme=scheme))
    objective, _ = problem.build()
    system = objective.normal_equations({"likelihood": 2.0})
    assert system.rows == objective.before.shape[0] and system.finite
    assert system.loss == pytest.approx(2 * float(objective.terms()["likelihood"].detach()), rel=1e-12)
    assert torch.allclose(system.gradient, flat_gradient(objective), rtol=1e-10, atol=1e-14)  # half of 2 x
    fisher = system.normal  # half the Fisher information of twice the loss: that of the loss
    assert torch.allclose(fisher, fisher.T) and bool((torch.linalg.eigvalsh(fisher) > 0).all())
    if scheme == "euler":
        return  # its Gaussian is not the true transition: its Hessian at the truth is not the Fisher information
    # At the true coefficients of the exact transition density the Fisher information is the Hessian's
    # expectation: the observed Hessian (finite differences of the exact gradient) of 20000 steps is within a
    # few percent of it.
    raws = objective.trainable()
    hessian = torch.zeros(len(raws), len(raws), dtype=torch.float64)
    for j, raw in enumerate(raws):
        with torch.no_grad():
            raw += 1e-5
        up = flat_gradient(objective)
        with torch.no_grad():
            raw -= 2e-5
        down = flat_gradient(objective)
        with torch.no_grad():
            raw += 1e-5
        hessian[:, j] = (up - down) / 2e-5
    assert float(torch.linalg.matrix_norm(fisher - hessian) / torch.linalg.matrix_norm(hessian)) < 0.05


def test_levenberg_marquardt_fits_the_likelihood_in_a_few_steps():
    problem = ou_problem(likelihood=sde.Likelihood(scheme="local_linear"),
                         training=pinn.Training([pinn.LevenbergMarquardt(20)], checks=pinn.Checks(check_every=1000)))
    fit = sde.fit_sde(problem)
    assert fit.passed, fit.report["coefficients"]
    assert fit.trainer.step <= 15  # converged (no damping lowers the loss) well before its 20 steps
    lbfgs = sde.fit_sde(ou_problem(likelihood=sde.Likelihood(scheme="local_linear"),
                                   training=pinn.Training([pinn.LBFGS(200)], checks=pinn.Checks(check_every=1000))))
    for name in ("theta", "mu", "sigma"):  # the same maximum of the likelihood
        assert fit.report["coefficients"][name]["value"] == pytest.approx(
            lbfgs.report["coefficients"][name]["value"], rel=1e-4)


def test_levenberg_marquardt_recovers_a_drift_learnt_by_a_net():
    problem = ou_problem(drift=sde.Neural(net=pinn.MLP(width=8, depth=1)), diffusion=sde.Known(OU.sigma),
                         tolerance={}, likelihood=sde.Likelihood(scheme="local_linear", curvature_steps=5000),
                         paths=_ou_paths(count=400),
                         training=pinn.Training([pinn.LevenbergMarquardt(40)], checks=pinn.Checks(check_every=1000)))
    fit = sde.fit_sde(problem)
    x = torch.linspace(-0.5, 1.5, 21, dtype=torch.float64)[:, None]  # where the paths spend their time
    with torch.no_grad():
        learnt = fit.trainer.objective.module.drift(x, torch.zeros_like(x))
    exact = OU.theta * (OU.mu - x)
    assert float((learnt - exact).abs().max()) < 0.1
    assert fit.errors["moments"].passed and fit.errors["terminal"].passed


def _ou_paths(count: int):
    rng = np.random.default_rng(5)
    times = np.arange(0.0, 10.0 + 1e-9, 0.1)
    return sde.paths_from_arrays(times, OU.simulate(times, rng.uniform(-1.0, 2.0, count), rng))


def test_the_local_linear_step_keeps_the_ito_term_of_a_curved_drift():
    """The exact step's mean is ``x + f dt + (f f' + sigma^2 f'' / 2) dt^2 / 2 + O(dt^3)``: the local
    linearisation with Shoji and Ozaki's second-order term matches it to O(dt^3) (halving dt divides its
    error by 8); without that term it misses by ``sigma^2 f'' dt^2 / 4`` (divided by 4 only)."""
    drift = sde.Known(lambda x, t: x - x**3)
    bound = torch.tensor([3.0], dtype=torch.float64)
    model = SDEModel(drift, sde.Known(SIGMA), 1, -bound, bound, torch.Generator().manual_seed(0)).double()
    moments = StepMoments(model, "local_linear")
    x = torch.linspace(-1.5, 1.5, 13, dtype=torch.float64)[:, None]
    f, slope, curvature = x - x**3, 1 - 3 * x**2, -6 * x
    errors = {}
    for dt in (0.02, 0.01):
        h = torch.full_like(x, dt)
        expansion = f * dt + (f * slope + SIGMA**2 * curvature / 2) * dt**2 / 2
        for functional in (False, True):  # autograd (the loss) and forward mode (the Fisher information)
            shift, variance = (v.detach() for v in moments(x, torch.zeros_like(x), h, functional))
            assert torch.allclose(variance, SIGMA**2 * h * (torch.expm1(2 * slope * h) / (2 * slope * h)))
            errors[dt, functional] = float((shift - expansion).abs().max())
        errors[dt, "without"] = float((shift - SIGMA**2 * curvature * dt**2 / 4 - expansion).abs().max())
    assert errors[0.01, False] == pytest.approx(errors[0.01, True], rel=1e-9)
    assert errors[0.02, False] / errors[0.01, False] > 7
    assert errors[0.02, "without"] / errors[0.01, "without"] < 4.5
    assert errors[0.01, "without"] > 5 * errors[0.01, False]


def test_the_fisher_information_of_a_full_covariance_likelihood_is_refused():
    from test_sde_multivariate import ou2d_paths, ou2d_problem
    objective, _ = ou2d_problem(paths=ou2d_paths(count=5)).build()
    with pytest.raises(NotImplementedError, match="full-covariance"):
        objective.normal_equations({})
