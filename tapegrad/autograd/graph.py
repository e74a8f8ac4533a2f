"""``tg.autograd.graph``: hooks on saved tensors (``saved_tensors_hooks``, ``save_on_cpu``,
``disable_saved_tensors_hooks``), ``register_multi_grad_hook`` and the ``Node`` type.

Inside ``saved_tensors_hooks(pack, unpack)`` every array an op saves for backward is handed to
``pack`` as a tensor when the op is recorded; the tape then keeps what ``pack`` returned instead
of the array (an array nobody else holds is freed: offloading). The tape layer calls back here
(``tape.on_save``, None while no thread has hooks: recording pays one test of it per op that
saves arrays). Before a sweep first reads the segment, its ``refill`` calls ``unpack`` on each
packed value and puts the arrays back, checked against what was packed (the compiled sweep
reads them by address). What is packed: the arrays elementwise and Python-op records save
(inputs and outputs), and a custom Function's ``ctx.save_for_backward`` tensors, which
``ctx.saved_tensors`` unpacks at each read, as PyTorch does. Saved one-element values
(Python floats on the tape) and index arrays are not packed. As in PyTorch, what ``unpack``
returns is the value backward uses: a packed value is not checked for in-place changes.
"""

import threading

import numpy as np

from .. import tape
from ..grad_mode import no_grad
from ..tensor import Tensor, _make
from .multi_hook import register_multi_grad_hook
from .node import Node

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "register_multi_grad_hook"]


class _Stack(threading.local):
    def __init__(self):
        self.hooks = []  # (pack, unpack), innermost last
        self.disabled = None  # disable_saved_tensors_hooks's message while it is active


_stack = _Stack()
_active = [0]  # threads with hooks on (``tape.on_save`` is set while any has)
_lock = threading.Lock()


class saved_tensors_hooks:
    """Context manager: ``pack_hook(tensor)`` is called for each tensor an op saves for
    backward, ``unpack_hook(packed)`` when backward needs it; it must return a tensor of the
    packed one's values (shape and dtype).

    Example:
        >>> import tapegrad as tg
        >>> x = tg.ones(3, requires_grad=True)
        >>> with tg.autograd.graph.saved_tensors_hooks(lambda t: t.numpy().copy(), tg.tensor):
        ...     y = (x * x).sum()
        >>> y.backward(); x.grad
        tensor([2., 2., 2.])
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        if _stack.disabled is not None:
            raise RuntimeError(_stack.disabled)
        # the records made inside go to segments of their own, whose refill unpacks only what
        # they packed: an unpack hook that fails fails the backwards of this block only
        tape.close_current()
        if not _stack.hooks:
            with _lock:
                _active[0] += 1
                tape.on_save[0] = _PACKER
        _stack.hooks.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        tape.close_current()
        _stack.hooks.pop()
        if not _stack.hooks:
            with _lock:
                _active[0] -= 1
                if not _active[0]:
                    tape.on_save[0] = None


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the CPU and moved back to their device for backward
    (``pin_memory`` is accepted; host memory is not pinned)."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(t):
            return t.device, t.cpu()

        def unpack(packed):
            device, t = packed
            return t.to(device)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Context manager: entering ``saved_tensors_hooks`` inside it raises ``RuntimeError`` with
    ``error_message`` (as does entering it while hooks are active)."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        if _stack.hooks:
            raise RuntimeError(self.error_message)
        self.previous, _stack.disabled = _stack.disabled, self.error_message
        return self

    def __exit__(self, *exc):
        _stack.disabled = self.previous


# ---- the tape's side ------------------------------------------------------------------------

class _Packed:
    """What ``pack`` returned for one saved array, with its unpack hook and the array's
    shape and dtype (what the unpacked tensor must have)."""

    __slots__ = ("value", "unpack", "shape", "dtype")

    def __init__(self, value, unpack, shape, dtype):
        self.value, self.unpack, self.shape, self.dtype = value, unpack, shape, dtype

    def tensor(self):
        with no_grad():
            t = self.unpack(self.value)
        if not isinstance(t, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(t).__name__}")
        if tuple(t.shape) != self.shape or t.dtype != self.dtype:
            raise RuntimeError(
                f"tapegrad: the saved tensor unpack_hook returned a tensor of shape "
                f"{list(t.shape)} and dtype {t.dtype}, but the tensor packed had shape "
                f"{list(self.shape)} and dtype {self.dtype}")
        return t


def _pack(a):
    """``a`` (a saved array) packed by this thread's innermost hooks, or None (no hooks on
    this thread, or not a floating array)."""
    if not _stack.hooks or a is None or getattr(a, "dtype", None) is None or \
            a.dtype.kind not in "fc":
        return None
    pack, unpack = _stack.hooks[-1]
    with no_grad():
        value = pack(_make(a))
    return _Packed(value, unpack, tuple(a.shape), a.dtype)


class _Packer:
    """``tape.on_save``: packs what a record saved, and arms the segment's ``refill``."""

    def arrays(self, seg, start, n):
        """``seg.avals[start:start + n]`` were just saved."""
        avals = seg.avals
        for i in range(start, start + n):
            p = _pack(avals[i])
            if p is not None and _unpacker(seg) is not None:
                seg.refill.avals[i] = p
                avals[i] = None
                seg.avers[i] = None  # what unpack returns is the value (no version check)

    def entry(self, seg, entry):
        """A Python record's side-table entry, which holds its saved inputs and output."""
        saved = getattr(entry, "saved", None)
        if saved:
            for k, a in enumerate(saved):
                p = _pack(a)
                if p is not None and _unpacker(seg) is not None:
                    seg.refill.entries.append((entry, k, p))
                    saved[k] = None
                    if getattr(entry, "stamps", None):
                        entry.stamps[k] = None  # (as for arrays: no version check)
        out = getattr(entry, "out", None)
        if out is not None and not isinstance(out, float):
            p = _pack(out)
            if p is not None and _unpacker(seg) is not None:
                seg.refill.entries.append((entry, -1, p))
                entry.out = None

    def custom(self, saved):
        """A custom Function's packed ``save_for_backward`` entries (``function._pack``'s
        tuples): the values packed, the rest kept (``unpack_custom`` reads them back)."""
        out = []
        for s in saved:
            p = None if s is None or not _stack.hooks else _pack_tensor(s)
            out.append(s if p is None else p)
        return tuple(out)


