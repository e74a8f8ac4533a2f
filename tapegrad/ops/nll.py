"""``nll_loss`` of a CPU float (N, C) input as one op (``NllLossBackward0``), as PyTorch records
it: the log-probabilities at the target classes, weighted, negated, summed (or averaged by the
summed weights, or kept per row). The composition it replaces recorded an index gather, a
negation, a product, a select, a sum and a division (~60 µs for 32 rows). The values are that
composition's, bit for bit; so is the gradient, PyTorch's: ``-w_i * s`` at row ``i``'s target
class and 0 elsewhere, ``s`` the incoming gradient (divided by the summed weights for the mean;
row ``i``'s own for 'none'), 0 for ignored targets. It is linear in the input: the re-taping
rule is the incoming gradient times a constant, and every higher derivative is zero.
"""

import numpy as np

from ..registry import Op, defop
from ..tensor import _make, _wrap
from . import fused_softmax as _fused_softmax
from . import record as R

_NLL_LOSS = int(Op.NLL_LOSS)  # (a plain int on the record path: an enum member is ~0.12 µs)
_NO_WEIGHT = {np.dtype(t): np.empty(0, t) for t in (np.float64, np.float32)}


def nll_2d(x, targets, ignore_index, weight, reduction, shape=None):
    """The loss of the CPU float64/float32 tensor ``x`` (N, C) at the int64 ``targets`` (N,),
    with the class weights ``weight`` (an array or None); IndexError for a target out of
    range. ``shape``: that of the 'none' loss (the targets' of an (N, C, d1...) input: no
    reshape recorded after)."""
    xd = x._data
    n = xd.shape[0]
    vals, w = np.empty(n, xd.dtype), np.empty(n, xd.dtype)
    targets_used = np.empty(n, np.int64)  # (0 where ignored: every row's pick is in range)
    weight = _NO_WEIGHT[xd.dtype] if weight is None else np.ascontiguousarray(weight, xd.dtype)
    bad = _fused_softmax.row_kernels().nll_rows(
        xd if xd.flags.c_contiguous else np.ascontiguousarray(xd), targets, int(ignore_index),
        weight, vals, targets_used, w)
    if bad >= 0:
        raise IndexError(f"Target {int(targets[bad])} is out of bounds.")
    used = targets != ignore_index
    targets = targets_used
    denom = w.sum()
    if reduction == "none":
        value = vals if shape is None else vals.reshape(shape)
    else:
        value = _wrap(np.add.reduce(vals, axis=None))
        if reduction == "mean":
            if denom == 0:  # nothing to average: nan, and a zero gradient (PyTorch's)
                value = _wrap(np.asarray(value * 0.0 + np.nan, xd.dtype))
                w = np.zeros_like(w)
            else:
                value = _wrap(np.asarray(value / np.asarray(denom, xd.dtype), xd.dtype))
    if not R.needs_grad(x):
        return _make(value)
    return R.python_result(value, _NLL_LOSS, (x,), params=dict(
        shape=xd.shape, out_shape=np.shape(value), targets=targets, used=used, w=w,
        reduction=reduction, denom=np.asarray(denom if denom else 1, xd.dtype)))  # (nothing saved: x unread)


def _scale(g, reduction, denom):
    """The incoming gradient per row: ``g / denom`` for the mean (one division, as PyTorch)."""
    return g / denom if reduction == "mean" else g


def _nll_vjp_np(g, inputs, out, shape, out_shape, targets, used, w, reduction, denom):
    dtype = w.dtype
    s = np.asarray(_scale(g, reduction, denom), dtype)
    if s.ndim > 1:
        s = s.reshape(-1)
    dx = np.zeros(shape, dtype)
    dx[np.arange(shape[0]), targets] = np.where(used, -(s * w), dtype.type(0))
    return (dx,)


def _nll_vjp(g, inputs, out, shape, out_shape, targets, used, w, reduction, denom):
    from .elementwise import div, mul
    from .movement import reshape

    k = np.zeros(shape, w.dtype)
    k[np.arange(shape[0]), targets] = np.where(used, -w, w.dtype.type(0))
    s = div(g, _make(denom)) if reduction == "mean" else g
    return (mul(reshape(s, (-1, 1) if reduction == "none" else (1, 1)), _make(k)),)


def _nll_jvp_np(tangents, inputs, out, shape, out_shape, targets, used, w, reduction,
                denom):
    t = tangents[0]  # (k, N, C): k directions
    vals = np.where(used, -t[:, np.arange(t.shape[1]), targets] * w, t.dtype.type(0))
    if reduction == "none":
        return vals.reshape(vals.shape[:1] + out_shape)
    total = vals.sum(axis=1)
    return total / denom if reduction == "mean" else total


defop(Op.NLL_LOSS, "nll_loss", "python", "NllLossBackward0", vjp=_nll_vjp,
      vjp_np=_nll_vjp_np, jvp_np=_nll_jvp_np)
