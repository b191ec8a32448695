"""Learning dynamics from trajectories: neural ODEs and universal differential equations, each run validated
against ``scipy.integrate.solve_ivp`` of the true system.

* :class:`Dynamics`: the declaration (states, vector field, data, reference, validation, tolerances);
* :class:`Trajectory`, :func:`read_trajectories`: observations, each trajectory at its own times;
* :class:`Integration`: dopri5 or rk4, backpropagation or the adjoint (:func:`integrate`);
* :class:`Windows`: the batches of observations a step fits;
* :class:`Rates`: the rates estimated from the data for a warm start;
* :class:`TrueSystem`, :class:`Forecast`: the reference and the validation cases;
* :class:`SparseTerms`: a sparse regression naming what the network learned.
"""
from pinn.dynamics.integrate import Integration, integrate
from pinn.dynamics.problem import Dynamics
from pinn.dynamics.rates import Rates
from pinn.dynamics.reference import Forecast, TrueSystem
from pinn.dynamics.sparse import SparseTerms
from pinn.dynamics.trajectories import Trajectory, read_trajectories
from pinn.dynamics.windows import Windows

__all__ = ["Dynamics", "Forecast", "Integration", "Rates", "SparseTerms", "Trajectory", "TrueSystem", "Windows",
           "integrate", "read_trajectories"]
