"""Values written into a CPU or CUDA tensor's array at an index key (``x[key] = v`` and the
in-place ops that store through a key)."""

import numpy as np

from ..device import DeviceArray
from .index_keys import ints_first


def store(x, xd, key, v):
    """``xd[key] = v`` for ``x``'s array ``xd``; integers among index arrays select first, as
    PyTorch (a view of xd, written through). A float past the range of xd's dtype is written
    as inf, silently: NumPy warns of the cast (an array's once its values are written, a Python
    number's before), and where a user's filter raised that warning the same values are
    written again without it (_float_warnings)."""
    if type(xd) is DeviceArray:
        from . import cuda_views

        cuda_views.store(x, key, v)
        return
    split = ints_first(key)
    try:
        if split is None:
            xd[key] = v
        else:
            xd[split[0]][split[1]] = v
    except RuntimeWarning:
        with np.errstate(all="ignore"):
            store(x, xd, key, v)
