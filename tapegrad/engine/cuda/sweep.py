"""The device sweep: the numeric sweep's interface with the adjoint arena on the GPU.

Design: per-record kernel launches. A host loop walks a device segment's records newest first
(the records, offsets and reachability stay on the host: they are small and the loop needs them
to pause), and launches one kernel per reached record: the elementwise VJP kernel (the formula
switch generated from the registry's strings), strided gathers/scatters (atomics where
gradients scatter), the tiled matmul for MATMUL. The arena (float64, one slice per record, as
on the CPU) and the saved values (float64 device arrays) never leave the device. Hooks, custom
Functions and in-place checks pause through the same ``Pauses`` calls as the CPU sweep; after a
pause the record buffer is re-read. Freeing goes through ``engine.sweep.free_records``.

A range of many small records that needs no pause is handed to the level interpreter instead
(``levels.py``: a few launches for the whole range, chosen by its size rule).
"""

import numpy as np

from ... import tape
from ...device import DeviceArray, cuda_api
from ...registry import DERIVS, PYTHON_BASE, REGISTRY, Op
from ..sweep import FREED_MSG, free_records, has_saved, offsets
from . import kernels as K
from . import levels

_NAMES = ("x", "y", "out", "m")


def device_grad(g):
    """A gradient (NumPy array, number, DeviceArray or device array) as a flat float64 device
    array."""
    if type(g) is DeviceArray:
        g = g.flat()
    elif not hasattr(g, "copy_to_host"):
        return cuda_api().to_device(np.ascontiguousarray(np.asarray(g, np.float64).reshape(-1)))
    if g.dtype != np.float64:
        out = K.empty(g.size)
        K.launch("cast", g.size, g.size, g.reshape(g.size), out)
        return out
    return g.reshape(g.size) if g.ndim != 1 else g


