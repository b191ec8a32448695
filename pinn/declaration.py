"""What a model family's problem declares, as a run needs it: the seam between the families and the run folder.

A physics-informed :class:`pinn.Problem` is run by :mod:`pinn.api` directly. Every other family (neural
ODEs, neural operators, neural SDEs) declares its problem as a subclass of :class:`Declaration`, and
``python -m pinn.solve FILE`` or :func:`pinn.fit` give it the same life as a PDE problem: one trainer and
its schedule of phases, the divergence guard, the progress bar, history.csv, exact resume, config.json,
solution.h5, plots and metrics.json with its verdict, and the same exit status. The family decides only
what is particular to it: its objective and reference, how it is validated and what it draws.
"""
from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import CodeType
from typing import Any, ClassVar

from pinn.train.settings import Training
from pinn.validation import FieldError


@dataclass(frozen=True)
class Outcome:
    """How a trained model did, as metrics.json reports it.

    Args:
        errors: each validated quantity's error against the reference and its tolerance (metrics.json ``fields``).
        parameters: each recovered coefficient's report (metrics.json ``parameters``; see
            :meth:`pinn.Unknown.report`), with ``tolerance`` and ``passed`` (None without a tolerance).
        extra: further metrics.json keys particular to the family (JSON values).
    """

    errors: dict[str, FieldError]
    parameters: dict[str, dict] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


class Declaration(abc.ABC):
    """A problem of a model family other than physics-informed networks.

    Attributes:
        family: the family's name, recorded in config.json and checked by ``--resume``.
        name: the problem's name (the default run folder is ``runs/<name>``).
        training: the schedule and the settings every family shares.
        tolerance: what each validated quantity must reach.
    """

    family: ClassVar[str]
    name: str
    training: Training
    tolerance: Mapping[str, float]

    def identity(self) -> dict[str, Any]:
        """What ``--resume`` compares with the run it continues: a run of another problem is refused."""
        return {"problem": self.name, "family": self.family}

    def sections(self) -> dict[str, Any]:
        """The settings ``--set SECTION.FIELD=VALUE`` reaches besides the training's, by section name
        (each a frozen dataclass)."""
        return {}

    def with_settings(self, **changes: Any) -> "Declaration":
        """A copy with ``training`` and sections (by name) replaced."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def build_reference(self) -> Any | None:
        """The classical reference the trained model is judged by (it has ``description`` and
        ``error_estimate``), or None; it never steers training."""
        return None

    @abc.abstractmethod
    def trainer(self, reference: Any | None) -> Any:
        """The :class:`pinn.train.trainer.Trainer` of this problem, its checks against ``reference``."""

    @abc.abstractmethod
    def finish(self, trainer: Any, reference: Any | None, folder: Any) -> Outcome:
        """Validate the trained model, write ``folder.solution`` and the figures under ``folder.plots``."""

    def describe(self) -> dict[str, Any]:
        """Facts of the declaration for config.json (JSON values)."""
        return {}

    def functions(self) -> dict[CodeType, str]:
        """The user's functions by code object and what each is (``vector field``), so that a fault in one
        is named."""
        return {}
