"""Learned dynamics: neural ODEs, universal differential equations and neural SDEs."""
