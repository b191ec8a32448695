"""Double well: learn the drift of dX = -V'(X) dt + sigma dW with a net, the noise known.

    V(x) = (x^2 - 1)^2 / 4,   sigma = 0.7,   exact stationary density p(x) ∝ exp(-2 V(x) / sigma^2)

The data: 4000 paths started from the stationary law, observed every 0.02 up to t = 20, simulated
here by Euler-Maruyama with 20 substeps per observation (no exact transition exists), seeded. The
drift is a small MLP of x trained by Adam on random batches of the local-linearisation transition
likelihood; the run checks the stationary density the learnt drift implies (by quadrature) against
the exact one in L1 (tolerance 2e-2), and the learnt SDE's mean, variance and terminal law, simulated
from the stationary law, against the exact stationary ones.

Measured (issue 18): the density misses its 2e-2 (about 6e-2; the run exits 1). A cubic polynomial
drift fitted by L-BFGS to the same kind of data reaches 1e-2, and this net fitted by L-BFGS to the true
drift without noise reaches 2e-3: the gap is Adam's on noisy batches. L-BFGS over all 4 million steps
after Adam (a phase that keeps its batch fits every step) helps but is slow here: Adam 2000 steps then
pinn.LBFGS(25) reached 4.2e-2 in 583 s (about 20 s per iteration on this shared 2-core machine).
"""
import numpy as np

import pinn
from pinn.dynamics import sde

sigma = 0.7


def potential(x):
    return (x**2 - 1) ** 2 / 4


def force(x):  # -V'(x)
    return x - x**3


truth = sde.GradientDiffusion(potential, force, sigma=sigma, support=(-2.5, 2.5), substeps=20)

rng = np.random.default_rng(20262)
times = np.arange(0.0, 20.0 + 1e-9, 0.02)
values = truth.simulate(times, truth.initial(4000, rng), rng)

problem = sde.SDEProblem(
    name="double_well_sde",
    states="x",
    drift=sde.Neural(net=pinn.MLP(width=16, depth=2)),
    diffusion=sde.Known(sigma),
    paths=sde.paths_from_arrays(times, values),
    reference=truth,
    tolerance={"density": 2e-2},
    likelihood=sde.Likelihood(scheme="local_linear", batch_steps=20000),
    validation=sde.Validation(times=(0.5, 1.0, 2.0, 5.0), paths=2000, step=0.01, seed=7),
    training=pinn.Training([pinn.Adam(4000, learning_rate=5e-3, learning_rate_final=1e-5)],
                           checks=pinn.Checks(check_every=5000, checkpoint_every=500)),
)
