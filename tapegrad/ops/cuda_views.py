"""In-place ops on views of CUDA tensors: where a view's elements sit in its base's storage.

Device storage is C-contiguous, so a CUDA view (a slice, ``.T``, ``diagonal``, ``expand``...)
is a gathered copy, and writing it does not change its base by itself. Each CUDA view gets a
``ViewMap`` when it is made (``movement._share_storage``): the storage it was gathered from
(the base's) and its flat positions there, composed on the host from the strided map of
each view step (GATHER_STRIDED's shape, strides and offset; a reshape keeps the order) when
first asked. An in-place op on a view (``ops/inplace``, the CPU's design) then

1. regathers the view from the storage (the base may have changed since the view was made),
2. computes and writes the view's new value as on the CPU,
3. puts the view's values into the storage at its positions,

and the version counter, the COPY_SLICES records and the gradients are the CPU's (the
positions are ``inplace.view_positions``). A view that shares its base's device array (a
reshape) needs neither copy. Every write into a storage then regathers the other live copies
of it (``_copies``): a view read after an in-place change of its base, or of another view of
it, shows the new values, as a PyTorch view does.
"""

import weakref

import numpy as np

from ..device import to_device
from ..engine.cuda import kernels as K
from .expanded_writes import OVERLAP_MSG as _OVERLAP_MSG
from .movement import _strided_indices
from .shapes import c_strides


class ViewMap:
    """A view's place in ``storage`` (a DeviceArray): ``parent`` (the map of the tensor it was
    taken from, None for the storage's own tensor) and ``local`` ((shape, strides, offset) in
    that tensor's C order; None for a reshape)."""

    __slots__ = ("storage", "parent", "local", "_pos", "_dpos", "_overlaps", "_span", "start")

    def __init__(self, storage, parent, local):
        self.storage, self.parent, self.local = storage, parent, local
        self._pos = self._dpos = self._overlaps = self._span = None
        self.start = None  # (an empty view's PyTorch storage offset: it has no positions)

    def positions(self):
        """Flat positions in the storage of the view's elements (C order), on the host."""
        if self._pos is None:
            pos = np.arange(self.storage.size, dtype=np.int64) if self.parent is None else \
                self.parent.positions()
            if self.local is not None:
                shape, strides, offset = self.local
                pos = pos[_strided_indices(shape, strides, offset).reshape(-1)]
            self._pos = pos
        return self._pos

    def overlaps(self):
        """Whether two elements of the view are one element of the storage."""
        if self._overlaps is None:
            pos = np.sort(self.positions())
            self._overlaps = bool((pos[1:] == pos[:-1]).any())
        return self._overlaps

    def span(self):
        """(first, last) position in the storage: views whose spans are apart share nothing."""
        if self._span is None:
            pos = self.positions()
            self._span = (int(pos.min()), int(pos.max())) if pos.size else (0, -1)
        return self._span

    def device_positions(self):
        if self._dpos is None:
            self._dpos = to_device(self.positions()).flat()
        return self._dpos


# storage (a DeviceArray) -> {a gathered copy of part of it: that copy's ViewMap}, both weak
# in the copies: a copy lives as long as some tensor holds it (a view, its detach(), .data)
_copies = weakref.WeakKeyDictionary()


def empty_view_start(x, shape, items):
    """Where PyTorch's empty view ``x[items]`` (a basic key; ``x`` of ``shape`` on the device)
    starts in its storage: ``x``'s own start plus the key's start along ``x``'s steps in the
    storage, read off its positions (NumPy's probe drops an empty slice's start, and a start
    past a dimension's end has no position to look up). None for a key it does not place."""
    from .index_keys import start_of

    strides, start, m = list(c_strides(shape)), 0, x._vmap
    if m is not None and x._base is not None and x._base._data.a is m.storage.a:
        pos = m.positions()
        if not pos.size:
            return None if m.start is None else _offset(m.start, start_of(shape, strides, items))
        pos, start = pos.reshape(shape), int(pos.flat[0])
        for d, n in enumerate(shape):
            if n > 1:  # (a dim of one element keeps C order's step: its step is never seen)
                strides[d] = int(pos[(0,) * d + (1,) + (0,) * (len(shape) - d - 1)]) - start
    return _offset(start, start_of(shape, strides, items))


