"""``layer_norm`` of CPU float tensors as one op, as PyTorch records it
(``NativeLayerNormBackward0``): the composition it replaces recorded a mean, a subtraction, a
square, a second mean, an addition, a power and up to two affine ops (nine records, their
reductions over short rows and broadcasts: ~0.5 ms forward and backward for a (64, 128) batch,
PyTorch's ~0.08).

Over rows of ``n`` elements (the normalized dims flattened): ``mu`` the row mean, ``rstd =
1 / sqrt(mean((x - mu)^2) + eps)`` (the biased variance), ``xhat = (x - mu) rstd``, ``y =
xhat w + b``. PyTorch's derivatives, ``gw = g w`` (``g`` without a weight):

* input: ``rstd (gw - mean(gw) - xhat mean(gw xhat))`` (row means);
* weight: ``g xhat`` summed over the rows;  bias: ``g`` summed over the rows.

The row statistics are kept with the record (one number per row each, as PyTorch's); the
re-taping rule recomputes them from the recorded input with tapegrad ops, so every higher
order is the composition's.
"""

import math

import numpy as np

from ..registry import Op, defop
from ..tensor import _make, _wrap
from . import record as R
from ._lazy import kernels

_LAYER_NORM = int(Op.LAYER_NORM)


def layer_norm(x, n_dims, w, b, eps):
    """``layer_norm`` of the CPU float32/float64 tensor ``x`` over its last ``n_dims`` dims
    with the optional ``w`` and ``b`` (tensors of those dims' shape, x's dtype, checked by the
    caller); one record when any requires grad."""
    R.refresh_views(x, w, b)  # (values read before the record is made)
    xd = x._data
    n = math.prod(xd.shape[xd.ndim - n_dims:])
    x2 = _rows(xd, n)
    y = np.empty(x2.shape, xd.dtype)
    mu, rstd = np.empty(x2.shape[0], _F64), np.empty(x2.shape[0], _F64)
    _kernels().forward(x2, _flat(w, xd.dtype), _flat(b, xd.dtype), float(eps), y, mu, rstd)
    value = _wrap(y.reshape(xd.shape))
    inputs = (x,) + ((w,) if w is not None else ()) + ((b,) if b is not None else ())
    if not (R._grad_on() and any(t._rg for t in inputs)):
        return _make(value)
    params = dict(n=n, eps=eps, weighted=w is not None, mu=mu, rstd=rstd,
                  needs=tuple(t._rg for t in inputs))
    return R.python_result(value, _LAYER_NORM, inputs,
                           save_inputs=(0, 1) if w is not None else (0,), params=params)


def _layer_norm_vjp_np(g, inputs, out, n, eps, weighted, mu, rstd, needs):
    x = inputs[0]
    dtype = x.dtype
    g2, x2 = _rows(g.astype(dtype, copy=False), n), _rows(x, n)
    has_b = len(needs) > 1 + weighted
    want_w, want_b = weighted and needs[1], has_b and needs[-1]
    dx = np.empty(x2.shape, dtype) if needs[0] else _EMPTY2[dtype]
    dw = np.zeros(n, _F64) if want_w else _EMPTY[_F64]
    db = np.zeros(n, _F64) if want_b else _EMPTY[_F64]
    w = _rows(inputs[1], n)[0] if weighted else _EMPTY[dtype]
    _kernels().backward(g2, x2, w, mu, rstd, dx, dw, db)
    grads = [dx.reshape(x.shape) if needs[0] else None]
    if weighted:
        grads.append(dw.astype(dtype) if want_w else None)
    if has_b:  # (flat gradients: the sweep adds them by size)
        grads.append(db.astype(dtype) if want_b else None)
    return tuple(grads)


_F64, _F32 = np.dtype(np.float64), np.dtype(np.float32)
_EMPTY = {t: np.empty(0, t) for t in (_F64, _F32)}
_EMPTY2 = {t: np.empty((0, 0), t) for t in (_F64, _F32)}
_kernels = kernels("_norm_kernels")  # (loads Numba: on the first layer_norm)


def _rows(a, n):
    """``a`` as C-contiguous rows of ``n`` elements (a copy only where it is not already); the
    rows counted, not inferred (a -1 beside a 0 is ambiguous): one row of no elements when
    ``n`` is 0."""
    return np.ascontiguousarray(a).reshape(a.size // n if n else 1, n)


def _flat(t, dtype):
    return _EMPTY[dtype] if t is None else _rows(t._data, t._data.size)[0]


def _layer_norm_vjp(g, inputs, out, n, eps, weighted, mu, rstd, needs):
    """The same rule in tapegrad ops, the statistics recomputed from the recorded input."""
    from .elementwise import mul, sub
    from .movement import reshape, sum

    x = inputs[0]
    x2, g2 = reshape(x, (-1, n)), reshape(g, (-1, n))
    m = sum(x2, 1, keepdim=True) * (1.0 / n)
    d = sub(x2, m)
    rs = (sum(d * d, 1, keepdim=True) * (1.0 / n) + eps) ** -0.5
    xhat = mul(d, rs)
    grads = []
    gw = mul(g2, reshape(inputs[1], (-1,))) if weighted else g2
    if needs[0]:
        mean_gw = sum(gw, 1, keepdim=True) * (1.0 / n)
        mean_gx = sum(gw * xhat, 1, keepdim=True) * (1.0 / n)
        grads.append(reshape(rs * (gw - mean_gw - xhat * mean_gx), x.shape))
    else:
        grads.append(None)
    if weighted:
        grads.append(reshape(sum(g2 * xhat, 0), inputs[1].shape) if needs[1] else None)
    if len(needs) > len(grads):
        grads.append(sum(g2, 0) if needs[-1] else None)
    return tuple(grads)


def _layer_norm_jvp_np(tangents, inputs, out, n, eps, weighted, mu, rstd, needs):
    """``dxhat w + xhat dw + db`` for k tangent directions (a leading dim), ``dxhat =
    rstd (t - mean(t) - xhat mean(t xhat))``."""
    x = inputs[0]
    rstd = rstd[:, None]
    xhat = (x.reshape(-1, n) - mu[:, None]) * rstd
    res = 0.0
    tx = tangents[0]
    if tx is not None:
        t = tx.reshape(tx.shape[0], -1, n)
        dxhat = rstd * (t - t.mean(axis=-1, keepdims=True) -
                        xhat * (t * xhat).mean(axis=-1, keepdims=True))
        res = res + (dxhat * inputs[1].reshape(-1) if weighted else dxhat)
    if weighted and tangents[1] is not None:
        tw = tangents[1]
        res = res + xhat * tw.reshape(tw.shape[0], 1, n)
    if len(tangents) > 1 + weighted and tangents[-1] is not None:
        tb = tangents[-1]
        res = res + tb.reshape(tb.shape[0], 1, n)
    k = max(t.shape[0] for t in tangents if t is not None)
    return np.broadcast_to(res, (k, xhat.shape[0], n)).reshape((k,) + x.shape)


defop(Op.LAYER_NORM, "layer_norm", "python", "NativeLayerNormBackward0", vjp=_layer_norm_vjp,
      vjp_np=_layer_norm_vjp_np, jvp_np=_layer_norm_jvp_np)
