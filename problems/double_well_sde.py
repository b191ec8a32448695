"""Double well: learn the drift of dX = -V'(X) dt + sigma dW with a net, the noise known.

    V(x) = (x^2 - 1)^2 / 4,   sigma = 0.6,   exact stationary density p(x) ∝ exp(-2 V(x) / sigma^2)

The data: 1000 paths started from the stationary law, observed every 0.02 up to t = 10, simulated
here by Euler-Maruyama with 20 substeps per observation (no exact transition exists), seeded. The
drift is a small MLP of x trained on the Euler-Maruyama transition likelihood; the run checks the
stationary density the learnt drift implies (by quadrature) against the exact one in L1, and the
learnt SDE's mean and variance, simulated from the stationary law, against the exact stationary ones.
"""
import numpy as np

import pinn
from pinn.dynamics import sde

sigma = 0.6


def potential(x):
    return (x**2 - 1) ** 2 / 4


def force(x):  # -V'(x)
    return x - x**3


truth = sde.GradientDiffusion(potential, force, sigma=sigma, support=(-2.5, 2.5), substeps=20)

rng = np.random.default_rng(20262)
times = np.arange(0.0, 10.0 + 1e-9, 0.02)
values = truth.simulate(times, truth.initial(1000, rng), rng)

problem = sde.SDEProblem(
    name="double_well_sde",
    states="x",
    drift=sde.Neural(net=pinn.MLP(width=16, depth=2)),
    diffusion=sde.Known(sigma),
    paths=sde.paths_from_arrays(times, values),
    reference=truth,
    tolerance={"density": 2e-2},
    likelihood=sde.Likelihood(batch_steps=20000),
    validation=sde.Validation(times=(0.5, 1.0, 2.0, 5.0), paths=2000, step=0.01, seed=7),
    training=pinn.Training([pinn.Adam(1000, learning_rate=3e-3), pinn.LBFGS(100)],
                           checks=pinn.Checks(check_every=5000, checkpoint_every=200)),
)
