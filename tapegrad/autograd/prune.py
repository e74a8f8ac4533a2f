"""Which records a backward with ``inputs`` needs (``autograd.grad``, ``backward(inputs=...)``).

PyTorch runs only the part of the graph between the outputs and the inputs asked for: a node
off every path to them is not executed, so its saved values may be freed or modified in place,
its custom backward may raise, its hooks do not run. The sweep here does the same with two
masks per segment, from one pass over its records in tape order:

* ``needed[r]``: record ``r``'s adjoint leads to a gradient asked for: ``r`` is an input asked
  for, an import of a leaf asked for (or of a needed record of an older segment), or one of its
  own inputs is needed;
* ``runs[r]``: its VJP runs: one of its inputs is needed (an input asked for whose own inputs
  are not needed gets its gradient, and its VJP is not run, as in PyTorch). Imports count as
  running (they have no VJP; whether their adjoint is handed on is ``needed``).

A segment whose every import is needed needs every record (each record depends on some import):
``masks`` returns None and the sweep is the usual one, as for every Hessian-vector product.
"""

import weakref

from .. import tape
from ..registry import PYTHON_BASE, Op

_IMPORT = int(Op.IMPORT)
_OP, _A, _B, _AUX = tape.OP, tape.A, tape.B, tape.AUX


class Pruning:
    """The masks of the segments of one backward, computed once per segment."""

    def __init__(self, leaf_ids, wanted, first=None):
        self.leaf_ids = leaf_ids  # ids of the leaves asked for
        self.wanted = wanted  # (id(segment), record) of the non-leaves asked for
        # with no leaf asked for: the lowest order of the segments of the inputs asked for. A
        # segment imports only from segments of lower order (tape.prepare), so none of lower
        # order than this leads to an input: neither it nor its sources need a pass (a loop
        # that asks for the gradient of its state at each step would walk all earlier steps)
        self.first = first
        # id(segment) -> (needed, runs), None, or an int n: none of its first n records is
        # needed (only its imports run; ``masks`` spells that out for the segments it returns)
        self.memo = {}
        self.wanted_segs = {sid for sid, _ in wanted}

    def masks(self, seg):
        """``(needed, runs)`` of ``seg`` (bytearrays over its records), or None where every
        record is needed."""
        key = id(seg)
        if key in self.memo:
            return self._spelled(seg)
        # the segments it imports from first, without recursion: a graph may span thousands
        # of segments (every backward closes one: a loop that calls backward on a growing chain)
        stack = [(seg, False)]
        while stack:
            s, sources_done = stack.pop()
            if id(s) in self.memo:
                continue
            if sources_done:
                self.memo[id(s)] = self._masks(s)
                continue
            if self.first is not None and s.order < self.first:
                self.memo[id(s)] = s.n
                continue
            stack.append((s, True))
            for src in list(s.imports.values()):
                if type(src) is tuple and id(src[0]) not in self.memo:
                    stack.append((src[0], False))
        return self._spelled(seg)

    def _spelled(self, seg):
        m = self.memo[id(seg)]
        if type(m) is int:
            m = bytearray(m), bytearray(m)
            for r in list(seg.imports):
                if r < len(m[1]):
                    m[1][r] = 1
            self.grow(seg, m)  # (over the records added since, if any)
            self.memo[id(seg)] = m
        return m

    def _masks(self, seg):
        """``masks`` of ``seg``, whose sources' masks are in ``memo``."""
        need_of = self._import_needs(seg, 0)
        if all(need_of.values()):  # (a Hessian-vector product's: nothing else is read)
            return None
        if not any(need_of.values()) and id(seg) not in self.wanted_segs:
            # (no pass over its records: every ancestor of an output is visited, and a loop
            # that asks for the gradient of its state each step would pay for all of them)
            n = _count_without_python_ops(seg)
            if n is not None:
                return n
        m = bytearray(), bytearray()
        self.grow(seg, m, need_of)
        return m

    def _import_needs(self, seg, start):
        need_of = {}
        for r, src in list(seg.imports.items()):
            if r < start:
                continue
            if type(src) is tuple:
                up = self.memo[id(src[0])] if id(src[0]) in self.memo else self.masks(src[0])
                if type(up) is int:
                    need_of[r] = src[1] >= up
                else:
                    need_of[r] = up is None or src[1] >= len(up[0]) or up[0][src[1]]
            else:
                need_of[r] = id(src) in self.leaf_ids
        return need_of

    def grow(self, seg, m, need_of=None):
        """Extend the masks ``m`` of ``seg`` over the records added since they were computed
        (records are only appended, so the earlier entries stand: forward_ad.dual_only asks
        about each new result of a segment without a pass over all of it)."""
        needed, runs = m
        start = len(needed)
        if need_of is None:
            need_of = self._import_needs(seg, start)
        recs = seg.records()
        n = len(recs)
        needed.extend(bytes(n - start))
        runs.extend(bytes(n - start))
        for r, need in need_of.items():
            if start <= r < n:
                needed[r] = need
        key = id(seg)
        for sid, rec in self.wanted:
            if sid == key and start <= rec < n:
                needed[rec] = 1
        ops, a, b, aux = (recs[start:, k].tolist() for k in (_OP, _A, _B, _AUX))
        for i in range(n - start):
            r, code = start + i, ops[i] & tape.CODE_MASK
            if code == _IMPORT:
                runs[r] = 1
                continue
            if code >= PYTHON_BASE:
                slots = getattr(seg.pyaux[aux[i]], "slots", None)
                if slots is None:  # (inputs unknown here: run it, as before)
                    runs[r] = needed[r] = 1
                    continue
                go = any(s >= 0 and needed[s] for s in slots)
            else:
                go = (a[i] >= 0 and needed[a[i]]) or (b[i] >= 0 and needed[b[i]])
            if go:
                runs[r] = needed[r] = 1


_python_ops = weakref.WeakKeyDictionary()  # segment -> (records looked at, Python ops among them)


def _count_without_python_ops(seg):
    """The number of records of ``seg``, or None where it holds Python ops (whose inputs the
    masks look up record by record). Remembered per segment: a closed one does not change."""
    n = seg.n
    hit = _python_ops.get(seg)
    if hit is None or hit[0] != n:
        recs = seg.records()
        codes = recs[:, _OP] & tape.CODE_MASK
        hit = _python_ops[seg] = (len(recs), bool(len(codes) and codes.max() >= PYTHON_BASE))
        if hit[0] != n:  # (records appended meanwhile by another thread: asked again next time)
            _python_ops.pop(seg, None)
    return None if hit[1] else hit[0]
