"""Activations of CPU real float tensors as one elementwise record each, with their constants
in the tape's side table, as PyTorch records them (``LeakyReluBackward0``, ``HardtanhBackward0``,
``EluBackward0``, ``LogSigmoidBackward0``, ``SoftplusBackward0``, ``SiluBackward0``,
``GeluBackward0``), instead of the compares, products, clamps and selects of their
compositions (logsigmoid was twelve records, ~125 µs a call on 256 elements; PyTorch's one
kernel ~5). The values are PyTorch's formulas: ``x > 0 ? x : x * slope``, ``x`` clamped,
``x > 0 ? x : alpha * expm1(x)``, ``min(x, 0) - log1p(exp(-|x|))``, ``beta x > threshold ? x :
log1p(exp(beta x)) / beta``, ``x / (1 + exp(-x))``, ``x / 2 (1 + erf(x / sqrt 2))`` and its tanh
approximation; the derivatives PyTorch's:

* leaky_relu: ``g`` where ``x > 0``, else ``g * slope`` (a NaN input takes the slope);
* hardtanh: ``g`` strictly inside ``(min, max)``, else 0, also at NaN (PyTorch's
  vectorised loop; its scalar loop, for tensors of a few elements, passes ``g`` at NaN).
* elu: ``g * alpha * exp(x)`` where ``x <= 0``, else ``g`` (NaN takes ``g``), PyTorch's form:
  from ``exp(x)``, not from the output (``out + alpha`` cancels for very negative ``x``).

* logsigmoid: ``g sigmoid(-x)``; softplus: ``g`` where ``beta x > threshold``, else
  ``g sigmoid(beta x)``; silu: ``g s (1 + x (1 - s))``, ``s = sigmoid(x)``; gelu: ``g (Phi(x) +
  x phi(x))``, and the tanh form's derivative term by term as PyTorch writes it. ``sigmoid`` in
  these rules is overflow-free in both directions, so their re-taped second derivatives are
  finite wherever PyTorch's are (a ``z / (1 + z)`` with ``z = exp(x)`` would give inf / inf in
  the branch a select discards, and 0 * nan in its gradient).

leaky_relu's and hardtanh's are selects of ``g`` (zero second derivative); the others' second
derivatives are their re-taped formulas'. CUDA tensors, vmap's batched tensors and
``tg.compile``'s tracer take the compositions; complex values are refused, as PyTorch refuses
them (``fusable`` given the activation's name, ``real_input``).
"""

import math

import numpy as np

from .. import vecmath
from .._float_warnings import quiet
from ..grad_mode import is_grad_enabled
from ..registry import Op, defop
from ..tensor import Tensor, _make
from . import record as R
from .complex_refusals import refuse
from .elementwise import _const_op

# opcodes as plain ints for the record paths (an enum member costs ~0.12 µs to read)
_LEAKY_RELU, _HARDTANH, _ELU = int(Op.LEAKY_RELU), int(Op.HARDTANH), int(Op.ELU)
_LOGSIGMOID, _SOFTPLUS, _SILU = int(Op.LOGSIGMOID), int(Op.SOFTPLUS), int(Op.SILU)
_GELU, _GELU_TANH, _BCE_LOGITS = int(Op.GELU), int(Op.GELU_TANH), int(Op.BCE_LOGITS)

defop(Op.LEAKY_RELU, "_leaky_relu_c", "unary", "LeakyReluBackward0", saves=("x",),
      dx="where(x > 0.0, g, g * c0)", nconst=1)
defop(Op.HARDTANH, "_hardtanh_c", "unary", "HardtanhBackward0", saves=("x",),
      dx="where((x > c0) & (x < c1), g, 0.0)", nconst=2)
defop(Op.ELU, "_elu_c", "unary", "EluBackward0", saves=("x",),
      dx="where(x <= 0.0, g * c0 * exp(x), g)", nconst=1)
defop(Op.LOGSIGMOID, "_logsigmoid_c", "unary", "LogSigmoidBackward0", saves=("x",),
      dx="g * sigmoid(-x)")
defop(Op.SOFTPLUS, "_softplus_c", "unary", "SoftplusBackward0", saves=("x",),
      dx="where(x * c0 > c1, g, g * sigmoid(x * c0))", nconst=2)
defop(Op.SILU, "_silu_c", "unary", "SiluBackward0", saves=("x",),
      dx="g * sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x)))")
# Phi(x) = (1 + erf(x / sqrt 2)) / 2 and phi(x) = exp(-x^2 / 2) / sqrt(2 pi), PyTorch's constants
defop(Op.GELU, "_gelu_c", "unary", "GeluBackward0", saves=("x",),
      dx="g * (0.5 * (1.0 + erf(x * 0.7071067811865476)) "
         "+ x * (0.3989422804014327 * exp(x * x * -0.5)))")
