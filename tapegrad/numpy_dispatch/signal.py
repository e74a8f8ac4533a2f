"""NumPy's windowing and phase functions on tensors: ``sliding_window_view`` (a gather of the
windows, a copy where NumPy gives a view; overlapping windows add their gradients) and
``unwrap`` (the input plus NumPy's piecewise-constant multiples of the period: gradient 1)."""

import math

import numpy as np

from ..ops.record import as_tensor as _t
from ..ops.shapes import norm_dim
from . import _need, _op


def sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    _need(not writeable, "writeable=True")
    x = _t(x)
    pos = np.arange(x.numel(), dtype=np.intp).reshape(x.shape)
    idx = np.lib.stride_tricks.sliding_window_view(pos, window_shape, axis)
    return _op("reshape")(x, (-1,))[idx]


def unwrap(p, discont=None, axis=-1, *, period=2 * math.pi):
    """NumPy's corrections (its own arithmetic, so the values are NumPy's) added to ``p``."""
    x = _t(p)
    _need(x.dtype.kind == "f", "a non-float input")
    v = np.asarray(x._data)
    ax = norm_dim(axis, v.ndim)
    dd = np.diff(v, axis=ax)
    discont = period / 2 if discont is None else discont
    high = period / 2
    ddmod = np.mod(dd + high, period) - high
    np.copyto(ddmod, high, where=(ddmod == -high) & (dd > 0))
    correct = ddmod - dd
    np.copyto(correct, 0, where=np.abs(dd) < discont)
    lead = (slice(None),) * ax
    head = x[lead + (slice(0, 1),)]
    tail = x[lead + (slice(1, None),)] + _t(np.cumsum(correct, axis=ax).astype(v.dtype))
    return _op("cat")([head, tail], dim=ax)


def function_handlers():
    return {np.lib.stride_tricks.sliding_window_view: sliding_window_view, np.unwrap: unwrap}
