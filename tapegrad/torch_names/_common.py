"""Small helpers shared by the torch-name modules."""

import numpy as np

from ..creation import get_default_dtype
from ..ops.record import as_tensor
from ..ops.shapes import torch_dtype_name
from ..tensor import Tensor, _make, _wrap

_t = as_tensor


def vals(x):
    """The values of a tensor (or number/array) as a NumPy array."""
    return np.asarray(_t(x)._data)


def floating(x):
    """``x`` as a tensor; integers and bools become the default float dtype (torch's rule for
    functions such as log2, reciprocal, sinc)."""
    x = _t(x)
    return x if x.dtype.kind in "fc" else x.to(get_default_dtype())


def const(value, dtype=None):
    """A tensor without history holding ``value``."""
    return _make(_wrap(np.asarray(value, dtype=dtype)))


def is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def dims_of(dims):
    """An int or a sequence of ints as a tuple of ints."""
    if isinstance(dims, Tensor):
        dims = vals(dims).tolist()
    return (int(dims),) if is_int(dims) else tuple(int(d) for d in dims)


def sizes_of(args):
    """``f(2, 3)`` or ``f((2, 3))``: the sizes as a tuple."""
    if len(args) == 1 and not is_int(args[0]):
        return dims_of(args[0])
    return dims_of(args)


def long_index(op, idx):
    """PyTorch's error for an index array ``idx`` of ``op`` (``"put_"``, ``"take"``...) that is
    not int64."""
    if idx.dtype != np.int64:
        raise RuntimeError(f"{op}(): Expected a long tensor for index, but got "
                           f"{torch_dtype_name(idx.dtype)}")
