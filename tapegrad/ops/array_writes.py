"""Values written into a CPU or CUDA tensor's array at an index key (``x[key] = v`` and the
in-place ops that store through a key)."""

from ..device import DeviceArray
from .index_keys import ints_first


def store(x, xd, key, v):
    """``xd[key] = v`` for ``x``'s array ``xd``; integers among index arrays select first, as
    PyTorch (a view of xd, written through)."""
    if type(xd) is DeviceArray:
        from . import cuda_views

        cuda_views.store(x, key, v)
        return
    split = ints_first(key)
    if split is None:
        xd[key] = v
    else:
        xd[split[0]][split[1]] = v
