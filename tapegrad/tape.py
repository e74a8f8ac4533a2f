"""The Wengert tape: flat numeric records, grouped in segments.

A record is six int64 numbers ``(op, a, b, aux, v, size)``:

* ``op``   opcode (``registry.Op``) in the low 16 bits, flags above (``FREED``, ``HOOKED``);
* ``a, b`` the record ids of the first two inputs on the same segment, ``-1`` when the input is
  a constant (needs no gradient) or absent; ops with more inputs keep them in ``pyaux``;
* ``aux``  index into a side table chosen by the opcode (``faux`` floats, ``iaux`` ints, ``pyaux``
  Python objects), ``-1`` if unused;
* ``v``    where the record's saved values start: ``-1`` none, else ``(start << 1) | kind``,
  kind 0 = Python floats in ``fvals`` (size-1 values), 1 = C-contiguous float64 or float32 arrays in
  ``avals`` (a float32 program saves float32);
  an op always saves the same values in the same order, so one start index is enough;
* ``size`` number of elements of the record's output.

The record id *is* the slot id: every record produces one value, and its adjoint lives at
``offsets[r]:offsets[r+1]`` of the sweep's arena (offsets = cumulative sizes). A tensor with
history holds ``(segment, record id)``. Inputs that live elsewhere (a leaf, or a tensor of an
older segment or of another thread) enter a segment through an ``IMPORT`` record, so records
never point outside their segment and the compiled sweep needs nothing but these arrays.

Segments bound memory the way PyTorch's graph does: every tensor with
history references its segment, a segment references only the older segments it imports from,
and the thread that records holds its current segment. A fresh segment starts when the current
one was swept and freed by a backward, when it reaches ``SEGMENT_CAP`` records, or when nothing
alive refers to it any more; then Python's reference counting frees what nobody can reach.
Segments are swept newest ``order`` first; an import always comes from a lower ``order``.
"""

import itertools
import os
import sys
import threading
import types
import weakref

import numpy as np

from . import _config
from ._live_segments import LiveSegments, imported_records, reach
from ._pack import fill
from .device import DeviceArray
from .registry import PYTHON_BASE, Op

NFIELDS = 6
OP, A, B, AUX, V, SIZE = range(NFIELDS)
CODE_MASK = 0xFFFF
FREED = 1 << 16  # the record was swept without retain_graph; its saved values are gone
HOOKED = 1 << 17  # the sweep pauses here so Python can run tensor hooks / retain_grad
PRUNED = 1 << 18  # only in a sweep's own copy of the records: off the paths it needs
SPENT = 1 << 19  # swept without retain_graph in a forward_ad level: kept for tangents only

_FLUSH_INTS = NFIELDS * 4096  # pending Python ints moved into the int64 buffer at a time
_SPARE_RECORDS = 32  # rows a grown record buffer keeps free beyond what it holds
_CHECK_EVERY = 1024  # records between "is this segment still referenced?" checks
_CHECK_BYTES = 1 << 26  # saved array bytes that force such a check sooner
_ROLL_RECORDS = 1 << 14  # a segment few tensors refer to is closed at this many records...
_ROLL_BYTES = 1 << 26  # ...and any segment once its saved arrays hold this many bytes
_FEW_REFS = 8  # "few": references besides this thread's own (see _renew)
_PRUNE_BYTES = 1 << 20  # a closed segment this big has its imports pruned at once
_PROBE = 64  # records checked one by one after a check that found the segment referenced
_IMPORT = int(Op.IMPORT)  # (an enum member costs ~0.12 µs to read, and slows the flush)
_order = itertools.count(1)
_NO_RECORDS = np.empty((0, NFIELDS), np.int64)  # a fresh segment's buffer (never written)
NONE = types.MappingProxyType({})  # a fresh segment's ``foreign`` and ``hooked`` (read-only)
# Counts every in-place change of any tensor (``tensor.bump_version``). A segment remembers the
# count it began at: while it is unchanged, no value it saved can be stale, and backward skips
# the version checks.
inplace_epoch = [0]


