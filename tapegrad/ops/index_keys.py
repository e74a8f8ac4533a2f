"""Basic-index keys: which keys index a view, a tensor key as NumPy's, and a view's element
strides and offset computed from the key (the sweep's strided-gather parameters), with a plan
kept per (shape, key) so a key seen before skips that arithmetic (``ops.movement.getitem``)."""

import math
import warnings

import numpy as np

from .._bounded_cache import bounded_cache
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


_INDEX_DTYPE_MSG = "tensors used as indices must be long, int, byte or bool tensors"
_INDEX_DTYPES = frozenset(np.dtype(t) for t in (np.int64, np.int32, np.uint8, np.bool_))


def _sequence_as_tuple(key):
    """PyTorch reads a short list holding sequences, tensors, slices, None or Ellipsis as a
    tuple of indices (``a[[[0, 1], [1, 2]]]`` is ``a[[0, 1], [1, 2]]``), with a warning; NumPy
    reads it as one array."""
    if len(key) >= 32:
        return False
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, (Tensor, list, tuple, np.ndarray, slice)):
            warnings.warn("Using a non-tuple sequence for multidimensional indexing is "
                          "deprecated; use x[tuple(seq)] instead of x[seq]", UserWarning,
                          stacklevel=4)
            return True
    return False


def index_key(key):
    """Tensors in an index become NumPy arrays (a uint8 tensor a mask, as PyTorch reads it);
    lists become arrays."""
    if type(key) is list and _sequence_as_tuple(key):
        key = tuple(key)
    items = key if isinstance(key, tuple) else (key,)
    out = []
    for k in items:
        if isinstance(k, Tensor):
            if k._rg and k.dtype.kind == "f":
                raise IndexError(_INDEX_DTYPE_MSG)
            k = k._data.host() if type(k._data) is DeviceArray else np.asarray(k._data)
            if k.dtype not in _INDEX_DTYPES:
                raise IndexError(_INDEX_DTYPE_MSG)
            if k.dtype == np.uint8:
                warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a "
                              "dtype torch.bool instead.", UserWarning, stacklevel=4)
                k = k.astype(np.bool_)
        elif isinstance(k, list):
            k = np.asarray(k)
            if k.size == 0 and k.dtype.kind == "f":
                k = k.astype(np.int64)  # PyTorch: an empty list is an empty integer index
        out.append(k)
    return tuple(out) if isinstance(key, tuple) or len(out) != 1 else out[0]


def _is_int(k):
    """An integer index: a Python or NumPy integer, or a 0-d integer array (a 0-d tensor's)."""
    if isinstance(k, (int, np.integer)):
        return not isinstance(k, (bool, np.bool_))
    return type(k) is np.ndarray and k.ndim == 0 and k.dtype.kind in "iu"


def ints_first(key):
    """``(integers, rest)`` for an index (``index_key``'s) holding both integers and arrays,
    such that ``v[integers][rest]`` is PyTorch's ``v[key]``, else None.

    PyTorch selects with the integers first (basic indexing), then indexes with the arrays;
    NumPy broadcasts the integers with the arrays, which moves the arrays' dims to the front
    when a slice separates them: ``a[1, :, idx]`` of a (2, 3, 4) ``a`` and two indices is
    (3, 2) in PyTorch, (2, 3) in NumPy."""
    if type(key) is not tuple:
        return None
    has_int = has_array = False
    for k in key:
        if _is_int(k):
            has_int = True
        elif type(k) is np.ndarray or isinstance(k, (bool, np.bool_)):
            has_array = True
    if not (has_int and has_array):
        return None
    first, rest = [], []
    for k in key:
        if _is_int(k):
            first.append(int(k))
        elif k is Ellipsis:
            first.append(k)
            rest.append(k)
        elif k is None or isinstance(k, (bool, np.bool_)):
            rest.append(k)  # (a new dim: nothing to select over)
        else:  # a slice, an integer array (one dim) or a mask (as many as it has)
            first.extend([slice(None)] * (k.ndim if type(k) is np.ndarray and
                                          k.dtype == np.bool_ else 1))
            rest.append(k)
    return tuple(first), tuple(rest)


