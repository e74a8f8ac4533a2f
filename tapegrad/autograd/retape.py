"""Re-taping reverse sweep (``create_graph=True``): the VJPs run as tapegrad ops, grad mode on.

Same records, same order as the numeric sweep, but each adjoint is a Tensor with history and
each VJP is the op's Tensor-level rule (the registry's formula string for elementwise ops,
the partner map for linear ops, ``vjp`` for Python ops). Saved values come back as tensors
*attached* to their original records, so the ops recorded now connect to the forward graph and
the result can be differentiated again. Adjoints are flat (0-d for one element, else 1-D), like
the numeric arena.

Cost model: a backward of a small graph is dominated by fixed Python costs per record, so the
loop reads each record once (``tolist``), evaluates the elementwise formulas with their scalar
constants folded (``where`` on a Python bool picks its branch; ``x ** 1`` is ``x``), and calls
the linear maps' primitives directly. Every record it emits is one the formula asks for.
"""

import heapq

import numpy as np

from .. import tape
from ..engine.sweep import FREED_MSG, free_records, has_saved, saved_values
from ..grad_mode import is_grad_enabled
from ..ops import movement as M
from ..ops import rule_namespace
from ..ops.backward_ops import depends, double_name, links_of, sigmoid_backward, tanh_backward
from ..ops.elementwise import _const_op, add, exp, mul, select, sigmoid, where
from ..ops.linalg import matmul
from ..ops.movement import transpose, unsqueeze
from ..registry import PYTHON_BASE, REGISTRY, Op
from ..tensor import Tensor, _make, with_history
from .inplace import check_record

_OP, _A, _B, _AUX, _V, _SIZE = range(6)
_NFIELDS = tape.NFIELDS
_CODE, _FREED, _HOOKED, _SPENT = tape.CODE_MASK, tape.FREED, tape.HOOKED, tape.SPENT
_epoch = tape.inplace_epoch
_ROWS_AT_ONCE = 256
_POWC = int(Op.POWC)
# opcodes as plain ints: an IntEnum member read and compared costs ~0.1 µs, several per record
(_IMPORT, _OUTPUT, _CUSTOM, _MATMUL, _COMPLEX, _RESHAPE, _GATHER_S, _SCATTER_S, _GATHER_I,
 _SCATTER_I) = (int(o) for o in (Op.IMPORT, Op.OUTPUT, Op.CUSTOM, Op.MATMUL, Op.COMPLEX,
                                 Op.RESHAPE, Op.GATHER_STRIDED, Op.SCATTER_STRIDED,
                                 Op.GATHER_INDEX, Op.SCATTER_INDEX))


def attached(value, seg, rec):
    """A tensor holding ``value`` whose history is record ``rec`` of ``seg`` (rec < 0: none)."""
    return _make(value) if rec < 0 else with_history(value, seg, rec)


def flat(t, n):
    """``t`` in the flat slot layout: 0-d for one element, else 1-D."""
    if not isinstance(t, Tensor):  # a constant (a rule's 0.0): no history, no gradient
        return _make(float(t) if n == 1 else np.full(n, float(t)))
    d = t._data
    if type(d) is float:  # a 0-d float64 value: already flat for one element
        return t if n == 1 else t.reshape((n,))
    if d.dtype.kind == "c":
        n //= 2  # a complex record's size counts (re, im) arena slots
    shape = d.shape
    if n == 1:
        return t if shape == () else t.reshape(())
    return t if len(shape) == 1 else t.reshape((n,))


def unflat(total, shape):
    """The adjoint ``total`` (a Tensor, flat) in ``shape``, with no view node in between, as
    PyTorch's gradient whose ``grad_fn`` is the VJP's own node (``MulBackward0``,
    ``UpsampleBilinear2DBackwardBackward0``...): the tensor ``flat`` made it from when that had
    ``shape``, else ``total``'s value in ``shape`` attached to its record (the tape's slots are
    flat, so a record's value is the same in any shape of its size)."""
    if total.shape == shape:
        return total
    base = total._base
    seg, rec = total._seg, total._rec
    if seg is None or rec < 0:
        return total.reshape(shape)
    if base is not None and base.shape == shape and base.dtype == total.dtype and \
            base._seg is seg:
        row = seg.records()[rec]
        if int(row[tape.OP]) & _CODE == _RESHAPE and int(row[tape.A]) == base._rec:
            return base
    d = total._data
    if type(d) is float or type(d) is np.ndarray:
        return with_history(np.reshape(d, shape), seg, rec)
    return total.reshape(shape)


