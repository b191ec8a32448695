"""Moved to :mod:`pinn.output.files` (issue 14); kept only for :mod:`pinn.plots`, which imports it,
until the plots move into their own package: remove this module then."""
from pinn.output.files import *  # noqa: F401,F403
