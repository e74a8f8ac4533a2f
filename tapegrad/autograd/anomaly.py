"""Anomaly detection (PyTorch's ``torch.autograd.set_detect_anomaly`` / ``detect_anomaly``).

While it is on, every recorded op keeps the Python stack of its forward call (``tape.current``
notes it; off, nothing is noted and recording costs what it always does). A backward then
sweeps record by record (``AnomalySweep``, slower) and checks the gradients each record's VJP
produced: a NaN raises PyTorch's error, after a warning that shows the forward call of the op.
An in-place error raised in this mode shows the forward call of the op that needed the value.
"""

import traceback
import warnings

import numpy as np

from .. import tape
from ..registry import PYTHON_BASE, Op

__all__ = ["set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


def is_anomaly_enabled():
    return tape.anomaly[0]


def is_anomaly_check_nan_enabled():
    return tape.anomaly[1]


def _set(mode, check_nan):
    tape.anomaly[0], tape.anomaly[1] = bool(mode), bool(check_nan)
    seg = tape._local.seg
    if mode and seg is not None:
        seg.check_at = 0  # the next op on this thread notes its stack


class set_detect_anomaly:
    """Turn anomaly detection on or off: at once as a function, or for a ``with`` block (the
    previous state comes back at its end)."""

    def __init__(self, mode, check_nan=True):
        self.prev = (tape.anomaly[0], tape.anomaly[1])
        _set(mode, check_nan)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _set(*self.prev)
        return False

    def clone(self):
        return self.__class__(tape.anomaly[0], tape.anomaly[1])


class detect_anomaly:
    """Context manager (and decorator) turning anomaly detection on for its block."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self.prev = None
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        self.prev = (tape.anomaly[0], tape.anomaly[1])
        _set(True, self.check_nan)

    def __exit__(self, *exc):
        _set(*self.prev)
        return False

    def __call__(self, f):
        import functools

        @functools.wraps(f)
        def wrapped(*args, **kwargs):
            with self.__class__(self.check_nan):
                return f(*args, **kwargs)

        return wrapped


def warn_forward(seg, rec, name):
    """PyTorch's warning before an anomaly-mode error: the forward call of node ``name``."""
    stack = tape.forward_stack(seg, rec)
    if stack is None:
        msg = (f"Error detected in {name}. No forward pass information available. Enable "
               "detect anomaly during forward pass for more information.")
    else:
        msg = (f"Error detected in {name}. Traceback of forward call that caused the error:\n"
               + "".join(traceback.format_list(stack)))
    warnings.warn(msg, UserWarning, stacklevel=2)


def _input_slots(seg, recs, r):
    code = int(recs[r, tape.OP]) & tape.CODE_MASK
    if code >= PYTHON_BASE:
        entry = seg.pyaux[int(recs[r, tape.AUX])]
        slots = getattr(entry, "slots", None)
        if slots is not None:
            return tuple(slots)
    if code == Op.IMPORT:
        return ()
    return (int(recs[r, tape.A]), int(recs[r, tape.B]))


def anomaly_sweep(seg, top):
    """An ``AnomalySweep`` (the class is made on first use: the engine imports Numba, which
    ``import tapegrad`` alone should not pay)."""
    if not _SWEEP:
        from ..engine.sweep import Sweep

        _SWEEP.append(_make_sweep_class(Sweep))
    return _SWEEP[0](seg, top)


_SWEEP = []


def _make_sweep_class(Sweep):
    class AnomalySweep(Sweep):
        """The numeric sweep one record at a time, checking each record's gradients for NaN."""

        def run(self, start, stop, pauses, free=False):
            for r in range(start, stop - 1, -1):
                if self.reached[r]:
                    super().run(r, r, pauses, free)
                    check_inputs(self.seg, self.recs, r, self.grad_of)

    return AnomalySweep


def check_inputs(seg, recs, r, grad_of):
    """Raise PyTorch's anomaly error if record ``r``'s VJP put a NaN into an input's gradient
    (``grad_of(slot)``: an array, a Tensor or None)."""
    from .node import _name_of

    code = int(recs[r, tape.OP]) & tape.CODE_MASK
    if code in (Op.IMPORT, Op.OUTPUT):
        return
    for i, s in enumerate(_input_slots(seg, recs, r)):
        g = grad_of(s) if s >= 0 else None
        if g is not None and np.isnan(np.asarray(getattr(g, "_data", g))).any():
            name = _name_of(seg, r)
            warn_forward(seg, r, name)
            raise RuntimeError(f"Function '{name}' returned nan values in its {i}th output.")


def anomaly_retape_sweep(seg):
    """The re-taping sweep (create_graph) one record at a time, with the same NaN check."""
    from .retape import RetapeSweep

    class AnomalyRetapeSweep(RetapeSweep):
        def run(self, start, stop, pauses, free=False):
            while self.heap and -self.heap[0] >= stop:
                r = -self.heap[0]
                super().run(r, r, pauses, free)
                check_inputs(self.seg, self.recs, r, self.grad_of)

    return AnomalyRetapeSweep(seg)
