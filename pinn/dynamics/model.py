"""The learned vector field of a :class:`pinn.Dynamics` problem: its network, its unknown coefficients and the
user's right-hand side that combines them with known terms.

The user's function reads ``f(t, s, m)``: ``t`` the time (batch, 1); ``s`` the states by name (``s.x``,
a column (batch,)) or all together (``s.values``, (batch, states)); ``m`` the learned parts, ``m.net(z)``
the network on inputs ``z`` (batch, net inputs) and ``m.<name>`` each :class:`pinn.Unknown`. It returns
the rates as a dict by state name or a tensor (batch, states).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from pinn.pde.unknowns import Unknown, UnknownValues


class States:
    """The states of a batch, by name (``s.x``: a column) or together (``s.values``: (batch, states))."""

    __slots__ = ("values", "_index")

    def __init__(self, values: Tensor, index: dict[str, int]) -> None:
        self.values = values
        self._index = index

    def __getattr__(self, name: str) -> Tensor:
        try:
            return self.values[:, self._index[name]]
        except KeyError:
            raise AttributeError(f"no state {name!r}; the states are {', '.join(self._index)}") from None

    def __getitem__(self, name: str) -> Tensor:
        return self.__getattr__(name)


class Learned:
    """What the right-hand side learns: ``net`` (None without a network) and each unknown by name."""

    def __init__(self, net: nn.Module | None, unknowns: UnknownValues) -> None:
        self.net = net
        self._unknowns = unknowns

    def __getattr__(self, name: str) -> Tensor:
        unknowns = self.__dict__["_unknowns"]
        if name in unknowns.raw:
            unknown = next(u for u in unknowns.unknowns if u.name == name)
            return unknown.value(unknowns.raw[name])
        raise AttributeError(f"no unknown {name!r}" + (f"; the unknowns are {', '.join(unknowns.raw)}"
                                                        if len(unknowns.raw) else " (the problem declares none)"))


RightHandSide = Callable[[Tensor, States, Learned], "dict[str, Tensor] | Tensor"]


class VectorField(nn.Module):
    """``dy/dt = f(t, y)``: the network alone (``rhs`` None: ``net(y)``), or the user's right-hand side."""

    def __init__(self, states: Sequence[str], rhs: RightHandSide | None, net: nn.Module | None,
                 unknowns: Sequence[Unknown]) -> None:
        super().__init__()
        self.states = tuple(states)
        self.rhs = rhs
        self.net = net
        self.unknowns = UnknownValues(tuple(unknowns))
        self._index = {name: i for i, name in enumerate(self.states)}
        self._learned = Learned(net, self.unknowns)

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        if self.rhs is None:
            return self.net(y)
        rates = self.rhs(t, States(y, self._index), self._learned)
        if isinstance(rates, dict):
            return torch.stack([rates[name].expand(y.shape[0]) if rates[name].dim() == 0 else rates[name].reshape(-1)
                                for name in self.states], dim=1)
        return rates

    def check(self, t: Tensor, y: Tensor) -> None:
        """A ValueError, in the user's terms, unless the field gives one rate per state for a batch ``y``."""
        try:
            rates = self.rhs(t, States(y, self._index), self._learned) if self.rhs is not None else self.net(y)
        except AttributeError as err:
            raise ValueError(f"the vector field reads something that does not exist: {err}") from None
        except RuntimeError as err:
            first = str(err).splitlines()[0]
            raise ValueError(f"the vector field failed on a batch of {y.shape[0]} states ({first}); does the network "
                             "take as many inputs as the field gives it (net_inputs)?") from None
        if isinstance(rates, dict):
            missing = [name for name in self.states if name not in rates]
            extra = [name for name in rates if name not in self.states]
            if missing or extra:
                raise ValueError(f"the vector field must return a rate for each state ({', '.join(self.states)}); "
                                 + (f"missing {missing}" if missing else f"unknown {extra}"))
            for name, rate in rates.items():
                if not isinstance(rate, Tensor) or rate.numel() not in (1, y.shape[0]):
                    raise ValueError(f"the vector field's rate of {name!r} must be a tensor with one value per state "
                                     f"in the batch ({y.shape[0]}), got {_shape(rate)}")
            return
        if not isinstance(rates, Tensor) or tuple(rates.shape) != tuple(y.shape):
            raise ValueError(f"the vector field must give {len(self.states)} rates (one per state: "
                             f"{', '.join(self.states)}) for each of the {y.shape[0]} states of a batch, shape "
                             f"{tuple(y.shape)}, got {_shape(rates)}; a network's outputs must number the states "
                             "(net_outputs)")


def _shape(value: object) -> str:
    return f"shape {tuple(value.shape)}" if isinstance(value, Tensor) else type(value).__name__
