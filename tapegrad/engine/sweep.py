"""Numeric reverse sweep of one tape segment: the compiled loop plus the Python pauses.

The engine sees numbers only: it imports the tape and the op registry, never tensors or the
autograd layer. Where it must pause for Python that lives above it (hooks, custom Functions,
in-place checks), it calls the ``engine.pauses.Pauses`` object it was handed.

The compiled loop (``_sweep_dispatch.sweep``) reads everything through plain int64/float64
arrays prepared here: the records, cumulative offsets of each record's adjoint in one flat
arena, saved floats, and address tables of saved arrays. Every argument is coerced to the type
signature the kernel was compiled for, so nothing recompiles by accident.

Precision: a segment whose records all hold float32 values (``Segment.n32``) is swept in a
float32 arena, by the kernel compiled for float32 (on the first such backward), whose
vectorised loops run in float32 as PyTorch's do; any other segment in a float64 arena. Saved
arrays keep their own dtype (float32 or float64; the address table marks float32 ones), so a
record reading a saved value of the other precision goes through the formula switch, which
computes in float64.
"""

import numpy as np
from numba import njit

from .. import tape
from .._pack import fill
from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)
from ..registry import PYTHON_BASE, REGISTRY, Op
from . import chains, kernels, numpy_records
from .chains import NOW
from .addresses import address, addresses
from .broadcast_vjp import reduced_python, wide_slots
from .first_tables import first_tables
from .kernels import kernel
from ._sweep_dispatch import TILED as _TILED, _transposing
from .arena import _arena, _as_arena_array, _private, most_of_arena
from .arena import slot_kinds  # noqa: F401 (for the tests' view)
from .numpy_records import BIG, full_sum, saved_values  # noqa: F401 (saved_values: re-exported)
from .numpy_records import elementwise_table
from .release import _freed_out, _mark_freed, _nsaved, release_records
from .release import begin_sweep, end_sweep, free_records, sweeping  # noqa: F401 (re-exported)

FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)
_CUSTOM, _OUTPUT, _AUX = int(Op.CUSTOM), int(Op.OUTPUT), tape.AUX
_GATHER_S = int(Op.GATHER_STRIDED)
# (record fields and flags as module constants: read at every return of the compiled loop)
_OP, _SIZE, _HOOKED, _CODE_MASK = tape.OP, tape.SIZE, tape.HOOKED, tape.CODE_MASK
_PRUNED, _GONE = tape.PRUNED, tape.FREED | tape.SPENT  # (SPENT: ``free_records``)
_SCRATCH = 128  # see PENDING in _sweep_dispatch: odometer, pending count, a zero
_PENDING = 126


_VECTOR_MEAN = 8  # mean elements per record from which a segment is swept by ``vsweep``
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_ready = {}  # (vectorised, float32 arena) -> the kernel, once it can no longer be esweep


def _kernel_for(vectorised, f32, recs):
    """``kernels.kernel`` for a sweep of ``recs``, looked up in one dict after the first."""
    k = _ready.get((vectorised, f32))
    if k is None:
        k = kernel(vectorised, _F32 if f32 else _F64, recs)
        if not kernels.is_elementwise(k):  # (esweep is chosen per sweep while it lasts)
            _ready[vectorised, f32] = k
    return k


@njit(cache=True)
def _lay_out(recs, work):
    """``work[:n + 1]``: where each of the ``n`` records' adjoints starts in the arena (the
    cumulative sum of their sizes), ``work[n + 1:]`` zeroed; returns the arena's size."""
    n = recs.shape[0]
    total = 0
    work[0] = 0
    for r in range(n):
        total += recs[r, _SIZE]
        work[r + 1] = total
    for i in range(n + 1, work.shape[0]):
        work[i] = 0
    return total


_EMPTY_F, _EMPTY_I = np.zeros(0), np.zeros(0, np.int64)
_SPARE_F, _SPARE_I = np.zeros(1), np.zeros(1, np.int64)  # the kernel may read index len - 1


