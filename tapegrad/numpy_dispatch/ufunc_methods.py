"""The ufunc methods on tensors: ``reduce`` (``add``, ``multiply``, ``maximum``, ``minimum``,
``logaddexp(2)``), ``accumulate`` (the same five: ``cumsum``, ``cumprod``, ``cummax``,
``cummin``, ``logcumsumexp``), ``outer`` of every ufunc with a handler (``np.subtract.outer(x,
x)``: the pairwise differences), and ``at`` of ``add``/``subtract`` into a tensor (``np.add.at(f,
idx, v)``: repeated indices add up, as NumPy's; an in-place write, as ``f[idx] += v``).
"""

import math

import numpy as np

from ..ops.record import as_tensor as _t
from ..ops.shapes import norm_dim
from ..tensor import Tensor
from . import _NV, _float, _need, _op, provided
from .empty_axes import reduce_over_empty_axes
from .shaping import _ravel


def _logsumexp_reduce(base2):
    def handler(a, axis=0, dtype=None, out=None, keepdims=False, initial=_NV, where=True):
        _need(dtype is None and out is None, "dtype=/out=")
        _need(initial is _NV and where is True, "initial=/where=")
        x = _float(a)
        if axis is None:
            x, axis, flat = _ravel(x), 0, x.ndim
        else:
            flat = None
        dims = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        if base2:
            x = x * math.log(2.0)
        r = _op("logsumexp")(x, dims, keepdim=bool(keepdims))
        if flat is not None and keepdims:
            r = _op("reshape")(r, (1,) * flat)
        return r * (1.0 / math.log(2.0)) if base2 else r

    return handler


def _accumulate(name):
    def handler(array, axis=0, dtype=None, out=None):
        _need(out is None, "out=")
        x = _t(array)
        if dtype is not None:
            x = x.to(np.dtype(dtype))
        _need(x.ndim >= 1, "a 0-d array")
        _need(axis is not None or x.ndim == 1, "axis=None")
        d = norm_dim(0 if axis is None else int(axis), x.ndim)
        if name in ("cummax", "cummin"):
            return provided(name)(x, d).values
        if name == "logcumsumexp":
            x = _float(x)
        return _op(name)(x, d)

    return handler


def _outer(handler):
    def outer(a, b, **kwargs):
        _need(not kwargs, ", ".join(f"{k}=" for k in kwargs))
        a, b = _t(a), _t(b)
        return handler(_op("reshape")(a, tuple(a.shape) + (1,) * b.ndim), b)

    return outer


def _at(sign):
    def handler(a, indices, b=None):
        if not isinstance(a, Tensor):
            from .inplace import ndarray_target

            raise ndarray_target(b)
        _need(b is not None, "no operand b")
        key = indices if isinstance(indices, tuple) else (indices,)
        key = tuple(np.asarray(k._data) if isinstance(k, Tensor) else k for k in key)
        b = _t(b)
        a.index_put_(key, b if sign > 0 else -b, accumulate=True)

    return handler


_ACCUMULATE = {np.add: "cumsum", np.multiply: "cumprod", np.maximum: "cummax",
               np.minimum: "cummin", np.logaddexp: "logcumsumexp"}


def method_handler(ufunc, method):
    """The handler of ``ufunc.<method>`` on tensors, or None."""
    from . import _REDUCE, _UFUNCS

    if method == "reduce":
        if ufunc in (np.logaddexp, np.logaddexp2):
            return reduce_over_empty_axes(_logsumexp_reduce(ufunc is np.logaddexp2))
        return reduce_over_empty_axes(_REDUCE.get(ufunc))
    if method == "accumulate" and ufunc in _ACCUMULATE:
        return _accumulate(_ACCUMULATE[ufunc])
    if method == "outer" and ufunc.nin == 2 and ufunc in _UFUNCS:
        return _outer(_UFUNCS[ufunc])
    if method == "at" and ufunc in (np.add, np.subtract):
        return _at(1 if ufunc is np.add else -1)
    return None
