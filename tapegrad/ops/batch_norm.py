"""``batch_norm`` of CPU float tensors as one op, as PyTorch records it
(``NativeBatchNormBackward0``): the composition it replaces recorded two means over the batch
and spatial dims, a subtraction, a square, an addition, a power, broadcasts of the weight and
bias and their products (~0.55 ms forward and backward for a (64, 128) batch, PyTorch's ~0.14).

Per channel ``c`` of an input (N, C, *spatial): ``mean`` and ``rstd`` are the batch's (training:
``rstd = 1 / sqrt(biased var + eps)``) or the running statistics given (evaluation), ``xhat =
(x - mean) rstd``, ``y = xhat w + b``. PyTorch's derivatives, sums and means over the batch and
spatial dims of a channel:

* input, training: ``w rstd (g - mean(g) - xhat mean(g xhat))``; evaluation: ``w rstd g``;
* weight: ``sum(g xhat)``;  bias: ``sum(g)``.

``group_norm`` of ``G`` groups (``groups=G``, no weight or bias: those are the caller's) is the
same op on the input read as (1, N G, -1), as PyTorch reads it, recorded on the input itself
(``NativeGroupNormBackward0``): no reshape records, whose adjoints cost a pass over the array
each in the backward (~0.4 ms of a (16, 32, 16, 16) input's ~0.9).

Statistics add in float64, as PyTorch's (wider than float32) and stay with the record; the
re-taping rule recomputes the batch's from the recorded input with tapegrad ops (evaluation:
the recorded running statistics are constants), so every higher order is the composition's.
"""

import math

import numpy as np

from ..registry import Op, defop
from ..tensor import _make, _wrap
from . import record as R
from .layer_norm import _EMPTY, _F64, _kernels

_BATCH_NORM = int(Op.BATCH_NORM)
_EMPTY3 = {t: np.empty((0, 0, 0), t) for t in _EMPTY}


