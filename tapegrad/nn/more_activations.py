"""More of ``torch.nn.functional``'s activations, composed of tapegrad ops (re-exported by
``nn.functional``). Where an activation is piecewise, the branch taken at a kink, at +-inf
and at NaN is PyTorch's, so values and gradients agree there too."""

import warnings

import numpy as np

from .. import ops as O
from ..ops import activations as _activations
from ..ops.backward_ops import link as _node
from ..ops.record import as_tensor as _t
from .. import tensor as _tensor_mod
from ..grad_mode import no_grad as _no_grad
from ..ops.one_op import untracked as _untracked

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _constant(x, f):
    """``f`` of ``x``'s values (tapegrad ops on ``x`` detached, so ``vmap`` batches it and the
    value stays on ``x``'s device) as a tensor without history: the value of a branch whose
    gradient is 0. (NumPy's warnings off: the branch's values at inf are not selected.)"""
    with np.errstate(all="ignore"):
        return f(x.detach())


def _zero_or_nan(v):
    return O.abs(v - v)  # +0, or NaN (positive, as NumPy's np.nan) where v is NaN


# PyTorch's hardsigmoid backward multiplies by the float literal 1.0f / 6.0f
_ONE_SIXTH_F32 = float(np.float32(1.0) / np.float32(6.0))


def logsigmoid(input):
    """``log(sigmoid(x))`` without overflow on either side."""
    x = _t(input)
    if _activations.fusable(x, "logsigmoid"):  # one record (ops/activations.py)
        return _activations.logsigmoid(x)
    # where, not clamp: a nan input keeps its nan gradient, as PyTorch's
    pos = 0.0 - O.log1p(O.exp(-O.where(x < 0, 0.0, x)))  # (+0, not -0, at +inf)
    xn = O.where(x > 0, 0.0, x)
    neg = xn - O.log1p(O.exp(xn))
    return O.where(x >= 0, pos, neg)


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``; the gradient (PyTorch's float32 ``1/6``) strictly between -3
    and 3."""
    if _tensor_mod._inference_used and _untracked(input):  # (one op in PyTorch)
        with _no_grad():
            return hardsigmoid(input, inplace)
    x = _activations.real_input(_t(input), "hardsigmoid")
    inside = (x > -3.0) & (x < 3.0)
    lin = (x + 3.0) * _ONE_SIXTH_F32  # + the value's correction to (x + 3) / 6 exactly:
    lin = lin + _constant(x, lambda v: (v + 3.0) / 6.0 - (v + 3.0) * _ONE_SIXTH_F32)
    return _node(O.where(inside, lin, _constant(x, lambda v: O.clamp(v + 3.0, 0.0, 6.0) / 6.0)),
                 "HardsigmoidBackward0")


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    if _tensor_mod._inference_used and _untracked(input):  # (one op in PyTorch)
        with _no_grad():
            return hardswish(input, inplace)
    x = _activations.real_input(_t(input), "hardswish")
    middle = (x > -3.0) & (x < 3.0)  # PyTorch's branches: the gradient is 0 at -3, 1 at 3
    xm = O.where(middle, x, 0.0)  # the quadratic only sees its own range: no inf * 0
    low = _constant(x, lambda v: v * O.clamp(v + 3.0, 0.0, 6.0) / 6.0)  # 0 (NaN at -inf)
    return O.where(x <= -3.0, low, O.where(middle, xm * (xm + 3.0) / 6.0, x))


def _check_lambd(x, lambd):
    if lambd < 0:
        name = {"float64": "Double", "float32": "Float", "float16": "Half"}.get(str(x.dtype))
        raise RuntimeError(f"lambda must be in range [0, {np.finfo(x.dtype).max:g}] for input "
                           f"dtype {name}, but found {lambd:g}")


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between."""
    if _tensor_mod._inference_used and _untracked(input):  # (one op in PyTorch)
        with _no_grad():
            return softshrink(input, lambd)
    x = _activations.real_input(_t(input), "softshrink")
    _check_lambd(x, lambd)
    # (each op below is one node in PyTorch, whose derivative reads x: ``_node`` links it)
    return _node(O.where(x > lambd, x - lambd,
                         O.where(x < -lambd, x + lambd, _constant(x, _zero_or_nan))),
                 "SoftshrinkBackward0")


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, 0 elsewhere."""
    if _tensor_mod._inference_used and _untracked(input):  # (one op in PyTorch)
        with _no_grad():
            return hardshrink(input, lambd)
    x = _activations.real_input(_t(input), "hardshrink")
    return _node(O.where((x > lambd) | (x < -lambd), x, _constant(x, _zero_or_nan)),
                 "HardshrinkBackward0")


def threshold(input, threshold, value, inplace=False):
    """``value`` where ``x <= threshold``, ``x`` elsewhere (NaN passes through)."""
    x = _activations.real_input(_t(input), "threshold")
    if _tensor_mod._inference_used and _untracked(x):  # (one op in PyTorch)
        with _no_grad():
            return O.where(x <= threshold, value, x)
    return _node(O.where(x <= threshold, value, x), "ThresholdBackward0")


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalizing constants."""
    return celu(input, 1.0, alpha_out=_SELU_ALPHA) * _SELU_SCALE


def celu(input, alpha=1.0, inplace=False, *, alpha_out=None):
    """``x`` above 0, ``alpha * (exp(x / alpha) - 1)`` below (NaN takes the identity branch:
    gradient 1, as PyTorch's). ``alpha_out`` (internal: ``selu``) scales the negative side
    instead of ``alpha``."""
    if _tensor_mod._inference_used and _untracked(input):  # (one op in PyTorch)
        with _no_grad():
            return celu(input, alpha, inplace, alpha_out=alpha_out)
    x = _t(input)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    if _activations.fusable(x, "celu") and alpha == 1:  # ELU's one record (and its derivatives)
        return _activations.elu(x, 1.0 if alpha_out is None else alpha_out)
    neg = O.expm1(O.clamp(x, max=0.0) / alpha) if alpha != 1 else O.expm1(O.clamp(x, max=0.0))
    return O.where(x <= 0, neg * (alpha if alpha_out is None else alpha_out), x)


def mish(input, inplace=False):
    """``x * tanh(softplus(x))`` (softplus with PyTorch's threshold 20)."""
    if _tensor_mod._inference_used and _untracked(input):  # (one op in PyTorch)
        with _no_grad():
            return mish(input, inplace)
    x = _activations.real_input(_t(input), "mish")
    soft = O.where(x > 20.0, x, O.log1p(O.exp(O.clamp(x, max=20.0))))
    return x * O.tanh(soft)


def softsign(input):
    """``x / (1 + |x|)``."""
    x = _t(input)
    return x / (O.abs(x) + 1.0)


def tanhshrink(input):
    """``x - tanh(x)``."""
    x = _t(input)
    return x - O.tanh(x)


def softmax_dim(name, ndim, stacklevel=4):
    """PyTorch's deprecated implicit ``dim`` of softmax-like functions, with its warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x, dim)``."""
    x = _t(input)
    if dim is None:
        dim = softmax_dim("softmin", x.ndim)
    return O.softmax(-x, dim, dtype=dtype)


def glu(input, dim=-1):
    """The gated linear unit: ``a * sigmoid(b)`` for the halves ``a, b`` of ``dim``."""
    x = _t(input)
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = x.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % x.ndim} is "
                           f"size {n}")
    _activations.real_input(x, "glu")
    a, b = O.chunk(x, 2, dim)
    return a * O.sigmoid(b)