# ---- elementwise rules with constants folded ------------------------------------------------

def _fold_where(cond, a, b):
    """``where`` for rules: a Python/NumPy bool condition selects a branch without a record."""
    if cond is True or cond is False or type(cond).__name__ == "bool_":
        return a if cond else b  # a constant branch stays a number: flat() makes it constant
    return select(cond, a, b)  # (WHERE's rule reads its saved 0/1 mask)


class _Rules:
    """Per opcode, the two formula lambdas evaluated on Tensors with ``where`` folded."""

    def __init__(self):
        self.cache = {}
        ns = rule_namespace()
        ns["where"] = _fold_where
        self.ns = ns

    def get(self, code, d):
        rules = self.cache.get(code)
        if rules is None:
            rules = self.cache[code] = d.rules(self.ns)
        return rules


_rules = _Rules()


def _powc_rule(g, x, y, out, m, c0, c1):
    """POWC's formula ``where(c0 == 0, 0, g * (c0 * x ** (c0 - 1)))`` with c0 folded."""
    if c0 == 0.0:
        # a zero gradient, not "unused" (as in PyTorch), and constant: PyTorch's zeros_like, so
        # an inf/nan g does not make it nan and nothing flows back through it
        return (0.0, None)
    if c0 == 1.0:
        return (mul(g, x ** 0.0), None)  # keeps the dependency on x, as PyTorch does
    # x ** 1 stays a record: as in PyTorch, the next order's derivative (1 * x ** 0) still
    # depends on x, so a third derivative of x ** 3 requires grad
    xd = x._data
    if c0 == 2.0 and x._rg and (type(xd) is float or type(xd) is np.ndarray):
        # x ** 1 is x exactly (C's pow): a copy for its value, recorded as the operator would
        p = _const_op(_POWC, x, xd if type(xd) is float else xd.copy(), 1.0, save_x=True)
    else:
        p = x ** (c0 - 1.0)
    if not g._rg and type(g._data) in (float, np.ndarray):
        # a constant adjoint (the first records of a backward): the constant factor folds
        # into it, two records instead of three (exact for c0 = 2, the common square)
        return (mul(_make(g._data * c0), p), None)
    return (mul(g, c0 * p), None)


def _tanh_rule(g, x, y, out, m, c0, c1):
    """TANH's formula ``g * (1 - out * out)`` as one record (PyTorch's tanh_backward),
    not three: the second backward of a tanh layer sweeps a third of the records."""
    return (tanh_backward(g, out), None)


def _sigmoid_rule(g, x, y, out, m, c0, c1):
    """SIGMOID's formula ``g * out * (1 - out)`` as one record (PyTorch's sigmoid_backward)."""
    return (sigmoid_backward(g, out), None)


def _elu_rule(g, x, y, out, m, c0, c1):
    """ELU's formula ``where(x <= 0, g * c0 * exp(x), g)`` with PyTorch's second derivative:
    zero at 0 (its double backward masks ``x < 0``), where exp reads 0 instead of x (the same
    value; and no inf of exp at x = +inf reaches the discarded branch's derivative)."""
    return (where(x <= 0.0, g * c0 * exp(where(x < 0.0, x, 0.0)), g), None)


def _softplus_rule(g, x, y, out, m, c0, c1):
    """SOFTPLUS's formula ``where(x * c0 > c1, g, g * sigmoid(x * c0))`` with PyTorch's second
    derivative: zero where ``x * c0`` is the threshold (its double backward masks ``<``),
    where sigmoid reads the threshold itself (the same value)."""
    bx = x * c0
    return (where(bx > c1, g, g * sigmoid(where(bx == c1, c1, bx))), None)


_SPECIAL = {int(Op.POWC): _powc_rule, int(Op.TANH): _tanh_rule, int(Op.SIGMOID): _sigmoid_rule,
            int(Op.ELU): _elu_rule, int(Op.SOFTPLUS): _softplus_rule}


