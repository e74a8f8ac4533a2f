"""``scatter``'s deprecated ``reduce=`` argument (PyTorch keeps it beside scatter_reduce)."""

import numpy as np

from ..device import index_device
from ..tensor import Tensor, _make
from . import record as R
from .extra import _ids, _index_array, _same_dtype, _scatter_parts, scatter_add


def scatter_reduced(x, dim, index, src, reduce):
    """``scatter(..., reduce='add'|'multiply')`` (PyTorch's deprecated form): each write
    combined into the target; ``src`` a tensor or a number. 'add' is scatter_add's (with its
    gradient); PyTorch has no derivative for either."""
    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    s = src if isinstance(src, Tensor) else None
    if s is None:  # a number: the same value at every index
        s = _make(np.full(np.shape(_index_array(index, "scatter")), src, dtype=x.dtype))
    if reduce == "add":
        return scatter_add(x, dim, index, s)
    if R.needs_grad(x) or R.needs_grad(s):
        raise RuntimeError("derivative for aten::scatter is not implemented")
    index_device(x, index)
    _same_dtype(x, s)
    i, tgt = _scatter_parts(x, dim, index, s)
    out = np.array(x._arr(), copy=True).reshape(-1)
    sl = tuple(slice(0, n) for n in i.shape)
    np.multiply.at(out, tgt, np.asarray(s._arr()).reshape(-1)[_ids(s.shape or (1,))[sl]
                                                              .reshape(-1)])
    return _make(out.reshape(x.shape))