class DeviceSweep:
    """State of one sweep over one device segment (arena ``adj`` on the device)."""

    device = True

    def __init__(self, seg, top=None):
        self.seg = seg
        self.recs = seg.records()
        if top is not None:
            self.recs = self.recs[: top + 1]
        self.offs = offsets(self.recs)
        self.adj = K.zeros(int(self.offs[-1]))
        self.reached = np.zeros(len(self.recs), np.uint8)
        self.pending = 0

    def seed(self, r, g):
        o = self.offs
        n = int(o[r + 1] - o[r])
        g = device_grad(g)
        if g.size == 1 and n != 1:
            raise ValueError("seed size mismatch")
        K.launch("add_into", n, n, g, self.adj[o[r] : o[r + 1]])
        self.mark(r)

    def mark(self, r):
        if not self.reached[r]:
            self.reached[r] = 1
            self.pending += 1

    def grad_of(self, r):
        return self.adj[self.offs[r] : self.offs[r + 1]]

    def accumulate(self, slots, grads):
        for s, gi in zip(slots, grads):
            if s >= 0 and gi is not None:
                n = int(self.offs[s + 1] - self.offs[s])
                g = device_grad(gi)
                if g.size == 1 and n != 1:  # a scalar gradient for a larger input: broadcast
                    K.gather(g, (n,), (0,), 0, self.grad_of(s), acc=True)
                else:
                    K.launch("add_into", n, n, g, self.grad_of(s))
                self.mark(s)

    def free(self, spent=False):
        self.recs = free_records(self.seg, self.reached, None, spent)

    def _refresh(self):
        self.recs = self.seg.buf[: len(self.recs)]
        return self.recs

    def run(self, start, stop, pauses, free=False):
        seg = self.seg
        recs = self._refresh()
        if levels.MODE != "records":  # many small records: one launch per level (levels.py)
            order = levels.plan(self, start, stop)
            if order is not None and levels.use_levels(self, order):
                levels.run(self, order, pauses)
                return
        r = start
        while r >= stop and self.pending:
            if not self.reached[r]:
                r -= 1
                continue
            opw = int(recs[r, tape.OP])
            if opw & tape.HOOKED:
                if free:
                    self._flag_swept(r)
                pauses.hooks(seg, r, self)
                recs = self._refresh()
                opw = int(recs[r, tape.OP])
            if opw & (tape.FREED | tape.SPENT) and has_saved(seg, recs, r):
                raise RuntimeError(FREED_MSG)
            self.pending -= 1
            code = opw & tape.CODE_MASK
            if code >= PYTHON_BASE:
                if code == Op.CUSTOM:
                    if free:
                        self._flag_swept(r)
                    pauses.custom_vjp(self, r)
                    recs = self._refresh()
                else:
                    self._python_vjp(r, code, pauses)
            elif code == Op.OUTPUT:  # output of a multi-output op: its op reads the adjoint
                self.mark(int(recs[r, tape.A]))
            elif code != Op.IMPORT:
                self._vjp(r, code, recs[r])
            r -= 1
        if tape.inplace_epoch[0] != seg.epoch:
            pauses.check_reached(seg, recs, self.reached)

    def _flag_swept(self, p):
        with self.seg.lock:
            recs = self.seg.buf
            hi = len(self.reached)
            for q in range(p + 1, hi):
                if self.reached[q]:
                    recs[q, tape.OP] |= tape.FREED

    # ---- one record ----
    def _saved(self, v, k):
        """Saved value k of a record whose values start at ``v`` (flat float64 device array)."""
        i = (v >> 1) + k
        if v & 1:
            a = self.seg.avals[i]
            return a.flat() if type(a) is DeviceArray else device_grad(a)
        return cuda_api().to_device(np.array([self.seg.fvals[i]], np.float64))

    def _vjp(self, r, code, rec):
        a, b, aux, v = int(rec[tape.A]), int(rec[tape.B]), int(rec[tape.AUX]), int(rec[tape.V])
        g = self.grad_of(r)
        n = g.size
        d = REGISTRY[code]
        if d.kind in ("unary", "binary"):
            vals, strides = [], []
            for name in _NAMES:
                if name in d.saves:
                    vals.append(self._saved(v, d.saves.index(name)))
                    strides.append(1)
                else:
                    vals.append(K.dummy())
                    strides.append(0)
            c0 = float(self.seg.faux[aux]) if d.nconst >= 1 else 0.0
            c1 = float(self.seg.faux[aux + 1]) if d.nconst >= 2 else 0.0
            wa, wb = a >= 0, d.kind == "binary" and b >= 0
            ga = self.grad_of(a) if wa else K.dummy()
            gb = self.grad_of(b) if wb else K.dummy()
            K.launch("ew_vjp", n, int(code), n, g, vals[0], strides[0], vals[1], strides[1],
                     vals[2], strides[2], vals[3], strides[3], c0, c1, ga, wa, gb, wb)
            if wa:
                self.mark(a)
            if wb:
                self.mark(b)
            return
        if a < 0:
            return
        ga = self.grad_of(a)
        if code == Op.RESHAPE:
            K.launch("add_into", n, n, g, ga)
        elif code == Op.GATHER_STRIDED:
            shape, strides, offset = _strided(self.seg, aux)
            K.scatter_add(g, shape, strides, offset, ga)
        elif code == Op.SCATTER_STRIDED:
            shape, strides, offset = _strided(self.seg, aux)
            K.gather(g, shape, strides, offset, ga, acc=True)
        elif code in (Op.GATHER_INDEX, Op.SCATTER_INDEX):
            idx = self.seg.ivals[aux]
            idx = idx.flat() if type(idx) is DeviceArray else cuda_api().to_device(idx)
            if code == Op.GATHER_INDEX:
                K.launch("index_add", n, n, g, idx, ga)
            else:
                m = ga.size
                K.launch("index_gather", m, m, g, idx, ga)
        else:
            raise NotImplementedError(f"the CUDA sweep has no VJP for {REGISTRY[code].name}")
        self.mark(a)

    def _python_vjp(self, r, code, pauses):
        seg = self.seg
        entry = seg.pyaux[int(self.recs[r, tape.AUX])]
        if tape.inplace_epoch[0] != seg.epoch:
            pauses.check_python_record(seg, r, entry)
        rule = DEVICE_VJP.get(int(code))
        if rule is None:
            raise NotImplementedError(
                f"backward of {REGISTRY[code].name} on cuda tensors is not implemented in "
                "tapegrad's CUDA backend")
        rule(self, entry, self.grad_of(r))
        for s in entry.slots:
            if s >= 0:
                self.mark(s)


