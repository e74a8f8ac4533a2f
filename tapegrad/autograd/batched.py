"""A reverse sweep that carries k adjoint seeds at once: all rows of a Jacobian in one pass.

Each reached record holds a ``(k, size)`` block of adjoints, one row per seed, and its VJP runs
once on the whole block in NumPy: an elementwise op evaluates the registry's formula string
(as ``numpy_rules`` does; a ``(k, n)`` g broadcasts against the ``(n,)`` saved values), a
linear map gathers or scatter-adds columns, matmul has a batched rule, and any other Python op
runs its ``vjp_np`` once per row. So k seeds cost one NumPy call per record instead of k
sweeps. It serves ``autograd.grad(..., is_grads_batched=True)`` without ``create_graph``,
``functional.jacobian`` / ``hessian`` with ``vectorize=True`` and ``func.jacrev``.

Graphs with user code in the backward (tensor hooks, custom Functions), CUDA segments and
anomaly mode raise ``Unsupported`` before anything is freed: callers then take one backward per
seed, which runs that code as a plain backward does.
"""

import heapq
import math

import numpy as np

from .. import tape
from ..device import DeviceArray
from ..engine.sweep import FREED_MSG, free_records, has_saved, sweeping
from ..ops.movement import _read_strided, _strided_indices
from ..registry import PYTHON_BASE, REGISTRY, Op, _np_pow, numpy_rule_namespace, pow_as_call
from ..tensor import Tensor
from .function import reverse_stops_at
from .inplace import check_python_record, check_reached

_OP, _A, _B, _AUX, _V, _SIZE = range(6)
_CODE, _FREED, _HOOKED = tape.CODE_MASK, tape.FREED, tape.HOOKED
_POWC = int(Op.POWC)


class Unsupported(Exception):
    """A graph this sweep leaves to one backward per seed (hooks, custom Functions, CUDA)."""


BLOCK_BUDGET = 1 << 24  # float64 elements of one record's block (128 MiB)


