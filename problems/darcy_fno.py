"""Darcy flow -div(a grad u) = 1 on the unit square, u = 0 on the walls: learn the map a -> u with an FNO.

The permeability a is 12 where a Gaussian random field (covariance (-laplacian + 9)^-2) is positive and 3
elsewhere, as in Li et al. (2021); the outputs come from the project's finite-difference solver
(pinn.references.darcy_fd). Trained on 1000 inputs at 32 x 32, judged on 200 held-out inputs at 32 x 32
(the verdict) and, zero-shot, at 63 x 63 and 125 x 125 (the grid spacing halved and quartered, so the
coarse nodes are among the fine ones) against the solver at those resolutions.

    python -m pinn.solve problems/darcy_fno.py
"""
import pinn
from pinn.operators import FNO, Darcy, OperatorData, OperatorProblem, Splits

problem = OperatorProblem(
    name="darcy_fno",
    task=Darcy(),                                  # a: thresholded GRF (12 / 3), u: finite differences
    net=FNO(modes=(10, 10), width=24, layers=4, padding=0.16, projection=64),   # 4 zeros at 32 points
    splits=Splits(train=1000, validation=100, test=200, seed=0),
    data=OperatorData(resolution=32, test_resolutions=(63, 125), batch_size=10),  # spacing 1/31, 1/62, 1/124
    training=pinn.Training([pinn.Adam(4000, learning_rate=2e-3, learning_rate_final=2e-5)],
                           numerics=pinn.Numerics(dtype="float32"),
                           checks=pinn.Checks(check_every=500, checkpoint_every=500),
                           time_budget=540),
    tolerance={"u": 1e-2},
)