def _offset(start, found):
    return None if found is None else start + found


def note(t, x, local):
    """Give CUDA view ``t`` of ``x`` its map (``local``: see ViewMap)."""
    parent = x._vmap
    if parent is None:
        m = t._vmap = ViewMap(x._data, None, local)
    else:
        m = t._vmap = ViewMap(parent.storage, parent, local)
    if _apart(t):
        copies = _copies.get(m.storage)
        if copies is None:
            copies = _copies[m.storage] = weakref.WeakKeyDictionary()
        copies[t._data] = m


def _apart(x):
    """Whether view ``x`` holds a copy of its elements (not the storage's own device array)."""
    m = x._vmap
    return m is not None and x._data.a is not m.storage.a


def refresh(x):
    """Regather the values of view ``x`` from its storage, in place (its copy may be stale)."""
    if _apart(x) and x._data.size:
        n = x._data.size
        K.launch("take", n, n, x._vmap.storage.flat(), x._vmap.device_positions(),
                 x._data.flat())


def _check_overlap(x):
    """PyTorch refuses to write a view whose elements repeat (an expand, overlapping unfold
    windows), as NumPy's read-only broadcast refuses it on the CPU."""
    m = x._vmap
    if m is not None and m.overlaps():
        raise RuntimeError(_OVERLAP_MSG)


def _write_back(x):
    """Put x's values into its storage (a view's copy), then regather every other copy of
    that storage: the views of a tensor written in place read its new values."""
    m = x._vmap
    if _apart(x) and x._data.size:
        n = x._data.size
        K.launch("put", n, n, x._data.flat(), 1, m.device_positions(), m.storage.flat())
    copies = _copies.get(x._data if m is None else m.storage)
    if copies:
        # only the copies that may overlap what was written (rows kept from ``unbind`` and
        # written one by one: one regather each, not one per live row)
        lo, hi = m.span() if _apart(x) else (0, x._data.size - 1)
        for copy, cm in list(copies.items()):
            first, last = cm.span()
            if copy is not x._data and copy.size and last >= lo and first <= hi:
                n = copy.size
                K.launch("take", n, n, cm.storage.flat(), cm.device_positions(), copy.flat())


def write(x, value, casting):
    """``inplace._write`` for a CUDA tensor: ``value`` into x's storage and its base's."""
    from .cuda_ops import write as write_value

    _check_overlap(x)
    write_value(x._data, value, casting)
    _write_back(x)


def store(x, key, v):
    """``x[key] = v`` for a CUDA tensor, reaching its base when x is a view."""
    from .cuda_ops import store as store_value

    _check_overlap(x)
    store_value(x._data, key, v)
    _write_back(x)


def positions_in(x, base):
    """``inplace.view_positions`` for CUDA view ``x`` of ``base`` (itself the storage's own
    tensor, or a view of it that has a map: a detached view)."""
    pos = x._vmap.positions()
    bm = base._vmap
    if bm is None:
        return pos
    where = np.full(bm.storage.size, -1, np.int64)
    where[bm.positions()] = np.arange(bm.positions().size)
    return where[pos]


def data_ptr(x):
    """The device address of CUDA tensor ``x``'s first element in the storage it addresses
    (a view's in its base's, as PyTorch's); on the simulator, the address of its host array."""
    m = x._vmap
    storage = x._data if m is None else m.storage
    first = 0 if m is None or not x._data.size else int(m.positions()[0])
    a = storage.a
    cai = getattr(a, "__cuda_array_interface__", None)  # (the simulator's arrays have none)
    start = cai["data"][0] if cai is not None else a.__array_interface__["data"][0]
    return start + first * x.dtype.itemsize
