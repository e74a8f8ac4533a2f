"""The level interpreter: a device segment of many small records swept in a few launches
instead of one launch per record.

A launch costs ~6.6 us plus ~4 us per array argument, so for a tape of small tensors the
per-record sweep (``sweep.DeviceSweep``) is launch-bound. Here the host walks the records once
without launching anything: it finds the reached records (as the sweep would), gives each a
level (1 + the deepest level among the records that read it, so every adjoint a level reads is
complete before the level runs) and writes one row per record into a table: kind, opcode, the
arena offsets of its adjoint and its inputs' adjoints, and the pool offsets of its saved values.
The saved values are copied into one float64 pool (device-to-device copies, no kernels; size-1
values, kept on the host by the tape, are uploaded with the table), the strided gathers'
parameters into one int64 array. Then ``level_vjp`` interprets the table: consecutive levels of
at most ``BLOCK_LEVEL`` elements per thread run in ONE launch of one block, with a block
barrier between levels (so a chain of 10^4 small records is one launch); a larger level gets a
launch of its own over the whole grid. The records of a level may share an input, so adjoints
are added with atomics (the order of those additions, and so the last bits, may differ from the
per-record sweep's). A long range is interpreted in chunks of ``CHUNK_ELEMENTS``, which bounds
the pool: a record's consumers are all newer, so each chunk needs only the chunks before it.

Covered: the elementwise switch (unary/binary ops and the smooth Python ops: atan, erf,
atan2...), reshapes, strided gathers (broadcasts, views) and scatters (sums). A range with
anything else (hooks, custom Functions, other Python ops, indexing) keeps the per-record sweep.
``MODE`` chooses: "auto" (the size rule ``use_levels``), "levels" or "records"
(``asv_benchmarks/cuda_check.py`` sets it to measure both).
"""

import numpy as np

from ... import tape
from ...device import DeviceArray, cuda_api
from ...registry import DERIVS, REGISTRY, Op
from ..sweep import FREED_MSG, has_saved
from . import kernels as K

MODE = "auto"
# the size rule: levels when the reached records average at most this many elements (above
# it one launch per record costs little next to the work) and there are at least MIN_RECORDS
MAX_MEAN_SIZE = 4096
MIN_RECORDS = 8
BLOCK_LEVEL = 16  # levels of up to this many elements per thread of a block share one launch
CHUNK_ELEMENTS = 1 << 22  # records interpreted at a time: bounds the pool of saved copies

_LINEAR = {int(Op.RESHAPE): 1, int(Op.GATHER_STRIDED): 2, int(Op.SCATTER_STRIDED): 3}
_NAMES = ("x", "y", "out", "m")
_COLS = 16


def _kind(code):
    """0 elementwise (the smooth Python ops too), 1-3 linear (see ``level_vjp``), None: not
    interpretable."""
    if code in _LINEAR:
        return _LINEAR[code]
    d = REGISTRY.get(code)
    return 0 if d is not None and (d.kind in ("unary", "binary") or code in DERIVS) else None


def _inputs(seg, recs, r, code):
    """The input records of record r (-1: none): A, and B for a binary op."""
    if code in DERIVS:  # a Python op: its side-table entry
        slots = seg.pyaux[int(recs[r, tape.AUX])].slots
        return slots[0], (slots[1] if len(slots) > 1 else -1)
    b = int(recs[r, tape.B]) if code not in _LINEAR and REGISTRY[code].kind == "binary" else -1
    return int(recs[r, tape.A]), b


def plan(sw, start, stop):
    """The reached records of ``sw`` in [stop, start] newest first, or None when one of them
    is not interpretable (the per-record sweep runs the range)."""
    recs = sw.recs
    reached = sw.reached.copy()
    order = []
    for r in range(start, stop - 1, -1):
        if not reached[r]:
            continue
        opw = int(recs[r, tape.OP])
        code = opw & tape.CODE_MASK
        if code == Op.IMPORT:
            continue
        if opw & tape.HOOKED or _kind(code) is None:
            return None
        if code in DERIVS and tape.inplace_epoch[0] != sw.seg.epoch:
            return None  # the per-record sweep checks a Python record before its VJP
        order.append(r)
        for s in _inputs(sw.seg, recs, r, code):
            if s >= 0:
                reached[s] = 1
    return order


def use_levels(sw, order):
    if MODE != "auto":
        return MODE == "levels"
    if len(order) < MIN_RECORDS:
        return False
    o = sw.offs
    size = sum(int(o[r + 1] - o[r]) for r in order)
    return size <= MAX_MEAN_SIZE * len(order)


class _Pool:
    """Saved values gathered into one float64 device array (element 0: a zero, read with
    stride 0 where a record saves nothing)."""

    def __init__(self):
        self.arrays = []  # (offset, flat float64 device array)
        self.floats = []  # (offset, value)
        self.size = 1

    def add_array(self, a):
        at = self.size
        self.arrays.append((at, a))
        self.size += a.size
        return at

    def add_float(self, v):
        at = self.size
        self.floats.append((at, v))
        self.size += 1
        return at

    def upload(self):
        host = np.zeros(self.size, np.float64)
        for at, v in self.floats:
            host[at] = v
        pool = cuda_api().to_device(host)
        for at, a in self.arrays:  # device-to-device copies
            pool[at : at + a.size].copy_to_device(a)
        return pool


