"""In-place safety: PyTorch's error when a value saved for backward was modified.

Saved arrays are kept by reference with a stamp ``(version counter, version at save)``; the
counter is shared by a tensor, its views and ``detach()`` aliases, and every in-place write
bumps it. Both sweeps check the stamps of every record they reach: the numeric sweep after its
compiled loop (before any gradient leaves the segment) and at each Python pause, the re-taping
sweep record by record. (Size-1 saved values are copied floats: they carry no stamp.)
"""

import re
import warnings

import numpy as np

from .. import tape
from ..registry import PYTHON_BASE, Op
from ..tensor import Tensor

_TORCH_DTYPE = {"float64": "Double", "float32": "Float", "float16": "Half",
                "complex128": "ComplexDouble", "complex64": "ComplexFloat"}


def _stale(stamp):
    return stamp is not None and stamp[0] is not None and stamp[0][0] != stamp[1]


def producer_name(seg, rec):
    """PyTorch's name of the op that produced record ``rec`` (None for a leaf or a constant)."""
    if rec < 0:
        return None
    code = int(seg.records()[rec, tape.OP]) & tape.CODE_MASK
    if code == Op.IMPORT:
        src = seg.imports.get(rec)
        if src is None or not isinstance(src, tuple):
            return None  # a leaf: no "which is output" clause (as in PyTorch's message)
        return producer_name(src[0], src[1])
    from .node import _name_of

    return _short(_name_of(seg, rec))


def _short(name):
    """PyTorch's op name in the message: the node's name less "Backward" ("AddBackward0" ->
    "Add", "ClampBackward1" -> "Clamp1"), its CopySlices qualified."""
    if name == "CopySlices":
        return "torch::autograd::CopySlices"
    return name[:-9] if name.endswith("Backward0") else name.replace("Backward", "")


def current_producer(stamp, value, fallback):
    """PyTorch's name for a saved input modified in place: the op that produced its tensor
    last (its grad_fn now: the in-place op, CopySlices after a write through a view,
    AsStrided for a view whose base was written), found among the live tensors sharing the
    saved version counter; ``fallback`` where none is found or several match."""
    import gc

    vc = stamp[0]
    refs = gc.get_referrers(vc)  # (a tensor whose __dict__ was made refers to it through that)
    refs += [o for d in refs if type(d) is dict for o in gc.get_referrers(d)]
    ts = [t for t in refs if isinstance(t, Tensor) and t._vc is vc]
    ts = [t for k, t in enumerate(ts) if all(t is not u for u in ts[:k])]
    pick = [t for t in ts if t._data is value]
    if not pick:
        shape = np.shape(value)
        pick = [t for t in ts if tuple(t.shape) == shape]
    if len(pick) != 1:
        return fallback
    node = pick[0].grad_fn
    return None if node is None or not pick[0].requires_grad else _short(node.name())


def version_message(shape, dtype, producer, now, expected):
    """PyTorch's text for a saved value at version ``now`` that was saved at ``expected``."""
    kind = _TORCH_DTYPE.get(str(np.dtype(dtype)), "Double")
    which = f", which is output 0 of {producer}," if producer else ""
    return ("one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [tapegrad.{kind}Tensor [{', '.join(map(str, shape))}]]{which} "
            f"is at version {now}; expected version {expected} instead. " + _hint())


def tensor_producer(t):
    """PyTorch's name of the op that produced tensor ``t`` last, an in-place one included
    (None for a leaf)."""
    return producer_name(t._seg, t._rec) if t._seg is not None else None


def saved_version_error(t, seg, rec, shape, dtype, now, expected):
    """The in-place error for a tensor a custom Function saved: ``t`` itself where it was kept
    (named after its ``tensor_producer``), else record ``rec`` of the Function's segment
    ``seg`` (the Function itself for its own output)."""
    if t is not None:
        producer = tensor_producer(t)
    else:
        producer = producer_name(seg, rec) if seg is not None else None
    return RuntimeError(version_message(shape, dtype, producer, now, expected))


def _hint():
    if tape.anomaly[0]:  # the warning just issued shows the forward call (PyTorch's text)
        return ("Hint: the backtrace further above shows the operation that failed to compute "
                "its gradient. The variable in question was changed in there or anywhere "
                "later. Good luck!")
    return ("Hint: enable anomaly detection to find the operation that failed to compute its "
            "gradient, with tapegrad.autograd.set_detect_anomaly(True, check_nan=False).")


