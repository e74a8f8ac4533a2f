"""Forward mode on the tape: tangents pushed through the recorded records, oldest first.

After a function has been recorded, each record's tangent is the JVP of its op applied to the
tangents of its inputs, computed in NumPy on ``(k, size)`` blocks (k tangent directions at
once: a whole ``jacfwd`` in one pass):

* elementwise ops: the registry's derivative formula with ``g`` bound to the input's tangent
  (an elementwise Jacobian is diagonal, so the VJP formula is the JVP's factor);
* linear maps apply to tangents as they are (a strided gather gathers the tangent, a sum sums
  it);
* Python ops: their declared ``jvp_np``; an op without one gets its JVP from its ``vjp_np``
  (the Jacobian's rows for outputs of up to ``_JAC_LIMIT`` elements, exact).

* custom Functions: their own ``jvp`` staticmethod, once per tangent direction.

``Unsupported`` (a custom Function without ``jvp``, CUDA records, ops on complex values: the
FFTs, ``linalg.eig``; large Python ops without a JVP rule): the caller uses the double-vjp
trick, which differentiates through any VJP.
"""

import math

import numpy as np

from .. import tape
from ..engine.sweep import FREED_MSG, has_saved, saved_values
from ..registry import PYTHON_BASE, REGISTRY, Op
from ..tensor import Tensor
from . import batched
from .batched import Unsupported
from .inplace import check_python_record, check_reached

_OP, _A, _B, _AUX, _V, _SIZE = range(6)
_JAC_LIMIT = 256  # output elements up to which a Python op without jvp_np uses its vjp_np


def tangents(outputs, sources, start_order, k):
    """Tangent blocks of ``outputs`` (tensors recorded after segment order ``start_order``).

    ``sources``: pairs (tensor, float64 block of shape ``(k,) + tensor.shape``); a leaf gets
    its tangent where it is imported, a tensor with history at its own record (its inputs'
    tangents are then ignored, as ``make_dual`` sets a tangent). Returns per output an array
    ``(k,) + output.shape`` or None where no source reaches it.
    """
    leaf_tan, rec_tan = {}, {}
    for t, blk in sources:
        blk = np.asarray(blk, np.float64).reshape(k, -1)
        if t._seg is None:
            leaf_tan[id(t)] = blk
        else:
            rec_tan.setdefault(id(t._seg), {})[t._rec] = blk
    stops = {}  # id(segment) -> (segment, records to sweep)
    todo = []
    for o in outputs:
        if o._seg is not None:
            todo.append((o._seg, o._rec + 1))
    while todo:
        seg, stop = todo.pop()
        if seg.order < start_order:
            continue
        if seg.device:
            raise Unsupported("CUDA records")
        old = stops.get(id(seg))
        if old is not None and old[1] >= stop:
            continue
        stops[id(seg)] = (seg, stop)
        if seg.refill is not None:  # its saved values were dropped: recomputed first
            seg.refill(seg)
        for r, src in list(seg.imports.items()):
            if r < stop and not isinstance(src, Tensor):
                todo.append((src[0], src[1] + 1))
    done = {}
    with np.errstate(all="ignore"):  # inf/nan as IEEE says, like the reverse sweeps
        for seg, stop in sorted(stops.values(), key=lambda e: e[0].order):
            done[id(seg)] = _sweep(seg, stop, k, leaf_tan, rec_tan.get(id(seg), {}), done)
    out = []
    for o in outputs:
        blk = leaf_tan.get(id(o)) if o._seg is None else \
            done.get(id(o._seg), {}).get(o._rec)
        out.append(None if blk is None else
                   np.array(np.broadcast_to(blk, (k, o.numel())).reshape((k,) + tuple(o.shape))))
    return out


def _sweep(seg, stop, k, leaf_tan, seeded, done):
    """Tangents of the records ``0 .. stop-1`` of ``seg`` (record id -> block)."""
    recs = seg.records()[:stop]
    rows = recs.tolist()
    tan = {}
    pending = {}  # OUTPUT record -> tangent block from its custom Function's jvp
    for r, (opw, a, b, aux, v, size) in enumerate(rows):
        blk = seeded.get(r)
        if blk is not None:
            tan[r] = blk
            continue
        code = opw & tape.CODE_MASK
        if code == Op.IMPORT:
            src = seg.imports.get(r)
            if isinstance(src, Tensor):
                blk = leaf_tan.get(id(src))
            elif src is not None:
                blk = done.get(id(src[0]), {}).get(src[1])
            if blk is not None:
                tan[r] = blk
            continue
        if code == Op.OUTPUT:
            blk = pending.pop(r, None)  # set by its CUSTOM record (older)
            if blk is not None:
                tan[r] = blk
            continue
        if code == Op.CUSTOM:
            node = seg.pyaux[aux]
            ts = [tan.get(s) if s >= 0 else None for s in node.slots]
            if any(t is not None for t in ts):
                pending.update(_custom_jvp(node, ts, k))
            continue
        if code >= PYTHON_BASE:
            entry = seg.pyaux[aux]
            ts = [tan.get(s) if s >= 0 else None for s in entry.slots]
            if all(t is None for t in ts):
                continue
            if code == Op.COMPLEX:  # (tangents here are real blocks: none for complex values)
                raise Unsupported("an op on complex values")
            if opw & tape.FREED and has_saved(seg, recs, r):
                raise RuntimeError(FREED_MSG)
            if tape.inplace_epoch[0] != seg.epoch:
                check_python_record(seg, r, entry)
            tan[r] = _python_jvp(code, entry, ts, k, size)
            continue
        ta = tan.get(a) if a >= 0 else None
        tb = tan.get(b) if b >= 0 else None
        if ta is None and tb is None:
            continue
        d = REGISTRY[code]
        if d.kind == "linear":
            tan[r] = _linear_jvp(seg, code, aux, ta, size)
            continue
        if opw & tape.FREED and has_saved(seg, recs, r):
            raise RuntimeError(FREED_MSG)
        tan[r] = _elementwise_jvp(seg, code, d, aux, v, ta, tb, k, size)
    if tape.inplace_epoch[0] != seg.epoch:  # a saved value modified in place since: the
        reached = np.zeros(len(rows), np.uint8)  # reverse sweeps' error, not a wrong tangent
        reached[list(tan)] = 1
        check_reached(seg, recs, reached)
    return tan


