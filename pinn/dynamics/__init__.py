"""Learning dynamics from trajectories: neural ODEs and universal differential equations, each run validated
against ``scipy.integrate.solve_ivp`` of the true system."""
from pinn.dynamics.trajectories import Trajectory, read_trajectories

__all__ = ["Trajectory", "read_trajectories"]
