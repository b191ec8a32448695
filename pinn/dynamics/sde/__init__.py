"""Neural SDEs: drift and diffusion learnt from sample paths, validated against closed-form statistics.

Declare an :class:`SDEProblem` (terms :class:`Known`, :class:`Parametric` with ``pinn.Unknown``
coefficients, or :class:`Neural`; ``noise="general"`` for a d x d noise matrix, built with
:func:`matrix`; paths as :class:`pinn.dynamics.Trajectory` objects, e.g. from :func:`paths_from_arrays`;
a reference from :mod:`pinn.dynamics.sde.references`, or for several states
:class:`MultivariateOrnsteinUhlenbeck`; ``latent=LatentSDE(observation_noise=s)`` for paths observed
with noise, trained by a latent SDE's evidence lower bound) and run it with
``python -m pinn.solve FILE`` or :func:`pinn.fit` (a run folder), or :func:`fit_sde` (in memory).
"""
from pinn.dynamics.sde.paths import paths_from_arrays
from pinn.dynamics.sde.likelihood import Likelihood, TransitionLikelihood
from pinn.dynamics.sde.latent import LatentSDE
from pinn.dynamics.sde.elbo import ELBO
from pinn.dynamics.sde.model import SDEModel
from pinn.dynamics.sde.fit import SDEFit, fit_sde
from pinn.dynamics.sde.problem import SDEProblem
from pinn.dynamics.sde.validator import SDEValidator
from pinn.dynamics.sde.references import GeometricBrownian, GradientDiffusion, OrnsteinUhlenbeck, Reference
from pinn.dynamics.sde.multivariate import MultivariateOrnsteinUhlenbeck
from pinn.dynamics.sde.terms import Known, Neural, Parametric, matrix
from pinn.dynamics.sde.validation import Validation

__all__ = ["ELBO", "LatentSDE", "TransitionLikelihood", "GeometricBrownian", "GradientDiffusion", "Known", "Neural", "OrnsteinUhlenbeck",
           "Likelihood", "MultivariateOrnsteinUhlenbeck", "Parametric", "Reference", "SDEFit", "SDEModel", "SDEProblem", "SDEValidator", "Validation",
           "fit_sde", "matrix", "paths_from_arrays"]