def rows_per_sweep(roots, k):
    """How many of ``k`` seeds one sweep may carry: a record's block holds ``k * size``
    floats, so the largest record on the roots' segments bounds it."""
    biggest = 1
    for t in roots:
        if t._seg is not None:
            recs = t._seg.records()[: t._rec + 1]
            biggest = max(biggest, int(recs[:, tape.SIZE].max()))
    return max(1, min(k, BLOCK_BUDGET // biggest))


def run(roots, seeds, inputs, retain_graph):
    """Adjoints of ``inputs`` for ``k`` seeds at once.

    ``seeds``: per root, a float64 array of shape ``(k,) + root.shape``. Returns, per input,
    an array of shape ``(k,) + input.shape`` (the input's dtype), or None where no root
    reaches it. Raises ``Unsupported`` (nothing freed, nothing changed) for graphs it leaves
    to the per-seed loop.
    """
    if tape.anomaly[0] and tape.anomaly[1]:
        raise Unsupported("anomaly detection checks every record's gradient")
    for t in (*roots, *inputs):
        if t.dtype.kind == "c":  # (its adjoint is (re, im) pairs; a seed must be complex)
            raise Unsupported("a complex root or input")
        if type(t._data) is DeviceArray:  # (a CPU root of a CUDA input, through x.cpu(): its
            raise Unsupported("CUDA tensors")  # rows would come back as host arrays)
    for t in inputs:
        if t._seg is None and t._hooks:
            raise Unsupported("a leaf hook runs once per gradient")
    k = int(seeds[0].shape[0])
    pending, heap, leaf_totals = {}, [], {}

    def push(seg, rec, g):
        if seg.forward_only and reverse_stops_at(seg):
            return  # (no_grad values of forward mode: constants here)
        if seg.device:
            raise Unsupported("CUDA records")
        e = pending.get(id(seg))
        if e is None:
            e = pending[id(seg)] = (seg, [])
            heapq.heappush(heap, (-seg.order, id(seg)))
        e[1].append((rec, g))

    def add_leaf(leaf, g):
        e = leaf_totals.get(id(leaf))
        leaf_totals[id(leaf)] = [leaf, g if e is None else e[1] + g]

    for t, g in zip(roots, seeds):
        g = np.asarray(g, np.float64).reshape(k, -1)
        if t._seg is None:
            add_leaf(t, g)
        else:
            push(t._seg, t._rec, g)
    wanted = {}
    for i, t in enumerate(inputs):
        if t._seg is not None:
            wanted.setdefault((id(t._seg), t._rec), []).append(i)
    results = [None] * len(inputs)
    swept = []
    while heap:
        _, key = heapq.heappop(heap)
        seg, seed_list = pending.pop(key)
        if seg.refill is not None:  # its saved values were dropped: recomputed first
            seg.refill(seg)
        with sweeping(seg):
            sw = BatchedSweep(seg, k, max(rec for rec, _ in seed_list))
            for rec, g in seed_list:
                sw.add(rec, g)
            sw.run()
        swept.append(sw)
        for (sid, rec), positions in wanted.items():
            if sid == id(seg) and rec in sw.adj:
                for i in positions:
                    results[i] = sw.adj[rec]
        for r, src in list(seg.imports.items()):
            g = sw.adj.get(r)
            if g is None:
                continue
            if isinstance(src, Tensor):
                add_leaf(src, g)
            else:
                push(src[0], src[1], g)
    for sw in swept:  # only now: an Unsupported graph above must find everything intact
        if retain_graph:
            tape.retire(sw.seg)
        else:
            sw.free()
    for j, t in enumerate(inputs):
        e = leaf_totals.get(id(t)) if t._seg is None else None
        if e is not None:
            results[j] = e[1]
    out = []
    for t, g in zip(inputs, results):
        if g is not None:  # a copy: a block may be a seed or a view of one
            g = np.array(g.reshape((k,) + tuple(t.shape)),
                         t.dtype if t.dtype.kind == "f" else np.float64)
        out.append(g)
    return out


class BatchedSweep:
    """One segment swept with ``(k, size)`` adjoint blocks (``adj``: record id -> block)."""

    def __init__(self, seg, k, top):
        self.seg, self.k = seg, k
        self.recs = seg.records()[: top + 1]
        self.adj = {}
        self.owned = set()  # blocks this sweep allocated: added to in place
        self.heap = []

    def add(self, r, g, owned=False):
        adj = self.adj
        old = adj.get(r)
        if old is None:
            heapq.heappush(self.heap, -r)
            adj[r] = g
            if owned:
                self.owned.add(r)
        elif r in self.owned:
            old += g
        elif owned:
            g += old
            adj[r] = g
            self.owned.add(r)
        else:  # a seed, another record's block or a view of one: never written into
            adj[r] = old + g
            self.owned.add(r)

    def run(self):
        with np.errstate(all="ignore"):  # inf/nan as IEEE says, like the compiled loop
            self._run()
        if tape.inplace_epoch[0] != self.seg.epoch:  # something was modified in place since
            reached = np.zeros(len(self.recs), np.uint8)
            reached[list(self.adj)] = 1
            check_reached(self.seg, self.recs, reached)

    def _run(self):
        seg, recs, heap, adj = self.seg, self.recs, self.heap, self.adj
        add = self.add
        avals, fvals, faux = seg.avals, seg.fvals, seg.faux
        k = self.k
        while heap:
            r = -heapq.heappop(heap)
            opw, a, b, aux, v, size = recs[r].tolist()
            if opw & _HOOKED:
                raise Unsupported("a tensor hook or retain_grad runs once per gradient")
            code = opw & _CODE
            if opw & _FREED and has_saved(seg, recs, r):
                raise RuntimeError(FREED_MSG)
            if code == 0:  # IMPORT: the driver hands the block on
                continue
            g = adj[r]
            if code >= PYTHON_BASE or code == Op.OUTPUT:
                if code == Op.OUTPUT or code == Op.CUSTOM:
                    raise Unsupported("a custom Function's backward runs once per gradient")
                self._python(r, code, aux, g)
                continue
            plan = _plan(code)
            if plan is None:  # linear
                if a >= 0:
                    add(a, *self._linear(code, aux, g, int(recs[a, _SIZE])))
                continue
            fx, fy, where, nconst = plan
            if code == _POWC and faux[aux] == 1.0:  # x ** 1 (a square's re-taped gradient):
                if a >= 0:  # its gradient is g itself, as x ** 0 is 1 for every x
                    add(a, g)
                continue
            vals = (None, None, None, None)
            if v >= 0:  # x, y, out, m from the saved values (flat rows: arrays keep shapes)
                start = v >> 1
                if v & 1:
                    vals = [None if j < 0 else _flat(avals[start + j]) for j in where]
                else:
                    vals = [None if j < 0 else fvals[start + j] for j in where]
            c0 = faux[aux] if nconst >= 1 else 0.0
            c1 = faux[aux + 1] if nconst >= 2 else 0.0
            if a >= 0 and fx is not None:  # a constant input: its formula is not evaluated
                add(a, *_block(fx(g, *vals, c0, c1), g, k, size))
            if b >= 0 and fy is not None:
                add(b, *_block(fy(g, *vals, c0, c1), g, k, size))

    def _linear(self, code, aux, g, n_in):
        """The block of the input of a linear map, and whether this sweep owns it."""
        seg = self.seg
        if code == Op.RESHAPE:
            return g, False
        if code == Op.GATHER_STRIDED:  # adj_x[:, off + i.s] += g[:, i]
            return _scatter_strided_cols(g, *_read_strided(seg, aux), n_in), True
        if code == Op.SCATTER_STRIDED:  # adj_x[:, i] += g[:, off + i.s]
            return _gather_strided_cols(g, *_read_strided(seg, aux), n_in), False
        if code == Op.GATHER_INDEX:  # adj_x[:, idx[i]] += g[:, i]
            return _scatter_cols(g, seg.ivals[aux], n_in), True
        if code == Op.SCATTER_INDEX:  # adj_x[:, i] += g[:, idx[i]]
            return g[:, seg.ivals[aux]], True
        raise Unsupported(f"linear op {REGISTRY[code].name}")

    def _python(self, r, code, aux, g):
        seg, k = self.seg, self.k
        entry = seg.pyaux[aux]
        if tape.inplace_epoch[0] != seg.epoch:
            check_python_record(seg, r, entry)
        d = REGISTRY[code]
        saved = tuple(entry.saved)
        g = g.reshape((k,) + tuple(entry.out_shape))
        rule = BATCHED_VJP.get(code)
        grads = rule(g, saved, entry.out, **entry.params) if rule is not None else None
        if grads is None:  # no batched rule (or not for these shapes): once per seed
            rows = [d.vjp_np(g[i], saved, entry.out, **entry.params) for i in range(k)]
            grads = [None if rows[0][j] is None else
                     np.stack([_flat_row(row[j], math.prod(entry.in_shapes[j]))
                               for row in rows]) for j in range(len(entry.slots))]
        for s, gi, shape in zip(entry.slots, grads, entry.in_shapes):
            if s >= 0 and gi is not None:
                size = int(self.recs[s, _SIZE])
                gi = np.asarray(gi, np.float64)
                if gi.size == k * size:
                    self.add(s, gi.reshape(k, size))
                else:  # a 0-d gradient per row stands for all elements (as in the sweep)
                    self.add(s, np.broadcast_to(gi.reshape(k, 1), (k, size)))

    def free(self):
        reached = np.zeros(len(self.recs), np.uint8)
        reached[list(self.adj)] = 1
        with sweeping(self.seg):
            free_records(self.seg, reached)


def _flat_row(gi, size):
    """One seed's gradient from a ``vjp_np`` rule as a flat row (a 0-d one fills it)."""
    gi = np.asarray(gi, np.float64)
    return np.full(size, float(gi)) if gi.ndim == 0 and size != 1 else gi.reshape(-1)


def _block(gi, g, k, size):
    """A formula's result as a ``(k, size)`` block, and whether it is a fresh array."""
    if type(gi) is not np.ndarray or gi.shape != (k, size):
        return np.broadcast_to(gi, (k, size)), False
    return gi, gi is not g and gi.base is None


# ---- the derivative formulas on blocks -----------------------------------------------------

def _fold_where(cond, a, b):
    """``where`` whose condition is a constant (``c0 == 0.0``) picks its branch: no pass over
    the block."""
    if cond is True or cond is False or type(cond) is np.bool_:
        return a if cond else b
    return np.where(cond, a, b)


def _pow(x, y):
    """The formulas' ``x ** c`` (PyTorch's pow: sqrt for 0.5, rsqrt for -0.5)."""
    if type(y) is float or type(y) is np.float64:
        if y == 0.5:
            return np.sqrt(x)
        if y == -0.5:
            return 1.0 / np.sqrt(x)
        return np.power(x, y)
    return _np_pow(x, y)


def rule_namespace():
    """The formulas' functions on NumPy blocks (``where`` and ``**`` as above)."""
    ns = numpy_rule_namespace()
    ns.update(where=_fold_where, _pow=_pow)
    return ns


_PLANS = {}


def _plan(code):
    """Per elementwise opcode: (the two formulas as NumPy lambdas, where x, y, out, m sit
    among the saved values (-1: not saved), nconst); None for a linear map."""
    plan = _PLANS.get(code, _PLANS)
    if plan is _PLANS:
        d = REGISTRY[code]
        if d.kind == "linear":
            plan = None
        else:
            where = tuple(d.saves.index(n) if n in d.saves else -1
                          for n in ("x", "y", "out", "m"))
            plan = (*d.rules(rule_namespace(), pow_as_call), where, d.nconst)
        _PLANS[code] = plan
    return plan


def _flat(a):
    return a if a.ndim == 1 else a.reshape(-1)


# ---- linear maps on blocks of columns ----------------------------------------------------

def _contiguous(shape, strides):
    """Whether the strided map reads one contiguous run in C order (a plain slice)."""
    step = 1
    for n, s in zip(reversed(shape), reversed(strides)):
        if n > 1:
            if s != step:
                return False
            step *= n
    return True


def _without_broadcast(shape, strides):
    """Axes of stride 0 (broadcasts, sums), and the shape and strides of the other axes."""
    zero = tuple(j for j, (n, s) in enumerate(zip(shape, strides)) if s == 0 and n > 1)
    if not zero:
        return zero, shape, strides
    keep = [j for j in range(len(shape)) if j not in zero]
    return zero, tuple(shape[j] for j in keep), tuple(strides[j] for j in keep)


def _scatter_strided_cols(g, shape, strides, offset, n_in):
    """``out[:, off + i.s] += g[:, i]``: the axes of stride 0 (broadcasts) are summed first;
    what remains is a slice or a column assignment unless the strides overlap."""
    k = g.shape[0]
    zero, rshape, rstrides = _without_broadcast(shape, strides)
    if zero:
        g = g.reshape((k,) + tuple(shape)).sum(axis=tuple(1 + j for j in zero))
    g = g.reshape(k, -1)
    if _contiguous(rshape, rstrides):
        stop = offset + g.shape[1]
        out = np.empty((k, n_in))
        out[:, :offset] = 0.0
        out[:, offset:stop] = g
        out[:, stop:] = 0.0
        return out
    out = np.zeros((k, n_in))
    idx = _strided_indices(rshape, rstrides, offset).reshape(-1)
    if _disjoint(rshape, rstrides):
        out[:, idx] = g
        return out
    return _scatter_cols(g, idx, n_in)


def _gather_strided_cols(g, shape, strides, offset, n_in):
    """``out[:, i] = g[:, off + i.s]`` (i over ``shape``, ``n_in`` elements)."""
    k = g.shape[0]
    zero, rshape, rstrides = _without_broadcast(shape, strides)
    if _contiguous(rshape, rstrides):
        m = math.prod(rshape)
        sub = g[:, offset:offset + m]
    else:
        sub = g[:, _strided_indices(rshape, rstrides, offset).reshape(-1)]
    if not zero:
        return sub.reshape(k, n_in)
    bshape = tuple(1 if j in zero else n for j, n in enumerate(shape))
    return np.broadcast_to(sub.reshape((k,) + bshape), (k,) + tuple(shape)).reshape(k, n_in)


def _disjoint(shape, strides):
    """Whether no two index tuples of ``shape`` map to one flat position (nothing overlaps)."""
    dims = sorted((abs(s), n) for n, s in zip(shape, strides) if n > 1)
    reach = 0  # the largest distance the dims seen so far can span
    for s, n in dims:
        if s <= reach:
            return False
        reach += s * (n - 1)
    return True


def _scatter_cols(g, idx, n_in):
    """``out[:, idx[i]] += g[:, i]`` with repeated indices adding up."""
    out = np.zeros((g.shape[0], n_in))
    if len(idx) == 0:
        return out
    if np.bincount(idx, minlength=n_in).max() <= 1:
        out[:, idx] = g
        return out
    order = np.argsort(idx, kind="stable")
    s = idx[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    out[:, s[starts]] = np.add.reduceat(g[:, order], starts, axis=1)
    return out


# ---- batched rules of Python ops -----------------------------------------------------------

def _matmul_batched(g, inputs, out, needs=(True, True)):
    """Matmul's VJP for k seeds at once (``g``: ``(k,) + out.shape``); None for the shapes
    with batch dimensions, left to the per-seed rule."""
    A, B = inputs
    if A.ndim == 2 and B.ndim == 2:
        return (g @ B.T if needs[0] else None), (A.T @ g if needs[1] else None)
    if A.ndim == 1 and B.ndim == 1:
        return (g[:, None] * B if needs[0] else None), (g[:, None] * A if needs[1] else None)
    if A.ndim == 2 and B.ndim == 1:
        return (g[:, :, None] * B if needs[0] else None), (g @ A if needs[1] else None)
    if A.ndim == 1 and B.ndim == 2:
        return (g @ B.T if needs[0] else None), (A[:, None] * g[:, None, :] if needs[1]
                                                  else None)
    return None


BATCHED_VJP = {int(Op.MATMUL): _matmul_batched}
