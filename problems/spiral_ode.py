"""torchdiffeq's spiral (examples/ode_demo.py) learned by a neural ODE, judged on initial states it never saw.

    dy/dt = (y^3) A,   A = [[-0.1, 2], [-2, -0.1]],   t in [0, 25]

The field is learned from the cubes of the states z = y^3, as in the demo: a linear map W z with W unknown
(its four entries start at zero and are reported against A) plus a small network of z, from four
trajectories of 1000 observations each: the demo's own from y0 = (2, 0), and three from radius 2.6 at 90, 210 and 330 degrees,
which interleave with it and cover the ring from radius 0.46 to 2.6 (one trajectory alone leaves the outer
ring, where y^3 is largest, unseen). Training starts from the rates of the data (eighth-order differences),
then fits windows of 100 observations integrated by rk4 at half the observation step. The learned field is
judged against solve_ivp of the true spiral from four other initial states, radii 1.5 to 2.5, over [0, 25].
"""
import math

import numpy as np
import torch

import pinn

A = np.array([[-0.1, 2.0], [-2.0, -0.1]])


def spiral(t, y):
    return (y ** 3) @ A


def cubic_field(t, s, m):
    """A linear map of the cubes, W z with W unknown, plus the network of the cubes (scaled to order one)."""
    z = s.values ** 3
    linear = torch.stack([m.w11 * z[:, 0] + m.w21 * z[:, 1], m.w12 * z[:, 0] + m.w22 * z[:, 1]], dim=1)
    return linear + m.net(z / 8)


def on_circle(radius, degrees):
    return [radius * math.cos(math.radians(degrees)), radius * math.sin(math.radians(degrees))]


truth = pinn.TrueSystem(spiral)
times = np.linspace(0.0, 25.0, 1000)
starts = {"demo y0=(2, 0)": [2.0, 0.0], **{f"r=2.6 at {d} deg": on_circle(2.6, d) for d in (90, 210, 330)}}

problem = pinn.Dynamics(
    name="spiral_ode",
    states="y1 y2",
    rhs=cubic_field,
    net=pinn.MLP(width=50, depth=1, normalize_inputs=False),
    unknowns=[pinn.Unknown(f"w{i}{j}", 0.0, true_value=float(A[i - 1, j - 1])) for i in (1, 2) for j in (1, 2)],
    data=[truth.observe(y0, times, name=name) for name, y0 in starts.items()],
    reference=truth,
    validation={
        "data": pinn.Forecast(window=(0.0, 25.0), initial_states=[[2.0, 0.0]], points=1000),
        "held_out": pinn.Forecast(window=(0.0, 25.0), initial_states=[on_circle(r, d) for r, d in (
            (1.5, 45), (1.8333, 135), (2.1667, 225), (2.5, 315))]),
    },
    tolerance={"y1": 1e-2, "y2": 1e-2},
    rates=pinn.Rates(method="differences", order=8),
    windows=pinn.Windows(final=100, stride=20),
    integration=pinn.Integration(method="rk4", step=0.0125125),
    training=pinn.Training([pinn.LBFGS(2000, terms=("rates",), stall=pinn.Stall(50, 1e-3), name="warm_start"),
                            pinn.LBFGS(60, terms=("data",))], checks=pinn.Checks(check_every=500, checkpoint_every=20)),
)
