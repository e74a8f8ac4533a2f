"""A ufunc's ``out=`` (and ``where=`` beside it) naming a tensor, with a gradient at stake:
``np.divide(a, b, out=np.zeros_like(a), where=b != 0)``, NumPy's safe division, or
``np.exp(x, out=y)``.

The ufunc runs as a tapegrad op; where ``where=`` is given, the entries it leaves out keep
``out``'s values; the result is then copied into ``out`` in place (``copy_``, recorded like
``t[...] = v``: the gradient reaches the inputs where they were written and ``out``'s earlier
values where they were kept; a leaf that requires grad is refused, as PyTorch refuses an
in-place op on one). NumPy's rules hold: ``out`` keeps its dtype (a ``same_kind`` cast) and its
shape, to which the inputs broadcast. An ndarray ``out`` cannot hold a gradient and stays
refused (also ``a += t`` on an ndarray, which NumPy runs as ``np.add(a, t, out=a)``), as do the
methods (``reduce``, ``accumulate``...) and other arguments.
"""

import numpy as np

from ..ops.record import as_tensor as _t
from ..tensor import Tensor
from . import _not_implemented, _op, _qualified, _Unsupported, ufunc_handler


def ndarray_refusal(name):
    return TypeError(
        f"{_qualified(name)} would write a result that requires grad into a NumPy array "
        "(out=, or an in-place operator such as a += t on an ndarray), which cannot hold "
        "its gradient; write a = a + t, or start from a tensor (np.zeros_like(t), tg.zeros)")


def _selected(v, shape, mask):
    """An input's entries at ``mask`` (broadcast to ``shape``), 1-D; a Python number as is."""
    if isinstance(v, Tensor):
        return _op("broadcast_to")(v, shape)[mask]
    if isinstance(v, (int, float, complex, np.generic)):
        return v
    return np.broadcast_to(np.asarray(v), shape)[mask]


def _overlap(v, target):
    if v is target:
        return True
    a, b = v._data, target._data
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.may_share_memory(a, b)


def written_out(ufunc, method, inputs, kwargs, name):
    """``ufunc(*inputs, out=..., where=...)`` with a gradient at stake: ``out`` written in place
    and returned, as NumPy returns it; or the refusal (``TypeError``)."""
    out = kwargs["out"]
    outs = out if isinstance(out, tuple) else (out,)
    if any(isinstance(o, np.ndarray) for o in outs):
        raise ndarray_refusal(name)
    others = sorted(set(kwargs) - {"out", "where"})
    handler = ufunc_handler(ufunc) if method == "__call__" else None
    if handler is None or len(outs) != 1 or not isinstance(outs[0], Tensor) or others:
        raise _not_implemented(name, ", ".join(f"{k}=" for k in ["out"] + others))
    target = outs[0]
    shape = tuple(target.shape)
    shapes = [np.shape(v) for v in inputs]
    try:
        full = np.broadcast_shapes(*shapes, shape)
    except ValueError:  # (NumPy's words)
        raise ValueError("operands could not be broadcast together with shapes "
                         + " ".join(str(s) for s in shapes + [shape])) from None
    if full != shape:
        raise ValueError(f"non-broadcastable output operand with shape {shape} doesn't match "
                         f"the broadcast shape {np.broadcast_shapes(*shapes)}")
    where = kwargs.get("where", True)
    mask = None
    if where is not True:  # the ufunc sees only the entries where= selects, as in NumPy
        mask = np.broadcast_to(np.asarray(_t(where)._data, dtype=bool), shape)
        inputs = [_selected(v, shape, mask) for v in inputs]
    else:  # (the op may save an input that the copy overwrites)
        inputs = [v.clone() if isinstance(v, Tensor) and _overlap(v, target) else v
                  for v in inputs]
    try:
        r = _t(handler(*inputs))
    except _Unsupported as e:
        raise _not_implemented(name, str(e) or "out=") from None
    if not np.can_cast(r.dtype, target.dtype, "same_kind"):
        raise TypeError(f"Cannot cast ufunc '{ufunc.__name__}' output from {r.dtype!r} to "
                        f"{target.dtype!r} with casting rule 'same_kind'")
    if mask is not None:
        target[mask] = r.to(target.dtype)
        return target
    target.copy_(r)
    return target
