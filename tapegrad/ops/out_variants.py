"""PyTorch ops that compute into an ``out=`` tensor internally: used outside inference mode on
an inference tensor that requires grad (an op of inference tensors only, which records
nothing), with grad mode on, PyTorch's out= variant refuses it: "abs(): functions with out=...
arguments don't support automatic differentiation, but one of the arguments requires grad."
(abs, hardtanh, logsumexp, a number to a tensor power, and var/std over every dimension: their
``sum``). Other ops of inference tensors only record nothing, without an error."""

from .. import grad_mode as _gm
from ..registry import Op

_state = _gm._state
_NAMES = {int(Op.ABS): "abs", int(Op.HARDTANH): "hardtanh", int(Op.LOGSUMEXP): "logsumexp",
          int(Op.RPOWC): "pow"}


def refuse_out(name, x):
    """PyTorch's out= error for op ``name`` where ``x`` is an inference tensor requiring grad,
    outside inference mode with grad mode on."""
    if x._inference and x._rg and _state.grad_enabled and not _state.inference:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                           "automatic differentiation, but one of the arguments requires grad.")


def untracked_inputs(op, inputs):
    """True (record nothing) for record ``op`` of the inference tensors ``inputs`` only,
    outside inference mode; PyTorch's out= error where its op is an out= variant."""
    name = _NAMES.get(op)
    if name is not None:
        for x in inputs:
            refuse_out(name, x)
    return True
