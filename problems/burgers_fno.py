"""Viscous Burgers u_t + u u_x = 0.1 u_xx, periodic on [0, 1): learn the map u(., 0) -> u(., 1) with an FNO.

Initial values from a Gaussian random field of covariance 625 (-laplacian + 25)^-2 (Li et al. 2021);
outputs from the project's ETDRK4 Fourier pseudo-spectral solver. Trained on 1000 inputs at 256 points,
judged on 200 held-out inputs at 256 points and, zero-shot, at 512 and 1024.

    python -m pinn.solve problems/burgers_fno.py
"""
import pinn
from pinn.operators import FNO, Burgers, OperatorData, OperatorProblem, Splits

problem = OperatorProblem(
    name="burgers_fno",
    task=Burgers(nu=0.1, t_end=1.0),
    net=FNO(modes=(16,), width=64, layers=4, padding=0),   # periodic: no padding
    splits=Splits(train=1000, validation=100, test=200, seed=0),
    data=OperatorData(resolution=256, test_resolutions=(512, 1024), batch_size=20),
    training=pinn.Training([pinn.Adam(3000, learning_rate=3e-3, learning_rate_final=3e-5)],
                           numerics=pinn.Numerics(dtype="float32"),
                           checks=pinn.Checks(check_every=500, checkpoint_every=500),
                           time_budget=540),
    tolerance={"u": 5e-3},
)
