"""``scatter``'s deprecated ``reduce=`` argument (PyTorch keeps it beside scatter_reduce)."""

import numpy as np

from ..device import index_device
from ..grad_mode import is_grad_enabled
from ..tensor import Tensor, _make
from .extra import _ids, _index_array, _same_dtype, _scatter_parts

# ``(error, inputs, outs) -> outs`` on the graph with a backward raising ``error()``: an
# autograd Function, which the layer above sets (tapegrad.torch_names.lapack_factors)
no_derivative = None


def scatter_reduced(x, dim, index, src, reduce, aten="scatter"):
    """``scatter(..., reduce='add'|'multiply')`` (PyTorch's deprecated form): each write
    combined into the target; ``src`` a tensor or a number. PyTorch has no derivative for
    either: the result is on the graph when an input requires grad, and its backward raises
    'derivative for aten::scatter is not implemented' (``aten``: scatter_ for the in-place
    form)."""
    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    s = src if isinstance(src, Tensor) else None
    if s is None:  # a number: the same value at every index
        s = _make(np.full(np.shape(_index_array(index, "scatter")), src, dtype=x.dtype))
    index_device(x, index)
    _same_dtype(x, s)
    i, tgt = _scatter_parts(x, dim, index, s)
    out = np.array(x._arr(), copy=True).reshape(-1)
    sl = tuple(slice(0, n) for n in i.shape)
    vals = np.asarray(s._arr()).reshape(-1)[_ids(s.shape or (1,))[sl].reshape(-1)]
    (np.add if reduce == "add" else np.multiply).at(out, tgt, vals)
    y = _make(out.reshape(x.shape))
    inputs = [t for t in (x, s) if t.requires_grad]
    if not (inputs and is_grad_enabled()) or no_derivative is None:
        return y
    error = f"derivative for aten::{aten} is not implemented"
    (y,) = no_derivative(lambda: RuntimeError(error), inputs, (y,))
    return y
