"""``&``, ``|``, ``^``, ``<<`` and ``>>`` of integer CUDA tensors (bool ones are logical ops,
``cuda_ops.compare``): one device kernel, the operands cast to PyTorch's result dtype first."""

import numpy as np

from ..device import MIXED, DeviceArray, to_device
from ..engine.cuda import kernels as K
from ..promotion import number_dtype, result_dtype
from ..tensor import _make
from .shapes import broadcast_shapes

BITWISE = ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
           "bitwise_right_shift")


def bitwise(name, a, b):
    """``name`` of operands one of which at least is a DeviceArray (the other may be a number;
    a CPU array is PyTorch's mixed-device error)."""
    from .cuda_ops import _new, astype, expand_value

    # a 0-d CPU tensor is a scalar operand, as in PyTorch (and keeps its 0-d promotion rule)
    a, b = (to_device(v) if type(v) is np.ndarray and v.ndim == 0 else v for v in (a, b))
    for v in (a, b):
        if type(v) is not DeviceArray and (np.ndim(v) or isinstance(v, np.ndarray)):
            raise RuntimeError(MIXED)
    if type(a) is DeviceArray and type(b) is DeviceArray:
        dtype = result_dtype(a.dtype, a.ndim == 0, b.dtype, b.ndim == 0)
    else:
        d, number = (a, b) if type(a) is DeviceArray else (b, a)
        dtype = number_dtype(d.dtype, number.item() if isinstance(number, np.generic)
                             else number)
    ops = [(v if v.dtype == dtype else astype(v, dtype)) if type(v) is DeviceArray
           else to_device(np.asarray(v, dtype)) for v in (a, b)]
    shape = broadcast_shapes(ops[0].shape, ops[1].shape)
    out = _new(shape, dtype)
    n = out.size
    x, y = (v if v.size in (1, n) else expand_value(v, shape) for v in ops)
    K.launch("bitwise", n, n, BITWISE.index(name), dtype.itemsize * 8, x.flat(),
             1 if x.size == n else 0, y.flat(), 1 if y.size == n else 0, out.a)
    return _make(out)
