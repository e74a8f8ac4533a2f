"""The layout of a large sweep's arena: which adjoints are large, swept by NumPy, written by the
compiled loop, or held apart in arrays of their own (``slot_kinds``), and the arena zeroed only
where zeros are read (``_arena``). Used by ``engine.sweep.Sweep`` when the arena is large."""

import sys

import numpy as np
from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)
from .. import tape
from ..registry import PYTHON_BASE, Op
from ._sweep_dispatch import _row_sum, _transposing
from .numpy_records import BIG, elementwise_table

_CODE_MASK, _HOOKED = tape.CODE_MASK, tape.HOOKED


def slot_kinds(recs, offs, iaux):
    """Per record (boolean arrays): whether its adjoint is large; whether NumPy sweeps it (a
    large elementwise record); whether the compiled loop adds into its adjoint (it is an input
    of a record that loop sweeps: a full sum or the row sums of a large input are not,
    ``sum_vjp`` writes their gradients); and whether its adjoint may live in an array of its
    own instead of the arena: a large record that Python sweeps (an elementwise op NumPy runs,
    an IMPORT the driver reads, a Python op: its rule reads it, a transposing map Python walks in tiles,
    ``_transposing``; ``iaux``: the segment's int side table), that the compiled loop does not
    write, without hooks (a large seed is then held as it is, not copied into the arena). Only
    Python touches such an adjoint, through ``grad_of``/``accumulate``; the compiled loop never
    sees its arena slot, which stays untouched (the first touch of a page of a fresh arena
    costs a page fault: ~0.25 s of a first 2e6-element backward). One compiled pass: NumPy's
    ~15 operations on these small arrays took ~60 µs of every backward of large arrays."""
    out = np.empty((4, len(recs)), np.bool_)
    _slot_kinds(recs, offs, BIG, PYTHON_BASE, _CODE_MASK, _HOOKED, _IMPORT, _SCATTER_S,
                _GATHER_S, iaux, elementwise_table(), out)
    return out[0], out[1], out[2], out[3]


_IMPORT, _SCATTER_S, _GATHER_S = int(Op.IMPORT), int(Op.SCATTER_STRIDED), int(Op.GATHER_STRIDED)


@njit(cache=True)
def _slot_kinds(recs, offs, big_size, python_base, code_mask, hooked, import_code,
                scatter_code, gather_code, iaux, elementwise, out):
    n = len(recs)
    big, numpy_swept, writes, own = out[0], out[1], out[2], out[3]
    for r in range(n):
        code = recs[r, 0] & code_mask
        size = offs[r + 1] - offs[r]
        big[r] = size >= big_size
        numpy_swept[r] = big[r] and code < python_base and elementwise[code]
        writes[r] = False
    for r in range(n):
        code = recs[r, 0] & code_mask
        if code >= python_base or numpy_swept[r]:
            continue  # (swept by Python)
        a = recs[r, 1]
        if code == scatter_code and a >= 0 and big[a] and (
                offs[r + 1] - offs[r] == 1 or _row_sum(recs, offs, iaux, r, big_size)):
            continue  # a full sum or row sums of a large input (``sum_vjp``)
        if a >= 0:
            writes[a] = True
        b = recs[r, 2]
        if b >= 0:
            writes[b] = True
    for r in range(n):
        code = recs[r, 0] & code_mask
        python_reads = code == import_code or code >= python_base or (
            code == gather_code and _transposing(iaux, recs[r, 3]))  # (planes >= TILED)
        own[r] = (numpy_swept[r] or (big[r] and python_reads)) and \
            (recs[r, 0] & hooked) == 0 and not writes[r]


def _arena(kinds, offs, dtype):
    """The arena of a large sweep, zeroed only where zeros are read: the slots the compiled
    loop adds into (inputs of the records it sweeps) and every small slot. A large slot that
    only Python writes (the input of a matrix product, of a large elementwise record NumPy
    sweeps) is left as it is: Python copies its first gradient in (``accumulate`` and ``seed``
    check ``reached``) and nothing reads an unreached adjoint. That saves a pass over most of
    a large arena (GMM: 12 of 15 MB, ~1 ms of every backward)."""
    big, _, compiled_writes, _ = kinds  # (``slot_kinds``)
    lazy = big & ~compiled_writes
    adj = np.empty(int(offs[-1]), dtype)
    start = 0
    for s in np.flatnonzero(lazy).tolist():
        adj[start : offs[s]] = 0
        start = offs[s + 1]
    adj[start:] = 0
    return adj


def most_of_arena(adj, g):
    """Whether the slot ``g`` is all but at most a quarter of the arena ``adj``: once the sweep
    is done, such a slot (a fresh array of that sweep, which nothing else keeps) may be handed
    over as it is, keeping the rest alive with it, where a copy would cost a pass over it (a
    leaf's .grad of 2 MB: ~100 µs, half of ``x.sum(-1).backward(g)``; an embedding table's
    20 MB: 2.5 ms)."""
    return len(adj) - len(g) <= len(g) >> 2


def _as_arena_array(a, dtype):
    """``a`` (a flat adjoint held apart, read-only where it is a caller's seed) as the arena's
    kind of array, writeable, C-contiguous, of its dtype, for a compiled loop that reads it:
    one signature (Numba types a read-only array apart: one more compile)."""
    if a.dtype != dtype or not a.flags.c_contiguous:
        return np.ascontiguousarray(a, dtype)  # (a broadcast: a copy)
    if not a.flags.writeable:
        try:
            a = a.view()
            a.flags.writeable = True  # (read only: its base is the caller's writeable array)
        except ValueError:
            a = a.copy()
    return a


def _private(grads):
    """Per gradient a rule returned, whether it is an array of its own that nothing else refers
    to (a slot held apart may keep it instead of a copy): a writeable base array referred to
    only by the returned tuple (a rule that returns a saved value, its ``g`` or an array it
    keeps elsewhere has more references)."""
    return [n == _PRIVATE_REFS for n in _ref_counts(grads)]


def _ref_counts(grads):
    """``sys.getrefcount`` of each writeable base array of ``grads`` (0 for anything else),
    taken the same way for every call, so that one measured count (``_PRIVATE_REFS``, an
    array held by its tuple alone) tells a private array whatever the interpreter adds."""
    out = []
    for gi in grads:
        out.append(sys.getrefcount(gi) if type(gi) is np.ndarray and gi.base is None and
                   gi.flags.writeable else 0)
    return out


_PRIVATE_REFS = _ref_counts((np.empty(1),))[0]
