"""Views that change a complex tensor's kind: ``z.real``, ``z.imag``, ``view_as_real(z)``
(float views of a complex storage) and ``view_as_complex(r)`` (a complex view of a float one).

NumPy's ``a.real``/``a.imag`` of a complex array are strided float views of its memory, so a
write into them (``z.real[0] = 1``, ``z.imag.mul_(2)``) changes ``z``, as in PyTorch. The
in-place machinery (``ops/inplace.py``) treats views by flat positions in the base; a float
view of a complex base has the base's positions but only half of each element, so its records
here say which half (``part_of``: one for all of ``z.real``, one per element of
``view_as_real(z)``): the base's new history is ``complex(where(mask, new, old real part), old
imaginary part)`` (or the same for the imaginary part), and the view's own history is that part
of the base's elements it covers. A complex view of a float base covers two base elements per
element (``pair_positions``): a write puts its real and imaginary parts at their positions.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import complex as C
from . import elementwise as E
from .movement import _share_storage, gather_index, reshape


def byte_offsets(a):
    """Byte offset of every element of ``a`` (C order) from its data pointer."""
    off = np.zeros(a.shape, np.int64)
    for k, (n, s) in enumerate(zip(a.shape, a.strides)):
        shape = [1] * a.ndim
        shape[k] = n
        off += (np.arange(n, dtype=np.int64) * s).reshape(shape)
    return off.reshape(-1)


def _start(x, base):
    return x._data.__array_interface__["data"][0] - base._data.__array_interface__["data"][0]


def part_of(x, base):
    """None unless float ``x`` views complex ``base``; else the part of its base element each
    element of ``x`` is (0 real, 1 imaginary): one int when all are the same part (``z.real``),
    an int array in x's C order when not (``view_as_real(z)``)."""
    if base.dtype.kind != "c" or x.dtype.kind == "c":
        return None
    part = (byte_offsets(x._data) + _start(x, base)) % base._data.itemsize // x._data.itemsize
    if part.size == 0 or (part == part[0]).all():
        return int(part[0]) if part.size else 0
    return part


def is_pair_view(x, base):
    """Whether complex ``x`` views the storage of float ``base`` (``view_as_complex(r)``)."""
    return x.dtype.kind == "c" and base.dtype.kind != "c"


def take_part(t, part):
    """The part(s) ``part`` (``part_of``) of complex ``t`` (``t`` itself for None)."""
    if part is None:
        return t
    if isinstance(part, np.ndarray):
        return E.where(part.reshape(t.shape) == 0, C.real(t), C.imag(t))
    return C.real(t) if part == 0 else C.imag(t)


def _spread(parts, positions, value, sel=None):
    """``parts`` (flat) with the elements at ``positions`` taken from flat ``value``
    (``sel``: which of ``value``'s elements; all when None)."""
    n = parts.numel()
    src_ids = np.arange(len(positions)) if sel is None else np.nonzero(sel)[0]
    mask = np.zeros(n, bool)
    mask[positions] = True
    src = np.zeros(n, np.int64)
    src[positions] = src_ids
    return E.where(mask, gather_index(value, src), parts)


def copy_part(base, positions, value, part):
    """Record ``base`` (its storage already updated) = old base with ``part`` (``part_of``,
    one per position when an array) of the elements at ``positions`` replaced by ``value``
    (real; the other parts kept)."""
    flat = reshape(base, -1)
    parts = [C.real(flat), C.imag(flat)]
    v = reshape(value, -1)
    if not isinstance(part, np.ndarray):
        parts[part] = _spread(parts[part], positions, v)
    else:
        for k in (0, 1):
            sel = part == k
            if sel.any():
                parts[k] = _spread(parts[k], positions[sel], v, sel)
    return reshape(C.complex(*parts), base.shape)


def copy_pairs(base, pos_re, pos_im, value):
    """Record float ``base`` (its storage already updated) = old base with complex ``value``'s
    real parts at ``pos_re`` and imaginary parts at ``pos_im``."""
    v = reshape(value, -1)
    flat = _spread(reshape(base, -1), pos_re, C.real(v))
    if C.is_complex(v):
        flat = _spread(flat, pos_im, C.imag(v))
    return reshape(flat, base.shape)


def gather_pairs(base, pos_re, pos_im, shape):
    """The complex values whose parts sit at ``pos_re`` and ``pos_im`` of float ``base``."""
    return reshape(C.complex(gather_index(base, pos_re), gather_index(base, pos_im)), shape)


def view_as_real(x):
    """Complex ``x`` as a float view of its storage, (re, im) pairs in a new last dim."""
    a = x._data
    r = a.real
    t = C.record(as_strided(r, a.shape + (2,), r.strides + (r.itemsize,)), (x,), "view_as_real")
    _share_storage(t, x)  # writes into it change x
    return t


def view_as_complex(x, base):
    """Float ``x`` (last dim 2, checked) as a complex view of its storage (``base``'s)."""
    a = x._data
    isz = a.itemsize
    if a.strides[-1] != isz:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * isz) for s in a.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if _start(x, base) % (2 * isz):
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    t = C.record(a.view(np.result_type(a.dtype, np.complex64))[..., 0], (x,), "view_as_complex")
    _share_storage(t, x)  # writes into it change x
    return t