def _channels(a, groups=None):
    """``a`` (N, C, *spatial) as a C-contiguous (N, C, S) array (a copy only where needed);
    with ``groups``, as (1, N groups, C / groups S). Sizes given, not inferred: a -1 beside a
    0 (an empty batch) is ambiguous."""
    a = np.ascontiguousarray(a)
    s = math.prod(a.shape[2:])
    if groups:
        return a.reshape(1, a.shape[0] * groups, a.shape[1] // groups * s)
    return a.reshape(a.shape[0], a.shape[1], s)


def _vector(t, dtype):
    return _EMPTY[dtype] if t is None else np.ascontiguousarray(t._data).reshape(-1)


def batch_norm(x, w, b, eps, training, mean=None, var=None, groups=None):
    """``batch_norm`` of the CPU float32/float64 tensor ``x`` (N, C, *spatial) with the
    optional per-channel ``w`` and ``b`` (checked by the caller); with ``training`` the
    batch's statistics, else the running ``mean`` and ``var`` arrays. One record when any
    input requires grad. Returns ``(y, batch mean, batch sum of squared deviations)`` (the
    statistics None unless ``training``), from which the caller updates running statistics.
    ``groups``: ``group_norm``'s statistics (training, no ``w`` or ``b``)."""
    R.refresh_views(x, w, b)  # (values read before the record is made)
    xd = x._data
    x3 = _channels(xd, groups)
    c = x3.shape[1]
    y = np.empty(x3.shape, xd.dtype)
    if training:
        mu, rstd, sqsum = np.empty(c, _F64), np.empty(c, _F64), np.empty(c, _F64)
    else:  # (the running statistics as they are now: a later update must not move them)
        mu = np.array(mean, _F64).reshape(-1)
        rstd = 1.0 / np.sqrt(np.asarray(var, _F64).reshape(-1) + eps)
        sqsum = _EMPTY[_F64]
    _kernels().batch_forward(x3, _vector(w, xd.dtype), _vector(b, xd.dtype), float(eps),
                             bool(training), y, mu, rstd, sqsum)
    value = _wrap(y.reshape(xd.shape))
    stats = (mu, sqsum) if training else (None, None)
    inputs = (x,) + ((w,) if w is not None else ()) + ((b,) if b is not None else ())
    if not (R._grad_on() and any(t._rg for t in inputs)):
        return (_make(value),) + stats
    params = dict(eps=eps, training=bool(training), weighted=w is not None, mu=mu, rstd=rstd,
                  needs=tuple(t._rg for t in inputs), groups=groups)
    out = R.python_result(value, _BATCH_NORM, inputs,
                          save_inputs=(0, 1) if w is not None else (0,), params=params)
    return (out,) + stats


def _batch_norm_vjp_np(g, inputs, out, eps, training, weighted, mu, rstd, needs,
                       groups=None):
    x = inputs[0]
    dtype = x.dtype
    g3, x3 = _channels(g.astype(dtype, copy=False), groups), _channels(x, groups)
    has_b = len(needs) > 1 + weighted
    want_w, want_b = weighted and needs[1], has_b and needs[-1]
    c = x3.shape[1]
    dx = np.empty(x.shape, dtype) if needs[0] else None  # (its own array: a slot held apart
    # keeps it, where a reshaped view of one was copied)
    dw = np.empty(c, _F64) if want_w else _EMPTY[_F64]
    db = np.empty(c, _F64) if want_b else _EMPTY[_F64]
    w = np.ascontiguousarray(inputs[1]).reshape(-1) if weighted else _EMPTY[dtype]
    _kernels().batch_backward(g3, x3, w, mu, rstd, training,
                              _EMPTY3[dtype] if dx is None else dx.reshape(x3.shape), dw, db)
    grads = [dx]
    if weighted:
        grads.append(dw.astype(dtype) if want_w else None)
    if has_b:
        grads.append(db.astype(dtype) if want_b else None)
    return tuple(grads)


def _batch_norm_vjp(g, inputs, out, eps, training, weighted, mu, rstd, needs, groups=None):
    """The same rule in tapegrad ops: the batch's statistics recomputed from the recorded
    input (training), the recorded running ones as constants (evaluation)."""
    from .elementwise import mul, sub
    from .movement import reshape, sum

    x = inputs[0]
    if groups:  # (the rule of the (1, N groups, -1) input it reads, shaped back)
        grouped = (1, x.shape[0] * groups, -1)
        gx = _batch_norm_vjp(reshape(g, grouped), (reshape(x, grouped),), None, eps, training,
                             False, mu, rstd, needs)[0]
        return (None if gx is None else reshape(gx, tuple(x.shape)),)
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    dims = (0,) + tuple(range(2, x.ndim))
    count = x.numel() // x.shape[1]
    if training:
        m = sum(x, dims, keepdim=True) * (1.0 / count)
        d = sub(x, m)
        rs = (sum(d * d, dims, keepdim=True) * (1.0 / count) + eps) ** -0.5
    else:
        d = sub(x, _make(mu.astype(x.dtype).reshape(shape)))
        rs = _make(rstd.astype(x.dtype).reshape(shape))
    xhat = mul(d, rs)
    grads = []
    if needs[0]:
        k = mul(rs, reshape(inputs[1], shape)) if weighted else rs
        if training:
            mean_g = sum(g, dims, keepdim=True) * (1.0 / count)
            mean_gx = sum(g * xhat, dims, keepdim=True) * (1.0 / count)
            grads.append(k * (g - mean_g - xhat * mean_gx))
        else:
            grads.append(k * g)
    else:
        grads.append(None)
    if weighted:
        grads.append(sum(g * xhat, dims) if needs[1] else None)
    if len(needs) > len(grads):
        grads.append(sum(g, dims) if needs[-1] else None)
    return tuple(grads)


def _batch_norm_jvp_np(tangents, inputs, out, eps, training, weighted, mu, rstd, needs,
                       groups=None):
    """``dxhat w + xhat dw + db`` for k tangent directions (a leading dim): ``dxhat = rstd (t -
    mean(t) - xhat mean(t xhat))`` (training) or ``rstd t`` (evaluation)."""
    x3 = _channels(inputs[0], groups)
    rstd3 = rstd[:, None]
    xhat = (x3 - mu[:, None]) * rstd3
    res = 0.0
    tx = tangents[0]
    if tx is not None:
        t = tx.reshape((tx.shape[0],) + x3.shape)
        if training:
            dxhat = rstd3 * (t - t.mean(axis=(1, 3), keepdims=True) -
                             xhat * (t * xhat).mean(axis=(1, 3), keepdims=True))
        else:
            dxhat = rstd3 * t
        res = res + (dxhat * inputs[1].reshape(-1, 1) if weighted else dxhat)
    if weighted and tangents[1] is not None:
        tw = tangents[1]
        res = res + xhat * tw.reshape(tw.shape[0], 1, -1, 1)
    if len(tangents) > 1 + weighted and tangents[-1] is not None:
        tb = tangents[-1]
        res = res + tb.reshape(tb.shape[0], 1, -1, 1)
    k = max(t.shape[0] for t in tangents if t is not None)
    return np.broadcast_to(res, (k,) + x3.shape).reshape((k,) + inputs[0].shape)


defop(Op.BATCH_NORM, "batch_norm", "python", "NativeBatchNormBackward0", vjp=_batch_norm_vjp,
      vjp_np=_batch_norm_vjp_np, jvp_np=_batch_norm_jvp_np,
      grad_fn_of=lambda p: "NativeGroupNormBackward0" if p.get("groups") else None)
