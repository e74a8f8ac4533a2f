"""NumPy's array methods that PyTorch's Tensor lacks, bound where no PyTorch method of the same
name exists: ``astype``, ``copy``, the ``%`` operator with NumPy's sign rule and ``divmod``."""

import numpy as np

from ..tensor import Tensor


def astype(self, dtype, copy=True):
    """NumPy's ``a.astype(dtype)``: the values converted (differentiable between floating
    types, as ``Tensor.to``)."""
    dtype = np.dtype(dtype)
    if dtype == self.dtype and not copy:
        return self
    out = self.to(dtype)
    return out.clone() if out is self else out


def copy(self, order="C"):
    """NumPy's ``a.copy()``: ``clone`` (differentiable, as PyTorch's clone)."""
    return self.clone()


def __mod__(self, other):
    """``t % x``: NumPy's (and Python's) remainder, with the sign of the divisor."""
    return np.remainder(self, other)


def __rmod__(self, other):
    return np.remainder(other, self)


def __divmod__(self, other):
    """``divmod(t, x)``: NumPy's ``(floor_divide, remainder)`` pair (np.divmod)."""
    return np.divmod(self, other)


def __rdivmod__(self, other):
    return np.divmod(other, self)


def bind_array_methods():
    for name, method in (("astype", astype), ("copy", copy), ("__mod__", __mod__),
                         ("__rmod__", __rmod__), ("__divmod__", __divmod__),
                         ("__rdivmod__", __rdivmod__)):
        if name not in vars(Tensor):  # an op binding its own method or operator wins
            setattr(Tensor, name, method)
