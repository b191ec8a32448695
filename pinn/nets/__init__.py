"""Networks: each a small settings object (:class:`Net`) whose ``build`` makes the module.

:class:`MLP` and :class:`ModifiedMLP` (:mod:`pinn.nets.mlp`). A new network is one file here
with a :class:`Net` subclass, and one line below.
"""
from pinn.nets.mlp import MLP, ModifiedMLP, Net

__all__ = ["MLP", "ModifiedMLP", "Net"]
