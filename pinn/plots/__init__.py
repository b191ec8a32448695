"""Figures for PINN results: predicted fields against a reference, and training history.

Every function takes plain numpy arrays (or history rows), writes PNG files and returns the list of
paths it wrote. Figures are drawn on matplotlib's Agg canvas directly, so they work without a
display and never touch pyplot's global state (no ``matplotlib.use``: a notebook's backend is left
alone), and every file is written atomically.

* :mod:`pinn.plots.style`: the one style: :func:`~pinn.plots.style.figure`,
  :func:`~pinn.plots.style.save` (atomic), colour and error scales, equal aspect;
* :mod:`pinn.plots.fields`: :func:`plot_fields`, prediction | reference | error;
* :mod:`pinn.plots.history`: :func:`plot_history` and :func:`plot_parameters`, training curves.

The figures of particular physics (elasticity, flow) live beside it in :mod:`pinn.physics` and draw
with the same style.
"""
from pinn.plots.fields import plot_fields
from pinn.plots.history import plot_history, plot_parameters

__all__ = ["plot_fields", "plot_history", "plot_parameters"]
