"""The records of array code's binary ops, spelled out: an elementwise op whose operands
broadcast (``result_broadcast``: a stride-0 gather record for an operand of another shape) and
the matmul of two real CPU arrays (``pair_result``). They run once per layer of a network, where
each layer of helpers costs a visible share of the op (see ``record.result_arrays``).
"""

from .. import tape
from .. import tensor as _tensor_mod
from .._bounded_cache import bounded_cache
from ..registry import Op
from ..tensor import Tensor, _make, _new, with_history
from .inference_saves import refuse_inputs, refuse_save
from .out_variants import untracked_pair
from .record import (COMPLEX_SEEN, PyRecord, _F32, _F64, _contig, _local, _on_save, _state,
                     append, broadcast_saved, refuse_complex, untracked)
from .shapes import c_strides, strided_ints

_saved_bytes, _DISTINCT_BYTES = tape.saved_bytes, tape._DISTINCT_BYTES
_FLUSH_INTS = tape._FLUSH_INTS


def result_broadcast(data, op, x, y, save_x, save_y, save_out):
    """``result_arrays`` for CPU array inputs that broadcast to ``data``'s shape: an input of
    another shape enters through a stride-0 gather record (its VJP is the sum) and is saved
    broadcast; the gathers and the op go on one segment (a gather has no value to import)."""
    if _tensor_mod._inference_used and (_state.inference or x._inference or y._inference) and \
            untracked(op, (x, y)):  # see result()
        return _make(data)
    if COMPLEX_SEEN[0]:
        refuse_complex(op, x, y)
    shape = data.shape
    seg = _local.seg
    if seg is None or seg.n >= seg.check_at:
        seg = tape.current()
    sx, sy = x._seg, y._seg
    if (sx is not None and sx is not seg) or (sy is not None and sy is not seg):
        seg = tape.prepare([t for t in (x, y) if t._rg])
    saved, stamps, vc = [], [], None
    for keep, t in ((save_x, x), (save_y, y)) if save_x or save_y else ():  # (add saves none)
        if keep:
            if t._inference:
                refuse_save(op, x, y, t)
            d = t._data
            if d.shape != shape:  # the broadcast value, stamped with its source's version
                saved.append(broadcast_saved(d, shape, data.size))
            else:
                saved.append(_contig(d) if d.dtype is _F32 else _contig(d, dtype=_F64))
            c = t._vcounter()
            stamps.append((c, c[0]))
    if save_out:
        vc = [0]
        saved.append(_contig(data) if data.dtype is _F32 else _contig(data, dtype=_F64))
        stamps.append((vc, 0))
    n = data.size
    a = broadcast_operand(seg, x, shape, n) if x._rg else -1
    b = broadcast_operand(seg, y, shape, n) if y._rg else -1
    if n == 1:
        t = append(data, op, seg, a, b, -1, saved, stamps)
    else:
        t = with_history(data, seg, tape.record(seg, op, a, b, -1, n, saved, stamps,
                                                data.dtype is _F32))
    if vc is not None:
        t._vc = vc
    return t


_GATHER = int(Op.GATHER_STRIDED)
_gather_ints, _keep_gather = bounded_cache(4096)  # (input shape, output shape) -> GATHER_STRIDED


def broadcast_operand(seg, t, shape, n):
    """Record id on ``seg`` of ``t`` (requires grad) broadcast to ``shape`` (``n`` elements):
    a stride-0 gather appended directly (no tensor, no value: only the op being recorded reads
    it). The caller checked that the shapes broadcast."""
    a = t._rec if t._seg is seg else tape.slot(seg, t)
    d = t._data
    ts = () if type(d) is float else d.shape
    if ts == shape:
        return a
    # tape.add_iaux and tape.record inlined: a broadcast bias pays this in every layer (an
    # MLP step of three: ~5k of its 2.3M instructions less)
    iaux = seg.iaux
    aux = len(iaux)
    iaux.extend(broadcast_ints(ts, shape))
    r = seg.n
    seg.n = r + 1
    seg.n32 += 1  # no value of its own: it may be swept in float32 (tape.Segment)
    seg.ints += (_GATHER, a, -1, aux, -1, n)  # (the op's segment check bounds the list)
    return r


def broadcast_ints(ts, shape):
    """The GATHER_STRIDED parameters of an operand of shape ``ts`` broadcast to ``shape``."""
    ints = _gather_ints.get((ts, shape))
    if ints is None:
        lead = len(shape) - len(ts)
        cs = c_strides(ts)
        strides = (0,) * lead + tuple([0 if s == 1 else c for s, c in zip(ts, cs)])
        ints = _keep_gather((ts, shape), strided_ints(shape, strides, 0))
    return ints


def pair_result(value, op, x, y, params):
    """``python_result(value, op, (x, y), save_inputs=(0, 1), params=params)`` for two real
    CPU arrays (views only where their base is unchanged: nothing to refresh) and a real
    array ``value``: the matmul of array code, spelled out (~2 µs less per op than the
    general loops)."""
    if _tensor_mod._inference_used and (_state.inference or x._inference and y._inference):
        return untracked_pair(op, x, y, value)  # (see result(); PyTorch's mv refuses)
    if COMPLEX_SEEN[0]:
        refuse_complex(op, value, x, y)
    sx, sy = x._seg, y._seg
    seg = _local.seg
    if seg is None or seg.n >= seg.check_at or (sx is not None and sx is not seg) or (
            sy is not None and sy is not seg):
        seg = None  # holding no reference: _renew counts the segment's references
        seg = tape.prepare([t for t in (x, y) if t._rg])
    a = (x._rec if x._seg is seg else tape.slot(seg, x)) if x._rg else -1
    b = (y._rec if y._seg is seg else tape.slot(seg, y)) if y._rg else -1
    if x._inference or y._inference:
        refuse_inputs(op, (x, y), (0, 1))
    xd, yd = x._data, y._data
    vx, vy = x._vc, y._vc  # (Tensor._vcounter inlined)
    if vx is None:
        vx = x._vc = [0]
    if vy is None:
        vy = y._vc = [0]
    pyaux = seg.pyaux
    aux = len(pyaux)
    e = _new(PyRecord)  # (PyRecord(...) without its __init__'s call)
    e.slots, e.saved, e.stamps, e.out = (a, b), [xd, yd], [(vx, vx[0]), (vy, vy[0])], None
    e.params, e.in_shapes, e.out_shape = params or {}, (xd.shape, yd.shape), value.shape
    pyaux.append(e)
    n = xd.nbytes + yd.nbytes  # towards closing the segment (saved_bytes for large arrays)
    seg.abytes += n if n < _DISTINCT_BYTES else _saved_bytes(seg, xd) + _saved_bytes(seg, yd)
    if seg.abytes > seg.bcheck:
        seg.check_at = seg.n
    if _on_save[0] is not None:  # saved-tensor hooks (autograd/graph.py)
        _on_save[0].entry(seg, pyaux[aux])
    r = seg.n  # (tape.record and with_history inlined)
    seg.n = r + 1
    if value.dtype is _F32:
        seg.n32 += 1
    ints = seg.ints
    ints += (op, a, b, aux, -1, value.size)
    if len(ints) >= _FLUSH_INTS:
        seg.flush()
    t = _new(Tensor)
    t._data = value
    t._rg = True
    t._seg = seg
    t._rec = r
    return t
