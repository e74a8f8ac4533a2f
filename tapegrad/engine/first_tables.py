"""The first sweep of a small segment: its records and tables made in one int64 block.

Every backward of a small graph sweeps a fresh segment whose records are still pending Python
ints and whose saved floats, array addresses and side tables are still Python lists. Made one
by one (the record flush, one conversion per table, the offsets and the kernel's scratch),
that costs ~9 µs of a ~37 µs ``(a*b).sum().backward()``: an allocation, a conversion and a
compiled call each. Here the whole set is one ``np.empty``, one ``struct`` pack of every list
and one compiled call (array addresses from their ids, as ``addresses.addresses`` does, and the
adjoint offsets, as ``sweep._lay_out``); the tables are views of that block, so a later flush
or extension that outgrows one makes a new array for it exactly as before (``Segment.flush``,
``SweepArrays.update``).

Layout (int64 words): saved-array addresses, index-array addresses, the int side table and
its spare slot, the saved floats and the float side table (each with its spare slot, packed as
float64), the records with ``tape._SPARE_RECORDS`` free rows, then the sweep's work array
(offsets and scratch).
"""

import struct

import numpy as np
from numba import njit

from .. import tape
from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)
from .addresses import _DATA, _DESCR, _F32, _LAYOUT, _layout_holds, _one_by_one, _word

_MAX_RECORDS = 256  # segments up to this many records (a larger one: the tables one by one)
_SPARE_ROWS = tape._SPARE_RECORDS
_packers = {}  # table lengths -> struct.Struct
_MAX_PACKERS = 512
_F64 = np.dtype(np.float64)


@njit(cache=True)
def _settle(block, naddr, f32_descr, none_id, r0, n, w0):
    """``block[:naddr]``: array ids (``none_id``: no array) made data addresses, as
    ``addresses._from_ids`` does; the work array ``block[w0:]`` laid out for the ``n`` records
    at ``r0`` as ``sweep._lay_out`` does (offsets, then zeros). Returns the arena's size and
    the first address left as an id, those after it too (-1: none)."""
    bad = -1
    for i in range(naddr):
        obj = block[i]
        if obj == none_id:
            block[i] = 0
            continue
        addr = _word(obj + _DATA)
        if addr & 7:
            bad = i
            break
        if _word(obj + _DESCR) == f32_descr:
            addr |= 1
        block[i] = addr
    total = 0
    block[w0] = 0
    for r in range(n):
        total += block[r0 + r * tape.NFIELDS + tape.SIZE]
        block[w0 + r + 1] = total
    for i in range(w0 + n + 1, block.shape[0]):
        block[i] = 0
    return total, bad


def first_tables(seg, top, scratch, tables):
    """For a sweep of the segment ``seg`` (up to record ``top``, None: all) whose records were
    never flushed and whose tables were never made: flush them and make the tables in one
    block (``seg.buf``; ``seg._cache`` a ``tables()``, a ``sweep.SweepArrays``) and returns
    ``(records swept, their offsets, scratch, arena size, tables, seg.buf)``: the offsets (of
    each record's adjoint in the arena, and its end) followed by ``scratch`` zeroed words. None
    (nothing changed) for a segment this does not take."""
    if _LAYOUT[0] is None:
        _LAYOUT[0] = _layout_holds()
    if not _LAYOUT[0]:
        return None
    with seg.lock:
        ints = seg.ints
        k = len(ints) - len(ints) % tape.NFIELDS
        nrec = k // tape.NFIELDS
        if seg.nbuf or seg._cache is not None or not k or nrec > _MAX_RECORDS:
            return None
        avals, ivals, iaux, fvals, faux = seg.avals, seg.ivals, seg.iaux, seg.fvals, seg.faux
        na, ni, niaux, nf, nfaux = len(avals), len(ivals), len(iaux), len(fvals), len(faux)
        # (a table with values keeps one spare slot at its end; an empty one is shared)
        li = niaux + 1 if niaux else 0
        lf = nf + 1 if nf else 0
        lx = nfaux + 1 if nfaux else 0
        m = nrec if top is None or top + 1 >= nrec else top + 1
        r0 = na + ni + li + lf + lx
        w0 = r0 + (nrec + _SPARE_ROWS) * tape.NFIELDS
        wlen = m + 1 + scratch
        key = (na + ni, li, lf, lx, k)
        packer = _packers.get(key)
        if packer is None:
            if len(_packers) >= _MAX_PACKERS:
                _packers.clear()
            packer = _packers[key] = struct.Struct(f"{na + ni}q{li}q{lf}d{lx}d{k}q")
        values = list(map(id, avals[:na]))  # (a freed array, None: id(None), read as 0)
        if ni:
            values += map(id, ivals[:ni])
        if li:
            values += iaux[:niaux]
            values.append(0)
        if lf:
            values += fvals[:nf]
            values.append(0.0)
        if lx:
            values += faux[:nfaux]
            values.append(0.0)
        values += ints if len(ints) == k else ints[:k]
        block = np.empty(w0 + wlen, np.int64)
        try:
            packer.pack_into(block, 0, *values)
        except (struct.error, TypeError):  # a value struct does not take: one by one
            return None
        total, bad = _settle(block, na + ni, id(_F32), id(None), r0, m, w0)
        c = tables()  # (its empty tables shared, as for any fresh segment)
        aptr = block[:na] if na else c.aptr
        iptr = block[na : na + ni] if ni else c.iptr
        if bad >= 0:  # an unaligned array (``addresses``): replaced by an aligned copy
            if bad < na:
                _one_by_one(avals, bad, na, aptr)
                bad = na
            if ni:
                _one_by_one(ivals, bad - na, ni, iptr)
        buf = block[r0:w0].reshape(nrec + _SPARE_ROWS, tape.NFIELDS)
        c.aptr, c.na, c.iptr, c.ni = aptr, na, iptr, ni
        at = na + ni
        if li:
            c.iaux, c.niaux = block[at : at + li], niaux
        at += li
        if lf:
            c.fv, c.nf = block[at : at + lf].view(_F64), nf
        at += lf
        if lx:
            c.faux, c.nfaux = block[at : at + lx].view(_F64), nfaux
        tabs = (c.fv, aptr, iptr, c.iaux, c.faux)
        # the segment changes last, in statements that call nothing: a KeyboardInterrupt
        # (Ctrl-C) is raised only at a call or a loop's jump, so it cannot land between them
        # and leave the records neither pending nor flushed
        del ints[:k]
        seg.buf = buf
        seg.nbuf = nrec
        seg._cache = c
    return buf[:m], block[w0 : w0 + m + 1], block[w0 + m + 1 :], total, tabs, buf
