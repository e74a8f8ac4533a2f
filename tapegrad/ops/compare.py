"""Comparisons and logical ops: values only, never a gradient (results are bool tensors)."""

import numpy as np

from ..device import DeviceArray
from ..tensor import Tensor, _make, _wrap
from .shapes import broadcast_shapes


def _value(v):
    if isinstance(v, Tensor):
        d = v._data
        return np.float64(d) if type(d) is float else d
    return v


def _compare(np_f, name):
    def fn(x, y):
        a, b = _value(x), _value(y)
        if type(a) is DeviceArray or type(b) is DeviceArray:
            from .cuda_ops import compare

            return compare(name, a, b)
        sa, sb = np.shape(a), np.shape(b)
        if sa != sb:
            broadcast_shapes(sa, sb)  # PyTorch's message, also for an ndarray/list operand
        return _make(_wrap(np.asarray(np_f(a, b))))

    fn.__name__ = name
    return fn


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")
logical_xor = _compare(np.logical_xor, "logical_xor")
bitwise_and = _compare(np.bitwise_and, "bitwise_and")
bitwise_or = _compare(np.bitwise_or, "bitwise_or")


def logical_not(x):
    return _make(_wrap(np.asarray(np.logical_not(_value(x)))))
