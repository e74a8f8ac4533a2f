"""Forward-mode AD with PyTorch's ``torch.autograd.forward_ad`` API.

``make_dual(x, t)`` inside ``with dual_level():`` returns a tensor carrying the tangent ``t``;
``unpack_dual(y)`` returns ``(primal, tangent)`` with ``tangent = J_y t`` summed over every
dual tensor ``y`` depends on. The tangent is computed when it is asked for, by pushing the
tangents through the records made since (``forward_sweep.py``: each op's JVP, oldest record
first). Where the tangent must itself be differentiable (a tangent that requires grad) or the
records hold a custom Function, it comes from the double-vjp trick on the re-taping sweep
(``g = J^T u`` recorded with a dummy cotangent ``u``, then ``d(g . t)/du = J t``). The
uses of a dual are recorded (its internal ``_rg`` is set); as in PyTorch, a result whose
history reaches no tensor requiring grad other than those leaves reports
``requires_grad=False``, no ``grad_fn``, and backward from it raises (``dual_only``).
"""

import threading
import weakref
from collections import namedtuple

from .. import grad_mode as _gm
from ..tensor import Tensor
from .prune import Pruning

__all__ = ["dual_level", "make_dual", "unpack_dual", "UnpackedDualTensor", "enter_dual_level",
           "exit_dual_level"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


class _Levels(threading.local):
    def __init__(self):
        # per level: a _Level of (source, tangent, order, rg, weak reference to the dual,
        # version); the dual is held weakly so that a dual dropped with its results frees
        # their records and saved values (a level open around a training loop)
        self.stack = []


class _Level(list):
    def __init__(self):
        super().__init__()
        self.hidden = set()  # ids of the leaves the tangents of primals without grad enter at
        # (id(segment), record) -> (weak reference to segment, reaches only those leaves)
        self.memo = {}


_levels = _Levels()
_lock = threading.Lock()
_open = [0]  # levels open, all threads together (tensor.dual_only is set while any is)


class _Closed:
    """The hidden leaves of closed levels still alive, all threads together: results made
    in a level from its duals alone keep reporting no grad after it, as PyTorch's."""

    def __init__(self):
        self.hidden = set()
        self.memo = {}  # (id(segment), record) -> (weak reference to segment, answer)
        self.reach = {}  # id(segment) -> (weak reference, its imports, whether it reaches one)


_closed = _Closed()


class _Real:
    """``Pruning``'s leaves asked for: every leaf but the hidden ones."""

    __slots__ = ("hidden", "closed")

    def __init__(self, hidden, closed):
        self.hidden, self.closed = hidden, closed

    def __contains__(self, i):
        return i not in self.hidden and i not in self.closed


class _Pruning(Pruning):
    """``Pruning`` that reads forward-only (no_grad) segments as constants to reverse mode."""

    def _masks(self, s):
        if s.forward_only:
            n = len(s.records())
            return bytearray(n), bytearray(n)
        return super()._masks(s)


def dual_only(t):
    """Whether ``t``, a recorded result, depends on no tensor requiring grad but the hidden
    leaves the tangents of primals without grad enter at (PyTorch's ``requires_grad`` is
    False there), inside a dual level or after it. Forward-only segments (no_grad) are
    constants."""
    stack = _levels.stack
    closed = _closed.hidden
    level = stack[-1] if stack else None
    hidden = level.hidden if level is not None else ()
    if not hidden and not closed:
        return False
    seg = t._seg
    # per segment: its masks, grown over the records added since (a loop of ops asking about
    # each result pays for the new records only); held weakly: the memo must not keep the
    # segments, so the hidden leaves, alive
    memo = level.memo if level is not None else _closed.memo
    hit = memo.get(id(seg))
    if hit is None or hit[0]() is not seg or hit[2] is None and hit[3] != len(seg.imports):
        if level is None and not _imports_hidden(seg, closed):
            return False  # (a segment that reaches none: no pass over its records)
        pruning = _Pruning(_Real(hidden, closed), ())
        hit = memo[id(seg)] = (weakref.ref(seg), pruning, pruning.masks(seg), len(seg.imports))
    m = hit[2]
    if m is None:  # (every import reaches a leaf requiring grad)
        return False
    if t._rec >= len(m[0]):
        hit[1].grow(seg, m)
    return not (t._rec < len(m[0]) and m[0][t._rec])


def _imports_hidden(seg, hidden):
    """Whether ``seg`` imports one of the ``hidden`` leaves, itself or through the segments it
    imports from (memoized per segment while its imports stay as they are)."""
    hit = _closed.reach.get(id(seg))
    if hit is not None and hit[0]() is seg and hit[1] == len(seg.imports):
        return hit[2]
    found, todo, seen = False, [seg], {id(seg)}
    while todo and not found:
        for src in list(todo.pop().imports.values()):
            if type(src) is tuple:
                if id(src[0]) not in seen:
                    seen.add(id(src[0]))
                    todo.append(src[0])
            elif id(src) in hidden:
                found = True
                break
    _closed.reach[id(seg)] = (weakref.ref(seg), len(seg.imports), found)
    return found


def _forget(i):
    """A hidden leaf of a closed level is gone: no result can reach it any more."""
    with _lock:
        _closed.hidden.discard(i)
        if not _closed.hidden:
            _closed.memo.clear()
            _closed.reach.clear()
            if not _open[0]:
                _tensor_module().dual_only = _tensor_module().dual_as_leaf = None


def as_leaf(t):
    """``t.requires_grad_()`` on a dual or a result of duals alone (``dual_only``): PyTorch's
    is a leaf carrying a tangent, so it becomes one requiring grad, its tangent (computed
    now, from the history it drops) entering at it."""
    from .. import tape

    tangent = unpack_dual(t).tangent
    t._seg, t._rec = None, -1
    t._set_rg(True)
    if tangent is not None:
        _levels.stack[-1].append((t, tangent.detach(), tape.current().order, True,
                                  weakref.ref(t), t._version))


def enter_dual_level():
    """Open a new forward-AD level; returns its index."""
    if _levels.stack:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _levels.stack.append(_Level())
    with _lock:
        _open[0] += 1
        _tensor_module().dual_only = dual_only
        _tensor_module().dual_as_leaf = as_leaf
    _gm.forward_level().__enter__()  # (no_grad inside does not stop tangents)
    return len(_levels.stack) - 1


def exit_dual_level(*, level=None):
    """Close the current level: its dual tensors lose their tangents."""
    if not _levels.stack:
        raise RuntimeError("Dual level must be a positive number.")
    level = _levels.stack.pop()
    if level.hidden:  # (new records elsewhere: the level's segments die with its results)
        from .. import tape

        tape.close_current()
    with _lock:
        _open[0] -= 1
        for d in level:
            if id(d[0]) in level.hidden and id(d[0]) not in _closed.hidden:
                _closed.hidden.add(id(d[0]))
                weakref.finalize(d[0], _forget, id(d[0]))
        _closed.memo.clear()
        _closed.reach.clear()
        if not _open[0] and not _closed.hidden:
            _tensor_module().dual_only = _tensor_module().dual_as_leaf = None
    _gm.forward_level().__exit__()


def _tensor_module():
    import sys

    return sys.modules[Tensor.__module__]  # (the package's ``tensor`` is the function)


class dual_level:
    """Context manager of a forward-AD level (PyTorch's ``forward_ad.dual_level``)."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()


def make_dual(tensor, tangent, *, level=None):
    """A tensor with the value of ``tensor`` carrying the tangent ``tangent``.

    Example:
        >>> import tapegrad as tg
        >>> import tapegrad.autograd.forward_ad as fwAD
        >>> with fwAD.dual_level():
        ...     x = fwAD.make_dual(tg.tensor([1., 2.]), tg.tensor([1., 0.]))
        ...     fwAD.unpack_dual(x * x).tangent
        tensor([2., 0.])
    """
    if not _levels.stack:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual expects Tensors for both the primal and the tangent")
    for what, t in (("primal", tensor), ("tangent", tangent)):
        if t.dtype.kind not in "fc":
            raise ValueError(f"Expected {what} to be floating point or complex, but got: "
                             f"torch.{t.dtype}")
    _drop_dead(_levels.stack[-1])
    if any(d[4]() is tensor for d in _levels.stack[-1]):
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {len(_levels.stack) - 1} is not "
                           "supported.")
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than "
                           f"that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    from .. import tape

    with _gm.enable_grad():
        if tensor.requires_grad:
            source = dual = tensor.reshape(tensor.shape)  # an alias: reverse mode reaches tensor
        else:
            # the tangent enters at a hidden leaf; the dual is a copy of it, which in-place ops
            # may change as any tensor (as PyTorch's, whose dual does not require grad)
            source = tensor.detach().requires_grad_()
            dual = source.clone()
            _levels.stack[-1].hidden.add(id(source))
    order = dual._seg.order if dual._seg is not None else tape.current().order
    _levels.stack[-1].append((source, tangent, order, tensor.requires_grad, weakref.ref(dual),
                              dual._version))
    return dual


def _drop_dead(level):
    """Forget the duals whose tangents no live tensor can reach: the dual is gone and no
    record imports its hidden leaf any more (only the level's entry refers to it), so a level
    open around a loop that makes a dual per step holds no earlier step's graph."""
    import sys

    dead = [d for d in level if d[4]() is None and id(d[0]) in level.hidden
            and sys.getrefcount(d[0]) <= _LONE]
    if dead:
        level[:] = [d for d in level if all(d is not x for x in dead)]
        level.hidden.difference_update(id(d[0]) for d in dead)
        level.memo.clear()


def _lone_count():
    import sys

    entry = (object(),)
    return sys.getrefcount(entry[0])


# sys.getrefcount of an object that only a level's entry holds, measured as _drop_dead asks
# (the count of the call's own argument differs between Python versions)
_LONE = _lone_count()
_UNSUPPORTED = object()


def _pushed(tensor, duals):
    """The tangent of ``tensor`` by pushing the duals' tangents through the records made
    since (``forward_sweep``); None when it depends on no dual, ``_UNSUPPORTED`` where that
    sweep cannot (a custom Function, a large op without a JVP rule)."""
    import numpy as np

    from ..tensor import _make
    from . import forward_sweep

    if tensor.dtype.kind == "c" or any(d[1].dtype.kind == "c" for d in duals):
        return _UNSUPPORTED  # (the sweep's tangent blocks are real: the double-vjp trick)
    sources = [(d, np.asarray(t._data, np.float64).reshape((1,) + tuple(t.shape)))
               for d, t, *_ in duals]
    try:
        blk, = forward_sweep.tangents([tensor], sources, min(d[2] for d in duals), 1)
    except forward_sweep.Unsupported:
        return _UNSUPPORTED
    if blk is None:
        return None
    arr = blk[0].astype(tensor.dtype, copy=False)
    return _make(arr if arr.ndim or arr.dtype != np.float64 else float(arr))


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of ``tensor``; the tangent is None when it depends on no dual."""
    if not isinstance(tensor, Tensor):
        return UnpackedDualTensor(tensor, None)
    if not _levels.stack or not tensor._rg:  # (not requires_grad: False under no_grad)
        return UnpackedDualTensor(tensor.detach(), None)
    duals = _levels.stack[-1]
    if not duals:
        return UnpackedDualTensor(tensor.detach(), None)
    # a result that requires grad (a primal that required grad before it was made dual, a
    # weight it met): the primal and the tangent stay differentiable, as PyTorch's (reverse
    # over forward); requires_grad is False where only the duals' hidden leaves are reached
    attached = _gm.is_grad_enabled() and tensor.requires_grad
    primal = tensor if attached else tensor.detach()
    made = next((d for d in duals if d[4]() is tensor and d[5] == tensor._version), None)
    if made is not None:  # a dual as make_dual made it: its tangent is the one given, as PyTorch's
        return UnpackedDualTensor(primal, made[1])
    if not (_gm.is_grad_enabled() and any(d[1].requires_grad for d in duals)) and \
            not attached:
        tan = _pushed(tensor, duals)
        if tan is not _UNSUPPORTED:
            return UnpackedDualTensor(primal, tan)
    from . import grad
    from ..creation import zeros_like
    from .function import linearizing

    with _gm.enable_grad():
        u = zeros_like(tensor).requires_grad_()
        with linearizing():
            gs = grad(tensor, [d[0] for d in duals], u, create_graph=True,
                      retain_graph=True, allow_unused=True)
        pairs = [(g, d[1]) for g, d in zip(gs, duals) if g is not None and g._rg]
        if not pairs:
            return UnpackedDualTensor(primal, None)
        keep = (attached or any(t.requires_grad for _, t in pairs)) and _gm.is_grad_enabled()
        tan, = grad([g for g, _ in pairs], [u], [t for _, t in pairs], create_graph=keep,
                    allow_unused=True)
    if tan is None:
        return UnpackedDualTensor(primal, None)
    return UnpackedDualTensor(primal, tan if keep else tan.detach())
