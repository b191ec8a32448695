"""Physics of particular fields: elasticity and incompressible flow (operators, conditions, figures)."""