class Segment:
    """One piece of a thread's tape. See the module docstring for the record format."""

    __slots__ = (
        "order", "n", "ints", "buf", "nbuf", "fvals", "avals", "avers", "ivals", "iaux", "faux",
        "pyaux", "imports", "foreign", "hooked", "retired", "exported", "check_at", "abytes",
        "bcheck", "lock", "epoch", "_cache", "active", "deferred", "probe_end", "probe_next",
        "pruned_for",
        "device", "stacks", "n32", "refill", "big_saved", "node_hooks", "node_names",
        "forward_only", "__weakref__",
    )

    def __init__(self):
        self.order = next(_order)
        self.epoch = inplace_epoch[0]  # no version bump since: no saved value can be stale
        self.n = 0  # records so far
        # records whose adjoint may be float32: float32 values, imports and value-less gathers
        # (they take their consumer's precision); all of them: the sweep runs in float32
        self.n32 = 0
        self.ints = []  # pending records, flat; flushed into buf
        self.buf = _NO_RECORDS
        self.nbuf = 0
        self.fvals = []  # saved size-1 values (Python floats)
        self.avals = []  # saved arrays (float64 or float32, C-contiguous); None once freed
        self.avers = []  # per saved array: (version counter, version at save) or None
        self.ivals = []  # saved int64 index arrays (gather/scatter by index)
        self.iaux = []  # int side table (shapes, strides, axes)
        self.faux = []  # float side table (scalar constants)
        self.pyaux = []  # Python side table (ops that run in NumPy, custom Functions, imports)
        self.imports = {}  # record id -> source: a leaf Tensor or (Segment, record id)
        self.foreign = NONE  # (id(segment), record id) -> local IMPORT record id (a dict once)
        self.hooked = NONE  # record id -> weak references to tensors with hooks / retain_grad
        self.node_hooks = None  # record id -> grad_fn hooks (autograd/node_hooks.py)
        self.node_names = None  # record id -> PyTorch's node name (ops/node_names.py)
        self.retired = False  # no more records are appended
        self.exported = False  # some other segment imports from this one
        self.check_at = _CHECK_EVERY
        self.abytes = 0  # bytes of saved arrays appended so far (``saved_bytes``)
        self.big_saved = None  # ids of the arrays of 1 MB or more counted in abytes
        self.bcheck = _CHECK_BYTES  # abytes that trigger the next check
        self.probe_end = 0  # checks at every record until here (see _renew)
        self.probe_next = 0  # and the next such window opens at a check from here on
        self.pruned_for = None  # the imported records _prune_imports last pruned for
        self.lock = threading.Lock()  # flush vs. flag writes from a sweep on another thread
        self._cache = None  # tables materialised for the sweep (engine.sweep.SweepArrays)
        self.active = 0  # sweeps of this segment running or paused (engine.sweep.sweeping)
        self.deferred = ()  # saved values freed while a sweep was active, released after it
        self.device = False  # records of CUDA tensors (see prepare_on): swept on the device
        self.stacks = None  # anomaly mode: first record id of an op -> its forward stack
        self.refill = None  # saved values dropped (checkpointing): sweeps call refill(seg)
        # records of ops under no_grad inside forward mode (``set_forward_only``): the forward
        # sweep follows them, reverse sweeps do not (their values are constants to them)
        self.forward_only = _local.forward_only

    # ---- growing ----
    def flush(self):
        """Move pending records into the int64 buffer (amortised doubling)."""
        with self.lock:
            self._flush_locked()

    def _flush_locked(self):
        # Always under ``lock``, also when nothing seems pending: another thread may be halfway
        # through a flush (its records already taken from ``ints`` but ``nbuf`` not yet
        # raised), and returning without the lock would hand out a truncated buffer.
        # The owner appends while others flush: take whole records by slice and delete
        # exactly those (each append is one atomic list extend), so no record is lost or
        # flushed twice.
        ints = self.ints
        k = len(ints) - len(ints) % NFIELDS
        if not k:
            return
        nbuf = self.nbuf
        need = nbuf + k // NFIELDS
        buf = self.buf
        if need > len(buf):
            # with room for a few more: the records a create_graph backward appends (a
            # Hessian-vector product's second sweep) and a later op or two go in without a
            # second array and a copy; then by doubling
            grown = np.empty((max(need + _SPARE_RECORDS, 2 * len(buf)), NFIELDS), np.int64)
            if nbuf:
                grown[:nbuf] = buf[:nbuf]
            buf = self.buf = grown
        fill(buf, ints if len(ints) == k else ints[:k], "int64", nbuf * NFIELDS)  # (struct:
        del ints[:k]  # ~2x np.fromiter)
        self.nbuf = need

    def records(self):
        """All records as an (n, 6) int64 array (a view: writes reach the tape, but the
        buffer moves when it grows: flag writes go through ``set_flag``)."""
        with self.lock:  # buf and nbuf read together, after any flush in progress
            self._flush_locked()
            buf = self.buf
            return buf if len(buf) == self.nbuf else buf[: self.nbuf]

    def set_flag(self, rec, flag):
        """OR ``flag`` into record ``rec``'s opcode word (safe against a concurrent flush)."""
        with self.lock:
            self._flush_locked()
            self.buf[rec, OP] |= flag

    def nbytes(self):
        """Bytes held: records, saved floats and arrays (also those of NumPy-backed ops)."""
        vals = sum(a.nbytes for a in self.avals if a is not None)
        vals += sum(a.nbytes for a in self.ivals if a is not None)
        for e in self.pyaux:
            vals += sum(getattr(a, "nbytes", 0) for a in (getattr(e, "saved", None) or ())
                        if a is not None)
        return self.n * NFIELDS * 8 + 8 * len(self.fvals) + vals

    def __repr__(self):
        return f"<tape segment order={self.order} records={self.n} retired={self.retired}>"


