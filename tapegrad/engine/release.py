"""Releasing what a sweep read: the saved values of the records it swept, flagged FREED.

A backward without ``retain_graph`` frees each swept record's saved arrays (as PyTorch frees a
node's saved tensors once it ran), so a second backward through them raises instead of reading
stale memory. While any sweep of a segment is running or paused the arrays stay alive (their
addresses may be in a compiled loop's hands) and are released when the last one ends.
"""

import numpy as np
from numba import njit

from .. import tape
from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)
from ..registry import PYTHON_BASE, REGISTRY

_FREED, _CODE_MASK = tape.FREED, tape.CODE_MASK
_EMPTY_I = np.zeros(0, np.int64)


class sweeping:
    """``with sweeping(seg):`` marks ``seg`` as being swept for the duration (reentrant,
    thread-safe; a plain class, not a generator: it runs once per backward). The same as
    ``begin_sweep(seg)`` ... ``end_sweep(seg)``, which the backward driver calls directly.

    While any sweep of a segment is running or paused, ``free_records`` only flags records:
    the arrays it would release stay alive (their addresses may be in a compiled loop's hands,
    on this thread below a pause or on another thread) and are released when the last sweep
    of the segment ends.
    """

    __slots__ = ("seg",)

    def __init__(self, seg):
        self.seg = seg

    def __enter__(self):
        begin_sweep(self.seg)

    def __exit__(self, *exc):
        end_sweep(self.seg)


def begin_sweep(seg):
    with seg.lock:
        seg.active += 1


def end_sweep(seg):
    with seg.lock:
        seg.active -= 1
        todo = seg.deferred if seg.active == 0 else None
        if todo:
            seg.deferred = ()
    for slots, pyrows in todo or ():
        _release(seg, slots, pyrows)


def free_records(seg, reached, out=None, spent=False):
    """Flag the ``reached`` records of ``seg`` FREED, drop their saved values, retire ``seg``.

    Shared by both sweeps, which call it inside ``sweeping(seg)``; returns the (possibly
    moved) record buffer. ``out``: a spare int64 array the caller no longer needs, used as
    the compiled pass's output where it has 5 words a record (a small sweep's scratch).
    ``spent``: a backward inside a forward_ad level with duals, whose tangents are computed
    from these saved values when asked for: they are kept and the records flagged SPENT
    instead, which a later backward through them refuses as a freed one (PyTorch's).
    """
    buf = release_records(seg, reached, out, spent)
    return buf[: len(reached)]


def release_records(seg, reached, out=None, spent=False):
    """``free_records`` returning the whole record buffer it flagged, not a view of the
    records swept (the numeric sweep reads none after freeing: one array object less)."""
    n = len(reached)
    if spent:
        with seg.lock:
            buf = seg.buf
            buf[np.flatnonzero(reached), tape.OP] |= tape.SPENT
        tape.retire(seg)
        return buf
    if out is None or len(out) < 5 * n:  # (made here: an array a compiled function returns
        out = np.empty(5 * n, np.int64)  # costs µs to box)
    nsaved = _NSAVED[0] if _NSAVED else _nsaved()
    with seg.lock:  # the owner thread's flush may have moved the buffer since the sweep began
        buf = seg.buf  # (``_mark_freed`` reads its first ``len(reached)`` records)
        # one compiled pass instead of ~10 NumPy temporaries: a fixed cost of every backward
        ns, npy = _mark_freed(buf, reached, _FREED, _CODE_MASK, PYTHON_BASE, nsaved, out)
        slots = out[:ns]
        pyrows = out[4 * n : 4 * n + npy] if npy else _EMPTY_I
        later = seg.active > 1  # another sweep of seg is active: it may still read these
        if later:
            seg.deferred += ((slots, pyrows),)  # (a tuple: a fresh segment's is ())
    if not later and (ns or npy):
        _release(seg, slots, pyrows)
    tape.retire(seg)
    return buf


def _release(seg, slots, pyrows):
    """Drop the saved arrays ``slots`` (indices into ``seg.avals``) and the saved values of the
    Python-op records ``pyrows``."""
    avals = seg.avals
    # slots ascend: all but the newest may already be in the table
    aptr = seg._cache.aptr if seg._cache is not None else _EMPTY_I
    if len(slots) <= _FEW_SLOTS:  # a small graph: item writes beat an indexed assignment
        na = len(aptr)
        for i in slots.tolist():
            avals[i] = None
            if i < na:
                aptr[i] = 0
    else:
        for i in slots.tolist():
            avals[i] = None
        aptr[slots if slots[-1] < len(aptr) else slots[slots < len(aptr)]] = 0
    if not len(pyrows):
        return
    recs = seg.buf
    for r in pyrows.tolist():
        entry = seg.pyaux[int(recs[r, tape.AUX])]
        if hasattr(entry, "release"):
            entry.release()
        elif entry.saved is not None:
            for v in entry.saved:  # (a loop, not any() of a generator: ~0.5 µs a record)
                if v is not None:
                    entry.saved = None  # has_saved() now reports the record as freed
                    entry.out = None
                    break


_FEW_SLOTS = 8  # up to this many released arrays, _release clears their addresses one by one
_NSAVED = []  # [table]: per opcode below PYTHON_BASE, how many arrays a record saves


def _nsaved():
    if not _NSAVED:
        table = np.zeros(PYTHON_BASE, np.int64)
        for code, d in REGISTRY.items():
            if code < PYTHON_BASE:
                table[code] = len(d.saves)
        _NSAVED.append(table)
    return _NSAVED[0]


def _freed_out(n):
    """The output buffer of ``_mark_freed`` for ``n`` records (arrays made in Python: an
    array returned by a compiled function costs µs to box)."""
    return np.empty(5 * n, np.int64)


@njit(cache=True)
def _mark_freed(recs, reached, freed, code_mask, python_base, nsaved, out):
    """Flag reached records FREED; write the indices of the saved arrays they hold (into
    ``seg.avals``) to ``out[:4n]`` and the Python-op records among them to ``out[4n:]``;
    return how many of each."""
    n = len(reached)
    slots = out[: 4 * n]
    pyrows = out[4 * n :]
    ns = 0
    npy = 0
    for r in range(n):
        if reached[r]:
            recs[r, 0] |= freed
            code = recs[r, 0] & code_mask
            v = recs[r, 4]
            if v >= 0 and (v & 1) == 1 and code < python_base:
                for k in range(nsaved[code]):
                    slots[ns] = (v >> 1) + k
                    ns += 1
            if code >= python_base:
                pyrows[npy] = r
                npy += 1
    return ns, npy
