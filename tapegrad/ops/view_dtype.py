"""``x.view(dtype)``: the same bytes read as another dtype, as PyTorch's.

Same element size: the same shape and strides. Another size: the last dim (stride 1) scaled by
the ratio of the sizes, and the other strides and the storage offset divided by it when the
new elements are larger, with PyTorch's errors where they do not allow it. The result has no
history (PyTorch's ``view(dtype)`` is not differentiable) but shares the storage and version
counter, so an in-place change through it shows in ``x`` and is seen by ``x``'s saved uses.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..tensor import _make
from . import record as R
from .movement import view as _view_shape
from .shapes import torch_dtype_name


def _is_dtype(a):
    return isinstance(a, np.dtype) or isinstance(a, type) and issubclass(a, np.generic)


def view(input, *shape, size=None, dtype=None):
    """``view(*shape)`` (movement.view) or ``view(dtype)``."""
    if dtype is None and len(shape) == 1 and _is_dtype(shape[0]):
        dtype = shape[0]
    elif dtype is None:
        return _view_shape(input, *shape, size=size)
    elif shape or size is not None:
        raise TypeError("view() received an invalid combination of arguments")
    return view_dtype(R.as_tensor(input), np.dtype(dtype))


def _offset(x, a):
    """``x``'s storage offset in its own elements (0 for a tensor that is not a view)."""
    base = x._base
    if base is None or type(base._data) is not np.ndarray or not a.size:
        return 0
    start = a.__array_interface__["data"][0] - base._data.__array_interface__["data"][0]
    return start // a.itemsize


def view_dtype(x, dtype):
    a = x._arr()
    if type(a) is not np.ndarray:
        raise NotImplementedError("view(dtype) of a CUDA tensor is not supported")
    old, new = a.itemsize, dtype.itemsize
    if old != new:
        what = f" to view {torch_dtype_name(a.dtype)} as {torch_dtype_name(dtype)} " \
               "(different element sizes)"
        if a.ndim == 0:
            raise RuntimeError("self.dim() cannot be 0" + what)
        steps = [s // old for s in a.strides]
        if new > old:
            ratio = new // old
            if a.shape[-1] % ratio:
                raise RuntimeError(f"self.size(-1) must be divisible by {ratio}{what}, but "
                                   f"got {a.shape[-1]}")
        if steps[-1] != 1 and a.shape[-1] != 1 or a.strides[-1] == 0:
            raise RuntimeError(f"self.stride(-1) must be 1{what}, but got {steps[-1]}")
        if new > old:
            for i, s in enumerate(steps[:-1]):
                if s % ratio:
                    raise RuntimeError(f"self.stride({i}) must be divisible by {ratio}{what}, "
                                       f"but got {s}")
            off = _offset(x, a)
            if off % ratio:
                raise RuntimeError(f"self.storage_offset() must be divisible by {ratio}{what}"
                                   f", but got {off}")
        if a.strides[-1] != old:  # a last dim of one element: any stride is its stride 1
            a = as_strided(a, a.shape, a.strides[:-1] + (old,))
    t = _make(a.view(dtype))
    t._vc = x._vcounter()
    t._vmap = x._vmap
    t._inference = x._inference
    return t
