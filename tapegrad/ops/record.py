"""Turning a forward result into a tensor with history: the glue every op uses.

``needs_grad(*ts)`` decides whether to record (grad mode on and an input requires grad);
``result(...)`` appends the record and returns the output tensor. Saved values follow the
tape's convention: Python floats for size-1 values, float64 C-contiguous arrays otherwise,
with the version of the tensor they came from so that in-place changes are caught.
"""

import numpy as np

from .. import grad_mode as _gm
from .. import tape
from ..tensor import Tensor, _make, _new

_F64 = np.dtype(np.float64)
_grad_on = _gm.is_grad_enabled


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
    from ..tensor import _wrap

    return _make(_wrap(np.asarray(x)))


def saved_array(d):
    """A value in the form the compiled sweep reads: float64, C-contiguous (copy only if not)."""
    return np.ascontiguousarray(d, dtype=_F64)


def saved_value(t, data=None):
    """Value of tensor ``t`` (or ``data``) to save, and its (counter, version) stamp."""
    d = t._data if data is None else data
    if type(d) is float:
        return d, None
    vc = t._vcounter()
    return saved_array(d), (vc, vc[0])


def result(data, op, x=None, y=None, aux=-1, saved=(), stamps=None, seg=None):
    """Record ``op`` with inputs ``x``/``y`` (None or no grad = constant) and wrap ``data``.

    ``saved`` must already be in tape form (see ``saved_value``); size-1 records convert
    their saved values to floats here.
    """
    if seg is None:
        seg = tape.prepare([t for t in (x, y) if t is not None and t._rg])
    a = tape.slot(seg, x) if x is not None and x._rg else -1
    b = tape.slot(seg, y) if y is not None and y._rg else -1
    n = 1 if type(data) is float else data.size
    if n == 1 and saved:
        saved = [s if type(s) is float else float(np.asarray(s).reshape(())) for s in saved]
        stamps = None
    r = tape.record(seg, op, a, b, aux, n, saved, stamps)
    t = _new(Tensor)
    t._data = data
    t._rg = True
    t._seg = seg
    t._rec = r
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
    """Record a Python op over any number of ``inputs``; ``save_inputs`` lists their indices."""
    from .. import tape

    seg = tape.prepare([t for t in inputs if t._rg])
    slots = tuple(tape.slot(seg, t) if t._rg else -1 for t in inputs)
    saved, stamps = [None] * len(inputs), [None] * len(inputs)
    for i in save_inputs:
        t = inputs[i]
        saved[i] = t._arr()
        vc = t._vcounter()
        stamps[i] = (vc, vc[0])
    vd = value if type(value) is float else value
    entry = PyRecord(slots, saved, stamps, vd if save_out else None, params or {},
                     tuple(t.shape for t in inputs), () if type(value) is float else value.shape)
    aux = tape.add_pyaux(seg, entry)
    n = 1 if type(value) is float else value.size
    a = slots[0] if slots else -1
    b = slots[1] if len(slots) > 1 else -1
    r = tape.record(seg, op, a, b, aux, n)
    t = _new(Tensor)
    t._data = value
    t._rg = True
    t._seg = seg
    t._rec = r
    return t
