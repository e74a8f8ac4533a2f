"""Compositions that are one op in PyTorch, on inference tensors only.

Outside inference mode, PyTorch's op whose tensor inputs are all inference tensors records
nothing. A composition of such inputs records wherever one of its steps takes a number that
PyTorch would wrap (``where(c, x, 0.0)``, ``x + 3``, ``x * 0.5``: ops/record._WRAPPED), so its
result required grad (or a step refused to save an inference tensor) where PyTorch's one op
gives a result requiring none. Such compositions ask ``untracked`` first (after reading
``tensor._inference_used``) and run under no_grad where it says so.
"""

from .. import grad_mode as _gm
from ..tensor import Tensor

_state = _gm._state


def untracked(*args):
    """Whether a composition PyTorch computes as one op, of the arguments ``args``, records
    nothing: every tensor among them an inference tensor, outside inference mode with grad
    on."""
    if _state.grad_enabled is not True or _state.inference:
        return False
    ts = [a for a in args if isinstance(a, Tensor)]
    return bool(ts) and all([t._inference for t in ts])
