"""Function transforms: ``tg.grad`` and ``tg.value_and_grad`` (JAX / ``torch.func`` style).

``grad(f)`` is a function that returns the gradient of the scalar ``f`` with respect to its
``argnums`` arguments. Arguments may be Python numbers, NumPy arrays or tensors. Transforms
compose (``grad(grad(f))``): inside another transform, when an argument already carries
history, or when ``f`` closes over a tensor that requires grad (and grad mode is on), the
gradient is computed with ``create_graph=True`` so the outer level can differentiate it again,
as with ``torch.func``.

Example:
    >>> import tapegrad as tg
    >>> tg.grad(tg.grad(lambda a: a ** 3))(2.0)
    tensor(12.)
"""

import threading

import numpy as np

from . import grad_mode as _gm
from .tensor import Tensor

__all__ = ["grad", "value_and_grad"]


class _Depth(threading.local):
    n = 0  # how many transforms are running on this thread (nesting level)


_depth = _Depth()


def _check_argnums(argnums, nargs):
    items = argnums if isinstance(argnums, tuple) else (argnums,)
    if not items or not all(isinstance(a, int) and not isinstance(a, bool) for a in items):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {argnums!r}")
    norm = []
    for a in items:
        if not -nargs <= a < nargs:
            raise RuntimeError(f"Got argnums={argnums!r}, but only {nargs} positional inputs")
        norm.append(a % nargs)
    if len(set(norm)) != len(norm):
        raise RuntimeError(f"argnums must be unique, got {argnums!r}")
    return norm


def _as_input(x):
    """A fresh differentiable handle on argument ``x`` (history kept if ``x`` has any)."""
    if isinstance(x, Tensor):
        if x.dtype.kind != "f":
            x = x.to(np.float64)
            return x.detach().requires_grad_()
        if x.requires_grad and _gm.is_grad_enabled():
            return x.reshape(x.shape)  # an alias: the outer level sees through it
        return x.detach().requires_grad_()
    from .creation import tensor

    arr = np.asarray(x)
    if arr.dtype.kind == "c":  # never cast to real: the imaginary part would be dropped
        from .creation import COMPLEX_MSG

        raise TypeError(COMPLEX_MSG)
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return tensor(arr, requires_grad=True)


def _scalar_output(out, has_aux):
    aux = None
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise RuntimeError("grad_and_value(f)(*args): output of function f should be a "
                               "tuple: (output, aux) if has_aux is True")
        out, aux = out
    if not isinstance(out, Tensor):
        raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a Tensor, "
                           f"got {type(out)}")
    if out.numel() != 1:
        raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar "
                           f"Tensor, got tensor with {out.ndim} dims. Maybe you wanted to use "
                           "the vjp or jacrev APIs instead?")
    return out, aux


def _fresh_segment_order():
    """Close this thread's current segment; return the order of the fresh one now current."""
    from . import tape

    if tape._local.seg is not None and tape._local.seg.n:
        tape.retire(tape._local.seg)
    return tape.current().order


def _uses_outer_tensors(start, wrt):
    """Whether what this thread recorded since segment order ``start`` imports a tensor that
    requires grad other than the inputs ``wrt``: a leaf, or a record of an older segment.

    Conservative: an import the output does not depend on also counts (the gradient then
    merely carries a history it does not need)."""
    from . import tape

    inner = {id(s) for s in list(tape._local.live) if s.order >= start}
    own = {id(t) for t in wrt}
    for seg in list(tape._local.live):
        if id(seg) not in inner:
            continue
        for src in list(seg.imports.values()):
            if isinstance(src, Tensor):
                if id(src) not in own:
                    return True
            elif id(src[0]) not in inner:
                return True
    return False


def value_and_grad(func, argnums=0, has_aux=False):
    """A function returning ``(func(*args), gradient of func w.r.t. args[argnums])``.

    ``argnums`` may be a tuple (then the gradients are a tuple). With ``has_aux`` ``func``
    returns ``(output, aux)`` and the result is ``((output, aux), grads)``.

    Example:
        >>> import tapegrad as tg
        >>> tg.value_and_grad(lambda a, b: a * b, argnums=(0, 1))(3.0, 4.0)
        (tensor(12.), (tensor(4.), tensor(3.)))
    """

    def wrapper(*args, **kwargs):
        from .autograd import grad as _grad

        idx = _check_argnums(argnums, len(args))
        args = list(args)
        outer = _depth.n > 0 or any(isinstance(args[i], Tensor) and args[i].requires_grad
                                    for i in idx)
        create_graph = outer and _gm.is_grad_enabled()
        for i in idx:
            args[i] = _as_input(args[i])
        wrt = [args[i] for i in idx]
        # ``func`` may close over a tensor that requires grad (``lambda t: x * t``): then the
        # gradient depends on it and the caller may differentiate it again, so it is computed
        # with create_graph, as torch.func does. ``func`` records on fresh segments, where
        # anything from outside enters through an IMPORT record: see _uses_outer_tensors.
        start = _fresh_segment_order() if _gm.is_grad_enabled() and not create_graph else None
        _depth.n += 1
        try:
            with _gm.enable_grad():
                out, aux = _scalar_output(func(*args, **kwargs), has_aux)
                if start is not None and out.requires_grad:
                    create_graph = _uses_outer_tensors(start, wrt)
                if out.requires_grad:
                    grads = _grad(out, wrt, create_graph=create_graph, materialize_grads=True)
                else:  # f does not depend on its inputs: the gradient is zero
                    from .creation import zeros_like

                    grads = tuple(zeros_like(w) for w in wrt)
        finally:
            _depth.n -= 1
        if not create_graph:
            out = out.detach()
            grads = tuple(g.detach() for g in grads)
        grads = grads if isinstance(argnums, tuple) else grads[0]
        return ((out, aux) if has_aux else out), grads

    wrapper.__name__ = f"value_and_grad({getattr(func, '__name__', 'f')})"
    wrapper.__doc__ = func.__doc__
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of scalar ``func`` w.r.t. ``args[argnums]``.

    This is the function transform (JAX / ``torch.func.grad``); ``tg.autograd.grad`` is
    PyTorch's ``autograd.grad``. With ``has_aux`` the result is ``(grads, aux)``.

    Example:
        >>> import tapegrad as tg
        >>> tg.grad(lambda a: (a ** 2).sum())(tg.tensor([1., 2.]))
        tensor([2., 4.])
    """
    vg = value_and_grad(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        value, grads = vg(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    wrapper.__name__ = f"grad({getattr(func, '__name__', 'f')})"
    wrapper.__doc__ = func.__doc__
    return wrapper
