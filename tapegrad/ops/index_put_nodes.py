"""PyTorch's node name of ``x[key] = value`` with an index tensor (or list, array, bool mask)
in ``key``: ``IndexPutBackward0``, its next functions ``x``'s node before the write and
``value``'s, where the tape records the write as its general in-place one (``CopySlices``,
the name PyTorch keeps for a write through basic indexing and for a view's base)."""

import numpy as np

from ..tensor import Tensor
from . import inplace
from .node_names import Inputs, _slot_of, name_node


_ADVANCED = (Tensor, np.ndarray, list)


def _advanced(key):
    if type(key) is not tuple:
        return isinstance(key, _ADVANCED)
    for k in key:
        if isinstance(k, _ADVANCED):
            return True
    return False


def setitem(x, key, value):
    """``inplace.setitem``; a write through an advanced index into a tensor that is not a
    view is named as PyTorch's ``index_put_``."""
    seg, rec = x._seg, x._rec
    inplace.setitem(x, key, value)
    if x._seg is None or x._base is not None or not _advanced(key) or \
            (x._seg is seg and x._rec == rec):
        return
    old = rec if seg is x._seg else -1 if seg is None else None
    v = _slot_of(x._seg, value) if isinstance(value, Tensor) else -1
    if old is None or v is None:
        name_node(x, "IndexPutBackward0")
    else:
        name_node(x, "IndexPutBackward0", pick=Inputs((old, v)))