def run(sw, order, pauses):
    """Sweep the records ``order`` (from ``plan``) level by level; bookkeeping as the
    per-record sweep (reached, pending, the freed check)."""
    seg, recs, o = sw.seg, sw.recs, sw.offs
    level, rows, meta, pool, elements = {}, [], [0], _Pool(), 0
    for r in order:
        opw = int(recs[r, tape.OP])
        if opw & (tape.FREED | tape.SPENT) and has_saved(seg, recs, r):
            raise RuntimeError(FREED_MSG)
        sw.pending -= 1
        code = opw & tape.CODE_MASK
        kind = _kind(code)
        a, b = _inputs(sw.seg, recs, r, code)
        lv = level.get(r, 0)
        row = [0, kind, code, int(o[r]), 0, 0, 0, 0, 0, 0, 0, 0,
               int(o[a]) if a >= 0 else 0, int(a >= 0), int(o[b]) if b >= 0 else 0, int(b >= 0)]
        c = [0.0, 0.0]
        n = int(o[r + 1] - o[r])
        if code in DERIVS:
            _python_columns(seg.pyaux[int(recs[r, tape.AUX])], row, pool)
        elif kind == 0:
            _saved_columns(sw, REGISTRY[code], int(recs[r, tape.V]), row, pool)
            d = REGISTRY[code]
            aux = int(recs[r, tape.AUX])
            c = [float(seg.faux[aux + k]) if d.nconst > k else 0.0 for k in range(2)]
        elif kind > 1:
            ia = seg.iaux
            aux = int(recs[r, tape.AUX])
            nd = int(ia[aux])
            row[4] = len(meta)
            meta.extend(int(v) for v in ia[aux : aux + 2 + 2 * nd])
            if kind == 3:  # the gather runs over the input's elements
                n = int(o[a + 1] - o[a])
        if a < 0 and b < 0:
            continue
        for s in (a, b):
            if s >= 0:
                level[s] = max(level.get(s, 0), lv + 1)
                sw.mark(s)
        rows.append((lv, n, row, c))
        elements += n
        if elements >= CHUNK_ELEMENTS:  # bound the pool: the records so far, then the rest
            _launch(sw, rows, pool, meta)  # (their consumers are all in this chunk or done)
            level, rows, meta, pool, elements = {}, [], [0], _Pool(), 0
    if rows:
        _launch(sw, rows, pool, meta)
    if tape.inplace_epoch[0] != seg.epoch:
        pauses.check_reached(seg, recs, sw.reached)


def _python_columns(entry, row, pool):
    """Pool offsets of a smooth Python op's saved input(s) and output (``_NAMES`` order)."""
    for k, a in enumerate((entry.saved[0], entry.saved[1] if len(entry.saved) > 1 else None,
                           entry.out)):
        if a is not None:
            row[4 + 2 * k], row[5 + 2 * k] = pool.add_array(_device_f64(a)), 1


def _device_f64(a):
    """A saved value as a flat float64 device array."""
    a = a.flat() if type(a) is DeviceArray else a
    if a.dtype != np.float64 or not hasattr(a, "copy_to_host"):
        from .sweep import device_grad

        a = device_grad(a)
    return a


def _saved_columns(sw, d, v, row, pool):
    """Pool offsets and strides of an elementwise record's saved x, y, out, m."""
    for k, name in enumerate(_NAMES):
        if name not in d.saves:
            continue
        i = (v >> 1) + d.saves.index(name)
        if v & 1:
            row[4 + 2 * k], row[5 + 2 * k] = pool.add_array(_device_f64(sw.seg.avals[i])), 1
        else:
            row[4 + 2 * k], row[5 + 2 * k] = pool.add_float(float(sw.seg.fvals[i])), 0


def _launch(sw, rows, pool, meta):
    """Upload the table (rows sorted by level, each level's first elements numbered from 0)
    and launch ``level_vjp``: consecutive small levels together in one block (a barrier
    between levels), a larger level alone over the whole grid."""
    rows.sort(key=lambda t: t[0])
    items = np.zeros((len(rows), _COLS), np.int64)
    consts = np.zeros((len(rows), 2), np.float64)
    bounds = []  # (first item, end item, elements) per level
    lo, at = 0, 0
    for k, (lv, n, row, c) in enumerate(rows):
        if k and lv != rows[k - 1][0]:
            bounds.append((lo, k, at))
            lo, at = k, 0
        row[0] = at
        items[k] = row
        consts[k] = c
        at += n
    bounds.append((lo, len(rows), at))
    api = cuda_api()
    args = (api.to_device(items), api.to_device(consts), api.to_device(np.array(bounds)))
    d_pool, d_meta = pool.upload(), api.to_device(np.asarray(meta, np.int64))
    kern = K.k()["level_vjp"]
    small = BLOCK_LEVEL * K.threads()
    l0 = 0
    for lv, (_, _, total) in enumerate(bounds + [(0, 0, None)]):
        if total is not None and total <= small:
            continue  # joins the run of small levels
        if lv > l0:  # the small levels l0..lv-1: one block
            kern[1, K.threads()](*args, l0, lv, sw.adj, d_pool, d_meta)
        if total is not None:
            blocks, threads = K.grid(total)
            kern[blocks, threads](*args, lv, lv + 1, sw.adj, d_pool, d_meta)
        l0 = lv + 1
