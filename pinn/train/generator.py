"""A numpy generator's state as a checkpoint keeps it (plain numbers and strings, so that torch's
``weights_only`` loading accepts it), and its restoration: every objective that draws at random saves it
so that a resumed run draws what the uninterrupted run would have."""
from __future__ import annotations

import numpy as np


def generator_state(rng: np.random.Generator) -> dict:
    """``rng``'s state, for a checkpoint."""
    # Stored as strings: 128-bit integers are not plain tensors, and weights_only loading accepts str.
    state = rng.bit_generator.state
    return {"bit_generator": state["bit_generator"], "state": str(state["state"]["state"]),
            "inc": str(state["state"]["inc"]), "has_uint32": int(state["has_uint32"]),
            "uinteger": int(state["uinteger"]), "spawned": int(rng.bit_generator.seed_seq.n_children_spawned)}


def _restore_spawned(rng: np.random.Generator, spawned: int | None) -> None:
    """Bring the count of generators spawned from ``rng``'s seed sequence to ``spawned``. Scipy's
    Sobol, Halton and Latin-hypercube samplers draw from a generator spawned from it, which the bit
    generator's ``state`` does not capture: without this, a resumed run's next draw of points would
    differ from the uninterrupted run's."""
    if spawned is None:  # a checkpoint from before the count was kept
        return
    missing = int(spawned) - rng.bit_generator.seed_seq.n_children_spawned
    if missing < 0:
        raise ValueError(f"its sampler spawned {spawned} generators, fewer than a fresh run already has")
    rng.bit_generator.seed_seq.spawn(missing)


def _state(saved: dict) -> dict:
    return {"bit_generator": saved["bit_generator"],
            "state": {"state": int(saved["state"]), "inc": int(saved["inc"])},
            "has_uint32": saved["has_uint32"], "uinteger": saved["uinteger"]}


def restore_generator(rng: np.random.Generator, saved: dict) -> None:
    """Bring ``rng`` to the state :func:`generator_state` saved."""
    rng.bit_generator.state = _state(saved)
    _restore_spawned(rng, saved.get("spawned"))