def _error(seg, producer_rec, value, stamp, rec=None, saved_input=True):
    """The in-place error for record ``rec`` (in anomaly mode: after the warning that shows
    the forward call of ``rec``, the op that needed the value), for one of its inputs (named
    after its op now) or its own output (named after ``rec``)."""
    if tape.anomaly[0] and rec is not None:
        from .anomaly import warn_forward
        from .node import _name_of

        warn_forward(seg, rec, _name_of(seg, rec))
    shape = np.shape(value) if value is not None else ()
    dtype = getattr(value, "dtype", np.float64)
    producer = producer_name(seg, producer_rec)
    if saved_input:
        producer = current_producer(stamp, value, producer)
    return RuntimeError(version_message(shape, dtype, producer, stamp[0][0], stamp[1]))


def check_record(seg, recs, r):
    """Raise if a value record ``r`` saved has been modified in place since."""
    code = int(recs[r, tape.OP]) & tape.CODE_MASK
    if code >= PYTHON_BASE:
        if code != Op.CUSTOM:  # custom Functions check when ctx.saved_tensors is read
            check_python_record(seg, r, seg.pyaux[int(recs[r, tape.AUX])])
        return
    v = int(recs[r, tape.V])
    if v < 0 or not v & 1:
        return
    from ..registry import REGISTRY

    op = REGISTRY[code]
    avers, avals = seg.avers, seg.avals
    start = v >> 1
    for k, name in enumerate(op.saves):
        stamp = avers[start + k] if start + k < len(avers) else None
        if _stale(stamp) and _needed(op, name, int(recs[r, tape.A]), int(recs[r, tape.B])):
            src = {"x": int(recs[r, tape.A]), "y": int(recs[r, tape.B]), "out": r}.get(name, -1)
            raise _error(seg, src, avals[start + k], stamp, r, name != "out")


_GUARDED = ("MulBackward0", "DivBackward0")  # (PyTorch's other nodes save all, result too)


def _needed(op, name, a, b):
    """Whether saved value ``name`` of a binary op enters a gradient this backward computes
    (``a``/``b``: the inputs' records, -1 where one requires no grad). PyTorch saves an
    operand of ``x * p`` (and ``x`` of ``x / p``) only for the other's gradient: with ``x``
    constant, ``p`` is not saved, and changing it in place before backward is no error. Its
    other nodes (pow, maximum, the losses...) save every operand and their result."""
    if op.kind != "binary" or op.grad_fn not in _GUARDED:
        return True
    return (a >= 0 and re.search(rf"\b{name}\b", op.dx or "") is not None) or \
        (b >= 0 and re.search(rf"\b{name}\b", op.dy or "") is not None)


def check_reached(seg, recs, reached):
    """``check_record`` for every reached record that saved arrays (numeric sweep), newest
    first, so the error names the value PyTorch's backward finds modified first.

    Selects the rows with NumPy first, so the cost follows what this backward reached, not
    the size of the segment (many graphs can share one).
    """
    if not seg.avers:
        return
    v = recs[: len(reached), tape.V]
    rows = np.nonzero(reached.astype(bool) & (v >= 0) & (v & 1 == 1))[0]
    avers = seg.avers
    for r in reversed(rows.tolist()):  # (the newest first: the node PyTorch runs first)
        start = int(v[r]) >> 1
        for s in avers[start : start + 3]:
            if s is not None and s[0] is not None and s[0][0] != s[1]:
                check_record(seg, recs, r)
                break


def check_python_record(seg, rec, entry):
    """Raise if an input an op that runs in NumPy saved has been modified in place since."""
    stamps = getattr(entry, "stamps", None)
    if not stamps:
        return
    for i, stamp in enumerate(stamps):
        if _stale(stamp):
            if i >= len(entry.slots):  # a stamp past the inputs' is the op's own output's
                raise _error(seg, rec, entry.out, stamp, rec, False)
            saved = entry.saved[i] if entry.saved is not None else None
            raise _error(seg, entry.slots[i], saved, stamp, rec)


def check_dirty(dirty, args, outs):
    """``ctx.mark_dirty``'s rules, checked after ``forward`` as PyTorch checks them: tensors
    only, each one returned (a modified input that is not an output would keep its old
    history); a tensor that is not an input is only warned about."""
    for i, t in enumerate(dirty):
        if not isinstance(t, Tensor):
            raise RuntimeError(f"mark_dirty can only accept variables, but argument {i} is "
                               f"of type {type(t).__name__}")
    if any(all(t is not a for a in args) for t in dirty):
        warnings.warn("ctx.mark_dirty() received a tensor that was not an input. Only input "
                      "Tensors that have been mutated should be passed to ctx.mark_dirty().")
    if any(all(t is not o for o in outs) for t in dirty):
        raise RuntimeError("Some elements marked as dirty during the forward method were not "
                           "returned as output. The inputs that are modified inplace must all "
                           "be outputs of the Function.")
