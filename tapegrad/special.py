"""``tapegrad.special``: PyTorch's ``torch.special`` names for the special functions tapegrad
has, differentiable to any order (each is an op or a composition of ops).

Example:
    >>> import tapegrad as tg
    >>> x = tg.tensor([0.0, 1.0], requires_grad=True)
    >>> tg.special.ndtr(x).sum().backward()
    >>> x.grad
    tensor([0.3989, 0.2420])
"""

import math

import numpy as np

from . import ops as _ops
from .device import DeviceArray
from .ops.complex_refusals import refuse, refuse_pair
from .ops.cuda_ops import same_device
from .ops.node_names import name_inputs
from .ops.numpy_rules import tensors_promoted
from .ops import xlogy_op as _xlogy_op
from . import torch_names as _host  # (the names with their CUDA round trip: THROUGH_HOST)
from .torch_names import elementwise as _names
from .torch_names import igamma as gammainc, igammac as gammaincc  # (CUDA: via the host)
from .torch_names._common import vals
from .torch_names._common import floating as _floating
from .torch_names.shapes import broadcast_tensors as _broadcast_tensors

__all__ = ["digamma", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "log1p",
           "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "polygamma", "psi",
           "round", "sinc", "softmax", "xlogy", "xlog1py", "entr", "ndtri", "log_ndtr", "erfcx",
           "i0", "i0e", "i1", "i1e", "gammainc", "gammaincc", "zeta", "bessel_j0", "bessel_j1",
           "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "spherical_bessel_j0"]

digamma = psi = _host.digamma
erf, erfc, erfinv = _ops.erf, _ops.erfc, _host.erfinv
exp2, sinc, logit = _names.exp2, _host.sinc, _host.logit
expit = _ops.sigmoid
expm1, log1p = _ops.expm1, _ops.log1p
gammaln, polygamma = _host.lgamma, _host.polygamma
round = _names.round  # noqa: A001 (PyTorch's name)
xlogy = _ops.xlogy
xlog1py = _xlogy_op.xlog1py
logsumexp = _ops.logsumexp
_SQRT_HALF = math.sqrt(0.5)


def softmax(input, dim, dtype=None):
    """``softmax`` along ``dim`` (``dtype``: the input cast first, as PyTorch)."""
    x = _ops.record.as_tensor(input)
    return _ops.softmax(x if dtype is None else x.to(dtype), dim)


def log_softmax(input, dim, dtype=None):
    x = _ops.record.as_tensor(input)
    return _ops.log_softmax(x if dtype is None else x.to(dtype), dim)


def ndtr(input):
    """The standard normal distribution function ``(1 + erf(x / sqrt 2)) / 2``, computed as
    ``erfc(-x / sqrt 2) / 2`` (accurate in the lower tail, as PyTorch's)."""
    x = _floating(input)
    return _ops.erfc(x * -_SQRT_HALF) * 0.5


def multigammaln(input, p):
    """The log of the multivariate gamma function of dimension ``p``:
    ``p (p - 1) / 4 log(pi) + sum_j lgamma(x - j / 2)``, ``j = 0 .. p - 1``."""
    x = _floating(input)
    p = int(p)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    # (the torch name's host round trip only for CUDA values: vmap batches the plain op)
    lgamma = _host.lgamma if x.is_cuda else _names.lgamma
    total = lgamma(x)
    for j in range(1, p):
        total = total + lgamma(x - j / 2.0)
    return name_inputs(total + p * (p - 1) / 4.0 * math.log(math.pi), "MvlgammaBackward0", x)


def entr(input):
    """``-x log x`` for x > 0, 0 at 0, -inf below; its derivative ``-(log x + 1)`` (inf at 0,
    NaN below, as PyTorch's)."""
    return _scipy_valued("entr").apply(_floating(input))


_SQRT_2PI = math.sqrt(2 * math.pi)


# i1(x) / x = sum_k (x^2/4)^k / (2 k! (k+1)!): the terms k = 0..9 (beyond, under 1e-17 for
# |x| < 1)
_I1_OVER_X = [0.5 / (math.factorial(k) * math.factorial(k + 1)) for k in range(10)]


def _i1_over_x(x, out, scaled, alternating=False):
    """``i1(x) / x`` (``i1e(x) / x`` if ``scaled``, ``j1(x) / x`` if ``alternating``; ``out``:
    that function's value), by its series where |x| < 1: the quotient's own derivatives cancel
    catastrophically there (``i1''`` came out 2e284 at x = 1e-300, 24576 at 1e-20) and divide
    by zero at 0. ``j1``'s series is ``i1``'s with alternating signs: z = -x^2/4."""
    small = _ops.abs(x) < 1.0
    z = _ops.where(small, x, 0.0)  # (the series stays finite where it is not taken)
    z = z * z * (-0.25 if alternating else 0.25)
    series = _I1_OVER_X[-1]
    for c in reversed(_I1_OVER_X[:-1]):
        series = series * z + c
    if scaled:
        series = series * _ops.exp(-_ops.abs(x))
    return _ops.where(small, series, out / _ops.where(small, 1.0, x))


def _derivatives():
    """Each SciPy-valued function's derivative in tapegrad ops (``x``; ``out``: its value), so
    that the derivative itself differentiates."""
    return {
        "entr": lambda x, out: -(_ops.log(x) + 1.0),
        "ndtri": lambda x, out: _SQRT_2PI * _ops.exp(out * out * 0.5),
        "log_ndtr": lambda x, out: _ops.exp(-0.5 * x * x - out) / _SQRT_2PI,
        "erfcx": lambda x, out: 2.0 * x * out - 2.0 / math.sqrt(math.pi),
        "i0": lambda x, out: i1(x),
        "i0e": lambda x, out: i1e(x) - _ops.sign(x) * out,
        "i1": lambda x, out: i0(x) - _i1_over_x(x, out, False),
        "i1e": lambda x, out: i0e(x) - _ops.sign(x) * out - _i1_over_x(x, out, True),
        # Bessel functions of the first and second kinds and the modified ones of the second
        # (DLMF 10.6.2, 10.29.2): C0' = -C1, C1' = C0 - C1/x; K0' = -K1, K1' = -K0 - K1/x
        "j0": lambda x, out: -bessel_j1(x),
        "j1": lambda x, out: bessel_j0(x) - _i1_over_x(x, out, False, alternating=True),
        "y0": lambda x, out: -bessel_y1(x),
        "y1": lambda x, out: bessel_y0(x) - out / x,
        "k0": lambda x, out: -modified_bessel_k1(x),
        "k1": lambda x, out: -modified_bessel_k0(x) - out / x,
        "k0e": lambda x, out: out - scaled_modified_bessel_k1(x),  # (e^x K0)' = e^x (K0 - K1)
        "k1e": lambda x, out: out - scaled_modified_bessel_k0(x) - out / x,
    }


_FUNCTIONS = {}


def _scipy_valued(name, torch_name=None):
    """An autograd Function with SciPy's ``special.<name>`` as its value (refusing complex
    input as PyTorch's ``torch_name`` does)."""
    key = torch_name or name
    f = _FUNCTIONS.get(key)
    if f is not None:
        return f
    from .autograd.function import Function
    from .torch_names.elementwise import _scipy
    from .tensor import _make, _wrap

    derivative = _derivatives()[name]

    class ScipyValued(Function):
        @staticmethod
        def forward(ctx, x):
            # (no complex derivative here, and PyTorch has no kernel)
            refuse(torch_name or name, x.dtype)
            on_device = type(x._data) is DeviceArray  # (values from a host copy, then back;
            with np.errstate(all="ignore"):  # the derivative's ops run on the device)
                v = np.asarray(_scipy(name)(vals(x.cpu() if on_device else x))).astype(
                    x.dtype, copy=False)
            out = _make(_wrap(v))
            ctx.save_for_backward(x)
            return out.cuda() if on_device else out

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * derivative(x, ScipyValued.apply(x))

    ScipyValued.__name__ = name
    ScipyValued._backward_name = "I0Backward0" if key == "i0" else \
        f"Special{key.title().replace('_', '')}Backward0"  # (PyTorch's: SpecialI0EBackward0)
    _FUNCTIONS[key] = ScipyValued
    return ScipyValued


def ndtri(input):
    """The inverse of ``ndtr``: the normal quantile function."""
    return _scipy_valued("ndtri").apply(_floating(input))


def log_ndtr(input):
    """``log(ndtr(x))``, accurate in the far lower tail."""
    return _scipy_valued("log_ndtr").apply(_floating(input))


def erfcx(input):
    """The scaled complementary error function ``exp(x²) erfc(x)``."""
    return _scipy_valued("erfcx").apply(_floating(input))


def i0(input):
    """The modified Bessel function of the first kind, order 0."""
    return _scipy_valued("i0").apply(_floating(input))


def i0e(input):
    """``exp(-|x|) i0(x)``."""
    return _scipy_valued("i0e").apply(_floating(input))


def i1(input):
    """The modified Bessel function of the first kind, order 1."""
    return _scipy_valued("i1").apply(_floating(input))


def i1e(input):
    """``exp(-|x|) i1(x)``."""
    return _scipy_valued("i1e").apply(_floating(input))


# torch.special's Bessel functions, SciPy's values (PyTorch's agree to ~1e-7 relative:
# bessel_j1(-7.5) is off by 8e-8 there). PyTorch gives them no derivative (its results do not
# require grad); here they differentiate to any order.
def bessel_j0(input):
    """The Bessel function of the first kind, order 0."""
    return _scipy_valued("j0", "bessel_j0").apply(_floating(input))


def bessel_j1(input):
    """The Bessel function of the first kind, order 1."""
    return _scipy_valued("j1", "bessel_j1").apply(_floating(input))


def bessel_y0(input):
    """The Bessel function of the second kind, order 0 (NaN below 0, -inf at 0)."""
    return _scipy_valued("y0", "bessel_y0").apply(_floating(input))


def bessel_y1(input):
    """The Bessel function of the second kind, order 1 (NaN below 0, -inf at 0)."""
    return _scipy_valued("y1", "bessel_y1").apply(_floating(input))


def modified_bessel_i0(input):
    """The modified Bessel function of the first kind, order 0 (``i0``)."""
    return _scipy_valued("i0", "modified_bessel_i0").apply(_floating(input))


def modified_bessel_i1(input):
    """The modified Bessel function of the first kind, order 1 (``i1``)."""
    return _scipy_valued("i1", "modified_bessel_i1").apply(_floating(input))


def modified_bessel_k0(input):
    """The modified Bessel function of the second kind, order 0."""
    return _scipy_valued("k0", "modified_bessel_k0").apply(_floating(input))


def modified_bessel_k1(input):
    """The modified Bessel function of the second kind, order 1."""
    return _scipy_valued("k1", "modified_bessel_k1").apply(_floating(input))


def scaled_modified_bessel_k0(input):
    """``exp(x) K0(x)``."""
    return _scipy_valued("k0e", "scaled_modified_bessel_k0").apply(_floating(input))


def scaled_modified_bessel_k1(input):
    """``exp(x) K1(x)``."""
    return _scipy_valued("k1e", "scaled_modified_bessel_k1").apply(_floating(input))


def spherical_bessel_j0(input):
    """The spherical Bessel function of the first kind, order 0: ``sin(x) / x``, 1 at 0."""
    x = _floating(input)
    refuse("spherical_bessel_j0", x.dtype)
    small = _ops.abs(x) < 0.5  # (sinc's own care at 0; sin(x) / x exactly elsewhere)
    sinc = _host.sinc if x.is_cuda else _names.sinc  # (as multigammaln)
    return _ops.where(small, sinc(x * (1.0 / math.pi)),
                      _ops.sin(x) / _ops.where(small, 1.0, x))


_ZETA = []


def _zeta_function():
    """Hurwitz's zeta as an autograd Function: SciPy's values; in ``q`` the derivative
    ``-x zeta(x + 1, q)`` (itself differentiable in ``q``), in ``x`` PyTorch's
    NotImplementedError at backward."""
    if _ZETA:
        return _ZETA[0]
    from .autograd.function import Function
    from .tensor import _make, _wrap
    from .torch_names.elementwise import _scipy

    class Zeta(Function):
        @staticmethod
        def forward(ctx, x, q):
            on_device = type(x._data) is DeviceArray  # (values from host copies, then back)
            with np.errstate(all="ignore"):
                v = np.asarray(_scipy("zeta")(vals(x.cpu()), vals(q.cpu()))).astype(
                    x.dtype, copy=False)
            ctx.save_for_backward(x, q)
            return _make(_wrap(v)).cuda() if on_device else _make(_wrap(v))

        @staticmethod
        def backward(ctx, g):
            if ctx.needs_input_grad[0]:
                raise NotImplementedError("the derivative for 'zeta' is not implemented.")
            x, q = ctx.saved_tensors
            # (x itself, not detached: differentiating this again in x raises as PyTorch)
            return None, g * -x * Zeta.apply(x + 1.0, q)

    Zeta._backward_name = "SpecialZetaBackward0"
    _ZETA.append(Zeta)
    return Zeta


def zeta(input, other):
    """Hurwitz's zeta function ``sum_k (k + other)^-input``, differentiable in ``other``."""
    refuse_pair("zeta", input, other)
    x, q = tensors_promoted(input, other)
    x, q = _broadcast_tensors(_floating(x), _floating(q))
    same_device(x, q)
    return _zeta_function().apply(x, q)
