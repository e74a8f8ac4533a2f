"""``cumsum``: a ``kind="python"`` op whose VJP is the reversed cumulative sum of the gradient
(NumPy for the numeric sweep, tapegrad ops for re-taping)."""

import numpy as np

from ..device import DeviceArray
from ..tensor import _make, _wrap
from . import record as R
from .movement import flip
from ..registry import Op, defop
from .shapes import norm_dim

__all__ = ["cumsum"]


def _cumsum_vjp_np(g, inputs, out, dim):
    g = np.asarray(g, np.float64)
    return (np.flip(np.cumsum(np.flip(g, dim), dim), dim),)


def _cumsum_vjp(g, inputs, out, dim):
    return (flip(cumsum(flip(g, dim), dim), dim),)


defop(Op.CUMSUM, "cumsum", "python", "CumsumBackward0", vjp=_cumsum_vjp, vjp_np=_cumsum_vjp_np)


def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``.

    Example:
        >>> import tapegrad as tg
        >>> tg.cumsum(tg.tensor([1.0, 2.0, 3.0]), 0)
        tensor([1., 3., 6.])
    """
    x = R.as_tensor(input)
    xd = x._data if type(x._data) is DeviceArray else np.asarray(x._data)
    d = norm_dim(int(dim), xd.ndim)
    if xd.ndim == 0:
        from .elementwise import clone

        return clone(x) if dtype is None else clone(x).to(dtype)
    if type(xd) is DeviceArray:
        value = _cuda().cumsum_value(xd, d, dtype)
    else:
        value = np.cumsum(xd, axis=d, dtype=dtype)
        value = _wrap(value.astype(np.int64) if value.dtype.kind in "biu" else value)
    if x.dtype.kind == "c" and R.needs_grad(x):
        from .complex import record

        return record(value, (x,), "cumsum", dim=d)
    if not R.needs_grad(x) or x.dtype.kind != "f":
        return _make(value)
    return R.python_result(value, Op.CUMSUM, (x,), params=dict(dim=d))




def _cuda():
    from . import cuda_ops

    return cuda_ops
