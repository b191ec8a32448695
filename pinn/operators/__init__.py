"""Operator learning: Fourier neural operators trained on the project's own verified solvers.

``problem = OperatorProblem(name=..., task=Darcy(), net=FNO(...), ...)`` declares a problem that
``python -m pinn.solve`` trains and validates (see :mod:`pinn.operators.problem`). The pieces:
:mod:`~pinn.operators.grf` (Gaussian random fields), the tasks :mod:`~pinn.operators.darcy`,
:mod:`~pinn.operators.burgers` and :mod:`~pinn.operators.heat` (a generator and its solver),
:mod:`~pinn.operators.data` (seeded splits and the cache), :mod:`~pinn.operators.model`,
:mod:`~pinn.operators.objective`, :mod:`~pinn.operators.validation` and :mod:`~pinn.operators.plots`.
"""
from pinn.nets.fno import FNO
from pinn.operators.burgers import Burgers
from pinn.operators.darcy import Darcy
from pinn.operators.data import Samples, Splits, split_samples
from pinn.operators.grf import GaussianRandomField
from pinn.operators.heat import Heat
from pinn.operators.problem import OperatorData, OperatorProblem

__all__ = ["FNO", "Burgers", "Darcy", "GaussianRandomField", "Heat", "OperatorData", "OperatorProblem", "Samples",
           "Splits", "split_samples"]
