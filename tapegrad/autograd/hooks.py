"""Tensor hooks and retain_grad: Python code the sweep pauses for.

A non-leaf with hooks (or ``retain_grad``) flags its record ``HOOKED``; the sweep pauses there,
when the tensor's gradient is complete, runs the hooks in registration order (each may return a
replacement) and stores ``.grad`` after all hooks (as PyTorch). Leaf hooks run once on the
gradient summed over every use, before it is accumulated (as PyTorch).
"""

import weakref

import numpy as np

from .. import tape
from ..grad_mode import set_grad_enabled
from ..ops.shapes import torch_dtype_name
from ..tensor import Tensor, _make


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters (twice is fine)."""

    def __init__(self, hooks, fn):
        self._hooks = weakref.ref(hooks) if hooks is not None else None
        self._fn = fn

    def remove(self):
        hooks = self._hooks() if self._hooks is not None else None
        if hooks is not None and self._fn in hooks:
            hooks.remove(self._fn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _HookList(list):
    __slots__ = ("__weakref__",)


class HookRef(weakref.ref):
    """A weak reference to a non-leaf with hooks (or ``retain_grad``) that keeps its hook list,
    shape and dtype: the hooks run even once the tensor itself is gone, as PyTorch keeps them on
    the graph (``y.register_hook(f)`` inside a function whose ``y`` is not returned)."""

    __slots__ = ("hooks", "shape", "dtype")

    def __init__(self, t):
        super().__init__(t)
        self.hooks, self.shape, self.dtype = t._hooks, t.shape, t.dtype


def _mark(t):
    """Flag ``t``'s record HOOKED, its ``HookRef`` holding ``t``'s current hook list."""
    for ref in t._seg.hooked.get(t._rec, ()):
        if ref() is t:
            ref.hooks = t._hooks
            return
    tape.mark_hooked(t._seg, t._rec, HookRef(t))


def register_hook(t, fn):
    """Call ``fn(grad)`` when ``t``'s gradient is computed; a returned tensor replaces it."""
    if not t._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._hooks is None:
        t._hooks = _HookList()
    t._hooks.append(fn)
    if t._seg is not None:
        _mark(t)
    return RemovableHandle(t._hooks, fn)


def register_post_accumulate_grad_hook(t, fn):
    if not t._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._seg is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if t._post_hooks is None:
        t._post_hooks = _HookList()
    t._post_hooks.append(fn)
    return RemovableHandle(t._post_hooks, fn)


def retain_grad(t):
    """Keep ``t.grad`` for a non-leaf: the sweep pauses at its record to store it."""
    if not t._rg:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if t._seg is None or t._retains:
        return
    t._retains = True
    _mark(t)


def _apply(hooks, g):
    for h in list(hooks or ()):
        res = h(g)
        if res is None:
            continue
        check_replacement(h, res, g)
        g = res
    return g


def check_replacement(hook, new, was):
    """PyTorch's errors for a hook's replacement ``new`` of the gradient ``was``."""
    if not isinstance(new, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(new).__name__}'")
    if new.shape != was.shape:
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value")
    if new.dtype != was.dtype or new.is_cuda != was.is_cuda:  # (a device is part of a type)
        raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the type of value (was "
                           f"{_type_name(was)} got {_type_name(new)})")


def _hook_name(h):
    return getattr(h, "__name__", repr(h))


_LEGACY = {"Double", "Float", "Half", "Long", "Int", "Short", "Char", "Byte"}


def _type_name(t):
    """PyTorch's name of a tensor's type in messages: ``torch.DoubleTensor``,
    ``torch.cuda.FloatTensor``; ``CPUBoolType``, ``CPUComplexDoubleType`` for the dtypes
    without a legacy tensor type."""
    name = torch_dtype_name(t.dtype)
    if name in _LEGACY:
        return f"torch.{'cuda.' if t.is_cuda else ''}{name}Tensor"
    return f"{'CUDA' if t.is_cuda else 'CPU'}{name}Type"


def run_tensor_hooks(seg, r, sw):
    """The sweep paused at record ``r``: run hooks of the tensors produced there."""
    for ref in seg.hooked.get(r, ()):
        t = ref()  # (gone: its hooks still run; nobody can read a retained grad)
        hooks = ref.hooks if t is None else t._hooks
        if t is None and not hooks:
            continue
        shape, dtype = (ref.shape, ref.dtype) if t is None else (t.shape, t.dtype)
        flat = sw.grad_of(r)
        if isinstance(flat, Tensor):  # re-taping sweep: gradients are tensors with history
            g = flat.reshape(shape) if flat.shape != shape else flat
            g = _apply(hooks, g)
            sw.set_grad(r, g.reshape(flat.shape) if g.shape != flat.shape else g)
        else:
            cx = dtype.kind == "c"  # a complex adjoint: (re, im) pairs in the arena
            view = flat.view(np.complex128) if cx else flat
            g = _make(view.reshape(shape).astype(dtype))
            if getattr(sw, "on_device", False):  # a CUDA tensor's gradient is on CUDA too
                g = g.to("cuda")
            g2 = _apply(hooks, g)
            d2 = g2._data.host() if g2.is_cuda else g2._data
            if g2 is not g or g._version:  # replaced, or changed in place (g.mul_(10))
                view[:] = np.asarray(d2, view.dtype).reshape(-1)
            g = _make(np.array(d2)) if type(d2) is not float else g2
        if t is not None and t._retains:
            cg = isinstance(flat, Tensor)
            _retain(t, g, cg, cg or type(g._data) is float)  # (else a fresh array)


def _retain(t, g, create_graph, shared):
    """PyTorch's retains_grad hook: the first gradient a copy (``clone``, with its history
    under ``create_graph``), later ones added out of place (``t.grad + g``): never into a
    tensor that the backward's graph may have saved (a double backward's own gradient)."""
    from .driver import _grad_lock

    with _grad_lock, set_grad_enabled(create_graph):
        old = t._grad
        t._grad = (g.clone() if shared else g) if old is None else old + g


def run_leaf_hooks(leaf, g):
    return _apply(leaf._hooks, g) if leaf._hooks else g


def run_post_accumulate_hooks(leaf, create_graph=False):
    """After ``leaf.grad`` was accumulated: its hooks, with grad mode what the backward's is
    (off unless ``create_graph``, as PyTorch: an optimizer step inside one runs as is)."""
    with set_grad_enabled(create_graph):
        for h in list(leaf._post_hooks or ()):
            if h(leaf) is not None:  # (a value would be lost: PyTorch refuses it)
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")
