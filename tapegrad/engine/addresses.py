"""Data addresses of saved arrays, for the compiled sweep's address tables.

Asking Numba for one array's address costs ~0.2-0.35 µs (the dispatcher types the argument),
and every backward on a fresh segment asks once per saved array: ~0.7 µs an array with the
Python around it, 4.5 µs of a Hessian-vector product's 190. ``addresses`` instead writes the
arrays' object addresses (``id``) into the table and reads each one's data pointer and dtype
in one compiled pass, where NumPy's own ``PyArray_DATA``/``PyArray_DESCR`` read them: the
``data`` and ``descr`` fields of the array object. That layout is NumPy's public C structure
(``PyArrayObject_fields``); it is checked against ``ndarray.ctypes`` once, and where it does
not hold (another NumPy or Python build) the per-array calls are used instead.
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)

_F32 = np.dtype(np.float32)
# byte offsets of ``data`` and ``descr`` in an array object (after the 16-byte object header)
_DATA, _DESCR = 16, 56


@njit(cache=True)
def address(a):
    """The data address of one array."""
    return a.ctypes.data


@intrinsic
def _word(typingctx, addr):
    """The int64 stored at an int64 address."""

    def codegen(context, builder, sig, args):
        return builder.load(builder.inttoptr(args[0], ir.PointerType(ir.IntType(64))))

    return types.int64(addr), codegen


@njit(cache=True)
def _from_ids(table, start, stop, f32_descr, data_at, descr_at):
    """In place: ``table[start:stop]`` holds array object addresses (0: no array); each becomes
    its array's data address, the lowest bit set for float32. Returns the index of the first
    array whose address is not a multiple of 8 (left as it was, with those after it), or -1."""
    for i in range(start, stop):
        obj = table[i]
        if obj == 0:
            continue
        addr = _word(obj + data_at)
        if addr & 7:
            return i
        if _word(obj + descr_at) == f32_descr:
            addr |= 1
        table[i] = addr
    return -1


def _one_by_one(arrays, start, stop, out):
    """``addresses`` by one compiled call per array (also where an address is unaligned)."""
    addrs = []  # (one assignment into ``out`` at the end: an item write costs as much)
    for i in range(start, stop):
        a = arrays[i]
        if a is None:
            addrs.append(0)
            continue
        addr = address(a)
        # (``not a.flags.aligned`` without a flags object; a multiple of 8 is aligned for the
        # dtypes the kernel reads, float32, float64 and int64: only another asks the dtype)
        if addr & 7 and addr % a.dtype.alignment:
            a = arrays[i] = a.copy()  # a fresh array is aligned
            addr = address(a)
        addrs.append(addr | (a.dtype is _F32))
    out[start:stop] = addrs  # (a few arrays: a slice assignment beats packing them)


def addresses(arrays, start, stop, out):
    """Write the addresses of ``arrays[start:stop]`` (NumPy arrays or None) to
    ``out[start:stop]``, the lowest bit set for float32 (the kernel reads those as float32).
    That bit is free only in an aligned array's address: an unaligned one (NumPy views of a
    byte buffer, e.g. arrays unpickled from a message frame) is replaced by an aligned copy
    first, or its float64 values would be read as float32."""
    if _LAYOUT[0] is None:
        _LAYOUT[0] = _layout_holds()
    if _LAYOUT[0] and stop > start:
        # (the list keeps every array alive until the compiled pass has read it)
        out[start:stop] = [0 if a is None else id(a) for a in arrays[start:stop]]
        bad = _from_ids(out, start, stop, id(_F32), _DATA, _DESCR)
        if bad < 0:
            return
        start = bad
    _one_by_one(arrays, start, stop, out)


_LAYOUT = [None]  # whether ``_from_ids`` reads what ``ndarray.ctypes`` says (checked once)


def _layout_holds():
    try:
        probe = [np.zeros(3), np.zeros(2, np.float32), None, np.zeros((2, 2), np.float32).T]
        want = [a.ctypes.data | (a.dtype is _F32) if a is not None else 0 for a in probe]
        table = np.array([0 if a is None else id(a) for a in probe], np.int64)
        return _from_ids(table, 0, len(probe), id(_F32), _DATA, _DESCR) < 0 and \
            table.tolist() == want
    except Exception:  # noqa: BLE001 (any doubt: the per-array calls)
        return False
