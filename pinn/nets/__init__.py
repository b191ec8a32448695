"""Networks: each a small settings object (:class:`Net`) whose ``build`` makes the module.

:class:`MLP` and :class:`ModifiedMLP` (:mod:`pinn.nets.mlp`). A new network is one file here
with a :class:`Net` subclass, and its name in :data:`NETS` below (which ``pinn.load`` reads a run's
network from, without running any of the run's code).
"""
from pinn.nets.mlp import MLP, ModifiedMLP, Net

#: The framework's networks by class name: a run's config.json names one, and pinn.load rebuilds it.
NETS: dict[str, type[Net]] = {net.__name__: net for net in (MLP, ModifiedMLP)}

__all__ = ["MLP", "ModifiedMLP", "NETS", "Net"]
