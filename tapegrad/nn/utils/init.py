"""``skip_init``: a module made without its initialisation, as ``torch.nn.utils.skip_init``."""

import inspect

from ...grad_mode import no_grad
from ...random import get_rng_state, set_rng_state
from ..module import Module


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with its parameters and buffers left as ``tg.empty``
    leaves them (zeros), for a custom initialisation to fill: the constructor's random draws
    are undone, so the generator is where it was (PyTorch builds the module on the meta device
    and moves it with ``to_empty``; its values are whatever memory held). The module must take a
    ``device`` argument, as PyTorch requires."""
    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs["device"] = kwargs.pop("device", "cpu")
    state = get_rng_state()
    try:
        module = module_cls(*args, **kwargs)
    finally:
        set_rng_state(state)
    with no_grad():
        for t in (*module.parameters(), *module.buffers()):
            t.zero_()
    return module
