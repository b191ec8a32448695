"""Physics of particular fields: their equations, conditions and figures, built on the generic pieces.

* :mod:`pinn.physics.elasticity`: 2-D linear elasticity: :class:`~pinn.LinearElastic` and
  :class:`~pinn.UnknownElastic` materials (stresses, equilibrium), the :class:`~pinn.Traction` condition;
* :mod:`pinn.physics.elasticity_plots`: :func:`~pinn.elasticity_plots`, deformed shape, stresses, errors;
* :mod:`pinn.physics.flow`: :func:`~pinn.navier_stokes`, the incompressible momentum and continuity
  residuals;
* :mod:`pinn.physics.flow_plots`: :func:`~pinn.flow_plots`, speed and streamlines, pressure, centrelines.

Each is exported from :mod:`pinn` itself. The figures draw in the style of :mod:`pinn.plots.style`.
"""