def prelu(input, weight):
    """``x`` above 0, ``weight * x`` elsewhere (``weight``: one value, or one per channel,
    dim 1)."""
    if _tensor_mod._inference_used and _untracked(input, weight):  # (one op in PyTorch)
        with _no_grad():
            return prelu(input, weight)
    x, w = _t(input), _t(weight)
    if w.numel() != 1:
        if x.ndim < 2 or x.shape[1] != w.numel():
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {w.numel()} and channel size = "
                               f"{x.shape[1] if x.ndim >= 2 else 1}.")
        w = O.reshape(w, (w.numel(),) + (1,) * (x.ndim - 2))
    elif w.ndim:
        w = O.reshape(w, ())
    _activations.real_input(x, "prelu")
    return _node(O.where(x > 0, x, w * x), "PreluKernelBackward0")


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """A sample of the Gumbel-softmax (concrete) distribution: ``softmax((logits + g) / tau)``
    with Gumbel noise ``g``; ``hard``: the one-hot of its largest entry, with the soft
    sample's gradient (straight through)."""
    from .. import creation

    x = _t(logits)
    u = creation.draws().standard_exponential(x.shape)
    gumbels = (x - O.log(creation.tensor(u.astype(x.dtype), device=x.device))) / tau
    y = O.softmax(gumbels, dim)
    if not hard:
        return y
    values = y.detach().cpu().numpy()
    one_hot = (np.arange(values.shape[dim]).reshape(
        [-1 if d == dim % values.ndim else 1 for d in range(values.ndim)]) ==
        np.expand_dims(values.argmax(dim), dim)).astype(values.dtype)
    return creation.tensor(one_hot, device=x.device) - y.detach() + y


__all__ = ["logsigmoid", "hardsigmoid", "hardswish", "softshrink", "hardshrink", "threshold",
           "selu", "celu", "mish", "softsign", "tanhshrink", "softmin", "glu", "prelu",
           "gumbel_softmax", "rrelu"]


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: in training each element at or below 0 is scaled by a slope drawn
    from U(lower, upper); in evaluation by their mean, as ``leaky_relu``."""
    from .. import creation
    from . import functional as F

    x = _t(input)
    if not training:
        return F.leaky_relu(x, (lower + upper) / 2)
    _activations.real_input(x, "rrelu.training")
    v = x.detach().cpu().numpy()
    slopes = creation.draws().uniform(lower, upper, v.shape)
    noise = np.where(v <= 0, slopes, 1.0).astype(x.dtype)
    return _node(x * creation.tensor(noise, device=x.device), "RreluWithNoiseBackward0")