def _strided(seg, aux):
    ia = seg.iaux
    nd = ia[aux]
    return (tuple(ia[aux + 1 : aux + 1 + nd]), tuple(ia[aux + 1 + nd : aux + 1 + 2 * nd]),
            ia[aux + 1 + 2 * nd])


def _matmul_vjp(sw, entry, g):
    """gA = g @ B^T, gB = A^T @ g, with strides (no transposed copies); a B shared by the
    batch gets the sum over the batch (A seen as (batch*M, K))."""
    A, B = entry.saved
    sa, sb = entry.in_shapes
    batch, M, K_, N, abs_, bbs = K.matmul_dims(sa, sb)
    ga_slot, gb_slot = entry.slots
    if ga_slot >= 0:
        # gA[z, i, k] = sum_n g[z, i, n] * B[z, k, n]
        K.matmul(M, K_, N, batch, g, (M * N, N, 1), B.flat(), (bbs, 1, N),
                 sw.grad_of(ga_slot), acc=True)
    if gb_slot >= 0:
        if bbs:  # gB[z, k, n] = sum_i A[z, i, k] * g[z, i, n]
            K.matmul(K_, N, M, batch, A.flat(), (abs_, 1, K_), g, (M * N, N, 1),
                     sw.grad_of(gb_slot), acc=True)
        else:
            K.matmul(K_, N, batch * M, 1, A.flat(), (0, 1, K_), g, (0, N, 1),
                     sw.grad_of(gb_slot), acc=True)


def _rows(a, dims):
    return K.rows_of(a, dims)


def _scatter_rows(sw, slot, tmp, pshape, pstrides):
    """Add a gradient computed in the (rows, cols) layout of ``rows_of`` to ``slot``."""
    ga = sw.grad_of(slot)
    if tuple(pstrides) == K.c_strides(pshape):
        K.launch("add_into", tmp.size, tmp.size, tmp, ga)  # the dims were already last
    else:
        K.scatter_add(tmp, pshape, pstrides, 0, ga)


def _row_rule(kernel, dims_of, with_out=False):
    """A VJP by a row kernel: ``kernel(rows, cols, x rows, [out,] g, params..., result)``."""

    def rule(sw, entry, g):
        slot = entry.slots[0]
        if slot < 0:
            return
        x = entry.saved[0]
        x = x.reshape(entry.in_shapes[0] or (1,))
        dims, extra = dims_of(entry.params, x.ndim)
        src, rows, cols, pshape, pstrides = _rows(x, dims)
        tmp = K.empty(rows * cols)
        args = (entry.out.flat(),) if with_out else ()
        K.launch(kernel, rows, rows, cols, src, *args, g, *extra, tmp)
        _scatter_rows(sw, slot, tmp, pshape, pstrides)

    return rule


def _all_or(d, nd):
    return tuple(range(nd)) if d is None else (d,)


_amax_vjp = _row_rule("row_extremum_vjp", lambda p, nd: (p["dims"] or tuple(range(nd)),
                                                          (bool(p.get("evenly")),)),
                      with_out=True)
_prod_vjp = _row_rule("row_prod_vjp", lambda p, nd: (_all_or(p["dim"], nd), ()))