class _Local(threading.local):
    seg = None
    seen = None  # while ``watch_imports`` runs: the tensors imported, in order
    seen_from = 0  # ... those of segments older than this order (not made meanwhile)
    subs = None  # while ``substitute_imports`` runs: import_key(t) -> the tensor imported instead
    resume = None  # while ``watch_imports`` runs: the caller's segment, current again after it
    prune_in = 0  # fresh segments until the next ``_prune_imports`` (see ``_maybe_prune``)
    forward_only = False  # new segments are forward-only (``set_forward_only``)

    def __init__(self):
        self.live = LiveSegments()  # this thread's segments still alive (tape_stats)
        self.sources = weakref.WeakSet()  # segments this thread's records import from


_local = _Local()
watched_slot = None  # ``tape_watch.watched_slot``, bound when that module loads
watching = [0]  # watches on (any thread, ``tape_watch``): at 0 ``slot`` skips two local reads
# while saved-tensor hooks are on (``autograd.graph``): an object whose ``arrays(seg, start, n)``
# and ``entry(seg, obj)`` pack what a record just saved (one test per record that saves arrays)
on_save = [None]


# Anomaly detection (autograd/anomaly.py): [enabled, check_nan]. While enabled, every op
# calls current() (check_at is kept at n), which notes the Python stack of the record about to
# be appended; records an op appends after its first share that stack. Off, nothing is noted:
# the only cost is this list lookup once per _CHECK_EVERY records.
anomaly = [False, True]
_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def current():
    """The segment new records go to on this thread (a fresh one when needed)."""
    seg = _local.seg
    if seg is None or seg.n >= seg.check_at:  # check_at also trips on retire and at the cap
        seg = _renew(seg)
        if anomaly[0]:
            _note_stack(seg)
    return seg


