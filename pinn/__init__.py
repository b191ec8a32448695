"""pinn: differential equations solved and learned by neural networks, each run checked against a classical reference.

A problem file builds a :class:`Problem` from the pieces exported here; ``python -m pinn.solve`` (or
:func:`fit`, from Python) trains it, validates it and writes a run folder that :func:`load` reads back.
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:  # the one version number is pyproject.toml's
    __version__ = _version("pinn")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

from pinn import references
from pinn.pde.conditions import Dirichlet, Initial, Neumann, Periodic, Robin
from pinn.physics.elasticity import LinearElastic, Traction, UnknownElastic
from pinn.physics.elasticity_plots import elasticity_plots
from pinn.physics.flow import navier_stokes
from pinn.physics.flow_plots import flow_plots
from pinn.derivatives.fields import Fields
from pinn.geometry import Box, Disk, Interval, Polygon, Rectangle, TimeInterval
from pinn.nets import MLP, ModifiedMLP
from pinn.pde.observations import Data, observe
from pinn.derivatives.operators import div, grad, laplacian, normal_derivative
from pinn.pde.problem import Problem, ProblemError
from pinn.pde.collocation import Sampling
from pinn.pde.causal import Causal
from pinn.solution import Solution, TrustRequiredError, load
from pinn.train.phases import LBFGS, Adam, LevenbergMarquardt, Stall
from pinn.train.settings import Balance, Checks, Guard, Numerics, Training
from pinn.pde.unknowns import Unknown
from pinn.api import fit
from pinn.dynamics import Dynamics, Forecast, Integration, Rates, SparseTerms, Trajectory, TrueSystem, Windows, read_trajectories
from pinn.faults import Interrupted, RunFault
from pinn.loading import UserError

__all__ = [
    "Adam", "Balance", "Checks", "Guard", "LBFGS", "LevenbergMarquardt", "Numerics", "Stall",
    "LinearElastic", "Traction", "UnknownElastic", "elasticity_plots", "flow_plots", "navier_stokes",
    "Box", "Causal", "Data", "Dirichlet", "Disk", "Fields", "Initial", "Interval", "MLP", "ModifiedMLP", "Neumann", "Periodic",
    "Polygon", "Problem", "ProblemError", "Rectangle", "Robin", "Sampling", "Solution", "TimeInterval",
    "Training", "TrustRequiredError", "Unknown", "div", "grad", "laplacian", "load", "normal_derivative", "observe",
    "references", "fit", "Interrupted", "RunFault", "UserError",
    "Dynamics", "Forecast", "Integration", "Rates", "SparseTerms", "Trajectory", "TrueSystem", "Windows", "read_trajectories",
]