def _custom_jvp(node, ts, k):
    """A custom Function's output tangents from its own ``jvp``; ``Unsupported`` (the
    double-vjp trick through its ``backward``) when it defines none or has complex values."""
    from .function import custom_jvp_blocks, has_jvp

    if not has_jvp(node.cls):
        raise Unsupported("a custom Function without jvp (forward mode differentiates "
                          "through its backward)")
    if any(m is not None and np.dtype(m[1]).kind == "c" for m in node.out_meta) or any(
            is_t and np.dtype(dt).kind == "c" for is_t, _, dt in node.in_meta):
        raise Unsupported("a custom Function with complex values")
    return custom_jvp_blocks(node, ts, k)


def _rules(code):
    """The derivative formulas of an elementwise op as two NumPy lambdas, one per input
    (``g``: its tangent), constants folded as in the batched reverse sweep."""
    return batched._plan(code)[:2]


def _elementwise_jvp(seg, code, d, aux, v, ta, tb, k, size):
    x, y, out, m = saved_values(seg, d, v)
    c0 = seg.faux[aux] if d.nconst >= 1 else 0.0
    c1 = seg.faux[aux + 1] if d.nconst >= 2 else 0.0
    fx, fy = _rules(code)
    res = None
    if ta is not None:
        res = fx(ta, x, y, out, m, c0, c1)
    if tb is not None:
        part = fy(tb, x, y, out, m, c0, c1)
        res = part if res is None else res + part
    return np.broadcast_to(res, (k, size))


def _linear_jvp(seg, code, aux, ta, size):
    if code == Op.RESHAPE:
        return ta
    if code == Op.GATHER_STRIDED:  # out[i] = x[off + i.s]
        return batched._gather_strided_cols(ta, *batched._read_strided(seg, aux), size)
    if code == Op.SCATTER_STRIDED:  # out[off + i.s] += x[i]
        return batched._scatter_strided_cols(ta, *batched._read_strided(seg, aux), size)
    if code == Op.GATHER_INDEX:  # out[i] = x[idx[i]]
        return ta[:, seg.ivals[aux]]
    if code == Op.SCATTER_INDEX:  # out[idx[i]] += x[i]
        return batched._scatter_cols(ta, seg.ivals[aux], size)
    raise Unsupported(f"linear op {REGISTRY[code].name}")


def _python_jvp(code, entry, ts, k, size):
    """A Python op's JVP on tangent blocks: its ``jvp_np``, else its Jacobian from
    ``vjp_np`` (small outputs only)."""
    d = REGISTRY[code]
    saved = tuple(entry.saved)
    shaped = [None if t is None else np.broadcast_to(t, (k, math.prod(sh))).reshape(
        (k,) + tuple(sh)) for t, sh in zip(ts, entry.in_shapes)]
    rule = getattr(d, "jvp_np", None)
    if rule is not None:
        res = rule(shaped, saved, entry.out, **entry.params)
        return np.broadcast_to(np.asarray(res, np.float64), (k,) + tuple(entry.out_shape)) \
            .reshape(k, size)
    if size > _JAC_LIMIT:
        raise Unsupported(f"{d.name} has no JVP rule and {size} outputs")
    # J t from the rows of the Jacobian: one vjp_np per output element (exact)
    eye = np.eye(size).reshape((size,) + tuple(entry.out_shape))
    brule = batched.BATCHED_VJP.get(code)
    cols = brule(eye, saved, entry.out, **entry.params) if brule is not None else None
    if cols is None:
        rows = [d.vjp_np(eye[i], saved, entry.out, **entry.params) for i in range(size)]
        cols = [None if rows[0][j] is None else
                np.stack([batched._flat_row(row[j], math.prod(entry.in_shapes[j]))
                          for row in rows]) for j in range(len(entry.slots))]
    res = np.zeros((k, size))
    for t, jac, sh in zip(ts, cols, entry.in_shapes):
        if t is not None and jac is not None:
            n_in = math.prod(sh)
            jac = np.asarray(jac, np.float64)
            jac = jac.reshape(size, n_in) if jac.size == size * n_in else \
                np.broadcast_to(jac.reshape(size, 1), (size, n_in))
            res += np.broadcast_to(t, (k, n_in)) @ jac.T
    return res

