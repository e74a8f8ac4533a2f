"""The regularized lower incomplete gamma function ``P(a, x)`` as a differentiable op
(``gammainc``), and standard-gamma draws with implicit reparameterisation gradients
(``standard_gamma``), for ``Gamma``, ``Chi2``, ``Beta``, ``Dirichlet`` and ``StudentT``.
Of CUDA parameters, the draws and SciPy's values are computed on the host and returned on the
device; the gradients' tapegrad ops run on the device.

A draw ``x ~ Gamma(a, 1)`` is held at its quantile ``u = P(a, x)`` as ``a`` moves, so
``dx/da = -(dP/da)(a, x) / p(x; a)`` (``p`` the density, ``dP/dx``), which is what PyTorch's
``_standard_gamma_grad`` approximates. ``dP/da`` has no closed form: it is the central difference
in ``a`` of ``log P`` (``log Q`` in the upper half, so the smaller tail keeps its relative
accuracy) from SciPy's ``gammainc``/``gammaincc``, Richardson-extrapolated (step
``1e-3 min(a, 1)``: truncation and rounding both below 1e-9 relative over a in [1e-3, 1e5]).
Its derivative in ``x`` is exact (``dp/da``), its derivative in ``a`` a second difference, so
``rsample`` and ``cdf`` differentiate twice; a third derivative in ``a`` raises.

SciPy is imported inside the functions, never at ``import tapegrad``.
"""

import numpy as np

from .. import creation, ops as O
from ..autograd.function import Function
from ..device import host_array
from ..torch_names._common import _t
from ..torch_names import digamma, lgamma  # (CUDA values through the host)


def _sp():
    try:
        import scipy.special
    except ImportError:
        raise ImportError("tapegrad needs SciPy for the regularised incomplete gamma function "
                          "(Gamma, Chi2, Beta and Dirichlet: cdf and reparameterised "
                          "gradients)") from None
    return scipy.special


def _log_tail(a, x, upper):
    """``log Q(a, x)`` where ``upper`` else ``log P(a, x)`` (NumPy, float64); a ``P`` that
    underflows (x far below a) from its leading series terms."""
    sp = _sp()
    with np.errstate(all="ignore"):
        p = sp.gammainc(a, x)
        out = np.where(upper, np.log(sp.gammaincc(a, x)), np.log(p))
        small = ~upper & (p < 1e-250)
        if small.any():
            series = sp.xlogy(a, x) - x - sp.gammaln(a + 1) + np.log1p(x / (a + 1))
            out = np.where(small, series, out)
    return out


def _tail_derivatives(a, x, second=False):
    """``(tail, sign, d log tail / da)`` (and the second derivative when ``second``), the tail
    the smaller of P and Q: ``dP/da = sign * tail * d log tail / da``."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    upper = _sp().gammainc(a, x) > 0.5
    h = 1e-3 * np.minimum(a, 1.0) * (10.0 if second else 1.0)
    g0 = _log_tail(a, x, upper)

    def diff(step):
        gp, gm = _log_tail(a + step, x, upper), _log_tail(a - step, x, upper)
        return (gp - gm) / (2 * step), (gp - 2 * g0 + gm) / step ** 2

    d1h, d2h = diff(h)
    d1, d2 = diff(h / 2)
    sign = np.where(upper, -1.0, 1.0)
    return np.exp(g0), sign, (4 * d1 - d1h) / 3, (4 * d2 - d2h) / 3


def _density(a, x):
    """The Gamma(a, 1) density at ``x`` in tapegrad ops (``dP/dx``)."""
    return O.exp(O.xlogy(a - 1, x) - x - lgamma(a))


def vals(x):
    """x's values as a NumPy array: a CUDA tensor's copied to the host, where SciPy and the
    generator run (the results go back to the device: ``_result``)."""
    return np.asarray(host_array(_t(x)._data))


def _result(values, like):
    return creation.tensor(np.asarray(values).astype(like.dtype), device=like.device)


class _GammaIncDaa(Function):
    """``d²P/da²`` (a, x): a second difference, not differentiable again."""

    @staticmethod
    def forward(ctx, a, x):
        tail, sign, d1, d2 = _tail_derivatives(vals(a), vals(x), second=True)
        return _result(sign * tail * (d2 + d1 * d1), a)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("the third derivative of gammainc in its first argument (the "
                           "concentration) is not implemented")


class _GammaIncDa(Function):
    """``dP/da`` (a, x) of the regularized lower incomplete gamma function."""

    @staticmethod
    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        tail, sign, d1, _ = _tail_derivatives(vals(a), vals(x))
        return _result(sign * tail * d1, a)

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        ga = g * _GammaIncDaa.apply(a, x) if ctx.needs_input_grad[0] else None
        gx = g * _density(a, x) * (O.log(x) - digamma(a)) if ctx.needs_input_grad[1] else None
        return ga, gx


class _GammaInc(Function):
    @staticmethod
    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        return _result(_sp().gammainc(vals(a), vals(x)), a)

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        ga = g * _GammaIncDa.apply(a, x) if ctx.needs_input_grad[0] else None
        gx = g * _density(a, x) if ctx.needs_input_grad[1] else None
        return ga, gx


def gammainc(a, x):
    """``P(a, x)``, differentiable in ``x`` (exactly) and in ``a`` (PyTorch's raises there)."""
    from .. import broadcast_tensors

    a, x = broadcast_tensors(a, x)
    return _GammaInc.apply(a, x)


def standard_gamma_grad(a, x):
    """``dx/da`` of a Gamma(a, 1) draw ``x`` held at its quantile (differentiable)."""
    return -_GammaIncDa.apply(a, x) / _density(a, x)


class _StandardGamma(Function):
    @staticmethod
    def forward(ctx, a):
        arr = vals(a)
        draws = creation.draws().standard_gamma(arr.astype(np.float64))
        x = _result(np.maximum(draws, np.finfo(arr.dtype).tiny), a)  # (never 0: as PyTorch)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        return g * standard_gamma_grad(a, x)


def standard_gamma(concentration):
    """Gamma(concentration, 1) draws of ``concentration``'s shape, reparameterised."""
    return _StandardGamma.apply(concentration)