def _var_rule(root):
    def rule(sw, entry, g):
        slot = entry.slots[0]
        if slot < 0:
            return
        p = entry.params
        x = entry.saved[0].reshape(entry.in_shapes[0] or (1,))
        dims = p["dims"] or tuple(range(x.ndim))
        src, rows, cols, pshape, pstrides = _rows(x, dims)
        tmp = K.empty(rows * cols)
        o = entry.out.flat() if root else K.dummy()
        K.launch("row_var_vjp", rows, rows, cols, src, g, o, float(p["dof"]), root,
                 bool(p.get("whole")), tmp)
        _scatter_rows(sw, slot, tmp, pshape, pstrides)

    return rule


def _cumsum_vjp(sw, entry, g):
    """The reverse running sum of g along the dim."""
    slot = entry.slots[0]
    if slot < 0:
        return
    from ...device import DeviceArray

    src, rows, cols, pshape, pstrides = _rows(DeviceArray(g, entry.out_shape),
                                              (entry.params["dim"],))
    tmp = K.empty(rows * cols)
    K.launch("row_cumsum", rows, rows, cols, src, True, tmp)
    _scatter_rows(sw, slot, tmp, pshape, pstrides)


def _cat_vjp(sw, entry, g):
    """Each input's slice of g, gathered into its adjoint."""
    p = entry.params
    d = p["dim"]
    cs = K.c_strides(entry.out_shape)
    at = 0
    for slot, shape, size in zip(entry.slots, p["shapes"], p["sizes"]):
        if slot >= 0 and size and len(shape) == len(entry.out_shape):
            K.gather(g, shape, cs, at * cs[d], sw.grad_of(slot), acc=True)
        at += size


def _copy_slices_vjp(sw, entry, g):
    """The base: g with the overwritten positions zeroed; the value: g at those positions."""
    base_slot, value_slot = entry.slots
    pos = cuda_api().to_device(np.ascontiguousarray(entry.params["positions"], np.int64))
    n = pos.size
    if base_slot >= 0:
        tmp = K.empty(g.size)
        K.launch("cast", g.size, g.size, g, tmp)
        K.launch("put", n, n, K.dummy(), 0, pos, tmp)
        K.launch("add_into", g.size, g.size, tmp, sw.grad_of(base_slot))
    if value_slot >= 0:
        K.launch("index_gather", n, n, g, pos, sw.grad_of(value_slot))


def _depends_vjp(sw, entry, g):
    """g to the value; the tensors it depends on get the zero derivative (nothing added)."""
    slot = entry.slots[0]
    if slot >= 0:
        K.launch("add_into", g.size, g.size, g, sw.grad_of(slot))


def _python_elementwise_vjp(code):
    """A smooth Python elementwise op (atan, erf, atan2...): its case of the generated VJP
    switch (the derivative traced from the op's one ``deriv`` function), added into the
    inputs' adjoints; saved: the input(s) and, for one input, the output."""

    def rule(sw, entry, g):
        slots = entry.slots
        dm = K.dummy()
        x = entry.saved[0].flat()
        y = entry.saved[1].flat() if len(slots) == 2 else dm
        out = entry.out.flat() if entry.out is not None else dm
        wa = slots[0] >= 0
        wb = len(slots) == 2 and slots[1] >= 0
        n = g.size
        K.launch("ew_vjp", n, code, n, g, x, 1, y, int(len(slots) == 2), out,
                 int(entry.out is not None), dm, 0, 0.0, 0.0,
                 sw.grad_of(slots[0]) if wa else dm, wa, sw.grad_of(slots[1]) if wb else dm, wb)

    return rule


DEVICE_VJP = {int(Op.COPY_SLICES): _copy_slices_vjp, int(Op.MATMUL): _matmul_vjp, int(Op.AMAX): _amax_vjp, int(Op.PROD): _prod_vjp,
              int(Op.VAR): _var_rule(False), int(Op.STD): _var_rule(True),
              int(Op.CUMSUM): _cumsum_vjp, int(Op.CAT): _cat_vjp, int(Op.DEPENDS): _depends_vjp,
              **{code: _python_elementwise_vjp(code) for code in DERIVS}}
