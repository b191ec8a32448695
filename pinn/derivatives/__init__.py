"""Derivative engines: nested autograd (the reference) and forward Taylor mode through the network.

See :mod:`pinn.derivatives.engine` for how one is chosen; residuals never change.
"""
