"""A tensor's memory layout as PyTorch reports it (``stride``, ``is_contiguous``: NumPy's
layout of the storage), and ``unfold``'s sliding windows, a strided view."""

import numpy as np

from ..device import DeviceArray
from . import record as R
from .movement import _view_strided
from .node_names import name_view
from .shapes import c_strides, norm_dim


def is_contiguous(x, memory_format=None):
    """Whether the elements lie in C order without gaps (NumPy's flag for the storage)."""
    d = x._data
    return type(d) is not np.ndarray or bool(d.flags.c_contiguous)


def stride(x, dim=None):
    """Steps in elements between neighbours along each dim (``dim``: one of them)."""
    d = x._data
    if type(d) is np.ndarray:
        steps = tuple(s // d.itemsize for s in d.strides)
    else:  # Python floats (0-d) and device arrays are contiguous
        steps = tuple(c_strides(x.shape))
    return steps if dim is None else steps[norm_dim(dim, len(steps))]


def unfold(x, dimension, size, step):
    """Windows of ``size`` elements every ``step`` along ``dimension``, as a new last dim:
    a strided view (overlapping windows share elements; their gradients add)."""
    x = R.as_tensor(x)
    shape = x.shape or (1,)
    d = norm_dim(dimension, len(shape))
    n = shape[d]
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    count = (n - size) // step + 1
    out_shape = shape[:d] + (count,) + shape[d + 1:] + (size,)
    cs = c_strides(shape)
    strides = cs[:d] + (cs[d] * step,) + cs[d + 1:] + (cs[d],)
    if x.ndim == 0:  # PyTorch: a 0-d tensor gives shape (size,)
        out_shape, strides = out_shape[1:], strides[1:]
    xd = x._arr()
    if type(xd) is DeviceArray:  # device views are copies
        from .cuda_ops import strided_value

        value = strided_value(xd, out_shape, strides, 0)
    else:  # a NumPy view; overlapping windows are read-only (PyTorch refuses writes there)
        b = xd.reshape(shape).strides
        b = b[:d] + (b[d] * step,) + b[d + 1:] + (b[d],)
        value = np.lib.stride_tricks.as_strided(
            xd, out_shape, b[-len(out_shape):], writeable=step >= size)
    return name_view(_view_strided(x, value, out_shape, strides, 0), x, "UnfoldBackward0")
