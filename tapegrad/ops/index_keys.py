"""Basic-index keys: which keys index a view, a tensor key as NumPy's, and a view's element
strides and offset computed from the key (the sweep's strided-gather parameters), with a plan
kept per (shape, key) so a key seen before skips that arithmetic (``ops.movement.getitem``)."""

import numpy as np

from ..device import DeviceArray
from ..tensor import Tensor
from .shapes import c_strides

PROBE_BASE = np.zeros(1, np.uint8)
PROBE_ADDR = PROBE_BASE.__array_interface__["data"][0]


def is_basic(key):
    items = key if isinstance(key, tuple) else (key,)
    for k in items:
        if k is None or k is Ellipsis or isinstance(k, slice):
            continue
        if isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
            continue
        return False
    return True


def index_key(key):
    """Tensors in an index become NumPy arrays; lists become arrays."""
    items = key if isinstance(key, tuple) else (key,)
    out = []
    for k in items:
        if isinstance(k, Tensor):
            if k._rg and k.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            k = k._data.host() if type(k._data) is DeviceArray else np.asarray(k._data)
            if k.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        elif isinstance(k, list):
            k = np.asarray(k)
            if k.size == 0 and k.dtype.kind == "f":
                k = k.astype(np.int64)  # PyTorch: an empty list is an empty integer index
        out.append(k)
    return tuple(out) if isinstance(key, tuple) or len(out) != 1 else out[0]


def basic_view(xd, items, value):
    """Element strides and offset of ``xd[items]`` in ``xd``'s flat C layout, from the key
    (``items`` ends in Ellipsis); None where the probe must compute them."""
    if not xd.flags.c_contiguous or value.size == 0:
        return None
    isz = xd.itemsize
    strides = tuple([s // isz for s in value.strides])
    shape, cs = xd.shape, c_strides(xd.shape)
    nd, d, offset = len(shape), 0, 0
    for k in items:
        if k is None:
            continue
        if k is Ellipsis:  # the dims after it: counted from the end
            after = items[items.index(Ellipsis) + 1:]
            d = nd - len(after) + after.count(None)
            continue
        if type(k) is slice:
            offset += k.indices(shape[d])[0] * cs[d]
        else:  # an integer (checked in range by the NumPy index above)
            i = int(k)
            offset += (i + shape[d] if i < 0 else i) * cs[d]
        d += 1
    return strides, offset


def plan_key(key):
    """A basic key of Python ints, slices of ints, None and Ellipsis as a hashable value (slices
    are not hashable before Python 3.12), or None for any other key."""
    t = type(key)
    if t is int:
        return key
    if t is slice:
        return slice_key(key)
    if t is not tuple:
        return None
    out = []
    for k in key:
        tk = type(k)
        if tk is int or k is None or k is Ellipsis:
            out.append(k)
        elif tk is slice:
            sk = slice_key(k)
            if sk is None:
                return None
            out.append(sk)
        else:
            return None
    return tuple(out)


def slice_key(k):
    a, b, c = k.start, k.stop, k.step
    if (a is None or type(a) is int) and (b is None or type(b) is int) and \
            (c is None or type(c) is int):
        return ("slice", a, b, c)
    return None


view_plans = {}  # (shape, plan_key(key)) -> (NumPy index, GATHER_STRIDED parameters)
