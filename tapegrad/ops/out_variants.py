"""PyTorch ops that compute into an ``out=`` tensor internally: used outside inference mode on
an inference tensor that requires grad (an op of inference tensors only, which records
nothing), with grad mode on, PyTorch's out= variant refuses it: "abs(): functions with out=...
arguments don't support automatic differentiation, but one of the arguments requires grad."
(abs, hardtanh, logsumexp, a number to a tensor power, and var/std over every dimension: their
``sum``). Other ops of inference tensors only record nothing, without an error, but for a
matrix-vector product (``M @ v``, mv), which PyTorch refuses as it would a save."""

from .. import grad_mode as _gm
from ..registry import Op
from ..tensor import _make

_state = _gm._state
_MATMUL = int(Op.MATMUL)
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
    elif op == _MATMUL and len(inputs) == 2:
        _refuse_mv(*inputs)
    return True


def untracked_pair(op, x, y, value):
    """``value`` as a tensor recording nothing, for a matmul of the inference tensors ``x``
    and ``y`` (or any op inside inference mode): PyTorch's error for mv outside the mode."""
    if not _state.inference and op == _MATMUL:
        _refuse_mv(x, y)
    return _make(value)


def _refuse_mv(x, y):
    if x.ndim == 2 and y.ndim == 1 and (x._rg or y._rg) and _state.grad_enabled:
        from .record import INFERENCE_SAVE_MSG

        raise RuntimeError(INFERENCE_SAVE_MSG)
