"""Turning a forward result into a tensor with history: the glue every op uses.

``needs_grad(*ts)`` decides whether to record (grad mode on and an input requires grad);
``result(...)`` appends the record and returns the output tensor. Saved values follow the
tape's convention: Python floats for size-1 values, C-contiguous float64 or float32 arrays
otherwise (float32 stays float32: a float32 program sweeps in float32), with the version of the
tensor they came from so that in-place changes are caught.
"""

import sys

import numpy as np

from .. import grad_mode as _gm
from .. import tape
from .. import tensor as _tensor_mod
from ..device import DeviceArray as _DeviceArray
from ..registry import Op
from ..tensor import Tensor, _make, _new, with_history
from .inference_saves import refuse_inputs, refuse_save, refuse_stamps
from .out_variants import untracked_inputs
from ..engine.numpy_records import BIG
from ..vecmath.short_runs import broadcast_value as _broadcast_value

_saved_bytes, _DISTINCT_BYTES = tape.saved_bytes, tape._DISTINCT_BYTES
_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)
_grad_on = _gm.recording  # (true under no_grad in forward mode: FORWARD_ONLY)
_state = _gm._state
_local = tape._local
_on_save = tape.on_save
_FLUSH_INTS = tape._FLUSH_INTS
_contig = np.ascontiguousarray
INFERENCE_SAVE_MSG = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`.")
COMPLEX_SEEN = _tensor_mod.COMPLEX_SEEN  # see tensor.py
# Outside inference mode, an op whose tensor inputs are all inference tensors records nothing
# (PyTorch skips autograd: no grad_fn, requires_grad False). Some take a normal tensor PyTorch
# makes, which these records do not see: a Python number to add/sub/mul/div (a*2, 1-a, a/2
# record; a**2, clamp do not), the empty output clone and to() copy into, where's condition.
# The record paths ask ``untracked`` once inference mode was ever entered (tensor.py).
MULC = int(Op.MULC)
_WRAPPED = frozenset((int(Op.ADDC), MULC, int(Op.CLONE), int(Op.TO_COPY), int(Op.WHERE)))
NORMAL_OPERAND = _make(0.0)  # stands for such a tensor (an advanced index: movement.getitem)
_INFERENCE_STAMP = ([0], 0)  # saved_value's stamp of an inference tensor: untracked refuses it


def refuse_complex(op, *values):
    """TypeError if a compiled-rule or NumPy-rule op ``op`` meets a complex value."""
    for v in values:
        d = v._data if isinstance(v, Tensor) else v
        if d is not None and type(d) is not float and getattr(d, "dtype", _F64).kind == "c":
            from ..registry import REGISTRY

            d_ = REGISTRY.get(int(op)) if op is not None else None
            name = d_.name if d_ is not None else str(op)
            raise TypeError(f"{name}: complex tensors are not supported by this op (its "
                            "gradient for complex inputs is not implemented)")


def compile_tracing():
    """Whether ``tg.compile``'s tracer is observing this thread (it follows the compositions'
    ops, not one-record forms or writes into arrays)."""
    trace = sys.modules.get("tapegrad.compile.trace")
    return trace is not None and trace.active() is not None


def needs_grad(x, y=None):
    if not _grad_on():
        return False
    return (x is not None and x._rg) or (y is not None and y._rg)


def as_tensor(x):
    """Tensors pass through; numbers and arrays become constant tensors (NumPy dtype rules)."""
    if isinstance(x, Tensor):
        return x
    if type(x) is float:
        return _make(x)
    from ..creation import check_dtype
    from ..tensor import _wrap

    return _make(_wrap(check_dtype(np.asarray(x))))  # objects and strings: TypeError


def saved_array(d):
    """A value in the form the compiled sweep reads: C-contiguous float32 (kept as it is) or
    float64 (anything else: integers, float16...); copied only if it is not that already."""
    if type(d) is _DeviceArray:  # a CUDA tensor: a float64 copy on the device (ops/cuda_ops)
        from .cuda_ops import saved_array as device_saved

        return device_saved(d)
    if d.dtype.kind == "c":  # never cast away an imaginary part: no compiled rule reads it
        raise TypeError("complex tensors are not supported by this op (its gradient for "
                        "complex inputs is not implemented)")
    if type(d) is np.ndarray and d.dtype is _F32:
        a = np.ascontiguousarray(d)
    else:
        a = np.ascontiguousarray(d, dtype=_F64)
    # the sweep reads saved arrays by address: an unaligned one (a view of a byte buffer, as
    # unpickled message frames are) is copied here, while its values are the ones to save
    return a if a.flags.aligned else a.copy()


def broadcast_saved(d, shape, n):
    """The CPU array ``d`` broadcast to ``shape`` (``n`` elements) in the form an elementwise
    record saves. Its records of ``BIG`` elements or more are swept by NumPy, which broadcasts
    as it reads: they save a read-only view of ``d``'s saved array (no copy: a per-feature
    scale of a large batch saves the scale, not a batch of it); the compiled sweep reads a
    smaller record's values flat, by address: a C-contiguous copy, cast in the same pass."""
    if n >= BIG:
        return np.broadcast_to(saved_array(d), shape)
    d = _broadcast_value(d, shape)
    return _contig(d) if d.dtype is _F32 else _contig(d, dtype=_F64)


def saved_value(t, data=None):
    """Value of tensor ``t`` (or ``data``) to save, and its (counter, version) stamp."""
    d = t._data if data is None else data
    if type(d) is float:
        return d, None
    if t._inference:  # refused by the record (untracked) unless it records nothing
        return saved_array(d), _INFERENCE_STAMP
    vc = t._vcounter()
    return saved_array(d), (vc, vc[0])


def untracked(op, ts, stamps=None):
    """Whether a record ``op`` of the tensor inputs ``ts`` (None: a constant) records nothing:
    inside inference mode, or outside it when every input is an inference tensor (see _WRAPPED).
    A record that goes ahead refuses a saved inference tensor (PyTorch's error). Called only
    once inference mode was entered (tensor._inference_used)."""
    if _state.inference:
        return True
    if op not in _WRAPPED:
        inputs = [t for t in ts if t is not None]
        if inputs and all([t._inference for t in inputs]):
            return untracked_inputs(op, inputs)  # (True, or PyTorch's out= variants' error)
    if stamps and any([s is _INFERENCE_STAMP for s in stamps]):  # (refused unless unneeded)
        refuse_stamps(op, ts, stamps, _INFERENCE_STAMP)
    return False


def result(data, op, x=None, y=None, aux=-1, saved=(), stamps=None, seg=None):
    """Record ``op`` with inputs ``x``/``y`` (None or no grad = constant) and wrap ``data``.

    ``saved`` must already be in tape form (see ``saved_value``); size-1 records convert
    their saved values to floats here. This is the hot path of every recorded op.
    """
    # enable_grad inside inference_mode: still nothing is recorded (as PyTorch); nor an op of
    # inference tensors only (untracked). The module flag is read first: a plain global costs a
    # fifth of a thread-local lookup.
    if _tensor_mod._inference_used and (_state.inference or x is not None and x._inference or
                                        y is not None and y._inference) and \
            untracked(op, (x, y), stamps):
        return _make(data)
    if COMPLEX_SEEN[0]:
        refuse_complex(op, x, y)
    if (x is not None and x._base is not None) or (y is not None and y._base is not None):
        refresh_views(x, y)  # a view (the test inlined: most inputs are not views)
    if seg is None:
        seg = _local.seg
        if seg is None or seg.n >= seg.check_at:
            seg = tape.current()
        sx = x._seg if x is not None else None
        sy = y._seg if y is not None else None
        if (sx is not None and sx is not seg) or (sy is not None and sy is not seg):
            seg = tape.prepare([t for t in (x, y) if t is not None and t._rg])
    if x is None or not x._rg:
        a = -1
    elif x._seg is seg:
        a = x._rec
    else:
        a = tape.slot(seg, x)
    if y is None or not y._rg:
        b = -1
    elif y._seg is seg:
        b = y._rec
    else:
        b = tape.slot(seg, y)
    return append(data, op, seg, a, b, aux, saved, stamps)


def result_arrays(data, op, x, y, save_x, save_y, save_out, aux=-1, seg=None):
    """``result`` for an elementwise op on CPU arrays of the output's shape: ``x`` (and ``y``,
    or None) are not views, the caller checked that grad mode is on and an input requires
    grad. Saves the inputs/output the flags ask for, as ``saved_value`` would, resolving the
    segment (unless given: ``aux`` refers to it) and slots inline: this is the per-op cost of
    array code."""
    if _tensor_mod._inference_used and (_state.inference or x._inference or
                                        y is not None and y._inference) and \
            untracked(op, (x, y)):  # see result() (before the saves: they refuse)
        return _make(data)
    if COMPLEX_SEEN[0]:
        refuse_complex(op, x, y)
    saved, stamps, vc = [], [], None
    if save_x:
        if x._inference:
            refuse_save(op, x, y, x)
        d = x._data
        saved.append(_contig(d) if d.dtype is _F32 else _contig(d, dtype=_F64))
        c = x._vcounter()
        stamps.append((c, c[0]))
    if save_y:
        if y._inference:
            refuse_save(op, x, y, y)
        d = y._data
        saved.append(_contig(d) if d.dtype is _F32 else _contig(d, dtype=_F64))
        c = y._vcounter()
        stamps.append((c, c[0]))
    if save_out:
        vc = [0]
        saved.append(_contig(data) if data.dtype is _F32 else _contig(data, dtype=_F64))
        stamps.append((vc, 0))
    if seg is None:
        seg = _local.seg
        if seg is None or seg.n >= seg.check_at:
            seg = tape.current()
        sx = x._seg
        sy = None if y is None else y._seg
        if (sx is not None and sx is not seg) or (sy is not None and sy is not seg):
            seg = tape.prepare([t for t in (x, y) if t is not None and t._rg])
    a = (x._rec if x._seg is seg else tape.slot(seg, x)) if x._rg else -1
    b = -1 if y is None or not y._rg else (y._rec if y._seg is seg else tape.slot(seg, y))
    n = data.size
    if n == 1:  # size-1 records keep their saved values as floats (append converts)
        t = append(data, op, seg, a, b, aux, saved, stamps)
    else:
        t = with_history(data, seg, tape.record(seg, op, a, b, aux, n, saved, stamps,
                                                data.dtype is _F32))
    if vc is not None:
        t._vc = vc
    return t


def segment_for(x):
    """The segment a record with the one input ``x`` (a CPU tensor) goes to: ``tape.prepare``
    without building a list when ``x`` is a leaf or on the current segment."""
    seg = _local.seg
    if seg is None or seg.n >= seg.check_at or (x._seg is not None and x._seg is not seg):
        return tape.prepare([x])
    return seg


def segment_for_pair(x, y):
    """``segment_for`` of a record with the two inputs ``x`` and ``y``."""
    seg = _local.seg
    if seg is None or seg.n >= seg.check_at or (x._seg is not None and x._seg is not seg) or \
            (y._seg is not None and y._seg is not seg):
        return tape.prepare([t for t in (x, y) if t._rg])
    return seg


def index_operand(key):
    """``NORMAL_OPERAND`` if the advanced index ``key`` holds a normal tensor to PyTorch (a
    list or an array is one), else None (only inference tensors: untracked decides)."""
    for k in key if type(key) is tuple else (key,):
        if isinstance(k, Tensor) and not k._inference or isinstance(k, (list, np.ndarray)):
            return NORMAL_OPERAND
    return None


def inference_now(*ts, op=-1, saves=()):
    """Inside inference mode nothing is recorded (also under enable_grad, as PyTorch); nor
    outside it a record ``op`` of the inference tensors ``ts`` only (``untracked``), while one
    that records refuses to save an inference tensor (``saves``: a flag per tensor)."""
    if not _tensor_mod._inference_used:
        return False
    if untracked(op, ts):
        return True
    refuse_inputs(op, ts, [i for i, keep in enumerate(saves) if keep])  # (inference ones)
    return False


def refresh_views(*ts):
    """A view whose base changed in place since it was made is regathered before use."""
    for t in ts:
        if t is not None and t._base is not None and (
                t._base._seg is not t._bseg or t._base._rec != t._brec):
            from .inplace import refresh_view

            refresh_view(t)


def append(data, op, seg, a, b, aux=-1, saved=(), stamps=None):
    """The tail of ``result``: append the record (inputs already record ids ``a``/``b`` on
    ``seg``) and wrap ``data``. For callers that resolved their inputs themselves."""
    if type(data) is float:
        n = 1
    else:
        n = data.size
        if data.__class__ is np.ndarray and data.dtype.kind == "c":
            refuse_complex(op, data)
        # float32 value (or none: a value-less gather): may be swept in float32 (tape.Segment);
        # a NumPy scalar (a ufunc's value on 0-d arrays) by its dtype, so a float64 one is
        # not swept in float32
        if type(data) is np.ndarray or isinstance(data, np.generic):
            if data.dtype is _F32:
                seg.n32 += 1
        else:
            seg.n32 += 1
    if saved:
        if n == 1:
            fv = seg.fvals
            v = len(fv) << 1
            for s in saved:
                fv.append(s if type(s) is float else float(np.asarray(s).reshape(())))
            r = seg.n
            seg.n = r + 1
            ints = seg.ints
            ints += (op, a, b, aux, v, 1)
            if len(ints) >= _FLUSH_INTS:
                seg.flush()
        else:
            r = tape.record(seg, op, a, b, aux, n, saved, stamps)
    else:
        r = seg.n
        seg.n = r + 1
        ints = seg.ints
        ints += (op, a, b, aux, -1, n)
        if len(ints) >= _FLUSH_INTS:
            seg.flush()
    return with_history(data, seg, r)


# ---- size-1 recorders: the scalar fast path (ops/scalar_fast.py, elementwise.py) ----

def _slot(seg, t):
    if t._seg is seg:
        return t._rec
    if t._seg is None:
        imp = t._imp  # one attribute: threads sharing a leaf never see a torn pair
        if imp[0] == seg.order:
            return imp[1]
    return tape.slot(seg, t)


def _segment(x, y=None):
    seg = _local.seg
    if seg is None or seg.n >= seg.check_at:
        seg = tape.current()
    sx = x._seg
    if sx is not None and sx is not seg or y is not None and y._seg is not None and \
            y._seg is not seg:
        seg = tape.prepare([t for t in (x, y) if t is not None and t._rg])
    return seg


def rec1(op, x, r, c, saved):
    """Record a size-1 op of one input ``x`` (requires grad), constant ``c``, saved float.

    rec1/rec2 spell out what ``result`` does with helpers (segment, slot, with_history): they
    run once per scalar op, where each Python call costs ~5% of the op.
    """
    if _tensor_mod._inference_used and (_state.inference or x._inference and
                                        op not in _WRAPPED):  # see result()
        return _make(r)
    # _segment() and _slot() inlined: this is the per-op cost of scalar code
    seg = _local.seg
    if seg is None or seg.n >= seg.check_at:
        seg = tape.current()
    sx = x._seg
    if sx is seg:
        a = x._rec
    elif sx is None and x._imp[0] == seg.order:
        a = x._imp[1]
    else:
        seg = _segment(x)
        a = _slot(seg, x)
    if c is None:
        aux = -1
    else:
        faux = seg.faux
        aux = len(faux)
        faux.append(c)
    if saved is None:
        v = -1
    else:
        fv = seg.fvals
        v = len(fv) << 1
        fv.append(saved)
    i = seg.n
    seg.n = i + 1
    ints = seg.ints
    ints += (op, a, -1, aux, v, 1)
    if len(ints) >= _FLUSH_INTS:
        seg.flush()
    t = _new(Tensor)
    t._data = r
    t._rg = True
    t._seg = seg
    t._rec = i
    return t


def rec2(op, x, y, r, save):
    """Record a size-1 op of two float tensors (one requires grad); saves both if ``save``."""
    if _tensor_mod._inference_used and (_state.inference or x._inference or y._inference) and \
            inference_now(x, y, op=op, saves=(save, save)):
        return _make(r)  # (see result(); a saved inference tensor is refused)
    seg = _local.seg
    if seg is None or seg.n >= seg.check_at:
        seg = tape.current()
    sx, sy = x._seg, y._seg
    if (sx is seg or sx is None) and (sy is seg or sy is None):
        a = (x._rec if sx is seg else _slot(seg, x)) if x._rg else -1
        b = (y._rec if sy is seg else _slot(seg, y)) if y._rg else -1
    else:
        seg = _segment(x, y)
        a = _slot(seg, x) if x._rg else -1
        b = _slot(seg, y) if y._rg else -1
    if save:
        fv = seg.fvals
        v = len(fv) << 1
        fv.append(x._data)
        fv.append(y._data)
    else:
        v = -1
    i = seg.n
    seg.n = i + 1
    ints = seg.ints
    ints += (op, a, b, -1, v, 1)
    if len(ints) >= _FLUSH_INTS:
        seg.flush()
    t = _new(Tensor)
    t._data = r
    t._rg = True
    t._seg = seg
    t._rec = i
    return t


def fresh_out_stamp(t):
    """Stamp for saving an op's own output (created just now, version 0)."""
    if type(t._data) is float:
        return None
    return (t._vcounter(), 0)


class PyRecord:
    """Side-table entry of an op whose backward runs in Python (codes >= PYTHON_BASE)."""

    __slots__ = ("slots", "saved", "stamps", "out", "params", "in_shapes", "out_shape")

    def __init__(self, slots, saved, stamps, out, params, in_shapes, out_shape):
        self.slots = slots  # record id of each input (-1: constant)
        self.saved = saved  # input values the VJP needs (None where not saved); None once freed
        self.stamps = stamps  # (version counter, version) per saved input
        self.out = out  # saved output value or None
        self.params = params  # static keyword parameters of the op
        self.in_shapes = in_shapes
        self.out_shape = out_shape


def python_result(value, op, inputs, save_inputs=(), save_out=False, params=None):
    """Record a Python op over any number of ``inputs``; ``save_inputs`` lists their indices.

    Runs for every matmul: plain loops and list comprehensions (generators cost µs), the
    shapes read off the arrays, the side-table entry appended inline (``tape.add_pyaux``)."""
    if _tensor_mod._inference_used and untracked(op, inputs):  # see result()
        return _make(value)
    if COMPLEX_SEEN[0] or (type(value) is not float and value.dtype.kind == "c"):
        refuse_complex(op, value, *inputs)
    for t in inputs:
        if t._base is not None:
            refresh_views(*inputs)
            break
    rg = [t for t in inputs if t._rg]
    # as result(): the current segment when every input is a leaf or on it, else prepare()
    seg = _local.seg
    if seg is not None and seg.n < seg.check_at and not (rg and type(rg[0]._data) is
                                                         _DeviceArray):
        for t in rg:
            if t._seg is not None and t._seg is not seg:
                seg = None
                break
    else:
        seg = None
    if seg is None:  # holding no reference: _renew counts the segment's references
        seg = tape.prepare(rg)
    k = len(inputs)
    if k == 2:  # matmul: spelled out (a comprehension builds a function object per call)
        x, y = inputs
        slots = ((x._rec if x._seg is seg else tape.slot(seg, x)) if x._rg else -1,
                 (y._rec if y._seg is seg else tape.slot(seg, y)) if y._rg else -1)
        xd, yd = x._data, y._data
        in_shapes = (() if type(xd) is float else xd.shape, () if type(yd) is float else yd.shape)
    else:
        slots = tuple([(t._rec if t._seg is seg else tape.slot(seg, t)) if t._rg else -1
                       for t in inputs])
        in_shapes = tuple([() if type(t._data) is float else t._data.shape for t in inputs])
    saved, stamps = [None] * k, [None] * k
    nbytes = 0
    for i in save_inputs:
        t = inputs[i]
        if t._inference:
            refuse_inputs(op, inputs, (i,))
        d = saved[i] = t._arr()
        nbytes += _saved_bytes(seg, d)
        vc = t._vcounter()
        stamps[i] = (vc, vc[0])
    scalar = type(value) is float
    entry = PyRecord(slots, saved, stamps, value if save_out else None, params or {},
                     in_shapes, () if scalar else value.shape)
    pyaux = seg.pyaux
    aux = len(pyaux)
    pyaux.append(entry)
    if nbytes:  # saved bytes count towards closing the segment (as tape.add_pyaux)
        seg.abytes += nbytes
        if seg.abytes > seg.bcheck:
            seg.check_at = seg.n
    if _on_save[0] is not None:  # saved-tensor hooks (autograd/graph.py)
        _on_save[0].entry(seg, entry)
    a = slots[0] if k else -1
    b = slots[1] if k > 1 else -1
    narrow = not scalar and value.dtype is _F32
    t = with_history(value, seg, tape.record(seg, op, a, b, aux, 1 if scalar else value.size,
                                             narrow=narrow))
    if save_out and not scalar:  # (after the inputs' stamps: changing the output in place
        stamps.append(fresh_out_stamp(t))  # then raises at backward, as PyTorch's)
    return t
