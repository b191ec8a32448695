"""2-D heat u_t = 0.01 (u_xx + u_yy) on the unit square, zero walls: learn the map u(., 0) -> u(., 1) with an FNO.

Initial temperatures from a Gaussian random field that vanishes on the walls (a sine series of 12 x 12
terms, resolved by the training grid: with 24 the 32-point samples alias and the error stalled at 6.4e-3); outputs from
the project's finite-difference heat solver (Crank-Nicolson with Richardson extrapolation). Trained on 1000
inputs at 32 x 32, judged on 200 held-out inputs at 32 x 32 and, zero-shot, at 63 x 63 (spacing halved).

    python -m pinn.solve problems/heat_fno.py
"""
import pinn
from pinn.operators import FNO, GaussianRandomField, Heat, OperatorData, OperatorProblem, Splits

problem = OperatorProblem(
    name="heat_fno",
    # the inputs' sine series stops at wave number 12, which the 32-point grid resolves (its Nyquist is 15.5)
    task=Heat(field=GaussianRandomField(dim=2, alpha=2.5, tau=3.0, boundary="dirichlet", modes=12),
              diffusivity=0.01, t_end=1.0),
    net=FNO(modes=(10, 10), width=24, layers=4, padding=0.16, projection=64),   # 4 zeros at 32 points
    splits=Splits(train=1000, validation=100, test=200, seed=0),
    data=OperatorData(resolution=32, test_resolutions=(63,), batch_size=10),     # spacing 1/31, 1/62
    training=pinn.Training([pinn.Adam(3000, learning_rate=2e-3, learning_rate_final=2e-5)],
                           numerics=pinn.Numerics(dtype="float32"),
                           checks=pinn.Checks(check_every=500, checkpoint_every=500),
                           time_budget=540),
    tolerance={"u": 1e-3},
)
