"""pinn: physics-informed neural-network PDE solutions, each run checked against a classical reference.

A problem file builds a :class:`Problem` from the pieces exported here; ``python -m pinn.solve``
trains it, validates it and writes a run folder that :func:`load` reads back.
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:  # the one version number is pyproject.toml's
    __version__ = _version("pinn")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

from pinn import references
from pinn.conditions import Dirichlet, Initial, Neumann, Periodic, Robin
from pinn.conditions import Traction
from pinn.elasticity import LinearElastic, UnknownElastic
from pinn.plots_elasticity import elasticity_plots
from pinn.fields import Fields
from pinn.geometry import Box, Disk, Interval, Polygon, Rectangle, TimeInterval
from pinn.nets import MLP, ModifiedMLP
from pinn.observations import Data, observe
from pinn.operators import div, grad, laplacian, normal_derivative
from pinn.problem import Problem, ProblemError
from pinn.sampling import Sampling
from pinn.solution import Solution, TrustRequiredError, load
from pinn.training import Training
from pinn.unknowns import Unknown

__all__ = [
    "LinearElastic", "Traction", "UnknownElastic", "elasticity_plots",
    "Box", "Data", "Dirichlet", "Disk", "Fields", "Initial", "Interval", "MLP", "ModifiedMLP", "Neumann", "Periodic",
    "Polygon", "Problem", "ProblemError", "Rectangle", "Robin", "Sampling", "Solution", "TimeInterval",
    "Training", "TrustRequiredError", "Unknown", "div", "grad", "laplacian", "load", "normal_derivative", "observe",
    "references",
]
