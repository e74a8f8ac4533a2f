"""Which operands a record may keep when one of them is an inference tensor.

Outside inference mode PyTorch refuses to save an inference tensor for backward ("Inference
tensors cannot be saved for backward"), but its product ops save an operand only for the
other operand's gradient: ``x * n``, ``x @ n`` (mm, mv, dot, linear) keep ``n`` only when
``x`` requires grad, and ``x / n`` keeps ``x`` only when ``n`` requires grad. So an inference
tensor requiring grad multiplied by a normal tensor that requires none records (its gradient
reads only the normal one). tapegrad's records keep both operands; this module decides, on
the cold path where a saved operand is an inference tensor, whether PyTorch would have
refused it.
"""

from .. import tensor as _tensor_mod
from ..registry import REGISTRY, Op

# op code -> names of the saved operands PyTorch keeps only for the other's gradient
_FOR_OTHER = {int(Op.MUL): ("x", "y"), int(Op.DIV): ("x",), int(Op.MATMUL): ("x", "y"),
              int(Op.LINEAR): ("x", "y")}


def refuse_save(op, x, y, t):
    """Raise PyTorch's error for record ``op`` of ``x`` and ``y`` saving the inference tensor
    ``t`` (one of them), unless PyTorch keeps it only for the gradient of the other operand
    and that one requires no grad."""
    from .record import INFERENCE_SAVE_MSG

    other = y if t is x else x
    if ("x" if t is x else "y") in _FOR_OTHER.get(int(op), ()) and \
            (other is None or not other.requires_grad):
        return
    raise RuntimeError(INFERENCE_SAVE_MSG)


def refuse_stamps(op, ts, stamps, inference_stamp):
    """``refuse_save`` for each saved operand of ``op`` (``stamps`` in its ``saves`` order, an
    inference tensor's being ``inference_stamp``); ``ts`` are the record's inputs."""
    saves = REGISTRY[int(op)].saves if int(op) in REGISTRY else ()
    for k, s in enumerate(stamps):
        if s is inference_stamp:
            name = saves[k] if k < len(saves) else "out"
            if name not in ("x", "y") or len(ts) != 2:
                from .record import INFERENCE_SAVE_MSG

                raise RuntimeError(INFERENCE_SAVE_MSG)
            x, y = ts
            refuse_save(op, x, y, x if name == "x" else y)


def refuse_inputs(op, inputs, save_inputs):
    """``refuse_save`` for the saved inputs of a record of several inputs (a matmul's two)."""
    for i in save_inputs:
        t = inputs[i]
        if t._inference:
            if len(inputs) == 2:
                refuse_save(op, inputs[0], inputs[1], t)
            else:
                from .record import INFERENCE_SAVE_MSG

                raise RuntimeError(INFERENCE_SAVE_MSG)


def _recording(ts):
    from .. import grad_mode as _gm

    s = _gm._state
    return s.grad_enabled and not s.inference and any(t.requires_grad for t in ts)


def refuse_any_saved(*operands):
    """PyTorch's error where a recorded op saves all its tensor ``operands`` (clamp with a
    tensor bound: ClampBackward1 keeps input, min and max) and one is an inference tensor."""
    from ..tensor import Tensor

    ts = [t for t in operands if isinstance(t, Tensor)]
    if any([t._inference for t in ts]) and _recording(ts):
        from .record import INFERENCE_SAVE_MSG

        raise RuntimeError(INFERENCE_SAVE_MSG)


def refuse_saved_key(x, key, value):
    """PyTorch's error for ``x[key] = value`` (index_put_) recorded with an index tensor made
    in inference mode: IndexPutBackward0 saves the indices (a 0-d integer index is a number to
    PyTorch: not saved)."""
    if not _tensor_mod._inference_used:  # (no inference tensor was ever made: the common case)
        return
    Tensor = _tensor_mod.Tensor
    items = key if type(key) is tuple else (key,)
    if any([isinstance(k, Tensor) and k._inference and (k.ndim or k.dtype.kind == "b")
            for k in items]) and _recording([t for t in (x, value) if isinstance(t, Tensor)]):
        from .record import INFERENCE_SAVE_MSG

        raise RuntimeError(INFERENCE_SAVE_MSG)


def refuse_saved_mask(mask, *operands):
    """``mask`` (returned), after PyTorch's error where it is an inference tensor and the op
    records (an operand requires grad): where, masked_fill, masked_select and masked_scatter
    save their mask or condition for backward."""
    if _tensor_mod._inference_used and isinstance(mask, _tensor_mod.Tensor) and \
            mask._inference:
        refuse_any_saved(mask, *operands)
    return mask