def _matmul_2d_rule(g, ins, needs):
    """MATMUL's VJP for 2-D @ 1-D, 1-D @ 2-D and 2-D @ 2-D with one record per gradient.

    The general rule (``ops/linalg.py``) promotes 1-D operands with reshapes; these are the
    same products without them. Returns None for the shapes left to the general rule.
    """
    A, B = ins
    na, nb = A.ndim, B.ndim
    if na == 2 and nb == 1:  # out[i] = A[i, :] . B
        return (matmul(unsqueeze(g, 1), unsqueeze(B, 0)) if needs[0] else None,
                matmul(g, A) if needs[1] else None)
    if na == 1 and nb == 2:  # out[j] = A . B[:, j]
        return (matmul(B, g) if needs[0] else None,
                matmul(unsqueeze(A, 1), unsqueeze(g, 0)) if needs[1] else None)
    if na == 2 and nb == 2:
        return (matmul(g, transpose(B, 0, 1)) if needs[0] else None,
                matmul(transpose(A, 0, 1), g) if needs[1] else None)
    return None


# ops whose derivative PyTorch records as an op of the saved values (relu's
# ``threshold_backward(grad, result)``, ``leaky_relu_backward``, ``hardtanh_backward``): it
# requires grad whenever they do, also where its formula here only compares them (clamp's,
# ``where``'s and ``maximum``'s are compositions of masks there too: they stay constant)
_OWN_DERIVATIVE_OP = frozenset(int(o) for o in (Op.RELU, Op.LEAKY_RELU, Op.HARDTANH))


# Python ops that are one node in PyTorch (its backward is one op of all the node's inputs):
# every gradient they give requires grad when an input does, also one that does not depend on
# them (a bias's gradient is the sum of the output's; a pooling's or nll_loss's is a map of the
# output's alone: PyTorch's ``avg_pool2d_backward(grad, self)``, ``nll_loss_backward(grad,
# self, ...)``). Per op: whether the link is to every input (else to the saved values that
# require grad), and whether PyTorch's double backward gives those inputs None (a convolution's
# or a norm's, where such a gradient is linear in the seed), not zeros. Ops built of several
# records are marked per record (``backward_ops.link``).
_ONE_NODE = {int(o): how for o, how in (
    (Op.CONVOLUTION, (False, True)), (Op.CONV_TRANSPOSE, (False, True)),
    (Op.LAYER_NORM, (True, True)), (Op.BATCH_NORM, (False, True)),
    (Op.AVG_POOL, (True, False)), (Op.ADAPTIVE_AVG_POOL, (True, False)),
    (Op.NLL_LOSS, (True, False)))}
_RELU = int(Op.RELU)


def _linked(grads, saved, name=None, unused=False):
    """``grads`` whose tensors that require no grad depend on the ``saved`` values that do
    (``backward_ops.depends``, with a zero derivative), as PyTorch's derivative op of them.
    ``saved`` may be a function giving them (made only when a gradient needs them). Grad
    mode off (a node's post hook in a plain backward): nothing to link."""
    if not is_grad_enabled():
        return grads
    deps = None
    out = None
    for k, gi in enumerate(grads):
        if type(gi) is Tensor and not gi._rg and type(gi._data) in _CPU_VALUES and \
                (type(gi._data) is float or gi._data.dtype.kind == "f"):
            if deps is None:
                deps = [t for t in (saved() if callable(saved) else saved)
                        if t is not None and t._rg]
                if not deps:
                    return grads
            if out is None:
                out = list(grads)
            out[k] = depends(gi, deps, name, unused)
    return grads if out is None else tuple(out)


_CPU_VALUES = (float, np.ndarray)


def _stand_in(seg, rec, size, like):
    """A tensor standing for record ``rec``'s value (``size`` elements, flat, ``like``'s dtype)
    as an input of ``depends``, which reads only its history and shape: the values of an
    op's inputs are not saved when its derivative does not read them."""
    dt = like._data.dtype if type(like._data) is np.ndarray else np.dtype(np.float64)
    if size == 1:
        return with_history(0.0 if dt == np.float64 else np.zeros((), dt), seg, rec)
    return with_history(np.broadcast_to(np.zeros((), dt), (size,)), seg, rec)


