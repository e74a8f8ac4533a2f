"""The 2-norm of CPU float tensors over some dims as one op, as PyTorch records it
(``LinalgVectorNormBackward0``), instead of a square, a sum and a masked square root (three
to five records: forward and backward of a (64, 128) batch's norm 120 µs, PyTorch's 47).

``y = sqrt(sum(x²))`` over ``dims``, the composition's values (the same sum, then the root);
the derivative is PyTorch's ``x (g / y)``, 0 where ``y = 0``. The re-taping rule states it in
tapegrad ops on the recorded input and output (the division by a ``y`` set to 1 where it is 0,
so no ``inf`` reaches a discarded branch); forward mode ``sum(x t) / y``.
"""

import numpy as np

from .._float_warnings import quiet
from ..registry import Op, defop
from ..tensor import _make, _wrap
from . import record as R
from .movement import sum_values

_NORM2 = int(Op.VECTOR_NORM2)


def norm2(x, dims, keepdim):
    """The 2-norm of the CPU float32/float64 tensor ``x`` over ``dims`` (a sorted tuple of
    non-negative dims), the sum op's own reduction then the root (the composition's values).
    One record when ``x`` requires grad."""
    R.refresh_views(x)
    xd = x._data
    try:
        value = _wrap(np.sqrt(sum_values(xd * xd, dims, keepdim)))
    except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
        value = _wrap(quiet(lambda: np.sqrt(sum_values(xd * xd, dims, keepdim))))
    if not (x._rg and R._grad_on()):
        return _make(value)
    return R.python_result(value, _NORM2, (x,), save_inputs=(0,), save_out=True,
                           params=dict(dims=dims, keepdim=keepdim))


def _kept(a, shape, dims, keepdim):
    """``a`` (the norm's shape) with the reduced dims back as ones, to broadcast against x."""
    if keepdim:
        return a
    return a.reshape(tuple(1 if k in dims else n for k, n in enumerate(shape)))


def _scale_np(g, x, out, dims, keepdim):
    """``g / y``, 0 where ``y = 0``, shaped to broadcast against ``x``."""
    y = _kept(np.asarray(out), x.shape, dims, keepdim)
    g = _kept(np.asarray(g, x.dtype), x.shape, dims, keepdim)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y == 0, 0.0, g / y).astype(x.dtype, copy=False)


def _norm2_vjp_into(g, saved, out, targets, dims, keepdim):
    x = saved[0]
    target = targets[0]
    scale = _scale_np(g, x, out, dims, keepdim)
    if target is not None and target.dtype == x.dtype:
        return (np.multiply(x, scale, out=target),)
    return (x * scale,)


def _norm2_vjp_np(g, saved, out, dims, keepdim):
    return _norm2_vjp_into(g, saved, out, [None], dims, keepdim)


def _norm2_vjp(g, inputs, out, dims, keepdim):
    from .compare import eq
    from .elementwise import div, mul, where
    from .movement import reshape

    x = inputs[0]
    shape = tuple(1 if k in dims else n for k, n in enumerate(x.shape))
    y, g = reshape(out, shape), reshape(g, shape)
    zero = eq(y.detach(), 0.0)
    return (mul(x, where(zero, 0.0, div(g, where(zero, 1.0, y)))),)


def _norm2_jvp_np(tangents, inputs, out, dims, keepdim):
    x, t = inputs[0], tangents[0]
    axes = tuple(d + 1 for d in dims)
    y = np.asarray(out)[None]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (x[None] * t).sum(axis=axes, keepdims=keepdim)
        return np.where(y == 0, 0.0, s / y)


defop(Op.VECTOR_NORM2, "_vector_norm2", "python", "LinalgVectorNormBackward0", vjp=_norm2_vjp,
      vjp_np=_norm2_vjp_np, vjp_into=_norm2_vjp_into, jvp_np=_norm2_jvp_np)
