"""Optimiser phases: a run's schedule is a list of them, each with its settings and stopping rule.

:class:`Adam`, :class:`LBFGS` and :class:`LevenbergMarquardt`; :class:`Stall` ends a phase sooner
when its loss stops falling. A new phase is one file here (see :mod:`pinn.train.phases.base`) and
one line below.
"""
from pinn.train.phases.adam import Adam
from pinn.train.phases.base import Phase, PhaseRun, Stall
from pinn.train.phases.lbfgs import LBFGS
from pinn.train.phases.levenberg_marquardt import LevenbergMarquardt, UnderdeterminedWarning

__all__ = ["Adam", "LBFGS", "LevenbergMarquardt", "Phase", "PhaseRun", "Stall", "UnderdeterminedWarning"]
