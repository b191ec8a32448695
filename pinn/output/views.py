"""Quantities added for viewing a solution (in ParaView): the velocity and displacement vectors and the
speed, found by the names of the outputs. They are not validated and not in solution.h5: they are
computed from the fields it holds, to be drawn (glyphs, streamlines, a deformed shape, a colour map)."""
from __future__ import annotations

import numpy as np

VECTORS = {"velocity": ("u", "v", "w"), "displacement": ("ux", "uy", "uz")}
"""A vector per name, made of those components the fields have (the first two at least), in this order."""


def vectors(fields: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The vectors of ``fields`` (arrays of one shape), each with 3 components (a 2-D one padded with zeros,
    as viewers expect), shaped ``(*shape, 3)``."""
    found = {}
    for name, components in VECTORS.items():
        present = [c for c in components if c in fields]
        if present[:2] != list(components[:2]):
            continue
        parts = [np.asarray(fields[c], dtype=np.float64) for c in present]
        parts += [np.zeros_like(parts[0])] * (3 - len(parts))
        found[name] = np.stack(parts, axis=-1)
    return found


def speed(fields: dict[str, np.ndarray]) -> np.ndarray | None:
    """The magnitude of the velocity of ``fields``, or None where they hold no velocity (or a field already
    named ``speed``, such as a problem's own derived quantity)."""
    velocity = vectors(fields).get("velocity")
    if velocity is None or "speed" in fields:
        return None
    return np.sqrt(np.sum(velocity ** 2, axis=-1))
