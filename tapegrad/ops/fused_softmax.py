"""``softmax``, ``log_softmax`` and ``logsumexp`` of CPU float arrays as one op each, as PyTorch
records them (``SoftmaxBackward0``, ``LogSoftmaxBackward0``, ``LogsumexpBackward0``): one
record, instead of the shift, subtraction, ``exp``, sum and division (or log) recorded one by one
(their backward made up to ten passes over the array and saved a broadcast copy of the sums).

The values are those of the composition, bit for bit: the same shift (the largest element,
0 where that is not finite), NumPy's subtraction, ``vecmath.exp``, the sum in NumPy's order,
the division (``log_softmax``: ``(x - m) - log(s)``, PyTorch's order). Derivatives, PyTorch's:

* softmax, ``y``: ``dx = y * (g - sum(g * y))``; tangent ``y * (t - sum(y * t))``;
* log_softmax, ``y``: ``dx = g - exp(y) * sum(g)``; tangent ``t - sum(exp(y) * t)``;
* logsumexp of ``x``, ``y``: ``dx = g * exp(x - y)``; tangent ``sum(exp(x - y) * t)``;

sums over the softmax dim, kept (``y`` and ``g`` of logsumexp with its dims put back). The
re-taping rule states them with tapegrad ops on the recorded input and output (tensors on the
tape), so every higher order is the composition's.
"""

import numpy as np

from .. import vecmath
from .._float_warnings import quiet
from ..registry import Op, defop
from ..tensor import _make, _wrap
from ..vecmath.short_runs import shift_max, sum_axes  # (NumPy's sums, its order)
from . import record as R
from ._lazy import kernels

_SOFTMAX, _LOG_SOFTMAX, _LOGSUMEXP = int(Op.SOFTMAX), int(Op.LOG_SOFTMAX), int(Op.LOGSUMEXP)


def shift_array(xd, dims, keep_inf=False):
    """The softmax shift of the real array ``xd``: its largest element over ``dims`` (kept),
    0 where that is not finite (logsumexp's: a row of -inf stays -inf, not nan; a +inf gives
    +inf). With ``keep_inf`` (softmax, log_softmax) only an all -inf row takes 0: a row with
    +inf is shifted by it, so that the whole row is nan, PyTorch's ``exp(x - max)``."""
    if xd.size == 0 or any(xd.shape[k] == 0 for k in dims):
        return np.zeros(tuple(1 if k in dims else s for k, s in enumerate(xd.shape)), xd.dtype)
    m = shift_max(xd, dims)  # (a compiled loop over large arrays' short rows)
    return np.where(m != -np.inf if keep_inf else np.isfinite(m), m, 0).astype(xd.dtype)


def _rows_value(xd, dims, log):
    """The value by the compiled row loops where they apply (float32/float64, C-contiguous,
    over the last dim, every value finite), else None."""
    n = xd.shape[-1]
    if not (xd.dtype is _F64 or xd.dtype is _F32) or not n > 0 or \
            dims[0] != xd.ndim - 1 or not xd.flags.c_contiguous or xd.size == 0:
        return None
    k = row_kernels()
    x2 = xd.reshape(-1, n)
    e = np.empty(x2.shape, xd.dtype)
    m = np.empty(x2.shape[0], xd.dtype)
    if not k.shift_rows(x2, e, m):  # (a row with inf or nan, or all -inf: NumPy's)
        return None
    e = vecmath.exp(e)  # (the composition's exp: NumPy's, or vecmath's kernel where it has one)
    long = n > _ROW_MAX  # (NumPy's own sums of long rows: quicker than the loops' in its order)
    if not log:
        if long:
            return e.reshape(xd.shape) if k.divide_rows(e, e.sum(axis=1)) else None
        return e.reshape(xd.shape) if k.normalize_rows(e, m) else None
    if long:
        s = e.sum(axis=1)
    else:
        s = np.empty_like(m)
        k.sum_rows(e, s)  # (NumPy's sums, each in [1, n]: its log warns of nothing)
    return e.reshape(xd.shape) if k.subtract_rows(x2, vecmath.log(s), m, e) else None


def softmax_value(xd, dims):
    try:
        r = _rows_value(xd, dims, False)
        if r is not None:
            return r
        e = vecmath.exp(xd - shift_array(xd, dims, True))
        return e / sum_axes(e, dims, True)
    except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
        return quiet(softmax_value, xd, dims)


def _log_sum_shifted(xd, dims, keep_inf=False):
    """``(log(s), m)``: ``m`` the shift (``shift_array``'s), ``s`` the sum of ``exp(xd - m)``
    over ``dims`` (kept)."""
    with np.errstate(all="ignore"):  # all -inf: log(0) = -inf is the answer, no warning
        m = shift_array(xd, dims, keep_inf)
        return vecmath.log(sum_axes(vecmath.exp(xd - m), dims, True)), m


def log_softmax_value(xd, dims):
    try:
        r = _rows_value(xd, dims, True)
        if r is not None:
            return r
        s, m = _log_sum_shifted(xd, dims, True)
        return (xd - m) - s  # (PyTorch's order: x - (s + m) loses s beside a large shift)
    except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
        return quiet(log_softmax_value, xd, dims)


def logsumexp_value(xd, dims, keepdim):
    """log_softmax's ``log(s) + m``, squeezed as ``keepdim`` says."""
    s, m = _log_sum_shifted(xd, dims)
    with np.errstate(all="ignore"):  # (-inf + inf: nan, as PyTorch's)
        v = s + m
    return v if keepdim else _wrap(v.reshape(tuple(n for k, n in enumerate(v.shape)
                                                   if k not in dims)))