# binary_cross_entropy_with_logits per element, ``(1 - y) x - logsigmoid(x)`` of logits x and
# targets y, as PyTorch's BinaryCrossEntropyWithLogitsBackward0 differentiates it
defop(Op.BCE_LOGITS, "_bce_with_logits_c", "binary", "BinaryCrossEntropyWithLogitsBackward0",
      saves=("x", "y"), dx="g * (sigmoid(x) - y)", dy="-g * x")
# t = tanh(k (x + 0.044715 x^3)), k = sqrt(2 / pi): d/dx of x (1 + t) / 2
defop(Op.GELU_TANH, "_gelu_tanh_c", "unary", "GeluBackward0", saves=("x",),
      dx="g * (0.5 * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * (x * x * x)))) "
         "+ 0.5 * x * (1.0 - tanh(0.7978845608028654 * (x + 0.044715 * (x * x * x))) "
         "* tanh(0.7978845608028654 * (x + 0.044715 * (x * x * x)))) "
         "* (0.7978845608028654 * (1.0 + 3.0 * 0.044715 * (x * x))))")


def fusable(x, activation=None):
    """Whether ``x`` takes the one-record form: a plain CPU tensor of real floats, outside
    ``tg.compile``'s tracer (which observes the composition's ops). Given the name of the
    ``activation`` asking, a complex ``x`` gets PyTorch's refusal instead (the compositions'
    compares and clamps would order complex values lexicographically, as NumPy does)."""
    if type(x) is not Tensor:  # (first: a batched tensor's value must not be read)
        return False
    d = x._data
    if not (type(d) is float or (type(d) is np.ndarray and d.dtype.kind == "f")):
        if activation is not None:
            refuse(activation, x.dtype, x.requires_grad and is_grad_enabled())
        return False
    return not R.compile_tracing()


def real_input(x, activation):
    """``x``, refused with PyTorch's error for ``activation`` if complex: the check of the
    activations that have no one-record form, so no ``fusable`` to make it."""
    refuse(activation, x.dtype)
    return x


FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))  # what the compiled loops take


def fusable_array(x):
    """``fusable`` with a float32/float64 NumPy array value (not a float, not float16): what
    the one-record forms with compiled loops or array arithmetic take."""
    return fusable(x) and type(x._data) is np.ndarray and x._data.dtype in FLOAT_DTYPES


def _in_dtype(d, c):
    """The constant ``c`` as the value the forward used: rounded to a float32 input's dtype (a
    Python number is "weak" in NumPy and PyTorch), so that the sweep, which computes in
    float64, compares and multiplies as PyTorch's float32 loop does."""
    return float(np.float32(c)) if type(d) is np.ndarray and d.dtype == np.float32 else float(c)


def leaky_relu(x, slope):
    d = x._data
    slope = _in_dtype(d, slope)
    if type(d) is float:
        r = d if d > 0 else d * slope
    else:
        r = vecmath.leaky_relu(d, slope)
    if x._rg and R._grad_on():
        return _const_op(_LEAKY_RELU, x, r, slope, save_x=True)
    return _make(r)


def elu(x, alpha):
    """``alpha * expm1(min(x, 0))`` where ``x <= 0``, else ``x``: the composition's values (its
    clamp, ``expm1``, product and select)."""
    d = x._data
    alpha = _in_dtype(d, alpha)
    if type(d) is float:
        r = alpha * math.expm1(d) if d <= 0 else d
    else:
        r = vecmath.where(d <= 0, np.expm1(np.clip(d, -np.inf, 0.0).astype(d.dtype, copy=False))
                          * alpha, d)
    if x._rg and R._grad_on():
        return _const_op(_ELU, x, r, alpha, save_x=True)
    return _make(r)


def hardtanh(x, lo, hi):
    d = x._data
    lo, hi = _in_dtype(d, lo), _in_dtype(d, hi)
    if type(d) is float:
        r = d if d != d else (lo if d < lo else hi if d > hi else d)
    else:
        r = np.clip(d, lo, hi).astype(d.dtype, copy=False)
    if x._rg and R._grad_on():
        return _const_op(_HARDTANH, x, r, lo, hi, save_x=True)
    return _make(r)


def _smooth(code, x, r, c0=None, c1=None):
    """Record smooth activation ``code`` (saving ``x``) or return ``r`` without history."""
    if x._rg and R._grad_on():
        return _const_op(code, x, r, c0, c1, save_x=True)
    return _make(r)


