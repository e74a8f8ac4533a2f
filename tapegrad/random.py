"""``tg.random``: the default generator's functions under ``torch.random``'s names.

There is one default generator for every device (CUDA tensors' random values are drawn on the
host and copied over), so seeding, saving or forking it covers them all.
"""

import contextlib

from .creation import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,
                       seed, set_rng_state)

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed",
           "manual_seed", "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type="cuda"):
    """Inside the block, draw and seed freely: on exit the default generator has the state
    (and initial seed) it had on entry. ``devices``/``device_type`` are accepted for
    PyTorch's signature; the one default generator serves every device."""
    if not enabled:
        yield
        return
    state, initial = default_generator._rng.bit_generator.state, default_generator.initial_seed()
    try:
        yield
    finally:
        default_generator._initial_seed = initial
        default_generator._rng.bit_generator.state = state  # (also after a manual_seed inside)
