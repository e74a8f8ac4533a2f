"""``linear`` of a 2-D input with a bias, ``x @ W.T + b``, as one op: PyTorch records
``nn.Linear`` on a batch as one ``addmm`` (``AddmmBackward0``). Composed, it was a transpose
view of ``W``, a matrix product through that view and a broadcast addition of ``b``: three
records, ~37 µs for a (128, 30) batch into 64 features, where the product itself takes 13.

The value is one BLAS call and the bias added in place. Derivatives (PyTorch's addmm with
``mat2 = W.T``), ``g`` the output's gradient:

* input: ``g @ W``;  weight: ``g.T @ x``;  bias: ``g`` summed over the batch.

Each product is skipped for an input that needs no gradient. The re-taping rule states the
same with tapegrad ops, so every higher order is the composition's.
"""

import numpy as np

from ..vecmath.wide_sums import leading_sum as _leading_sum
from ..registry import Op, defop
from ..tensor import _make, _wrap
from . import record as R
from .activations import fusable  # (a plain CPU real tensor, outside the tracer)

_LINEAR = int(Op.LINEAR)
_state = R._state
_dot = np.dot


def linear(x, w, b):
    """``x @ w.T + b`` recorded as one op, or None where the composition must do it: other
    than a 2-D input, 2-D weight and 1-D bias, all CPU tensors of one real float dtype whose
    shapes fit (the composition then gives PyTorch's messages). ``w`` and ``b`` are tensors
    or parameters, not vmap's batched tensors (the caller's test)."""
    if not fusable(x):
        return None
    R.refresh_views(x, w, b)  # (values read before the record is made)
    xd, wd, bd = x._data, w._data, b._data
    if not (type(xd) is np.ndarray and type(wd) is np.ndarray and type(bd) is np.ndarray and
            xd.ndim == 2 and wd.ndim == 2 and bd.ndim == 1 and xd.dtype == wd.dtype == bd.dtype
            and xd.shape[1] == wd.shape[1] and bd.shape[0] == wd.shape[0]):
        return None
    value = _dot(xd, wd.T)
    value += bd
    value = _wrap(value)
    if not ((x._rg or w._rg or b._rg) and _state.grad_enabled):
        return _make(value)
    params = None if (x._rg and w._rg and b._rg) else {"needs": (x._rg, w._rg, b._rg)}
    return R.python_result(value, _LINEAR, (x, w, b), save_inputs=(0, 1), params=params)


def _linear_vjp_into(g, inputs, out, targets, needs=(True, True, True)):
    """The three gradients, each product written into its target where given (an unreached
    arena slot of ``g``'s dtype: the sweep then copies nothing)."""
    x, w, _ = inputs
    tx, tw, tb = targets if g.dtype is x.dtype else (None, None, None)
    gx = (_dot(g, w) if tx is None else _dot(g, w, out=tx)) if needs[0] else None
    gw = (_dot(g.T, x) if tw is None else _dot(g.T, x, out=tw)) if needs[1] else None
    gb = _leading_sum(g, tb) if needs[2] else None  # (float32: in float64 over many rows)
    return gx, gw, gb


def _linear_vjp_np(g, inputs, out, needs=(True, True, True)):
    return _linear_vjp_into(g, inputs, out, (None, None, None), needs)


def _linear_vjp(g, inputs, out, needs=(True, True, True)):
    """The same rule in tapegrad ops, for re-taping."""
    from .linalg import matmul
    from .movement import sum, transpose

    x, w, _ = inputs
    return (matmul(g, w) if needs[0] else None,
            matmul(transpose(g, 0, 1), x) if needs[1] else None,
            sum(g, 0) if needs[2] else None)


def _linear_jvp_np(tangents, inputs, out, needs=(True, True, True)):
    """``dx @ W.T + x @ dW.T + db`` for k tangent directions (a leading dim)."""
    x, w, _ = inputs
    tx, tw, tb = tangents
    res = 0.0
    if tx is not None:
        res = res + tx @ w.T
    if tw is not None:
        res = res + x @ np.swapaxes(tw, -1, -2)
    if tb is not None:
        res = res + tb[:, None, :]
    return res


defop(Op.LINEAR, "linear", "python", "AddmmBackward0", vjp=_linear_vjp,
      vjp_np=_linear_vjp_np, vjp_into=_linear_vjp_into, jvp_np=_linear_jvp_np)
