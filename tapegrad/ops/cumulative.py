"""``cumsum``: a ``kind="python"`` op whose VJP is the reversed cumulative sum of the gradient
(NumPy for the numeric sweep, tapegrad ops for re-taping)."""

import math

import numpy as np

from ..device import DeviceArray
from ..tensor import _make, _wrap
from . import record as R
from .activations import FLOAT_DTYPES
from .movement import flip
from ..registry import Op, defop
from .shapes import norm_dim

__all__ = ["cumsum"]


def running(xd, d, reverse=False):
    """``np.cumsum(xd, axis=d)`` (``reverse``: summed from the end of the axis) of a float32
    or float64 array, by one compiled pass (``_cumulative_kernels``): the same values."""
    from ._cumulative_kernels import running_sums

    shape = xd.shape
    lines = (math.prod(shape[:d]), shape[d], math.prod(shape[d + 1 :]))
    out = np.empty(lines, xd.dtype)
    running_sums(np.ascontiguousarray(xd).reshape(lines), out, reverse)
    return out.reshape(shape)


def _compiled(a, dtype=None):
    """Whether ``running`` sums array ``a`` (to ``dtype``): a float32 or float64 array summed
    in its own dtype, of a size where NumPy's call is not the quicker."""
    return a.dtype in FLOAT_DTYPES and (dtype is None or np.dtype(dtype) == a.dtype) and \
        a.size >= _FEW


_FEW = 1024  # elements below which NumPy's cumsum is the quicker (the compiled call and its
# reshapes cost ~3 µs; measured crossovers 512-1024 elements, 1-D and 2-D)


def _cumsum_vjp_np(g, inputs, out, dim):
    g = np.asarray(g)
    if _compiled(g):
        return (running(g, dim, reverse=True),)
    g = g.astype(np.float64, copy=False)
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
        value = running(xd, d) if _compiled(xd, dtype) else np.cumsum(xd, axis=d, dtype=dtype)
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
