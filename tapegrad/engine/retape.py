"""Re-taping reverse sweep (``create_graph=True``): the VJPs run as tapegrad ops, grad mode on.

Same records, same order as the numeric sweep, but each adjoint is a Tensor with history and
each VJP is the op's Tensor-level rule (``OpDef.tensor_rule`` for elementwise ops, ``vjp`` for
the others). Saved values come back as tensors *attached* to their original records, so the
ops recorded now connect to the forward graph and the result can be differentiated again.
Adjoints are flat (0-d for one element, else 1-D), like the numeric arena.
"""

import heapq

from .. import tape
from ..ops import REGISTRY
from ..ops.elementwise import add
from ..ops.registry import Op
from ..tensor import Tensor, _make, _new
from .sweep import FREED_MSG, has_saved


def attached(value, seg, rec):
    """A tensor holding ``value`` whose history is record ``rec`` of ``seg`` (rec < 0: none)."""
    if rec < 0:
        return _make(value)
    t = _new(Tensor)
    t._data = value
    t._rg = True
    t._seg = seg
    t._rec = rec
    return t


def flat(t, n):
    """``t`` in the flat slot layout: 0-d for one element, else 1-D."""
    want = () if n == 1 else (n,)
    return t if t.shape == want else t.reshape(want)


class RetapeSweep:
    def __init__(self, seg):
        self.seg = seg
        self.recs = seg.records()
        self.adj = {}
        self.heap = []

    def seed(self, r, g):
        self._add(r, flat(g, int(self.recs[r, tape.SIZE])))

    def _add(self, r, g):
        old = self.adj.get(r)
        if old is None:
            self.adj[r] = g
            heapq.heappush(self.heap, -r)
        else:
            self.adj[r] = add(old, g)

    @property
    def reached(self):
        return self.adj

    def grad_of(self, r):
        return self.adj.get(r)

    def set_grad(self, r, g):
        self.adj[r] = g

    def run(self, start, stop, on_hook):
        seg, recs = self.seg, self.recs
        while self.heap and -self.heap[0] >= stop:
            r = -heapq.heappop(self.heap)
            opw = int(recs[r, tape.OP])
            code = opw & tape.CODE_MASK
            if opw & tape.FREED and has_saved(seg, recs, r):
                raise RuntimeError(FREED_MSG)
            if opw & tape.HOOKED:
                on_hook(seg, r, self)
            if code == Op.IMPORT:
                continue
            g = self.adj[r]
            if code == Op.OUTPUT:
                node = int(recs[r, tape.A])
                if node not in self.adj:
                    self.adj[node] = None
                    heapq.heappush(self.heap, -node)
                continue
            if code == Op.CUSTOM:
                from ..autograd.function import custom_vjp_retape

                custom_vjp_retape(self, r)
                continue
            d = REGISTRY[code]
            a, b = int(recs[r, tape.A]), int(recs[r, tape.B])
            if d.kind in ("unary", "binary"):
                grads = self._elementwise(d, r, g, a, b)
                slots = (a, b)
            elif d.kind == "linear":
                grads, slots = d.vjp(g, seg, r), (a,)
            else:
                entry = seg.pyaux[int(recs[r, tape.AUX])]
                slots = entry.slots
                ins = tuple(None if v is None else attached(v, seg, s)
                            for v, s in zip(entry.saved, slots))
                out = None if entry.out is None else attached(entry.out, seg, r)
                grads = d.vjp(g.reshape(entry.out_shape), ins, out, **entry.params)
            self.accumulate(slots, grads)

    def accumulate(self, slots, grads):
        for s, gi in zip(slots, grads):
            if s >= 0 and gi is not None:
                if not isinstance(gi, Tensor):
                    gi = _make(gi)
                self._add(s, flat(gi, int(self.recs[s, tape.SIZE])))

    def _elementwise(self, d, r, g, a, b):
        seg, rec = self.seg, self.recs[r]
        v = int(rec[tape.V])
        vals = {}
        if v >= 0:
            start, arrays = v >> 1, v & 1
            for k, name in enumerate(d.saves):
                val = seg.avals[start + k].reshape(-1) if arrays else seg.fvals[start + k]
                vals[name] = val
        x = attached(vals["x"], seg, a) if "x" in vals else None
        y = attached(vals["y"], seg, b) if "y" in vals else None
        out = attached(vals["out"], seg, r) if "out" in vals else None
        m = _make(vals["m"]) if "m" in vals else None
        aux = int(rec[tape.AUX])
        c0 = seg.faux[aux] if d.nconst >= 1 else None
        c1 = seg.faux[aux + 1] if d.nconst >= 2 else None
        return d.tensor_rule()(g, x, y, out, m, c0, c1)

    def free(self):
        pass  # create_graph implies retain_graph
