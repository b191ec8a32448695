"""Physics-informed networks: the problem declaration, its conditions, and the objective the trainer minimises."""
