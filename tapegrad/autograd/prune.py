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

from .. import tape
from ..registry import PYTHON_BASE, Op

_IMPORT = int(Op.IMPORT)
_OP, _A, _B, _AUX = tape.OP, tape.A, tape.B, tape.AUX


class Pruning:
    """The masks of the segments of one backward, computed once per segment."""

    def __init__(self, leaf_ids, wanted):
        self.leaf_ids = leaf_ids  # ids of the leaves asked for
        self.wanted = wanted  # (id(segment), record) of the non-leaves asked for
        self.memo = {}  # id(segment) -> (needed, runs) or None

    def masks(self, seg):
        """``(needed, runs)`` of ``seg`` (bytearrays over its records), or None where every
        record is needed."""
        key = id(seg)
        if key in self.memo:
            return self.memo[key]
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
            stack.append((s, True))
            for src in list(s.imports.values()):
                if type(src) is tuple and id(src[0]) not in self.memo:
                    stack.append((src[0], False))
        return self.memo[key]

    def _masks(self, seg):
        """``masks`` of ``seg``, whose sources' masks are in ``memo``."""
        need_of = self._import_needs(seg, 0)
        if all(need_of.values()):  # (a Hessian-vector product's: nothing else is read)
            return None
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