def logsumexp(x, dims, keepdim):
    """``logsumexp`` of the CPU float32/float64 tensor ``x`` over the sorted ``dims``."""
    value = logsumexp_value(x._data, dims, keepdim)
    if not R.needs_grad(x):
        return _make(value)
    return R.python_result(value, _LOGSUMEXP, (x,), save_inputs=(0,), save_out=True,
                           params=dict(dims=dims, keepdim=keepdim))


def fused(x, dims, log):
    """``softmax`` (``log_softmax`` with ``log``) of the CPU real float tensor ``x`` over
    ``dims`` (one dim), recorded as one op when ``x`` requires grad."""
    xd = x._data
    value = (log_softmax_value if log else softmax_value)(xd, dims)
    if not R.needs_grad(x):
        return _make(value)
    return R.python_result(value, _LOG_SOFTMAX if log else _SOFTMAX, (x,), save_out=True,
                           params=dict(dims=dims))


def _rows(g, out, dims):
    """Whether the row loops take the backward: over the last dim, C-contiguous arrays of one
    float dtype."""
    return dims[0] == out.ndim - 1 and out.size and g.dtype == out.dtype and \
        (out.dtype is _F64 or out.dtype is _F32) and g.flags.c_contiguous and \
        out.flags.c_contiguous


def _softmax_vjp_np(g, inputs, out, dims):
    m = out.shape[-1] if out.ndim else 0
    if _rows(g, out, dims) and (m <= _ROW_MAX or out.size >= _ROWS_MIN):
        dx = np.empty_like(out)
        k = row_kernels()
        (k.softmax_short_rows_vjp if m <= _ROW_MAX else k.softmax_rows_vjp)(
            g.reshape(-1, m), out.reshape(-1, m), dx.reshape(-1, m))
        return (dx,)
    return (out * (g - (g * out).sum(axis=dims, keepdims=True)),)


_ROWS_MIN = 4096  # elements from which the long-row loop pays its call (NumPy below)
_ROW_MAX = 128  # the longest rows whose sums the loops add (in NumPy's order; longer ones:
# NumPy's sums forward, any order in the backward, vectorised, as PyTorch's)
_F64, _F32 = np.dtype(np.float64), np.dtype(np.float32)
# ``_softmax_kernels`` (loads Numba: on the first softmax, log_softmax or nll_loss using them)
row_kernels = kernels("_softmax_kernels")


def _log_softmax_vjp_np(g, inputs, out, dims):
    e = vecmath.exp(out)
    m = out.shape[-1] if out.ndim else 0
    if _rows(g, out, dims) and (m <= _ROW_MAX or out.size >= _ROWS_MIN):  # one pass
        k = row_kernels()
        (k.log_softmax_short_rows_vjp if m <= _ROW_MAX else k.log_softmax_rows_vjp)(
            g.reshape(-1, m), e.reshape(-1, m), e.reshape(-1, m))
        return (e,)
    return (g - e * g.sum(axis=dims, keepdims=True),)


def _softmax_vjp(g, inputs, out, dims):
    from .elementwise import mul, sub
    from .movement import sum

    return (mul(out, sub(g, sum(mul(g, out), dims, keepdim=True))),)


def _log_softmax_vjp(g, inputs, out, dims):
    from .elementwise import exp, mul, sub
    from .movement import sum

    return (sub(g, mul(exp(out), sum(g, dims, keepdim=True))),)


def _softmax_jvp_np(tangents, inputs, out, dims):
    t, shifted = tangents[0], tuple(d + 1 for d in dims)  # (a leading dim of directions)
    return out * (t - (out * t).sum(axis=shifted, keepdims=True))


def _log_softmax_jvp_np(tangents, inputs, out, dims):
    t, shifted = tangents[0], tuple(d + 1 for d in dims)
    return t - (np.exp(out) * t).sum(axis=shifted, keepdims=True)


def _kept(a, dims, keepdim):
    return a if keepdim else np.expand_dims(a, dims)


def _logsumexp_vjp_np(g, inputs, out, dims, keepdim):
    return (_kept(g, dims, keepdim) * vecmath.exp(inputs[0] - _kept(out, dims, keepdim)),)


def _logsumexp_vjp(g, inputs, out, dims, keepdim):
    from .elementwise import exp, mul, sub
    from .movement import reshape

    x = inputs[0]
    if not keepdim:
        kept = tuple(1 if k in dims else n for k, n in enumerate(x.shape))
        g, out = reshape(g, kept), reshape(out, kept)
    return (mul(g, exp(sub(x, out))),)


def _logsumexp_jvp_np(tangents, inputs, out, dims, keepdim):
    p = np.exp(inputs[0] - _kept(out, dims, keepdim))
    return (p * tangents[0]).sum(axis=tuple(d + 1 for d in dims), keepdims=keepdim)


defop(Op.SOFTMAX, "softmax", "python", "SoftmaxBackward0", vjp=_softmax_vjp,
      vjp_np=_softmax_vjp_np, jvp_np=_softmax_jvp_np)
defop(Op.LOG_SOFTMAX, "log_softmax", "python", "LogSoftmaxBackward0", vjp=_log_softmax_vjp,
      vjp_np=_log_softmax_vjp_np, jvp_np=_log_softmax_jvp_np)
defop(Op.LOGSUMEXP, "logsumexp", "python", "LogsumexpBackward0", vjp=_logsumexp_vjp,
      vjp_np=_logsumexp_vjp_np, jvp_np=_logsumexp_jvp_np)