class SweepArrays:
    """A segment's tables as kernel arguments, extended incrementally between backwards."""

    __slots__ = ("fv", "nf", "aptr", "na", "iptr", "ni", "iaux", "niaux", "faux", "nfaux")

    def __init__(self):
        # shared empty tables (every backward starts a fresh segment): nothing writes into an
        # array before _extend/_grow has replaced it by a larger one
        self.fv, self.nf = _EMPTY_F, 0
        self.aptr, self.na = _EMPTY_I, 0
        self.iptr, self.ni = _EMPTY_I, 0
        self.iaux, self.niaux = _SPARE_I, 0
        self.faux, self.nfaux = _SPARE_F, 0

    def update(self, seg):
        """Bring the tables up to date, converting only what was appended since last time
        (a segment swept again and again while it grows, e.g. Hessian rows, stays linear);
        returns them as ``(fv, aptr, iptr, iaux, faux)``.

        The owner thread may append to the segment's lists meanwhile: each table is read up
        to a length taken once, and the update runs under the segment's lock because two
        sweeps (threads) may share these tables."""
        with seg.lock:
            n = len(seg.fvals)
            if n != self.nf:
                self.fv, self.nf = _extend(self.fv, self.nf, seg.fvals, n, "float64")
            n = len(seg.avals)
            if n != self.na:
                self.aptr = _grow(self.aptr, n)
                addresses(seg.avals, self.na, n, self.aptr)
                self.na = n
            n = len(seg.ivals)
            if n != self.ni:
                self.iptr = _grow(self.iptr, n)
                addresses(seg.ivals, self.ni, n, self.iptr)
                self.ni = n
            n = len(seg.iaux)
            if n != self.niaux:
                self.iaux, self.niaux = _extend(self.iaux, self.niaux, seg.iaux, n, "int64")
            n = len(seg.faux)
            if n != self.nfaux:
                self.faux, self.nfaux = _extend(self.faux, self.nfaux, seg.faux, n, "float64")
            # the tables as they are now, for one sweep: the sweep reads them through raw
            # addresses, so it keeps its own references; an update by another thread may
            # replace the shared arrays (growing them) while the kernel runs without the GIL
            return self.fv, self.aptr, self.iptr, self.iaux, self.faux


def _extend(buf, done, values, n, dtype):
    """Append ``values[done:n]`` to the growable array ``buf`` (one spare slot stays at the
    end: the kernel may read index ``n`` for an absent constant)."""
    if not done:  # a fresh table (every backward starts a segment): one conversion
        if n <= _FEW_VALUES:  # (NumPy's own conversion of a short list: one call, not two)
            return np.array([*values[:n], 0], dtype), n
        buf = np.zeros(n + 1, dtype)
        fill(buf, values if len(values) == n else values[:n], dtype)
        return buf, n
    if n + 1 > len(buf):
        grown = np.zeros(max(n + 1, 2 * len(buf)), dtype)
        grown[:done] = buf[:done]
        buf = grown
    fill(buf, values[done:n], dtype, done)
    return buf, n


_FEW_VALUES = 32  # a fresh table up to this long is converted by ``np.array``


def _grow(arr, n):
    if n <= len(arr):
        return arr
    if not len(arr):  # a fresh table (every backward starts a segment): nothing to copy
        return np.zeros(n, np.int64)
    out = np.zeros(max(n, 2 * len(arr)), np.int64)
    out[: len(arr)] = arr
    return out


def offsets(recs):
    offs = np.empty(len(recs) + 1, np.int64)
    offs[0] = 0
    _accumulate(recs[:, tape.SIZE], out=offs[1:])  # the ufunc: np.cumsum's wrapper costs µs
    return offs


_accumulate = np.add.accumulate


def has_saved(seg, recs, r):
    code = int(recs[r, tape.OP]) & tape.CODE_MASK
    if code >= PYTHON_BASE:
        entry = seg.pyaux[int(recs[r, tape.AUX])]
        return getattr(entry, "saved", None) is None or any(s is not None for s in entry.saved)
    return recs[r, tape.V] >= 0


