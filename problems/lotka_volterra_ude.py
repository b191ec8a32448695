"""Lotka-Volterra as a universal differential equation: known growth and decay, learned interaction.

    dx/dt = a x - b x y,   dy/dt = -c y + d x y,   (a, b, c, d) = (1.5, 1, 3, 1),   (x, y)(0) = (1, 1)

Observed: 31 evenly spaced, noisy states (1 % of each state's spread) on t <= 3.5 of [0, 10]; the initial
state is set, not measured. Known: the linear terms a x and -c y. Learned: the interaction, by a network of
(x, y) added to the known terms. A sparse regression (STLSQ over 1, x, y, x^2, xy, y^2) then names the
interaction from the network's outputs along the learned trajectory, and the forecast over [3.5, 10] (two
and a half periods beyond the data) is made with the known terms plus the terms it found: the network alone
does not extrapolate, the terms do. Checked: each found coefficient within 5 % of b and d, no other term
found, and the forecast within 2e-2 of solve_ivp of the true system.
"""
import numpy as np

import pinn

A, B, C, D = 1.5, 1.0, 3.0, 1.0


def lotka_volterra(t, u):
    x, y = u
    return np.array([A * x - B * x * y, -C * y + D * x * y])


def known_plus_learned(t, s, m):
    interaction = m.net(s.values)
    return {"x": A * s.x + interaction[:, 0], "y": -C * s.y + interaction[:, 1]}


truth = pinn.TrueSystem(lotka_volterra)

problem = pinn.Dynamics(
    name="lotka_volterra_ude",
    states="x y",
    rhs=known_plus_learned,
    net=pinn.MLP(width=32, depth=2),
    data=[truth.observe([1.0, 1.0], np.linspace(0.0, 3.5, 31), noise=0.01, seed=0, known_start=True,
                        name="observed, t <= 3.5")],
    reference=truth,
    validation={"forecast": pinn.Forecast(window=(3.5, 10.0), initial_states=[[1.0, 1.0]], start=0.0)},
    tolerance={"x": 2e-2, "y": 2e-2},
    integration=pinn.Integration(method="rk4", step=3.5 / 60),
    discover=pinn.SparseTerms(outputs="x y", degree=2, threshold=0.3, tolerance=0.05,
                              expected={"x": {"x*y": -B}, "y": {"x*y": D}}),
    training=pinn.Training([pinn.LBFGS(500, terms=("rates",), stall=pinn.Stall(20, 1e-3), name="warm_start"),
                            pinn.LBFGS(100, terms=("data",), stall=pinn.Stall(20, 1e-4))],
                           checks=pinn.Checks(check_every=50, checkpoint_every=50)),
)