def logsigmoid(x):
    """``min(x, 0) - log1p(exp(-|x|))``, PyTorch's form: no overflow on either side."""
    d = x._data
    if type(d) is float:
        r = min(d, 0.0) - math.log1p(math.exp(-abs(d)))
    else:
        r = np.minimum(d, 0) - np.log1p(np.exp(-np.abs(d)))
    return _smooth(_LOGSIGMOID, x, r)


def softplus(x, beta, threshold):
    """``x`` where ``beta x > threshold``, else ``log1p(exp(beta x)) / beta``."""
    d = x._data
    beta, threshold = _in_dtype(d, beta), _in_dtype(d, threshold)
    if type(d) is float:
        bx = d * beta
        if bx > threshold:
            r = d
        else:
            try:
                r = math.log1p(math.exp(bx)) / beta
            except OverflowError:  # (a threshold above exp's range)
                r = math.inf
    else:
        try:
            r = _softplus_values(d, beta, threshold)
        except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
            r = quiet(_softplus_values, d, beta, threshold)
    return _smooth(_SOFTPLUS, x, r, beta, threshold)


def _softplus_values(d, beta, threshold):
    bx = d * beta if beta != 1.0 else d
    # exp of at most the threshold: the select below discards the rest, so they raise no
    # overflow warning (only a threshold past float32's exp range can still overflow)
    if threshold < 88.0:
        soft = np.log1p(np.exp(np.minimum(bx, threshold)))
    else:
        with np.errstate(over="ignore"):
            soft = np.log1p(np.exp(np.minimum(bx, threshold)))
    if beta != 1.0:
        soft /= beta
    return vecmath.where(bx > threshold, d, soft)


def silu(x):
    """``x / (1 + exp(-x))``, PyTorch's form."""
    d = x._data
    if type(d) is float:
        try:
            r = d / (1.0 + math.exp(-d))
        except OverflowError:  # exp(-x) past float64 (x below -709): x / inf is -0.0
            r = d / math.inf
    else:
        with np.errstate(over="ignore", invalid="ignore"):  # (exp(-x) is inf below -709:
            # x / inf is -0, and nan at -inf, as PyTorch's)
            r = vecmath.silu(d)
    return _smooth(_SILU, x, r)


def gelu(x, approximate):
    """``x / 2 (1 + erf(x / sqrt 2))`` or ``x / 2 (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))``,
    PyTorch's forms."""
    d = x._data
    if approximate == "tanh":
        if type(d) is float:
            r = 0.5 * d * (1.0 + math.tanh(0.7978845608028654 * (d + 0.044715 * (d * d * d))))
        else:
            with np.errstate(invalid="ignore", over="ignore"):  # (-inf * 0 at -inf: nan)
                r = 0.5 * d * (1.0 + np.tanh(0.7978845608028654 * (d + 0.044715 * (d * d * d))))
        return _smooth(_GELU_TANH, x, r)
    if type(d) is float:
        r = d * 0.5 * (1.0 + math.erf(d * 0.7071067811865476))
    else:
        # half precision is computed in float32 and rounded back, as PyTorch's opmath (erf's
        # kernels take float32 and float64 only: a float16 array came back float64)
        e = d.astype(np.float32) if d.dtype.itemsize < 4 else d
        with np.errstate(invalid="ignore"):  # (-inf * 0 at -inf: nan, as PyTorch's)
            r = (e * 0.5 * (1.0 + vecmath.erf(e * 0.7071067811865476))).astype(d.dtype,
                                                                                copy=False)
    return _smooth(_GELU, x, r)


def bce_with_logits(x, y):
    """``(1 - y) x - logsigmoid(x)`` of CPU arrays of one shape and dtype (``x`` and ``y`` not
    views), one record when either requires grad; None where the composition must do it."""
    if type(x) is not Tensor or type(y) is not Tensor:  # (first: a batched tensor's value
        return None  # must not be read, or vmap loops per example)
    xd, yd = x._data, y._data
    if not (type(xd) is np.ndarray and type(yd) is np.ndarray and xd.dtype.kind == "f" and
            xd.dtype == yd.dtype and xd.shape == yd.shape and x._base is None and
            y._base is None and fusable(x)):
        return None
    with np.errstate(all="ignore"):  # (inf - inf at infinite logits: nan, as PyTorch's)
        r = (1 - yd) * xd - (np.minimum(xd, 0) - np.log1p(np.exp(-np.abs(xd))))
    if (x._rg or y._rg) and R._grad_on():
        return R.result_arrays(r, _BCE_LOGITS, x, y, True, True, False)
    return _make(r)
