"""The regularized incomplete gamma functions under PyTorch's names: ``igamma(a, x)`` =
``special.gammainc`` = ``P(a, x)`` and ``igammac(a, x)`` = ``special.gammaincc`` =
``Q(a, x) = 1 - P``. Values from SciPy (imported on first use); differentiable in ``x``, whose
derivative ``+-x^(a-1) e^-x / Gamma(a)`` is a composition of ops (every order); in ``a``,
PyTorch's NotImplementedError at backward."""

import numpy as np

from .. import ops as _ops
from ..autograd.function import Function
from ..ops.record import as_tensor
from ..ops.shapes import torch_dtype_name
from .elementwise import lgamma
from .shapes import broadcast_tensors

__all__ = ["igamma", "igammac"]


def _scipy_special():
    try:
        import scipy.special
    except ImportError:
        raise ImportError("tapegrad needs SciPy for igamma/igammac (special.gammainc/"
                          "gammaincc)") from None
    return scipy.special


def _density(a, x):
    """The Gamma(a, 1) density at ``x``: ``dP/dx``."""
    return _ops.exp(_ops.xlogy(a - 1, x) - x - lgamma(a))


def _incomplete_gamma(name, upper):
    class _Op(Function):
        @staticmethod
        def forward(ctx, a, x):
            ctx.save_for_backward(a, x)
            f = _scipy_special().gammaincc if upper else _scipy_special().gammainc
            values = f(np.asarray(a.detach()._arr()), np.asarray(x.detach()._arr()))
            return as_tensor(np.asarray(values, a.dtype))

        @staticmethod
        def backward(ctx, g):
            if ctx.needs_input_grad[0]:
                raise NotImplementedError(f"the derivative for '{name}: input' is not "
                                          "implemented.")
            a, x = ctx.saved_tensors
            d = _density(a.detach(), x)
            return None, g * (-d if upper else d)

    _Op.__name__ = _Op.__qualname__ = name.capitalize()
    _Op._backward_name = f"{_Op.__name__}Backward0"  # (grad_fn: IgammaBackward0, PyTorch's)

    def fn(input, other):
        a, x = as_tensor(input), as_tensor(other)
        dtype = np.result_type(a.dtype, x.dtype)
        if dtype.kind not in "f":
            raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                      f"'{torch_dtype_name(dtype)}'")
        a, x = broadcast_tensors(a.to(dtype), x.to(dtype))
        return _Op.apply(a, x)

    fn.__name__ = name
    return fn


igamma = _incomplete_gamma("igamma", upper=False)
igamma.__doc__ = "The regularized lower incomplete gamma function ``P(input, other)``."
igammac = _incomplete_gamma("igammac", upper=True)
igammac.__doc__ = "The regularized upper incomplete gamma function ``Q(input, other)``."
