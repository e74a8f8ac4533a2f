"""``z.real`` and ``z.imag`` as views: float tensors on the storage of a complex tensor.

NumPy's ``a.real``/``a.imag`` of a complex array are strided float views of its memory, so a
write into them (``z.real[0] = 1``, ``z.imag.mul_(2)``) changes ``z``, as in PyTorch. The
in-place machinery (``ops/inplace.py``) treats views by flat positions in the base; a part
view has the base's positions but only half of each element, so its records here say which
half: the base's new history is ``complex(where(mask, new, old real part), old imaginary
part)`` (or the same for the imaginary part), and the view's own history is that part of the
base's elements it covers.
"""

import numpy as np

from . import complex as C
from . import elementwise as E
from .movement import gather_index, reshape


def part_of(x, base):
    """0 (real part) or 1 (imaginary part) when float ``x`` views complex ``base``, else None."""
    if base.dtype.kind != "c" or x.dtype.kind == "c":
        return None
    start = x._data.__array_interface__["data"][0] - base._data.__array_interface__["data"][0]
    return int(start % base._data.itemsize >= x._data.itemsize)


def part_offset(x, base):
    """Bytes from the start of a base element to the part ``x`` views (0 for no part view)."""
    part = part_of(x, base)
    return 0 if part is None else part * x._data.itemsize


def take_part(t, part):
    """The real (0) or imaginary (1) part of complex ``t`` (``t`` itself for None)."""
    if part is None:
        return t
    return C.real(t) if part == 0 else C.imag(t)


def copy_part(base, positions, value, part):
    """Record ``base`` (its storage already updated) = old base with ``part`` of the elements at
    ``positions`` replaced by ``value`` (real; the other part kept)."""
    n = base.numel()
    mask = np.zeros(n, bool)
    mask[positions] = True
    src = np.zeros(n, np.int64)
    src[positions] = np.arange(len(positions))
    flat = reshape(base, -1)
    parts = [C.real(flat), C.imag(flat)]
    spread = gather_index(reshape(value, -1), src)
    parts[part] = E.where(mask, spread, parts[part])
    return reshape(C.complex(*parts), base.shape)
