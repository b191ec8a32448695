"""A damped pendulum learned from many short, irregularly sampled trajectories (a neural ODE).

    theta' = omega,    omega' = -sin(theta) - 0.25 omega

Forty trajectories start from random states; each is observed at its own 5 to 12 random times over its
own span of 1.5 to 3 time units, with 1 % noise: no two share a time grid. The network learns the whole
field dy/dt = net(theta, omega), and every trajectory is integrated at exactly its own times (one solve
for the batch, each in its own clock). The learned field is judged against solve_ivp of the true
pendulum from four initial states it never saw, over [0, 6]: twice the longest observed span.
"""
import numpy as np

import pinn

DAMPING = 0.25


def pendulum(t, y):
    theta, omega = y
    return np.array([omega, -np.sin(theta) - DAMPING * omega])


truth = pinn.TrueSystem(pendulum)
rng = np.random.default_rng(7)  # the data set is part of the problem: fixed, whatever the run's seed
trajectories = []
for k in range(40):
    initial = [rng.uniform(-2.0, 2.0), rng.uniform(-1.5, 1.5)]
    span = rng.uniform(1.5, 3.0)
    times = np.concatenate([[0.0], np.sort(rng.uniform(0.0, span, rng.integers(4, 12)))])
    trajectories.append(truth.observe(initial, times, noise=0.01, seed=k, name=f"pendulum {k}"))

problem = pinn.Dynamics(
    name="pendulum_irregular",
    states="theta omega",
    data=trajectories,
    net=pinn.MLP(width=32, depth=2),
    reference=truth,
    validation={"held_out": pinn.Forecast(window=(0.0, 6.0),
                                          initial_states=[[1.5, 0.0], [-1.0, 1.0], [0.5, -1.2], [-1.8, -0.5]])},
    tolerance={"theta": 5e-2, "omega": 5e-2},
    integration=pinn.Integration(rtol=1e-6, atol=1e-8),
    windows=pinn.Windows(length=None, batch=16),
    training=pinn.Training([pinn.Adam(600, learning_rate=1e-2, learning_rate_final=1e-3), pinn.LBFGS(200)],
                           checks=pinn.Checks(check_every=100, checkpoint_every=200)),
)