class Sweep:
    """State of one numeric sweep over one segment (its arena is ``adj``)."""

    def __init__(self, seg, top=None):
        """``top``: the newest record any seed touches; later records cannot be reached."""
        self.seg = seg
        # a small segment's first sweep: records, tables and offsets made in one block
        first = first_tables(seg, top, _SCRATCH, SweepArrays) if not seg.nbuf else None
        if first is None:
            recs = seg.records()
            if top is not None and top + 1 < len(recs):
                recs = recs[: top + 1]
            n = len(recs)
            # the offsets and the kernel's scratch in one array, laid out by one compiled
            # call (~1 µs less than NumPy's cumulative sum and a second array)
            work = np.empty(n + 1 + _SCRATCH, np.int64)
            total = _lay_out(recs, work)
            offs = self.offs = work[: n + 1]
            self.scratch = work[n + 1 :]  # [_PENDING]: reached, not yet swept
            # (saved floats, array addresses, index-array addresses, int and float tables)
            self.tabs = (seg._cache or _cache(seg)).update(seg)
            self.rbuf = None  # (``run`` takes the records afresh)
        else:
            recs, offs, self.scratch, total, self.tabs, self.rbuf = first
            self.offs = offs
            n = len(recs)
        self.recs = recs
        # float32 when every record of the segment holds float32 values (see the module doc)
        f32 = seg.n32 == seg.n
        dtype = _F32 if f32 else _F64
        # large adjoints only Python reads and writes: arrays of their own (``slot_kinds``)
        held_apart = total >= _OWN_ARENA and total >= _OWN_MEAN * n
        # (an arena with slots held apart is mostly theirs: they are never zeroed either)
        lazy = (total >= _LAZY_ARENA or held_apart) and type(self) is Sweep
        kinds = slot_kinds(recs, offs, self.tabs[3]) if held_apart or lazy else None
        if lazy:
            self.adj = _arena(kinds, offs, dtype)
        else:  # (a subclass may read any slot: the anomaly sweep reads unreached ones)
            self.adj = np.zeros(total, dtype)
        self.reached = np.zeros(n, np.uint8)
        fv = self.tabs[0]
        # the sweep keeps its own reference to the saved-float table: its address holds
        self.fbase = int(address(fv)) if len(fv) else 0
        # records of a few elements: the plain kernel; arrays: the one with vectorised loops
        vectorised = total >= _VECTOR_MEAN * (n + 1)
        self.kernel = _kernel_for(vectorised, f32, recs)
        self.own = kinds[3] if held_apart else None
        self.held = {}  # slot -> its adjoint, for slots in ``own`` that something reached
        self.spares = None  # (size, dtype) -> dead held arrays for results to reuse
        # records whose adjoint the caller reads after the sweep (None: every record); the
        # other held adjoints are dropped once their record is swept, so NumPy reuses them
        self.keep = None
        # whether this backward frees the graph (``run``'s ``free``): a saved array that only
        # the swept records held is then dead (``numpy_records.dead_saved``)
        self.freeing = False
        # id -> weak reference of a handed-on saved value whose array the saved table holds
        # itself (``numpy_records._note_whole``): the only ones ``dead_saved`` may judge
        self.whole = {}
        # a backward with ``inputs``: records whose adjoint leads to one (None: all), and
        # those whose VJP does not run (``prune``)
        self.needed = self.pruned = None
        # the pending passes of consecutive large elementwise records (``chains.Later``)
        self.later = None

    def prune(self, needed, runs):
        """Sweep only what a backward with ``inputs`` needs (``autograd.prune``): records
        whose VJP does not run (``runs[r]`` false) are flagged ``PRUNED`` in a private copy
        of the records, where the compiled loop stops and Python passes over them."""
        n = len(self.recs)
        self.needed = np.frombuffer(bytes(needed[:n]), np.uint8)
        self.pruned = np.flatnonzero(np.frombuffer(bytes(runs[:n]), np.uint8) == 0)
        self.recs = self._refresh()

    def seed(self, r, g, owned=False):
        """Add ``g`` into the adjoint of record ``r``; ``owned``: ``g`` is the caller's
        private array, which a slot held apart may keep."""
        if type(g) is not np.ndarray:
            g, owned = np.asarray(g), False
        if self.own is not None and self.own[r]:
            owned = owned and g.base is None
            g = g.reshape(-1)
            if not owned and g.flags.writeable and g.flags.c_contiguous:
                g = g.view()  # the caller's array, read-only: held as it is, not copied
                g.flags.writeable = False  # (nothing writes into a read-only held array)
            self.accumulate((r,), (g,), (owned,))
            return
        if g.ndim != 1:
            g = g.reshape(-1)
        o, reached = self.offs, self.reached
        if reached[r]:
            self.adj[o[r] : o[r + 1]] += g
        else:  # nothing there yet: a copy (an in-place ufunc costs µs on a few elements)
            i = o.item(r)
            if len(g) == 1 and o.item(r + 1) == i + 1 and type(v := g.item(0)) is float:
                self.adj[i] = v  # (a scalar's seed, ``loss.backward()``'s: no slice)
            else:
                self.adj[i : o.item(r + 1)] = g
            reached[r] = 1  # ``mark``, inlined: once per backward
            self.scratch[_PENDING] += 1

    def mark(self, r):
        if not self.reached[r]:
            self.reached[r] = 1
            self.scratch[_PENDING] += 1

    def grad_of(self, r):
        if self.held:
            g = self.held.get(r)
            if g is not None:
                return g
        return self.adj[self.offs[r] : self.offs[r + 1]]

    def take(self, r):
        """``(adjoint of r, whether the caller may keep that array)``, once the sweep is done:
        an adjoint held apart from the arena is handed over instead of copied."""
        g = self.held.pop(r, None) if self.held else None
        if g is None:
            g = self.grad_of(r)
            return g, most_of_arena(self.adj, g)
        return (g, True) if g.flags.writeable else (g.copy(), True)  # (a broadcast: copied)

    def run(self, start, stop, pauses, free=False):
        """Sweep records ``start`` down to ``stop``, pausing into Python (``pauses``, an
        ``engine.pauses.Pauses``) where needed. ``free``: the backward does not retain the
        graph, so before user code runs (a hook, a custom backward) the records swept so far
        are flagged FREED, as PyTorch releases each node's saved values once it has run: a
        backward started from that code through them raises instead of looping.

        A pause may run user code that records and runs another backward on this very segment
        (a hook calling ``backward``, checkpointing). That may move the record buffer and the
        saved-float table, and flag records FREED: so nothing read through an address survives
        a pause (``_refresh``), and arrays are never released while a sweep of their segment is
        active (``sweeping``).
        """
        seg, k, fbase = self.seg, self.kernel, self.fbase
        self.freeing = free
        _, aptr, iptr, iaux, faux = self.tabs
        # (the records as ``__init__`` took them while their buffer is where it was: nothing
        # has paused yet, and flags written since went into that buffer)
        recs = self.recs if seg.buf is self.rbuf and self.pruned is None else self._refresh()
        scratch = self.scratch
        resume, hooked_done, r = -1, -1, start
        self.swept_above = start + 1
        reached = self.reached
        while r >= stop:
            opw = recs.item(r, _OP)  # (a Python int: the flag tests below stay in Python)
            if self.later is not None and not self._goes_on(recs, r, opw):
                chains.stop(self)  # (before the kernel or anything else reads adjoints)
            if self.later is not None:
                p = r  # a record continuing the chain (the kernel would stop there)
            elif opw >= PYTHON_BASE and r != resume and reached[r]:
                p = r  # a Python (or flagged) record: the kernel would return it at once
            else:
                p = k(recs, self.offs, self.adj, reached, fbase, aptr, iptr, iaux, faux,
                      scratch, r, stop, resume)
                if p < 0:
                    break
                opw = recs.item(p, _OP)
            if opw & _PRUNED and not (opw & _HOOKED and hooked_done != p and self.needed[p]):
                # off every path to the inputs asked for (an input asked for: after its hooks,
                # which PyTorch runs on a gradient it returns): its VJP is not run
                scratch[_PENDING] -= 1
                if scratch[_PENDING] == 0:
                    break
                r, resume = p - 1, -1
                continue
            if opw & _HOOKED and hooked_done != p:
                hooked_done = p
                if free:
                    self._flag_swept(p)
                handled = pauses.hooks(seg, p, self)
                recs = self._refresh()
                opw = recs.item(p, _OP)
                if opw & _PRUNED:
                    r, resume = p, -1  # (back to the test above, its hooks done)
                    continue
                if handled:  # the hooks of its node ran its VJP (a node's post hooks)
                    scratch[_PENDING] -= 1
                    if scratch[_PENDING] == 0:
                        break
                    r, resume = p - 1, -1
                    continue
            code = opw & _CODE_MASK
            if code < PYTHON_BASE and kernels.is_elementwise(k) and kernels.leaves(code):
                k = kernel(False, self.adj.dtype)  # a map esweep leaves: sweep resumes at p
            if opw & _GONE and has_saved(seg, recs, p):
                raise RuntimeError(FREED_MSG)
            # the kernel also stops at FREED records (for the check above); an IMPORT or
            # OUTPUT record there has no VJP of its own (no REGISTRY entry)
            big = code > _OUTPUT and code < PYTHON_BASE and recs.item(p, _SIZE) >= BIG \
                and REGISTRY[code].kind in ("unary", "binary")
            tiles = code == _GATHER_S and recs.item(p, _SIZE) >= _TILED and \
                _transposing(iaux, recs.item(p, _AUX))
            if code >= PYTHON_BASE or big or tiles or full_sum(recs, self.offs, p, code, iaux):
                if big:
                    self._numpy_vjp(p, code)
                elif tiles:
                    self._transpose_vjp(p)
                elif code < PYTHON_BASE:
                    self._sum_vjp(p)
                else:
                    if free and code == _CUSTOM:
                        self._flag_swept(p)
                    self._python_vjp(p, code, pauses)
                    recs = self._refresh()
                scratch[_PENDING] -= 1
                if scratch[_PENDING] == 0:
                    break
                r, resume = p - 1, -1
            else:
                r, resume = p, p
        if self.later is not None:
            chains.stop(self)
        self.spares = None  # (their memory back to NumPy before the next segment's arena)
        if tape.inplace_epoch[0] != seg.epoch:  # else nothing was modified in place since
            pauses.check_reached(seg, recs, self.executed())  # after the loop: every record run

    def _goes_on(self, recs, r, opw):
        """Whether record ``r`` (op word ``opw``) continues the chain whose passes are pending
        (``chains``): a reached, unflagged large elementwise record of the chain's size."""
        return opw < PYTHON_BASE and self.reached[r] and elementwise_table()[opw] and \
            recs.item(r, _SIZE) == self.later.n

    def _flag_swept(self, p):
        """Flag FREED the reached records above ``p`` not flagged yet (each record once)."""
        hi = self.swept_above
        if hi > p + 1:
            with self.seg.lock:
                recs = self.seg.buf
                _mark_freed(recs[p + 1 : hi], self.executed()[p + 1 : hi], tape.FREED,
                            tape.CODE_MASK, PYTHON_BASE, _nsaved(), _freed_out(hi - p - 1))
            self.swept_above = p + 1

    def _refresh(self):
        """The record view as it is now (after a pause, the buffer may have moved; the
        saved-float table this sweep reads is its own, ``tabs``, and stays where it is); a
        pruned sweep's own copy of it, flags as they are now."""
        recs = self.recs = self.seg.buf[: len(self.recs)]
        if self.pruned is not None and len(self.pruned):
            recs = self.recs = recs.copy()
            recs[self.pruned, _OP] |= _PRUNED
        return recs

    def executed(self):
        """The records whose VJP this sweep ran (what it frees and checks)."""
        if self.pruned is None or not len(self.pruned):
            return self.reached
        done = self.reached.copy()
        done[self.pruned] = 0
        return done

    def _transpose_vjp(self, p):
        """The VJP of the large transposing map ``p`` (``_transposing``) in tiles."""
        a = self.recs.item(p, tape.A)
        if a < 0:
            return
        self.mark(a)
        iaux = self.tabs[3]
        aux = self.recs.item(p, _AUX)
        o = self.offs
        from . import _transpose_kernels  # (compiled with the first large transpose)

        src = self.held.get(p) if self.held else None  # (its adjoint held apart: read there)
        if src is None:
            src, small = self.adj, int(o[p])
        else:
            src, small = _as_arena_array(src, self.adj.dtype), 0
        _transpose_kernels.gather_vjp_tiles(
            self.adj, int(o[a]) + int(iaux[aux + 1 + 2 * int(iaux[aux])]), src, small,
            self.recs.item(p, _SIZE), iaux, aux, np.zeros(max(int(iaux[aux]), 1), np.int64))

    _numpy_vjp = numpy_records.numpy_vjp  # (a large elementwise record: formulas in NumPy)
    _sum_vjp = numpy_records.sum_vjp  # (a full sum of a large input: its gradient broadcast)
    _spare = numpy_records.spare

    def _python_vjp(self, r, code, pauses):
        seg = self.seg
        if code == _CUSTOM:
            return pauses.custom_vjp(self, r)
        entry = seg.pyaux[self.recs.item(r, _AUX)]  # (.item: a Python int, no NumPy scalar)
        if tape.inplace_epoch[0] != seg.epoch:
            pauses.check_python_record(seg, r, entry)
        g = self.grad_of(r).reshape(entry.out_shape)
        d = REGISTRY[code]
        slots = entry.slots
        wide = wide_slots(self, slots)
        if d.vjp_into is None:
            grads = d.vjp_np(g, tuple(entry.saved), entry.out, **entry.params)
            slots = reduced_python(self, slots, grads, wide) if wide else slots
            self.accumulate(slots, grads, _private(grads) if self.own is not None else ())
            return
        # per input, its arena slot shaped as the input when nothing has reached it yet (the
        # rule may write its gradient there: no temporary, no copy), else None; also None for
        # a slot held apart or one an earlier input of the record has too
        reached, own, o, adj = self.reached, self.own, self.offs, self.adj
        targets = []
        for k, s in enumerate(slots):
            if s < 0 or reached[s] or own is not None and own[s] or k and s in slots[:k] \
                    or k in wide:
                targets.append(None)
            else:
                targets.append(adj[o[s] : o[s + 1]].reshape(entry.in_shapes[k]))
        grads = d.vjp_into(g, entry.saved, entry.out, targets, **entry.params)
        slots = reduced_python(self, slots, grads, wide) if wide else slots
        self.accumulate(slots, grads, _private(grads) if self.own is not None else (),
                        written=targets)

    def accumulate(self, slots, grads, fresh=(), written=None, do=NOW):
        """Add ``grads`` into the adjoints of ``slots``; ``fresh[k]``: ``grads[k]`` is an
        array nothing else holds, which a slot held apart may keep instead of a copy;
        ``written[k]``: the unreached arena slot of ``slots[k]``, where ``grads[k]`` already
        is when it is that very array (it is then only marked reached); ``do`` runs the
        passes (``chains``: at once, or later in a chain)."""
        o, adj, reached = self.offs, self.adj, self.reached
        own = self.own
        for k, (s, gi) in enumerate(zip(slots, grads)):
            if s < 0 or gi is None:
                continue
            if written is not None and gi is written[k]:
                self.mark(s)
            elif own is not None and own[s]:
                self._hold(s, gi, k < len(fresh) and fresh[k], do)
            else:
                if type(gi) is not np.ndarray:
                    gi = np.asarray(gi)  # added in the arena's precision
                target, gi = _fitted(adj[o[s] : o[s + 1]], gi)
                if reached[s]:
                    if do is NOW:
                        target += gi
                    else:  # (a chain's pass: later)
                        do(_add_into, target, gi)
                else:  # nothing added yet (every writer marks): a copy reads one array less
                    if do is NOW:
                        target[...] = gi
                    else:
                        do(_copy_into, target, gi)
                    self.mark(s)

    def _hold(self, s, gi, fresh, do=NOW):
        """``accumulate`` into a slot held apart: its first gradient becomes (or is copied
        into) its own array, which nothing touched before (no page of the arena is faulted
        in for it), later ones are added into that array, in the same order as in the arena."""
        held = self.held.get(s)
        gi = gi if type(gi) is np.ndarray else np.asarray(gi)
        if held is not None:
            if held.flags.writeable:
                view, gi = _fitted(held, gi)
                if do is NOW:
                    view += gi
                else:
                    do(_add_into, view, gi)
            else:  # a full sum's broadcast gradient: the total in an array of its own
                total = self._spare(held.size, held.dtype) if self.spares else None
                if total is None:
                    total = np.empty(held.size, held.dtype)
                do(np.add, held, gi if gi.ndim == 0 else gi.reshape(-1), total)
                self.held[s] = total
            return
        n, dtype = int(self.offs[s + 1] - self.offs[s]), self.adj.dtype
        if fresh and gi.dtype == dtype and gi.size == n and gi.flags.c_contiguous and \
                gi.flags.writeable:
            held = gi if gi.ndim == 1 else gi.reshape(-1)  # (the array itself: see _give)
        elif not gi.flags.writeable and gi.ndim == 1 and gi.dtype == dtype and gi.size == n \
                and (gi.strides == (0,) or gi.flags.c_contiguous):  # a full sum's broadcast
            # gradient, or a saved value it multiplied (``numpy_vjp``): kept as the read-only
            held = gi  # view (a slot held apart is read only by NumPy's formulas and the
            # driver, who copies it; an addition into it makes a total of its own)
        else:  # a copy, into an array an earlier record dropped where there is one
            held = self._spare(n, dtype) if self.spares else None
            if held is None:
                held = np.empty(n, dtype)
            view, gi = _fitted(held, gi)
            if do is NOW:
                view[...] = gi
            else:
                do(_copy_into, view, gi)
        self.held[s] = held
        self.mark(s)

    def free(self, spent=False):
        """Release what the swept records saved and mark them (PyTorch frees after backward)."""
        # (the scratch is done with once the sweep has run: the pass's output where it fits)
        # (``recs`` is read only while the sweep runs: no view of the flagged records made)
        release_records(self.seg, self.reached if self.pruned is None else self.executed(),
                        self.scratch, spent)


# arena elements from which large adjoints may be held apart (a ReLU, product and sum of 2.5e5
# elements: backward 0.55 -> 0.37 ms; GMM and the CNN step, arenas of ~1.9e6, 0-6% faster)
_OWN_ARENA = 1 << 16
_OWN_MEAN = 256  # ... when records hold this many elements on average (one pass to decide)
_LAZY_ARENA = 1 << 17  # arena elements from which only the slots that need it are zeroed


def _add_into(target, gi):
    target += gi


def _copy_into(target, gi):
    target[...] = gi


def _fitted(flat, gi):
    """``(destination, source)`` for writing or adding the gradient ``gi`` into the flat
    contiguous adjoint ``flat``: a gradient of several dims of the adjoint's size sees the
    adjoint in its own shape (a strided one, a slice of a larger gradient, is read in place,
    not copied flat first: one pass, not two); others are flattened (a one-element ``gi``
    broadcasts)."""
    if gi.ndim <= 1:
        return flat, gi
    if gi.size == flat.size:
        return flat.reshape(gi.shape), gi
    return flat, gi.reshape(-1)


def _cache(seg):
    if seg._cache is None:
        seg._cache = SweepArrays()
    return seg._cache
