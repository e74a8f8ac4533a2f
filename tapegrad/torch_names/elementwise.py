"""Elementwise functions under PyTorch's names and signatures.

Most reuse the NumPy-dispatch implementations (``numpy_dispatch``): one definition per op.
Piecewise-constant functions (floor, round, ...) give a zero gradient as PyTorch does; integer
inputs to floating functions (log2, reciprocal, sinc, ...) become the default float dtype.
"""

import math

import numpy as np

from .. import numpy_dispatch as _nd
from .. import ops as _ops
from ..numpy_dispatch import composites as _C
from ..numpy_dispatch import ufuncs as _U
from ..ops.complex_refusals import refuse, refuse_pair
from ..ops.elementwise import zero_grad_like
from ..ops.one_op import untracked as _untracked
from ..ops.out_variants import refuse_out
from ..ops.record import INFERENCE_SAVE_MSG
from ..ops.movement import _torch_name
from ..ops.node_names import name_inputs, name_record
from ..ops.numpy_rules import tensors_promoted, weak_scalar
from ..registry import Op
from ..ops.shapes import broadcast_shapes
from ..promotion import same_dtype
from ..tensor import Tensor, _make, _wrap
from ._common import _t, const, floating, vals
from .add_alpha import inference_only, recorded_operands
from .. import tensor as _tensor_mod
from ..grad_mode import no_grad as _no_grad

# ---- rounding and signs (piecewise constant: zero gradient) -----------------------------------


def _device_rounded(x, name, decimals=0):
    from ..ops.cuda_ops import rounded

    return rounded(x, name, decimals)