def positions(shape, key):
    """Each selected element's flat position in an array of ``shape``: ``arange[key]``, with
    PyTorch's reading of integers among arrays (``ints_first``)."""
    ids = np.arange(math.prod(shape), dtype=np.int64).reshape(shape)
    split = ints_first(key)
    return ids[key] if split is None else ids[split[0]][split[1]]


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


def start_of(shape, strides, items):
    """Where the view ``[items]`` (a basic key ending in Ellipsis) of an array of ``shape`` and
    ``strides`` starts, in the strides' units, as PyTorch counts it (empty slices too); None
    for a key it does not place (a bool)."""
    d, offset = 0, 0
    for k in items:
        if k is None:
            continue
        if k is Ellipsis:
            after = items[items.index(Ellipsis) + 1:]
            d = len(shape) - len(after) + after.count(None)
            continue
        if type(k) is bool:
            return None
        if type(k) is slice:
            offset += k.indices(shape[d])[0] * strides[d]
        else:
            i = int(k)
            offset += (i + shape[d] if i < 0 else i) * strides[d]
        d += 1
    return offset


def empty_at(xd, items, value):
    """``value`` (``xd[items]``, empty) starting where PyTorch's view starts: NumPy leaves an
    empty slice's start out of the data pointer, PyTorch's storage_offset counts it
    (``x[12:12]`` starts at 12), and ``as_strided`` of the view starts from there. The start
    may lie past the end of the memory (``x.t()[2, 6:6]`` of a 6x10 ``x`` starts at 62, as in
    PyTorch): the view has no elements, so its pointer is only ever compared, never read."""
    offset = start_of(xd.shape, xd.strides, items)
    if offset is None:
        return value
    out = np.asarray(_At(value, xd.__array_interface__["data"][0] + offset, xd))
    return out


class _At:
    """An empty array's interface at a given address, keeping the memory it is taken from
    (``base``) alive as NumPy's own views do."""

    def __init__(self, value, address, base):
        self.__array_interface__ = {"shape": value.shape, "typestr": value.dtype.str,
                                    "descr": value.dtype.descr, "strides": value.strides,
                                    "data": (address, not value.flags.writeable), "version": 3}
        self.base = base


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


# (shape, plan_key(key)) -> (NumPy index, GATHER_STRIDED parameters, node name)
view_plans, keep_view_plan = bounded_cache(4096)


_SELECT, _SLICE, _UNSQUEEZE, _ALIAS = ((n, None, None) for n in (
    "SelectBackward0", "SliceBackward0", "UnsqueezeBackward0", "AliasBackward0"))
_NAMES = {int: _SELECT, slice: _SLICE, type(None): _UNSQUEEZE, type(Ellipsis): _ALIAS}


def index_name(key, shape):
    """PyTorch's node of the basic index ``x[key]`` of a tensor of ``shape``, as a node-name
    entry (ops/node_names.py): the last view op its indexing applies (an int selects, a slice
    slices, None unsqueezes); in a tuple, a slice of a whole dim and Ellipsis apply none, and a
    key that applies none is an alias."""
    if type(key) is not tuple:
        return _NAMES.get(type(key), _SELECT)
    name, dim = _ALIAS, 0
    for i, k in enumerate(key):
        if k is None:
            name = _UNSQUEEZE
        elif k is Ellipsis:
            dim = len(shape) - sum(j is not None and j is not Ellipsis for j in key[i + 1:])
        elif type(k) is slice:
            n = shape[dim]
            if k.indices(n) != (0, n, 1):
                name = _SLICE
            dim += 1
        else:
            name, dim = _SELECT, dim + 1
    return name
