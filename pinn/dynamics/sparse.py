"""Naming what a network learned: a sparse regression of its output over a small library of terms.

After a universal differential equation is trained, :class:`SparseTerms` fits each of the network's
outputs, evaluated along the training trajectories, as a sparse combination of candidate terms
(``1, x, y, x^2, x y, y^2`` for polynomials of degree 2), by sequentially thresholded least squares
(STLSQ, Brunton, Proctor & Kutz 2016): least squares, then terms with coefficients below the threshold
dropped, repeated until the set settles. Expected terms with their true coefficients make each a checked
parameter of metrics.json.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class SparseTerms:
    """Sparse regression of the network's outputs over polynomials of the states.

    Args:
        outputs: a name for each network output (e.g. ``("x", "y")``: the interaction in dx/dt and dy/dt).
        degree: the library's largest polynomial degree.
        threshold: coefficients smaller than this (in absolute value) are dropped.
        expected: the true coefficient of each term, ``{output: {term: value}}`` with terms written as in the
            library (``"x*y"``, ``"x^2"``, ``"1"``); each becomes a metrics.json parameter
            ``<output>:<term>``, checked against ``tolerance`` (relative), and any term found that is not
            expected fails the check.
        tolerance: the relative error each expected coefficient must reach.
        points: evaluation points along the training trajectories.
    """

    outputs: tuple[str, ...]
    degree: int = 2
    threshold: float = 0.05
    expected: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    tolerance: float | None = None
    points: int = 400

    def __post_init__(self) -> None:
        outputs = tuple(self.outputs.split()) if isinstance(self.outputs, str) else tuple(self.outputs)
        if not outputs or not all(isinstance(o, str) and o for o in outputs):
            raise ValueError(f"SparseTerms outputs must name each network output, got {self.outputs!r}")
        object.__setattr__(self, "outputs", outputs)
        if isinstance(self.degree, bool) or not isinstance(self.degree, int) or not 1 <= self.degree <= 5:
            raise ValueError(f"SparseTerms degree must be a whole number from 1 to 5, got {self.degree!r}")
        if not (isinstance(self.threshold, (int, float)) and self.threshold >= 0):
            raise ValueError(f"SparseTerms threshold must be a number >= 0, got {self.threshold!r}")
        unknown = [o for o in self.expected if o not in outputs]
        if unknown:
            raise ValueError(f"SparseTerms expected names outputs {unknown} that are not among {list(outputs)}")
        if self.tolerance is not None and not (isinstance(self.tolerance, (int, float)) and self.tolerance > 0):
            raise ValueError(f"SparseTerms tolerance must be a number > 0 or None, got {self.tolerance!r}")


def library(values: np.ndarray, states: Sequence[str], degree: int) -> tuple[np.ndarray, list[str]]:
    """Every monomial of the states up to ``degree``: the matrix (points, terms) and each term's name."""
    columns, names = [np.ones(len(values))], ["1"]
    for power in range(1, degree + 1):
        for combination in itertools.combinations_with_replacement(range(len(states)), power):
            columns.append(np.prod(values[:, list(combination)], axis=1))
            counts = {states[i]: combination.count(i) for i in sorted(set(combination))}
            names.append("*".join(name if c == 1 else f"{name}^{c}" for name, c in counts.items()))
    return np.stack(columns, axis=1), names


def stlsq(theta: np.ndarray, target: np.ndarray, threshold: float, rounds: int = 20) -> np.ndarray:
    """Sequentially thresholded least squares: sparse ``xi`` with ``theta @ xi ≈ target``. Columns are
    scaled to unit norm for the fit, and the threshold applies to the coefficients in the original scale."""
    norms = np.linalg.norm(theta, axis=0)
    norms = np.where(norms > 0, norms, 1.0)
    scaled = theta / norms
    keep = np.ones(theta.shape[1], dtype=bool)
    xi = np.zeros(theta.shape[1])
    for _ in range(rounds):
        xi = np.zeros(theta.shape[1])
        if keep.any():
            xi[keep] = np.linalg.lstsq(scaled[:, keep], target, rcond=None)[0] / norms[keep]
        small = np.abs(xi) < threshold
        if not np.any(small & keep):
            break
        keep &= ~small
    return xi


def discover(spec: SparseTerms, values: np.ndarray, outputs: np.ndarray,
             states: Sequence[str]) -> tuple[dict[str, dict[str, float]], dict[str, dict]]:
    """The terms found for each output, and the metrics.json parameters for the expected ones (and for any
    unexpected term found, which fails)."""
    theta, names = library(values, states, spec.degree)
    found: dict[str, dict[str, float]] = {}
    for k, output in enumerate(spec.outputs):
        xi = stlsq(theta, outputs[:, k], spec.threshold)
        found[output] = {name: float(c) for name, c in zip(names, xi) if c != 0.0}
    parameters = {}
    for output, terms in spec.expected.items():
        for term, true in terms.items():
            value = found[output].get(term, 0.0)
            error = abs(value - true) / (abs(true) or 1.0)
            parameters[f"{output}:{term}"] = {
                "value": value, "initial": None, "true_value": float(true), "rel_error": error,
                "tolerance": spec.tolerance,
                "passed": None if spec.tolerance is None else bool(error <= spec.tolerance)}
    for output in spec.expected:
        for term, value in found[output].items():
            if term not in spec.expected[output]:  # a term the truth does not have: the discovery is wrong
                parameters[f"{output}:{term}"] = {
                    "value": value, "initial": None, "true_value": 0.0, "rel_error": math.inf,
                    "tolerance": spec.tolerance, "passed": None if spec.tolerance is None else False}
    return found, parameters


class SparseNet(nn.Module):
    """The found terms in place of the network: output ``k`` is ``sum_j c_kj * term_j(inputs)``. A field that
    reads ``m.net(s.values)`` then runs with the discovered terms, to forecast with them."""

    def __init__(self, found: dict[str, dict[str, float]], outputs: Sequence[str], states: Sequence[str],
                 degree: int) -> None:
        super().__init__()
        self.states, self.degree = tuple(states), degree
        _, names = library(np.zeros((1, len(states))), states, degree)
        coefficients = np.array([[found[o].get(name, 0.0) for o in outputs] for name in names])
        self.register_buffer("coefficients", torch.tensor(coefficients, dtype=torch.float64))

    def forward(self, values: Tensor) -> Tensor:
        columns = [torch.ones_like(values[:, 0])]
        for power in range(1, self.degree + 1):
            for combination in itertools.combinations_with_replacement(range(len(self.states)), power):
                columns.append(torch.prod(values[:, list(combination)], dim=1))
        return torch.stack(columns, dim=1) @ self.coefficients.to(values.dtype)