def _note_stack(seg):
    """Anomaly mode: keep the user's stack (tapegrad's own frames dropped) for record n."""
    import traceback

    frames = [f for f in traceback.extract_stack()[:-2]
              if not os.path.abspath(f.filename).startswith(_PKG_DIR)]
    if seg.stacks is None:
        seg.stacks = {}
    seg.stacks[seg.n] = frames
    seg.check_at = seg.n  # the next op comes back here


def forward_stack(seg, rec):
    """The stack noted for the op that appended record ``rec`` (None outside anomaly mode)."""
    if not seg.stacks:
        return None
    keys = [k for k in seg.stacks if k <= rec]
    return seg.stacks[max(keys)] if keys else None


def _renew(seg):
    """Keep appending to ``seg`` or close it and start a fresh segment.

    Closing never frees anything a tensor can still reach: a closed segment lives exactly as
    long as something refers to it (reference counting), and later records import from it. So
    closing too often costs only speed, never correctness, and the rule can be a heuristic:

    * nothing but this thread refers to it (an evaluation loop that forgot ``no_grad`` and
      dropped its outputs): close now, and it is freed at once;
    * only a few tensors refer to it (the last iteration's outputs are usually still alive
      while the next one records): close it at ``_ROLL_RECORDS`` records, so a loop that keeps
      a tensor or two never pins more than a segment's worth of records;
    * its saved arrays hold ``_ROLL_BYTES``: close it whatever refers to it.
    """
    if seg is not None and not seg.retired and seg.n < _config.SEGMENT_CAP and not seg.device:
        # References we know of: the _local slot, current()'s and our local, getrefcount's
        # argument (4); ops/record.py also holds it in a local while it calls current() (5).
        refs = sys.getrefcount(seg) - 5
        keep = refs > _FEW_REFS or (refs > 0 and seg.n < _ROLL_RECORDS)
        if keep and seg.abytes < _ROLL_BYTES:
            nxt = seg.n + _CHECK_EVERY
            if refs > 0:
                # Still referenced: in a loop the check may keep falling on the same op
                # (every 1024 records), where the previous op's output is alive. Look at the
                # next _PROBE records one by one for the moment nothing refers to the segment
                # (between iterations of a loop that drops its outputs). (Called from prepare(),
                # which holds no local, ``refs`` is one less: a segment referenced by just the
                # op's input is closed; _prune_imports then frees what that import pins.)
                # A window that never found the moment makes the next one twice as far off:
                # a long chain that stays referenced (a scalar loop) pays log(n) windows.
                if seg.probe_end < seg.n and seg.n >= seg.probe_next:
                    seg.probe_end = seg.n + _PROBE
                    seg.probe_next = 2 * seg.n
                if seg.n < seg.probe_end:
                    nxt = seg.n + 1
            seg.check_at = min(nxt, _config.SEGMENT_CAP)
            seg.bcheck = seg.abytes + _CHECK_BYTES
            # the ops' inlined appends to the current segment leave flushing to this check
            # (at most _CHECK_EVERY records apart): the pending list stays bounded
            if len(seg.ints) >= _FLUSH_INTS:
                seg.flush()
            return seg
        retire(seg)
    if _local.sources.data:  # (_maybe_prune's own first test, without the call)
        _maybe_prune(seg)
    seg = _local.seg = Segment()  # (check_at = _CHECK_EVERY)
    if _config.SEGMENT_CAP < _CHECK_EVERY:
        seg.check_at = _config.SEGMENT_CAP
    _local.live.add(seg)
    return seg