class RetapeSweep:
    def __init__(self, seg):
        self.seg = seg
        self.adj = {}
        self.heap = []
        self.needed = self.pruned = None  # see engine.sweep.Sweep.prune
        self.links = links_of(seg)  # records marked one node of PyTorch's (backward_ops.link)
        self._recs = None
        with seg.lock:
            ints = seg.ints
            k = len(ints) - len(ints) % _NFIELDS
            if not seg.nbuf and k <= _ROWS_AT_ONCE * _NFIELDS:
                # a small graph never flushed (its first backward): the rows read off its
                # pending ints, which stay pending, so that a numeric backward of what this
                # one records (a Hessian-vector product's) makes its tables in one block
                # (``engine.first_tables``), not by a flush and one conversion per table
                self.n = k // _NFIELDS
                self.rows = [ints[i : i + _NFIELDS] for i in range(0, k, _NFIELDS)]
                return
        self._recs = recs = seg.records()
        self.n = len(recs)
        # each record's fields as Python ints: a small segment's in one call, a large one's
        # (of which a backward may reach a few records) one record at a time
        self.rows = recs.tolist() if len(recs) <= _ROWS_AT_ONCE else {}

    @property
    def recs(self):
        """The records this sweep may reach, as an int64 array (flushed when first asked)."""
        recs = self._recs
        if recs is None:
            recs = self._recs = self.seg.records()[: self.n]
        return recs

    def prune(self, needed, runs):
        """Records whose VJP does not run are passed over (``autograd.prune``)."""
        self.needed = needed
        self.pruned = {r for r in range(self.n) if not runs[r]}

    def _row(self, r):
        rows = self.rows
        if type(rows) is list:
            return rows[r]
        row = rows.get(r)
        if row is None:
            row = rows[r] = self.recs[r].tolist()
        return row

    def seed(self, r, g):
        self._add(r, flat(g, self._row(r)[_SIZE]))

    def _give(self, s, gi):
        """``_add(s, flat(gi, size of s))``, in one call: a 1-D array gradient of a record of
        more than two slots is already flat (a real or complex one: see ``flat``)."""
        rows = self.rows
        n = (rows[s] if type(rows) is list else self._row(s))[_SIZE]
        if type(gi) is not Tensor or n <= 2 or type(gi._data) is not np.ndarray or \
                gi._data.ndim != 1:
            gi = flat(gi, n)
        adj = self.adj
        old = adj.get(s)
        if old is None:
            if s not in adj:
                heapq.heappush(self.heap, -s)
            adj[s] = gi
        else:
            adj[s] = add(old, gi)

    def _add(self, r, g):
        adj = self.adj
        old = adj.get(r)
        if old is None:
            if r not in adj:
                heapq.heappush(self.heap, -r)
            adj[r] = g
        else:
            adj[r] = add(old, g)

    @property
    def reached(self):
        return self.adj

    def grad_of(self, r):
        return self.adj.get(r)

    def set_grad(self, r, g):
        self.adj[r] = g

    def run(self, start, stop, pauses, free=False):
        """Like the numeric sweep's ``run``; ``free`` is accepted for the same interface, but
        records are flagged FREED only when the whole sweep ends (``free``)."""
        seg, heap, adj, rows, give = self.seg, self.heap, self.adj, self.rows, self._give
        listed = type(rows) is list
        while heap and -heap[0] >= stop:
            r = -heapq.heappop(heap)
            pruned = self.pruned and r in self.pruned
            if pruned and not self.needed[r]:
                continue  # off every path to the inputs asked for: not run
            row = rows[r] if listed else self._row(r)
            # live flags (a pause may have freed records); a record still pending has none
            opw = seg.buf.item(r, _OP) if r < seg.nbuf else row[_OP]
            if opw & _HOOKED:
                if pauses.hooks(seg, r, self):
                    continue  # its node's hooks ran its VJP (``node_hooks``)
                opw = seg.buf.item(r, _OP)
            if pruned:
                continue  # an input asked for, its hooks run: its VJP is not
            code = opw & _CODE
            if opw & _FREED and has_saved(seg, self.recs, r) or \
                    opw & _SPENT and _spent(seg, self.recs, r):
                raise RuntimeError(FREED_MSG)
            if code == _IMPORT:
                continue
            # nothing modified in place since the segment began (the global epoch): no stamp
            # can be stale, so the per-record version checks are skipped
            if _epoch[0] != seg.epoch and (code >= PYTHON_BASE or (
                    row[_V] >= 0 and row[_V] & 1 and self._stale(row))):
                check_record(seg, self.recs, r)  # raises PyTorch's in-place error
            g = adj[r]
            if code == _OUTPUT:
                node = row[_A]
                if node not in adj:
                    adj[node] = None
                    heapq.heappush(heap, -node)
                continue
            if code == _CUSTOM:
                from .function import custom_vjp_retape

                custom_vjp_retape(self, r)
                continue
            if g is None:
                continue
            a = row[_A]
            if code < PYTHON_BASE:
                d = REGISTRY[code]
                kind = d.kind
                if kind == "linear":
                    self._linear(code, d, row, r, g, a)
                    continue
                grads = self._elementwise(code, d, row, r, g, a, row[_B])
                if self.links is not None and r in self.links:
                    grads = self._link(r, code, grads, (a, row[_B]))
                if a >= 0 and grads[0] is not None:
                    give(a, grads[0])
                b = row[_B]
                if b >= 0 and grads[1] is not None:
                    give(b, grads[1])
                continue
            self.accumulate(*self._python(r, row, code, g))

    def _python(self, r, row, code, g):
        """``(input slots, their gradients)`` of Python-kind record ``r`` (adjoint ``g``)."""
        seg = self.seg
        d = REGISTRY[code]
        entry = seg.pyaux[row[_AUX]]
        slots = entry.slots
        saved = entry.saved
        ins = tuple([None if v is None else attached(v, seg, s) for v, s in zip(saved, slots)])
        out = None if entry.out is None else attached(entry.out, seg, r)
        shape = entry.params.get("shape", entry.out_shape) if code == _COMPLEX else \
            entry.out_shape  # a complex record's out_shape ends in the (re, im) pair
        gs = g if g.shape == shape else g.reshape(shape)
        grads = None
        if code == _MATMUL and ins[0] is not None and ins[1] is not None:
            grads = _matmul_2d_rule(gs, ins, entry.params.get("needs", (True, True)))
        if grads is None:
            grads = d.vjp(gs, ins, out, **entry.params)
            how = _ONE_NODE.get(code)
            if how is not None:  # linked to its inputs, or to those it saved
                every, unused = how
                grads = _linked(grads, lambda: self._stand_ins(slots, grads) if every else ins,
                                double_name(d.grad_fn), unused)
        if self.links is not None and r in self.links:
            grads = self._link(r, code, grads, slots)
        return slots, grads

    def vjp_of(self, r, g):
        """``(input slots, gradients)`` of record ``r``'s VJP of the flat adjoint ``g``, one
        per input of the record (None for a constant), added nowhere: a node's post hooks
        (``node_hooks``) see and may replace them. Not for CUSTOM records."""
        seg = self.seg
        recs = self.recs
        row = self._row(r)
        opw = seg.buf.item(r, _OP)
        code = opw & _CODE
        if opw & _FREED and has_saved(seg, recs, r) or opw & _SPENT and _spent(seg, recs, r):
            raise RuntimeError(FREED_MSG)
        if _epoch[0] != seg.epoch and (code >= PYTHON_BASE or (
                row[_V] >= 0 and row[_V] & 1 and self._stale(row))):
            check_record(seg, recs, r)
        if code >= PYTHON_BASE:
            return self._python(r, row, code, g)
        d = REGISTRY[code]
        a, b = row[_A], row[_B]
        if d.kind == "linear":
            return (a,), (self._linear_grad(code, d, row, r, g, a),)
        grads = self._elementwise(code, d, row, r, g, a, b)
        if self.links is not None and r in self.links:
            grads = self._link(r, code, grads, (a, b))
        return ((a, b), grads) if d.kind == "binary" else ((a,), grads[:1])

    def _link(self, r, code, grads, slots):
        """``grads`` of record ``r``, which ``backward_ops.link`` marked, linked to its
        inputs."""
        name, grad_name, unused = self.links[r]
        if grad_name is None:
            grad_name = double_name(name or REGISTRY[code].grad_fn)
        return _linked(grads, lambda: self._stand_ins(slots, grads), grad_name, unused)

    def _stand_ins(self, slots, grads):
        like = next(gi for gi in grads if type(gi) is Tensor)
        return [_stand_in(self.seg, s, self._row(s)[_SIZE], like) for s in slots if s >= 0]

    def _stale(self, row):
        """Whether a saved array of this elementwise record was modified in place since."""
        avers = self.seg.avers
        start = row[_V] >> 1
        for k in range(len(REGISTRY[row[_OP] & _CODE].saves)):
            stamp = avers[start + k] if start + k < len(avers) else None
            if stamp is not None and stamp[0] is not None and stamp[0][0] != stamp[1]:
                return True
        return False

    def accumulate(self, slots, grads):
        for s, gi in zip(slots, grads):
            if s >= 0 and gi is not None:
                self._give(s, gi)

    def _linear(self, code, d, row, r, g, a):
        if a >= 0:
            self._give(a, self._linear_grad(code, d, row, r, g, a))

    def _linear_grad(self, code, d, row, r, g, a):
        """The gradient of linear record ``r``'s input ``a`` (None for a constant)."""
        if a < 0:
            return None
        seg = self.seg
        n_in = self._row(a)[_SIZE]
        if code == _RESHAPE:
            gi = g
        elif code == _GATHER_S or code == _SCATTER_S:
            ia, aux = seg.iaux, row[_AUX]
            nd = ia[aux]
            shape = tuple(ia[aux + 1 : aux + 1 + nd])
            strides = tuple(ia[aux + 1 + nd : aux + 1 + 2 * nd])
            offset = ia[aux + 1 + 2 * nd]
            if code == _GATHER_S:
                gi = M.scatter_strided(g, shape, strides, offset, n_in)
            elif not g._rg and type(g._data) is float and not any(strides):
                gi = np.empty(n_in)  # a full sum's VJP of a constant (a seed)
                gi.fill(g._data)
                gi = _make(gi)
            else:
                gi = M.gather_strided(g, shape, strides, offset)
        elif code == _GATHER_I:
            gi = M.scatter_index(g, seg.ivals[row[_AUX]], n_in)
        elif code == _SCATTER_I:
            gi = M.gather_index(g, seg.ivals[row[_AUX]])
        else:  # a linear op added later: its declared VJP
            gi = d.vjp(g, seg, r)[0]
        if self.links is not None and r in self.links:
            gi = self._link(r, code, (gi,), (a,))[0]
        return gi

    def _elementwise(self, code, d, row, r, g, a, b):
        seg = self.seg
        x, y, out, m = saved_values(seg, d, row[_V])
        # saved values come back attached to their records: the rules' ops connect to them
        x = None if x is None else attached(x, seg, a)
        y = None if y is None else attached(y, seg, b)
        out = None if out is None else attached(out, seg, r)
        m = None if m is None else _make(m)
        c0 = c1 = None
        if d.nconst:
            aux = row[_AUX]
            c0 = seg.faux[aux]
            if d.nconst >= 2:
                c1 = seg.faux[aux + 1]
        special = _SPECIAL.get(code)
        if special is not None:
            grads = special(g, x, y, out, m, c0, c1)
        else:
            fx, fy = _rules.get(code, d)
            # only the inputs that are recorded: a constant's formula would record dead ops
            grads = (fx(g, x, y, out, m, c0, c1) if a >= 0 and fx is not None else None,
                     fy(g, x, y, out, m, c0, c1) if b >= 0 and fy is not None else None)
        if code in _OWN_DERIVATIVE_OP:
            return _linked(grads, (x, y, out), None if code == _RELU else double_name(d.grad_fn))
        return grads

    def free(self, spent=False):
        """``create_graph=True, retain_graph=False``: free the swept records like the numeric
        sweep does (the records emitted now keep their own references to what they need)."""
        n = len(self.recs)  # (flushed now: ``free_records`` flags the buffer)
        reached = np.zeros(n, np.uint8)
        reached[[r for r in self.adj if r < n and not (self.pruned and r in self.pruned)]] = 1
        free_records(self.seg, reached, None, spent)


def _spent(seg, recs, r):
    """Whether record ``r``, flagged SPENT (swept by a backward in a forward_ad level), must
    refuse this sweep as a freed one would: not the tangents' linearizing sweep, which reads
    the values it kept."""
    from .function import _linearizing

    return not _linearizing.n and has_saved(seg, recs, r)
