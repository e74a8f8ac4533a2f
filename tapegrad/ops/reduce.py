"""Reductions. ``sum``/``mean`` are scatters (see movement.py); the rest build on them."""

import numpy as np

from ..tensor import _make
from . import record as R
from .movement import mean, reshape, sum
from .shapes import norm_dim

__all__ = ["sum", "mean", "sum_to", "argmax", "argmin"]


def sum_to(x, shape):
    """Sum ``x`` down to ``shape`` (the adjoint of broadcasting ``shape`` up to ``x.shape``)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and x.shape[lead + i] != 1)
    return reshape(sum(x, dims, keepdim=True), shape) if dims else reshape(x, shape)


def _arg_reduce(np_f, name):
    def fn(x, dim=None, keepdim=False):
        x = R.as_tensor(x)
        xd = np.asarray(x._data)
        if dim is None:
            return _make(np.asarray(np_f(xd.reshape(-1)), dtype=np.int64))
        d = norm_dim(dim, xd.ndim)
        if xd.ndim == 0:
            return _make(np.zeros((), np.int64))
        return _make(np.asarray(np_f(xd, axis=d, keepdims=keepdim), dtype=np.int64))

    fn.__name__ = name
    return fn


# NOTE: ties pick the first index (NumPy and PyTorch agree).
argmax = _arg_reduce(np.argmax, "argmax")
argmin = _arg_reduce(np.argmin, "argmin")
