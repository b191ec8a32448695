"""The trainer every model family shares: the objective it minimises, optimiser phases, divergence guard, loss weighting."""
