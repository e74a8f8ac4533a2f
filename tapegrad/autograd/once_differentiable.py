"""``once_differentiable``: a custom ``backward`` that runs with grad mode off, so that
differentiating its result raises PyTorch's error instead of giving a wrong zero."""

import functools

from .. import grad_mode as _gm
from ..tensor import Tensor, _make
from .function import _ONCE, Function


class _DelayedError(Function):
    """Stands in for a backward that cannot be differentiated: its own backward raises."""

    generate_vmap_rule = True

    @staticmethod
    def forward(ctx, *grads):
        return tuple(_make(g._data) if type(g) is Tensor else g.detach() for g in grads)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(_ONCE)


_DelayedError._backward_name = "Error"


def once_differentiable(fn):
    """Decorator for ``backward``: runs it with grad mode off; differentiating it raises.

    Example:
        >>> import tapegrad as tg
        >>> class Exp(tg.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         y = x.exp()
        ...         ctx.save_for_backward(y)
        ...         return y
        ...     @staticmethod
        ...     @tg.autograd.once_differentiable
        ...     def backward(ctx, g):
        ...         y, = ctx.saved_tensors
        ...         return g * y
        >>> x = tg.tensor(0.0, requires_grad=True)
        >>> Exp.apply(x).backward(); x.grad
        tensor(1.)
    """

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with _gm.no_grad():
            outputs = fn(ctx, *args)
        if not _gm.is_grad_enabled():
            return outputs
        if not any(isinstance(a, Tensor) and a._rg for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        fake = []
        for o in outs:
            if isinstance(o, Tensor):
                o = _make(o._data)
                o._rg = True  # so that the error node records (PyTorch does the same)
            fake.append(o)
        tensors = [o for o in fake if isinstance(o, Tensor)]
        if not tensors:
            return outputs
        errs = iter(_DelayedError.apply(*tensors))
        res = tuple(next(errs) if isinstance(o, Tensor) else o for o in fake)
        return res[0] if single else res

    return wrapper


class _OverwrittenInverse(Function):
    """``linalg.cond``'s inverse of a singular matrix under forward mode (ops/linalg_cond.py):
    the value and its tangent are the inverse filled out of place, and a backward through it
    raises the in-place error PyTorch's raises there (its ``masked_fill_`` of the inverse that
    ``linalg_inv_ex`` saved)."""

    @staticmethod
    def forward(ctx, inverse):
        ctx.meta = (inverse.shape, inverse.dtype)
        return _make(inverse._data)

    @staticmethod
    def backward(ctx, g):
        from .inplace import version_message

        raise RuntimeError(version_message(*ctx.meta, "LinalgInvEx", 1, 0))

    @staticmethod
    def jvp(ctx, t):
        return t


def _install():
    from ..ops import linalg_cond

    linalg_cond.overwritten = _OverwrittenInverse.apply


_install()
