"""An SDE learnt from sample paths: the declaration, and training with validation from Python.

A problem file declares::

    problem = SDEProblem(
        name="ornstein_uhlenbeck", states="x",
        drift=Parametric(lambda x, t, p: p.theta * (p.mu - x), [theta, mu]),
        diffusion=Parametric(lambda x, t, p: p.sigma, [sigma]),
        paths=paths_from_arrays(times, values),
        reference=OrnsteinUhlenbeck(theta=1.0, mu=0.5, sigma=0.5, start=2.0),
        tolerance={"theta": 0.02, "sigma": 0.02},
    )

and ``python -m pinn.solve FILE`` (or :func:`pinn.fit`) trains it with the transition likelihood on the
shared trainer, validates it (:mod:`pinn.dynamics.sde.validation`) and writes the run folder;
:func:`~pinn.dynamics.sde.fit.fit_sde` does the same in memory, without a folder. ``tolerance`` names
coefficients (relative error) and, where the reference has a stationary density, ``"density"`` (L1);
the moments (3 standard errors plus the bias) and the terminal two-sample test are always required.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import CodeType
from typing import Any, ClassVar

import torch

from pinn.declaration import Declaration, Outcome
from pinn.dynamics.sde.elbo import ELBO
from pinn.dynamics.sde.latent import LatentSDE
from pinn.dynamics.sde.paths import bounds, check_paths
from pinn.dynamics.sde.likelihood import Likelihood, TransitionLikelihood
from pinn.dynamics.sde.model import SDEModel
from pinn.dynamics.sde.posterior import LatentModel
from pinn.dynamics.sde.references import Reference
from pinn.dynamics.sde.terms import NOISES, Known, Neural, Parametric, Term
from pinn.dynamics.sde.validation import Validation
from pinn.dynamics.sde.validator import SDEValidator
from pinn.dynamics.trajectories import Trajectory
from pinn.pde.unknowns import Unknown
from pinn.train.phases import LBFGS, Adam
from pinn.train.settings import Training
from pinn.train.trainer import Trainer, resolve_device


@dataclass(frozen=True)
class SDEProblem(Declaration):
    """A stochastic differential equation ``dX = f(X, t) dt + g(X, t) dW`` to learn from sample paths.

    Args:
        name: names the run (default folder ``runs/<name>``).
        states: the state names, e.g. ``"x"`` (one value per state at each time of each path).
        drift: :class:`~pinn.dynamics.sde.terms.Known`, ``Parametric`` or ``Neural``.
        diffusion: :class:`~pinn.dynamics.sde.terms.Known`, ``Parametric`` or ``Neural``.
        paths: the observed sample paths (:class:`pinn.dynamics.Trajectory`, e.g. from
            :func:`~pinn.dynamics.sde.paths_from_arrays` or :func:`pinn.dynamics.read_trajectories`).
        reference: the true SDE's closed forms it is validated against (as many states as ``states``).
        tolerance: relative error per coefficient name, and ``"density"`` (L1 of the stationary density).
        validation: how the learnt SDE is simulated and compared (``--set validation.paths=4000``).
        likelihood: the training objective's scheme and batches (``--set likelihood.scheme=...``).
        latent: the paths are noisy observations of the SDE: train it by the evidence lower bound of a
            latent SDE with these settings (:class:`~pinn.dynamics.sde.latent.LatentSDE`; ``--set
            latent.step=...``) instead of the transition likelihood. Diagonal noise only.
        training: the optimiser schedule and numerics (dtype, device, seed).
        noise: ``"diagonal"`` (the diffusion gives one noise level per state) or ``"general"`` (the
            diffusion gives the d x d matrix ``S`` of ``dX = f dt + S dW``, e.g. with
            :func:`~pinn.dynamics.sde.terms.matrix`).
    """

    family: ClassVar[str] = "sde"

    name: str
    states: str | tuple[str, ...]
    drift: Term
    diffusion: Term
    paths: Sequence[Trajectory]
    reference: Reference
    tolerance: Mapping[str, float] = field(default_factory=dict)
    validation: Validation = Validation()
    likelihood: Likelihood = Likelihood()
    training: Training = Training([Adam(300, learning_rate=0.05), LBFGS(50)])
    noise: str = "diagonal"
    latent: LatentSDE | None = None

    def __post_init__(self) -> None:
        label = f"SDEProblem {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"SDEProblem name must be a non-empty string, got {self.name!r}")
        states = tuple(self.states.split()) if isinstance(self.states, str) else tuple(self.states)
        if not states or not all(isinstance(s, str) and s.isidentifier() for s in states):
            raise ValueError(f"{label}: states must name each state, e.g. 'x' or 'x y', got {self.states!r}")
        object.__setattr__(self, "states", states)
        for role in ("drift", "diffusion"):
            if not isinstance(getattr(self, role), (Known, Parametric, Neural)):
                raise ValueError(f"{label}: {role} must be Known, Parametric or Neural, got {getattr(self, role)!r}")
        for section, kind in (("validation", Validation), ("likelihood", Likelihood), ("training", Training),
                              ("reference", Reference)) + ((("latent", LatentSDE),) if self.latent is not None else ()):
            if not isinstance(getattr(self, section), kind):
                raise ValueError(f"{label}: {section} must be a {kind.__name__}, got {type(getattr(self, section)).__name__}")
        object.__setattr__(self, "paths", check_paths(self.paths, states, label))
        if self.reference.states != len(states):
            raise ValueError(f"{label}: the reference has {self.reference.states} states, the problem {len(states)} "
                             f"({' '.join(states)})")
        if self.noise not in NOISES:
            raise ValueError(f"{label}: noise must be one of {', '.join(NOISES)}, got {self.noise!r}")
        if self.noise == "general" and isinstance(self.diffusion, Neural):
            raise ValueError(f"{label}: a Neural diffusion has diagonal noise only; general noise takes a Known "
                             "or Parametric matrix S(x, t)")
        constant = self.diffusion.function if isinstance(self.diffusion, Known) else None
        if self.noise == "diagonal" and constant is not None and not callable(constant) and not constant > 0:
            raise ValueError(f"{label}: the diffusion must be positive, got the constant {self.diffusion.function!r}")
        names = [u.name for u in self.unknowns]
        if len(set(names)) != len(names):
            raise ValueError(f"{label}: drift and diffusion declare the unknowns {names}; each name once")
        for key, value in dict(self.tolerance).items():
            if key not in names and key != "density":
                raise ValueError(f"{label}: tolerance names {key!r}, which is neither an unknown "
                                 f"({', '.join(names) or 'none'}) nor 'density'")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{label}: tolerance {key!r} must be a positive number, got {value!r}")
        if "density" in self.tolerance and self.reference.support is None:
            raise ValueError(f"{label}: a 'density' tolerance needs a reference with a stationary density")
        if self.latent is not None:
            if self.noise != "diagonal":
                raise ValueError(f"{label}: a latent SDE takes diagonal noise only, got noise={self.noise!r}")
            if self.likelihood != Likelihood():
                raise ValueError(f"{label}: latent trains by the evidence lower bound; the likelihood's settings "
                                 f"{self.likelihood} would not be used: leave one of them out")
            if self.latent.batch_paths > len(self.paths):
                raise ValueError(f"{label}: latent batch_paths {self.latent.batch_paths} exceeds the "
                                 f"{len(self.paths)} paths")
        steps = sum(len(p) - 1 for p in self.paths)
        if self.likelihood.batch_steps > steps:
            raise ValueError(f"{label}: likelihood batch_steps {self.likelihood.batch_steps} exceeds the {steps} "
                             "observed steps")
        object.__setattr__(self, "tolerance", dict(self.tolerance))

    @property
    def unknowns(self) -> tuple[Unknown, ...]:
        return (*self.drift.unknowns, *self.diffusion.unknowns)

    def build(self) -> tuple[TransitionLikelihood | ELBO, SDEValidator]:
        """The objective (with a fresh model, seeded by ``training.numerics.seed``) and the validator."""
        numerics = self.training.numerics
        dtype = getattr(torch, numerics.dtype)
        device = resolve_device(numerics.device)
        generator = torch.Generator().manual_seed(numerics.seed)
        lower, upper = (torch.tensor(b, dtype=dtype) for b in bounds(self.paths))
        model = SDEModel(self.drift, self.diffusion, len(self.states), lower, upper, generator,
                         self.noise).to(device, dtype)
        if self.latent is not None:
            return self._latent(model, lower, upper, generator, device)
        objective = TransitionLikelihood(model, self.paths, self.likelihood.batch_steps or None, seed=numerics.seed,
                                         brownian_seed=self.validation.seed, scheme=self.likelihood.scheme,
                                         curvature_steps=self.likelihood.curvature_steps)
        return objective, SDEValidator(self, objective)

    def _latent(self, model: SDEModel, lower: torch.Tensor, upper: torch.Tensor, generator: torch.Generator,
                device: torch.device) -> tuple[ELBO, SDEValidator]:
        d = len(self.states)
        centre, scale = (upper[:d] + lower[:d]) / 2, (upper[:d] - lower[:d]) / 2
        horizon = max(float(p.times[-1] - p.times[0]) for p in self.paths) or 1.0
        settings = self.latent
        module = LatentModel(model, settings.observation_noise, settings.learn_noise, settings.context, settings.width,
                             centre, scale, horizon, generator).to(device)
        seed = self.training.numerics.seed
        objective = ELBO(module, self.paths, settings, seed=seed, brownian_seed=self.validation.seed)
        return objective, SDEValidator(self, objective)

    # ------------------------------------------------------------ the family seam (pinn.fit, pinn.solve)
    def identity(self) -> dict[str, Any]:
        return {"problem": self.name, "family": self.family, "states": list(self.states),
                "unknowns": [u.name for u in self.unknowns]}

    def sections(self) -> dict[str, Any]:
        found = {"validation": self.validation, "likelihood": self.likelihood}
        if self.latent is not None:
            found["latent"] = self.latent
        return found

    def build_reference(self) -> Reference:
        return self.reference

    def trainer(self, reference: Any | None) -> Trainer:
        objective, validator = self.build()
        return Trainer(objective, self.training, validator.check)

    def finish(self, trainer: Trainer, reference: Any | None, folder: Any) -> Outcome:
        from pinn.dynamics.sde.finish import finish
        return finish(self, trainer, folder)

    def describe(self) -> dict[str, Any]:
        return {"states": list(self.states), "noise": self.noise, "drift": type(self.drift).__name__,
                "diffusion": type(self.diffusion).__name__, "unknowns": [u.name for u in self.unknowns],
                "paths": len(self.paths), "observed_steps": sum(len(p) - 1 for p in self.paths),
                "reference": self.reference.description,
                "validation": dataclasses.asdict(self.validation), "likelihood": dataclasses.asdict(self.likelihood),
                "latent": None if self.latent is None else dataclasses.asdict(self.latent)}

    def functions(self) -> dict[CodeType, str]:
        named = {}
        for role, term in (("drift", self.drift), ("diffusion", self.diffusion)):
            for attribute in ("function", "known"):
                function = getattr(term, attribute, None)
                if callable(function) and hasattr(function, "__code__"):
                    named[function.__code__] = role
        return named