def _maybe_prune(closed=None):
    """``_prune_imports`` when a fresh segment opens, spaced out: it walks every live segment,
    so running it for each new one costs O(live) per segment (code that opens many small
    segments, such as checkpointing, paid ~40 µs each). After a segment of real size
    (``closed``: 1 MiB of saved arrays or a check interval of records) it runs at once, so
    memory pinned through imports is released as promptly as before; after small ones, every
    max(4, live / 4) segments, which bounds what a skipped run leaves pinned to small segments.
    """
    if not _local.sources.data:  # (the WeakSet's own set: its ``len`` is a Python call)
        return
    _local.prune_in -= 1
    if _local.prune_in <= 0 or (closed is not None and (
            closed.abytes >= _PRUNE_BYTES or closed.n >= _CHECK_EVERY)):
        _prune_imports()
        _local.prune_in = max(4, len(_local.live) // 4)


def _prune_imports():
    """Drop the imports of closed segments that no tensor can sweep through any more.

    A segment is often closed in the middle of an operation: the operation's input lives on
    the old segment, so the new one imports it, and that import keeps the whole old segment
    alive, with everything *it* imports, and so on: each segment would pin the one before
    (an evaluation loop without ``no_grad`` grew by a segment per ~500 steps). A closed segment
    that nothing but such imports refers to (no tensor, no ``grad_fn``) can only be swept from
    the records imported from it; its imports those records cannot reach are dropped, and the
    older segments they held are freed by reference counting.

    Conservative: references from other threads' segments, or an op whose inputs are not
    known here, leave a segment untouched.
    """
    if not _local.sources:
        return  # no segment of this thread imports another segment's records: nothing to drop
    segs = sorted(_local.live, key=lambda s: -s.order)
    roots, tuples = imported_records(segs)
    for p in segs:  # newest first: dropping an import updates the counts of older segments
        n = tuples.get(id(p), 0)
        if not n or not p.retired or p is _local.seg:
            continue
        # references: each import tuple, the list ``segs``, the loop variable, the argument
        if sys.getrefcount(p) - 3 != n:
            continue
        key = tuple(sorted(roots[id(p)]))
        if p.pruned_for == key:
            continue  # nothing new to drop
        p.pruned_for = key
        reached = reach(p.records(), p.pyaux, key, PYTHON_BASE, CODE_MASK)
        if reached is None:
            continue
        for r in [r for r, src in p.imports.items() if type(src) is tuple and not reached[r]]:
            src = p.imports.pop(r)
            p.foreign.pop((id(src[0]), src[1]), None)
            tuples[id(src[0])] -= 1
            roots[id(src[0])].remove(src[1])
            del src  # the tuple holds the source segment: no stray reference for its check


def retire(seg):
    """Stop appending to ``seg`` (after a backward swept and freed it)."""
    seg.retired = True
    seg.check_at = 0
    if _local.seg is seg:
        _local.seg = None


def set_forward_only(flag):
    """Records made from now on are forward-only (``flag``: an op under ``no_grad`` inside
    forward mode) or plain; a current segment of the other kind is closed, so that one
    segment never holds both."""
    _local.forward_only = flag
    seg = _local.seg
    if seg is not None and seg.forward_only is not flag:
        retire(seg)


def close_current():
    """New records of this thread go to a fresh segment from here on."""
    seg = _local.seg
    if seg is not None:
        retire(seg)


# ---- recording -------------------------------------------------------------------------

def slot(seg, t):
    """Record id of tensor ``t`` (which requires grad) on segment ``seg``, importing if needed."""
    if t._seg is seg:
        return t._rec
    if t._seg is None:  # a leaf: one IMPORT record per segment, cached on the leaf
        imp = t._imp  # one tuple, read and written at once: other threads share the leaf
        if imp[0] == seg.order:
            return imp[1]
        if watching[0] and (_local.subs is not None or _local.seen is not None):
            return watched_slot(seg, t)
        # (_append_import and _width inlined: every step's fresh segment imports its leaves)
        d = t._data
        r = seg.n
        seg.n = r + 1
        seg.n32 += 1
        seg.imports[r] = t if t._standin is None else t._standin
        seg.ints += (_IMPORT, -1, -1, -1, -1, 1 if type(d) is float else
                     d.size if d.dtype.kind != "c" else 2 * d.size)
        t._imp = (seg.order, r)
        return r
    src = t._seg  # a tensor of another segment: one IMPORT per (segment, record)
    src.exported = True
    if src not in _local.sources:
        _local.sources.add(src)  # _prune_imports has work only while such a source lives
    if not src.retired and src is not _local.resume:
        # src may be another thread's current segment: that thread moves on to a fresh one,
        # so nobody appends to src while a backward from here sweeps it. (The segment this
        # thread resumes after ``watch_imports`` is its own: nothing sweeps it meanwhile but
        # this thread, whose backward retires it then.)
        src.retired = True
        src.check_at = 0
    key = (id(src), t._rec)  # src stays alive in seg.imports, so its id is not reused
    r = seg.foreign.get(key)
    if r is None:
        if watching[0] and (_local.subs is not None or _local.seen is not None):
            return watched_slot(seg, t)
        if seg.foreign is NONE:
            seg.foreign = {}
        r = seg.foreign[key] = _append_import(seg, (src, t._rec), _width(t))
    return r


def _width(t):
    """Arena slots of ``t``'s adjoint: one per element, two ``(re, im)`` for complex values."""
    d = t._data
    if type(d) is float:
        return 1
    return d.size if d.dtype.kind != "c" else 2 * d.size


def _append_import(seg, source, size):
    r = seg.n
    seg.n = r + 1
    seg.n32 += 1
    seg.imports[r] = source
    seg.ints += (_IMPORT, -1, -1, -1, -1, size)
    return r


def prepare(inputs):
    """Segment for a record whose inputs are ``inputs`` (Tensors that require grad).

    Keeps the invariant that a segment imports only from segments of lower ``order``: an input
    on a newer foreign segment (another thread's) closes the current segment first.
    """
    if inputs and type(inputs[0]._data) is DeviceArray:
        return prepare_on(inputs, True)
    seg = current()
    for t in inputs:
        src = t._seg
        if src is not None and src is not seg and src.order > seg.order:
            if seg.exported or seg.n:
                retire(seg)
                seg = current()
            else:
                seg.order = next(_order)
    return seg


def prepare_on(inputs, device):
    """``prepare`` for a record on a device segment (``device``) or a CPU one.

    CUDA records go to segments of their own (``Segment.device``), swept by the device sweep:
    a thread alternating between CPU and CUDA ops closes its current segment at each switch
    (the next one imports from it, as from any older segment). A device segment keeps
    ``check_at = 0``, so a CPU op that finds one current (``current()``) starts a CPU segment.
    """
    if not device:
        seg = current()
        if seg.device:
            retire(seg)
            seg = current()
    else:
        seg = _local.seg
        if seg is None or not seg.device or seg.retired or seg.n >= _config.SEGMENT_CAP:
            if seg is not None and not seg.retired:
                retire(seg)
            _maybe_prune(seg)
            seg = _local.seg = Segment()
            seg.device = True
            seg.check_at = 0
            _local.live.add(seg)
    for t in inputs:
        src = t._seg
        if src is not None and src is not seg and src.order > seg.order:
            if seg.exported or seg.n:
                retire(seg)
                return prepare_on(inputs, device)
            seg.order = next(_order)
    return seg


def record(seg, op, a, b, aux, size, saved=(), versions=None, narrow=False):
    """Append one record and return its id.

    ``saved`` holds the op's saved values: Python floats when ``size == 1`` (they are copied
    by value), else float64 or float32 C-contiguous arrays kept by reference. ``versions``
    gives, per saved array, ``(counter, version)`` so that backward can detect in-place
    changes. ``narrow``: the record's value is float32, or it has none (its adjoint may then be
    swept in float32, see ``Segment.n32``).
    """
    if saved:
        if size == 1:
            fv = seg.fvals
            v = len(fv) << 1
            fv.extend(saved)
        else:
            av = seg.avals
            v = (len(av) << 1) | 1
            av.extend(saved)
            seg.avers.extend(versions or (None,) * len(saved))
            for s in saved:  # (saved_bytes, called for large arrays only)
                n = s.nbytes
                seg.abytes += n if n < _DISTINCT_BYTES else saved_bytes(seg, s)
            if seg.abytes > seg.bcheck:
                seg.check_at = seg.n
            if on_save[0] is not None:
                on_save[0].arrays(seg, v >> 1, len(saved))
    else:
        v = -1
    r = seg.n
    seg.n = r + 1
    if narrow:
        seg.n32 += 1
    ints = seg.ints
    ints += (op, a, b, aux, v, size)
    if len(ints) >= _FLUSH_INTS:
        seg.flush()
    return r


def mark_hooked(seg, rec, ref):
    """Make sweeps pause at record ``rec`` for the hooks behind ``ref``, a weak reference to
    the tensor that owns them (``autograd.hooks.HookRef``: it keeps the hooks themselves)."""
    seg.set_flag(rec, HOOKED)
    with seg.lock:  # (another thread may mark a record of this segment at the same time)
        if seg.hooked is NONE:
            seg.hooked = {}
    refs = seg.hooked.setdefault(rec, [])
    if not any(r() is ref() for r in refs):
        refs.append(ref)


def add_iaux(seg, values):
    i = len(seg.iaux)
    seg.iaux.extend(values)
    return i


def add_faux(seg, *values):
    i = len(seg.faux)
    seg.faux.extend(values)
    return i


_DISTINCT_BYTES = 1 << 20


def saved_bytes(seg, a):
    """What saving the array ``a`` adds to ``seg.abytes``, the count that closes a segment once
    it pins too much: an array of a megabyte or more counts once per segment however many
    records save it (``x * x``, ``sin(x)`` and ``exp(-x * x)`` all save ``x``; a recurrent
    loop saves its weights at every step), so that a graph over a few large arrays is not split
    into segments for memory it does not hold (each split costs a copy of the adjoint that
    crosses it). Ids are unique while the segment holds the arrays: it drops them only when
    it is done recording (after a backward, or a checkpoint's ``_drop_values``)."""
    n = getattr(a, "nbytes", 0)
    if n < _DISTINCT_BYTES:
        return n
    seen = seg.big_saved
    if seen is None:
        seen = seg.big_saved = set()
    key = id(a)
    if key in seen:
        return 0
    seen.add(key)
    return n


def add_pyaux(seg, obj):
    seg.pyaux.append(obj)
    saved = getattr(obj, "saved", None)  # ops that run in NumPy save through their entry
    if saved:
        for s in saved:
            if s is not None:
                seg.abytes += saved_bytes(seg, s)
        if seg.abytes > seg.bcheck:
            seg.check_at = seg.n
    if on_save[0] is not None:
        on_save[0].entry(seg, obj)
    return len(seg.pyaux) - 1


def add_ivals(seg, arr):
    """Keep an index array for a record (a CUDA one stays on the device); returns its id."""
    seg.ivals.append(arr if type(arr) is DeviceArray else np.ascontiguousarray(arr, np.int64))
    return len(seg.ivals) - 1


# ---- statistics ------------------------------------------------------------------------

def tape_stats():
    """What this thread's tape holds now: live segments, their records and bytes.

    ``records``/``bytes`` count every segment of this thread that is still alive (some tensor
    or newer segment refers to it); ``bytes`` includes saved values not yet freed.

    Example:
        >>> import tapegrad as tg
        >>> sorted(tg.autograd.tape_stats())
        ['bytes', 'bytes_per_record', 'records', 'segment_order', 'segments']
    """
    _prune_imports()  # a count right now, not as of the last spaced-out prune
    segs = list(_local.live)
    seg = _local.seg
    n = sum(s.n for s in segs)
    # record storage as allocated: the int64 buffers (with their spare capacity) and the
    # pending list's pointers, per record; saved values and side tables are not included
    structure = sum(s.buf.nbytes + 8 * len(s.ints) for s in segs)
    return {
        "records": n,
        "bytes": sum(s.nbytes() for s in segs),
        "bytes_per_record": structure / n if n else 0.0,
        "segment_order": 0 if seg is None else seg.order,
        "segments": len(segs),
    }