def _pack_tensor(s):
    t, data, _, ver, rec, dtype = s  # (the version counter: unpack_custom drops it)
    if type(data) is float or getattr(data, "dtype", None) is None or data.dtype.kind not in "fc":
        return None
    pack, unpack = _stack.hooks[-1]
    with no_grad():
        value = pack(t if t is not None else _make(data))
    # a leaf or another segment's tensor keeps its identity (its graph); the value is packed
    keep = t if t is not None and t._rg else None
    return _CustomPacked(value, unpack, tuple(np.shape(data)), data.dtype,
                         (keep, ver, rec, dtype))


class _CustomPacked(_Packed):
    __slots__ = ("rest",)

    def __init__(self, value, unpack, shape, dtype, rest):
        super().__init__(value, unpack, shape, dtype)
        self.rest = rest


def unpack_custom(s):
    """A custom Function's saved entry as ``function._unpack`` reads it (unpacked if packed)."""
    if type(s) is not _CustomPacked:
        return s
    keep, ver, rec, dtype = s.rest
    t = s.tensor()
    # a tensor of the graph kept its identity; one that needs no grad is the unpacked one; a
    # value of the Function's own segment takes its record (``function._unpack``)
    first = keep if keep is not None else t if rec < 0 else None
    # no version counter: what unpack returns is the value, not checked (as PyTorch's)
    return (first, t._data, None, ver, rec, dtype)


class _Unpacker:
    """``Segment.refill`` of a segment with packed values: unpacks them all, once."""

    def __init__(self):
        self.avals = {}  # index into seg.avals -> _Packed
        self.entries = []  # (entry, input index or -1 for the output, _Packed)
        # one per segment, not one for all: an unpack hook that waits for another thread
        # unpacking a segment of its own would wait forever (reentrant: an unpack hook may
        # record, or enter hooks itself)
        self.lock = threading.RLock()

    def __call__(self, seg):
        with self.lock:
            if seg.refill is not self:
                return  # (another thread refilled it meanwhile)
            avals = seg.avals
            for i, p in self.avals.items():
                if i < len(avals) and avals[i] is None:
                    avals[i] = _array(p)
            for entry, k, p in self.entries:
                if k < 0:
                    entry.out = _array(p)
                elif entry.saved is not None and entry.saved[k] is None:
                    entry.saved[k] = _array(p)
            seg.refill = None


def _array(p):
    d = p.tensor()._data
    if type(d) is float:
        return np.full(p.shape, d, p.dtype)
    return d if type(d) is not np.ndarray else np.ascontiguousarray(d)


def _unpacker(seg):
    """The segment's ``_Unpacker`` (armed as its ``refill``), or None where the segment's
    values are refilled otherwise (a checkpoint recomputes them)."""
    r = seg.refill
    if r is None:
        r = seg.refill = _Unpacker()
    return r if type(r) is _Unpacker else None


_PACKER = _Packer()

