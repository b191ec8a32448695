"""Training: loss assembly, optimisers and schedules, the loop and its state."""
from pinn.training.config import Training
from pinn.training.trainer import Monitor, Trainer, TrainingDiverged

__all__ = ["Monitor", "Trainer", "Training", "TrainingDiverged"]