def _rounding(np_f, name):
    step = _nd._zero_grad(np_f)

    def fn(input):
        x = _t(input)
        refuse(name, x.dtype)
        if x.dtype.kind in "iub":
            return x.clone()
        return _device_rounded(x, name) if x.is_cuda else step(x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` (torch.{name}); the gradient is zero."
    return fn


floor = _rounding(np.floor, "floor")
ceil = _rounding(np.ceil, "ceil")
trunc = _rounding(np.trunc, "trunc")
fix = trunc


def round(input, *, decimals=None):  # noqa: A001 (torch.round)
    """Round half to even, to ``decimals`` places (torch.round); the gradient is zero. An
    integer CPU tensor is its own rounding without ``decimals``; with it, and for bools,
    PyTorch's CPU kernels refuse it."""
    x = _t(input)
    refuse("round" if not decimals else "round.decimals", x.dtype)
    if x.dtype.kind in "iub" and not x.is_cuda and (decimals is not None or x.dtype == bool):
        raise NotImplementedError(f'"round_{"cpu" if decimals else "vml_cpu"}" not implemented '
                                  f"for '{_torch_name(x.dtype)}'")
    decimals = decimals or 0
    if x.dtype.kind in "iub" and decimals >= 0:
        return x.clone()
    if x.is_cuda:
        return _device_rounded(x, "round", int(decimals))
    return _nd._zero_grad(np.round)(x, int(decimals))


def frac(input):
    """``x - trunc(x)``, with gradient 1 (torch.frac)."""
    if _tensor_mod._inference_used and _untracked(input):  # (one op in PyTorch)
        with _no_grad():
            return frac(input)
    x = _t(input)
    if x.dtype.kind not in "f":
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{_torch_name(x.dtype)}'")
    if x.is_cuda:
        return x - _device_rounded(x, "trunc")
    return x - _t(np.trunc(vals(x)))


def sgn(input):
    """``sign`` for real tensors, ``x / |x|`` (0 at 0) for complex ones (torch.sgn)."""
    x = _t(input)
    if x.dtype.kind != "c":
        return _ops.sign(x)
    a = _ops.abs(x)
    zero = vals(a) == 0
    safe = _ops.where(zero, const(1.0, a.dtype), a)
    return _ops.where(zero, const(0, x.dtype), x / safe)


def signbit(input):
    """Whether the sign bit is set (a bool tensor without history)."""
    v = vals(input)
    refuse("signbit", v.dtype)
    return const(np.signbit(v))


# ---- powers, logarithms, angles ----------------------------------------------------------------

def reciprocal(input):
    """``1 / x``; integers give the default float dtype."""
    return _nd._reciprocal(floating(input))


def log2(input):
    """Base-2 logarithm, correctly rounded (the op ``log2``); integers give the default float
    dtype."""
    return _ops.log2(floating(input))


def log10(input):
    """Base-10 logarithm, correctly rounded (the op ``log10``)."""
    return _ops.log10(floating(input))


def exp2(input):
    x = floating(input)
    if x._inference and inference_only(x):  # (one op in PyTorch, not its pow's out= variant)
        with _no_grad():
            return _nd._exp2(x)
    return name_record(_nd._exp2(x), Op.RPOWC, "Exp2Backward0")  # (recorded as 2 ** x)


def deg2rad(input):
    x = floating(input)
    refuse("deg2rad", x.dtype)
    if x._inference:  # (PyTorch's out= variant: refused for one requiring grad)
        refuse_out("deg2rad", x)
    return _U.radians(x)


def rad2deg(input):
    x = floating(input)
    refuse("rad2deg", x.dtype)
    if x._inference:  # (PyTorch's out= variant: refused for one requiring grad)
        refuse_out("rad2deg", x)
    return _U.degrees(x)


def sinc(input):
    """``sin(pi x) / (pi x)``, 1 at 0 (torch.sinc)."""
    if _tensor_mod._inference_used and _untracked(input):  # (one op in PyTorch)
        with _no_grad():
            return sinc(input)
    x = floating(input)
    return name_inputs(_U.sinc(x), "SincBackward0", x)


def logit(input, eps=None):
    """``log(x / (1 - x))``; with ``eps``, x is first clamped to ``[eps, 1 - eps]``. Its
    derivative ``1 / (x (1 - x))`` is inf at 0 and 1 and NaN outside [0, 1], as PyTorch's."""
    x = x0 = floating(input)
    refuse("logit", x.dtype)  # (its range test orders values)
    if eps is not None:  # (clamp passes no gradient at NaN; PyTorch's logit passes NaN)
        x = _ops.clamp(x, float(eps), 1.0 - float(eps))
    y = _ops.log(x) - _ops.log1p(-x)
    v = vals(x)
    outside = (v < 0) | (v > 1) | (np.isnan(v) if eps is not None else False)
    if outside.any():  # a term of value 0 (NaN there anyway) whose slope is NaN outside
        y = y + (x0 - x0.detach()) * _make(np.where(outside, np.nan, 0.0).astype(x.dtype))
    return name_inputs(y, "LogitBackward0", x0)


def float_power(input, exponent):
    """``input ** exponent`` in double precision (torch.float_power)."""
    if _tensor_mod._inference_used and _untracked(input, exponent):  # (one op in PyTorch)
        with _no_grad():
            return float_power(input, exponent)
    return _U.float_power(input, exponent)


# ---- clamping -----------------------------------------------------------------------------------

def clip(input, min=None, max=None):  # noqa: A002 (torch's argument names)
    """Alias of ``clamp``."""
    return _ops.clamp(input, min, max)


def clamp_min(input, min):  # noqa: A002
    if isinstance(min, Tensor):  # (PyTorch's clamp_min by a tensor is its maximum kernel)
        refuse_pair("clamp_min.tensor", input, min)
        return _ops.clamp(input, min=min)
    return name_record(_ops.clamp(input, min=min), Op.CLAMP, "ClampMinBackward0")


def clamp_max(input, max):  # noqa: A002
    if isinstance(max, Tensor):
        refuse_pair("clamp_max.tensor", input, max)
        return _ops.clamp(input, max=max)
    return name_record(_ops.clamp(input, max=max), Op.CLAMP, "ClampMaxBackward0")


# ---- binary functions ---------------------------------------------------------------------------

# PyTorch's node of an op whose second operand is a number (its ``Scalar`` overload): named
# apart from the tensor overload's, with the input alone in its next_functions
_SCALAR_NODES = {"copysign": (Op.COPYSIGN, "CopysignBackward1"),
                 "fmod": (Op.FMOD, "FmodBackward0"), "remainder": (Op.REMAINDER,
                                                               "RemainderBackward0")}


def _scalar_node(name, result, other):
    """``result`` of ``name(tensor, other)``, its node renamed where ``other`` is a number."""
    if isinstance(other, (int, float, np.generic)) and isinstance(result, Tensor):
        op, node = _SCALAR_NODES[name]
        return name_record(result, op, node, pick=(0,))
    return result


def _floats_only(name, f, real_only=True, wraps_number=False):
    def fn(input, other):
        if _tensor_mod._inference_used and _untracked(input, other):  # (one op in PyTorch)
            if wraps_number and not isinstance(other, Tensor) and input._rg:  # (it records,
                raise RuntimeError(INFERENCE_SAVE_MSG)  # saving input: PyTorch's copysign)
            with _no_grad():  # (records nothing)
                return fn(input, other)
        a, b = tensors_promoted(input, other)
        if a.dtype.kind not in "fc" and b.dtype.kind not in "fc":
            a, b = floating(a), floating(b)
        elif real_only:
            refuse_pair(name, input, other)
        return _scalar_node(name, f(a, b), other) if name in _SCALAR_NODES else f(a, b)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}`` with broadcasting (torch.{name})."
    return fn


hypot = _floats_only("hypot", _C.hypot)
logaddexp = _floats_only("logaddexp", _C.logaddexp, real_only=False)
logaddexp2 = _floats_only("logaddexp2", _C.logaddexp2)
copysign = _floats_only("copysign", _U.copysign, wraps_number=True)


def _extremum(name, f, doc):
    def fn(input, other):
        refuse_pair(name, input, other)
        return f(*tensors_promoted(input, other))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


fmax = _extremum("fmax", _U.fmax, "Elementwise maximum that skips NaN (torch.fmax).")
fmin = _extremum("fmin", _U.fmin, "Elementwise minimum that skips NaN (torch.fmin).")


def _integer_division(name, f, kernel, doc):
    """``f`` with PyTorch's integer rules: dividing integers by zero raises (NumPy gives 0);
    a NumPy scalar number is weak, as a Python one."""
    def fn(input, other):
        if _tensor_mod._inference_used and _untracked(input, other):  # (one op in PyTorch)
            with _no_grad():
                return fn(input, other)
        refuse_pair(name, input, other)
        number = other
        input, other = tensors_promoted(input, other)
        a, b = vals(input), vals(other)
        if a.dtype.kind in "iub" and b.dtype.kind in "iub":
            if kernel and a.dtype.kind == b.dtype.kind == "b":
                raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
            if (b == 0).any():
                raise RuntimeError("ZeroDivisionError")
        result = f(input, other)
        return _scalar_node(name, result, number) if name in _SCALAR_NODES else result

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


fmod = _integer_division("fmod", _U.fmod, None, "Remainder with the dividend's sign (C "
                         "fmod); d/dother = -trunc(input / other).")
remainder = _integer_division("remainder", _U.torch_remainder, None, "Remainder with the divisor's "
                              "sign (Python %); d/dother = -floor(input / other).")
floor_divide = _integer_division("floor_divide", _U.floor_divide, "div_floor_cpu",
                                 "``floor(input / other)``; the gradient is zero.")
def heaviside(input, values):
    """The step function: 0 below 0, 1 above, ``values`` at 0. PyTorch has no derivative for
    it: the result is on the graph when an input requires grad (``NotImplemented``), and its
    backward raises 'derivative for aten::heaviside is not implemented'."""
    if _tensor_mod._inference_used and _untracked(input, values):  # (one op in PyTorch)
        with _no_grad():
            return heaviside(input, values)
    x, v = _t(input), _t(values)
    refuse_pair("heaviside", x, v)
    if isinstance(values, Tensor) and v.dtype != x.dtype:  # (no promotion in PyTorch's)
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    broadcast_shapes(x.shape, v.shape)  # (PyTorch's error, not NumPy's)
    # (a number stays weak; NumPy's float result for integers and bools gets their dtype back)
    with _no_grad():
        r = _U.heaviside(x, values)
    r = const(np.where(np.isnan(vals(x)), 0, vals(r)).astype(x.dtype))  # (nan > 0: false, 0)
    from .lapack_factors import _no_derivative

    error = "derivative for aten::heaviside is not implemented"
    return _no_derivative(lambda: RuntimeError(error), [t for t in (x, v) if t.requires_grad],
                          (r,))[0]


def logical_xor(input, other):
    """Elementwise exclusive or of truth values (a bool tensor without history)."""
    return const(np.logical_xor(vals(input), vals(other)))


def multiply(input, other):
    return _ops.mul(input, other)


def true_divide(input, other):
    return _ops.div(input, other)


def divide(input, other, *, rounding_mode=None):
    """``input / other``; ``rounding_mode='trunc'`` or ``'floor'`` rounds the quotient (zero
    gradient, integer dtype kept for integer inputs)."""
    if rounding_mode is None:
        return _ops.div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    if any(isinstance(t, Tensor) and t.is_cuda for t in (input, other)):  # rounds on the host
        from ..ops.cuda_linalg import on_host

        return on_host(divide, scalars=True)(input, other, rounding_mode=rounding_mode)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    refuse_pair("div.trunc", input, other)
    input, other = weak_scalar(input), weak_scalar(other)
    a, b = _U._pair(input, other)  # (a Python number stays weak)
    va, vb = vals(a), vals(b)
    if va.dtype.kind in "iub" and vb.dtype.kind in "iub":
        if (vb == 0).any():
            raise RuntimeError("ZeroDivisionError")
        q = np.abs(va) // np.abs(vb) * np.sign(va) * np.sign(vb)
        return const(q.astype(np.result_type(va, vb)))
    q = _ops.div(input, other)
    return zero_grad_like(q, _wrap(np.trunc(vals(q))))


def absolute(input):
    return _ops.abs(input)


def negative(input):
    return _ops.neg(input)


def positive(input):
    return _t(input)


# ---- interpolation and fused multiply-adds -------------------------------------------------------

def lerp(input, end, weight):
    """``input + weight * (end - input)``, computed from ``end`` for weights from 0.5 on
    (``|weight|`` for complex weights), as PyTorch does (exact at weight 1)."""
    x, e = _t(input), _t(end)
    same_dtype("end", x, e)  # (no promotion: PyTorch's error; a 0-d weight may differ)
    if isinstance(weight, Tensor) and weight.ndim:
        same_dtype("weight", x, weight)
    broadcast_shapes(x.shape, e.shape)  # (PyTorch's error names input a, end b)
    if inference_only(x, e, weight):  # (one op in PyTorch: see add_alpha.inference_only)
        with _no_grad():
            return lerp(x, e, weight)
    if _tensor_mod._inference_used:  # (PyTorch's LerpBackward1 saves weight, and x, e for it)
        x, e, weight = recorded_operands(x, e, weight, saves=((2, None), (0, (2,)), (1, (2,))))
    if not isinstance(weight, Tensor):
        r = x + (e - x) * weight if abs(weight) < 0.5 else e - (e - x) * (1.0 - weight)
        return name_inputs(r, "LerpBackward0", x, e)
    small = (weight.abs() if weight.dtype.kind == "c" else weight) < 0.5
    r = _ops.where(small, x + (e - x) * weight, e - (e - x) * (1.0 - weight))
    return name_inputs(r, "LerpBackward1", x, e, weight)


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``."""
    if inference_only(input, tensor1, tensor2):
        with _no_grad():
            return addcmul(input, tensor1, tensor2, value=value)
    if _tensor_mod._inference_used:
        input, tensor1, tensor2 = recorded_operands(input, tensor1, tensor2,
                                                    saves=((1, (2,)), (2, (1,))))
    p = _t(tensor1) * tensor2
    r = _t(input) + (p if value == 1 else p * value)
    return name_inputs(r, "AddcmulBackward0", input, tensor1, tensor2)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``."""
    if inference_only(input, tensor1, tensor2):
        with _no_grad():
            return addcdiv(input, tensor1, tensor2, value=value)
    if _tensor_mod._inference_used:
        input, tensor1, tensor2 = recorded_operands(input, tensor1, tensor2,
                                                    saves=((1, (2,)), (2, None)))
    t1, t2 = _t(tensor1), _t(tensor2)
    if t1.dtype.kind in "iub" and t2.dtype.kind in "iub":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 and "
                           "tensor2. The historic addcdiv behavior can be implemented as "
                           "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) "
                           "for integer inputs and as (input + value * tensor1 / tensor2) for "
                           "float inputs. The future addcdiv behavior is just the latter "
                           "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    q = t1 / t2
    r = _t(input) + (q if value == 1 else q * value)
    return name_inputs(r, "AddcdivBackward0", input, tensor1, tensor2)


# ---- special functions (SciPy's values, polygamma compiled; derivatives of each other) ----

_SPECIAL = {}


def _scipy(name):
    f = _SPECIAL.get(name)
    if f is None:
        try:
            import scipy.special as sp
        except ImportError:
            if name == "gammaln":
                f = np.vectorize(math.lgamma, otypes=[np.float64])
            else:
                raise ImportError(f"tapegrad needs SciPy for {name}") from None
        else:
            f = getattr(sp, name)
        _SPECIAL[name] = f
    return f


def _special_function():
    """Autograd Functions for lgamma, polygamma and erfinv; each backward calls these again,
    so every order is differentiable."""
    from ..autograd.function import Function

    def value(name, np_f, x):
        refuse(name, x.dtype)  # (no complex derivative here, and PyTorch has no kernel)
        with np.errstate(all="ignore"):
            return _make(_wrap(np.asarray(np_f(vals(x))).astype(x.dtype, copy=False)))

    class Lgamma(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            # (lgamma(-inf) is +inf, as math.lgamma and PyTorch; SciPy's gammaln says -inf)
            return value("lgamma", lambda v: np.where(np.isneginf(v), np.inf,
                                                      _scipy("gammaln")(v)), x)

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * polygamma(0, x)

    class Polygamma(Function):
        @staticmethod
        def forward(ctx, n, x):
            ctx.save_for_backward(x)
            ctx.n = n
            if n == 0:
                return value("digamma", _scipy("psi"), x)
            from ..ops._polygamma_kernels import values  # (SciPy's polygamma: 40x the time)

            return value("trigamma" if n == 1 else "polygamma", lambda v: values(n, v), x)

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return None, g * polygamma(ctx.n + 1, x)

    class Erfinv(Function):
        @staticmethod
        def forward(ctx, x):
            out = value("erfinv", _scipy("erfinv"), x)
            ctx.save_for_backward(x)
            return out

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            y = erfinv(x)
            return g * (_ops.exp(y * y) * (math.sqrt(math.pi) / 2.0))

    class Digamma(Polygamma):  # (polygamma(0, x) as torch.digamma: its node's name)
        pass

    for f in (Lgamma, Polygamma, Erfinv, Digamma):  # (PyTorch's node names)
        f._backward_name += "0"
    return Lgamma, Polygamma, Erfinv, Digamma


_FUNCTIONS = []


def _special(i):
    if not _FUNCTIONS:
        _FUNCTIONS.extend(_special_function())
    return _FUNCTIONS[i]


def lgamma(input):
    """``log |Gamma(x)|``; its derivative is ``digamma``."""
    return _special(0).apply(floating(input))


def polygamma(n, input):
    """The n-th derivative of ``digamma``; its derivative is ``polygamma(n + 1, x)``."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return _special(1).apply(int(n), floating(input))


def digamma(input):
    """The logarithmic derivative of Gamma (``polygamma(0, x)``)."""
    return _special(3).apply(0, floating(input))


def erfinv(input):
    """The inverse of ``erf`` on (-1, 1); its derivative is ``sqrt(pi)/2 exp(erfinv(x)^2)``."""
    return _special(2).apply(floating(input))


__all__ = ["floor", "ceil", "trunc", "fix", "round", "frac", "sgn", "signbit", "reciprocal",
           "log2", "log10", "exp2", "deg2rad", "rad2deg", "sinc", "logit", "float_power", "clip",
           "clamp_min", "clamp_max", "hypot", "logaddexp", "logaddexp2", "copysign", "fmax",
           "fmin", "fmod", "remainder", "floor_divide", "heaviside", "logical_xor", "multiply",
           "true_divide", "divide", "absolute", "negative", "positive", "lerp",
           "addcmul", "addcdiv", "lgamma", "polygamma", "digamma", "erfinv"]
