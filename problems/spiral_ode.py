"""Spiral (torchdiffeq's demo): dy/dt = y^3 A."""
import numpy as np
import pinn

A = np.array([[-0.1, 2.0], [-2.0, -0.1]])

def spiral(t, y):
    return (y ** 3) @ A

truth = pinn.TrueSystem(spiral)
times = np.linspace(0.0, 25.0, 1000)
problem = pinn.Dynamics(
    name="spiral_ode",
    states="y1 y2",
    rhs=lambda t, s, m: m.net(s.values ** 3),
    net=pinn.MLP(width=50, depth=1, normalize_inputs=False),
    data=[truth.observe([2.0, 0.0], times, name="y0=(2,0)")],
    reference=truth,
    validation={"data": pinn.Forecast(window=(0.0, 25.0)),
                "held_out": pinn.Forecast(window=(0.0, 25.0), initial_states=[[1.5, 0.0], [0.0, 2.0]])},
    tolerance={"y1": 1e-2, "y2": 1e-2},
    windows=pinn.Windows(length=10, batch=20),
    training=pinn.Training([pinn.Adam(300, learning_rate=1e-2, learning_rate_final=1e-3), pinn.LBFGS(50)],
                           checks=pinn.Checks(check_every=100, checkpoint_every=100)),
)
