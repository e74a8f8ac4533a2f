"""Elementwise NumPy functions on real tensors, written with tapegrad ops.

``remainder``/``fmod`` take NumPy's values and PyTorch's derivatives (d/dx1 = 1, d/dx2 = minus
the rounded quotient); ``fmax``/``fmin`` skip NaNs as NumPy does and split ties like
``maximum``; ``real``, ``imag``, ``conj``, ``angle`` and ``real_if_close`` take the complex
rules of ``ops/complex.py`` (for real tensors: the value, or a zero gradient).
"""

import math

import numpy as np

from ..ops.record import as_tensor as _t
from . import _op, _values_only


def _vals(x):
    return np.asarray(_t(x)._data)


def _weak(x):
    """A Python number: it takes the other operand's dtype (NumPy 2's weak scalars)."""
    return isinstance(x, (int, float)) and not isinstance(x, (bool, np.generic))


def _pair(x1, x2):
    """Both operands as tensors; a Python number takes the other's float dtype (NEP 50)."""
    if _weak(x1) and not _weak(x2):
        x2 = _t(x2)
        return _t(np.asarray(x1, dtype=x2.dtype if x2.dtype.kind == "f" else None)), x2
    x1 = _t(x1)
    if _weak(x2):
        return x1, _t(np.asarray(x2, dtype=x1.dtype if x1.dtype.kind == "f" else None))
    return x1, _t(x2)


def _rounded_quotient(np_value, np_round):
    def handler(x1, x2):
        x1, x2 = _pair(x1, x2)
        v1, v2 = _vals(x1), _vals(x2)
        with np.errstate(all="ignore"):
            value = np_value(v1, v2)
        if value.dtype.kind != "f":
            return _values_only(np_value)(x1, x2)
        with np.errstate(all="ignore"):
            q = np_round(v1 / v2).astype(value.dtype)
            exact = value - (v1 - q * v2)  # the rounding error of x1 - q*x2, a constant
        r = x1 - x2 * _t(q)
        return r + _t(exact.astype(value.dtype))

    return handler


remainder = _rounded_quotient(np.remainder, np.floor)
fmod = _rounded_quotient(np.fmod, np.trunc)


def _scale(k):
    def handler(x):
        x = _t(x)
        return x * k if x.dtype.kind == "f" else x.to(np.float64) * k

    return handler


degrees = _scale(180.0 / math.pi)
radians = _scale(math.pi / 180.0)


def sinc(x):
    """sin(pi x) / (pi x); at 0 its Taylor polynomial ``1 - u²/6 + u⁴/120`` (``u = pi x``):
    the value 1, and the derivatives of sinc there to the fourth order (PyTorch's second is
    nan)."""
    x = _t(x)
    x = x if x.dtype.kind == "f" else x.to(np.float64)
    zero = _vals(x) == 0
    safe = _op("where")(zero, _t(np.ones((), x.dtype)), x) * math.pi
    if not zero.any():
        return _op("sin")(safe) / safe
    u2 = (x * math.pi) ** 2
    near = 1.0 - u2 * (1.0 / 6.0) + u2 * u2 * (1.0 / 120.0)
    return _op("where")(zero, near, _op("sin")(safe) / safe)


def _nan_skipping(extreme):
    def handler(x1, x2):
        x1, x2 = _pair(x1, x2)
        n1, n2 = np.isnan(_vals(x1)), np.isnan(_vals(x2))
        a = _op("where")(n1, x2, x1) if n1.any() else x1
        b = _op("where")(n2, x1, x2) if n2.any() else x2
        return _op(extreme)(a, b)

    return handler


fmax, fmin = _nan_skipping("maximum"), _nan_skipping("minimum")


def _zero_like_grad(x, value):
    from ..ops.elementwise import zero_grad_like
    from ..tensor import _wrap

    return zero_grad_like(x, _wrap(np.asarray(value, dtype=x.dtype)))


def real(val):
    from ..ops.complex import real as real_part

    x = _t(val)
    return real_part(x) if x.dtype.kind == "c" else x[...]


def imag(val):
    from ..ops.complex import imag as imag_part

    x = _t(val)
    if x.dtype.kind == "c":
        return imag_part(x)
    return _zero_like_grad(x, np.zeros(x.shape))


def conjugate(x, *args):
    from ..ops.complex import conj

    x = _t(x)
    return conj(x) if x.dtype.kind == "c" else x[...]


def angle(z, deg=False):
    from ..ops.complex import angle as complex_angle

    x = _t(z)
    if x.dtype.kind == "c":
        a = complex_angle(x)
        return a * (180.0 / math.pi) if deg else a
    v = np.angle(_vals(x), deg=deg)
    return _zero_like_grad(x, v) if x.dtype.kind == "f" else _t(v)


def real_if_close(a, tol=100):
    x = _t(a)
    if x.dtype.kind == "c":
        eps = np.finfo(x.dtype).eps
        if np.all(np.abs(np.imag(_vals(x))) < tol * eps):
            return real(x)
    return x[...]


def float_power(x1, x2):
    x1, x2 = _t(x1), _t(x2)
    return _op("pow")(x1.to(np.float64), x2.to(np.float64) if x2.dtype.kind != "f" else x2)


def cbrt(x):
    x = _t(x)
    x = x if x.dtype.kind == "f" else x.to(np.float64)
    return _op("sign")(x) * _op("pow")(_op("abs")(x), 1.0 / 3.0)


def copysign(x1, x2):
    """|x1| with x2's sign; x2's gradient is zero (its sign is piecewise constant)."""
    x1, x2 = _pair(x1, x2)
    dt = np.result_type(x1.dtype, x2.dtype)
    dt = dt if dt.kind == "f" else np.dtype(np.float64)
    x1 = x1 if x1.dtype == dt else x1.to(dt)
    s = np.where(np.signbit(_vals(x2)), -1.0, 1.0).astype(dt)
    r = _op("abs")(x1) * _t(s)
    if x2.requires_grad:  # a zero gradient for x2, as PyTorch gives
        r = r + _zero_like_grad(x2, np.zeros(x2.shape))
    return r


def ldexp(x1, x2):
    x1 = _t(x1)
    x1 = x1 if x1.dtype.kind == "f" else x1.to(np.float64)
    return x1 * _t(np.ldexp(np.ones((), x1.dtype), _vals(x2)))


def modf(x, *args):
    """(fractional part, integral part): the gradient goes to the fractional part."""
    from . import _zero_grad

    x = _t(x)
    whole = _zero_grad(np.trunc)(x)
    return x - _t(np.trunc(_vals(x))), whole


def _piecewise_constant(np_f):
    """Two-argument functions that are locally constant (floor_divide, heaviside): NumPy's
    values with a zero gradient for the first argument, as floor and round have."""

    def handler(x1, x2):
        from ..ops.elementwise import zero_grad_like
        from ..tensor import _make, _wrap

        x1, x2 = _pair(x1, x2)
        with np.errstate(all="ignore"):
            v = np_f(_vals(x1), _vals(x2))
        like = x1 if x1.requires_grad or not x2.requires_grad else x2
        if v.shape != tuple(like.shape) or v.dtype.kind != "f":
            return _make(_wrap(v)) if not like.requires_grad else \
                zero_grad_like(_op("broadcast_to")(like, v.shape), _wrap(v))
        return zero_grad_like(like, _wrap(v))

    return handler


floor_divide = _piecewise_constant(np.floor_divide)
heaviside = _piecewise_constant(np.heaviside)


def divmod_(x1, x2):
    return floor_divide(x1, x2), remainder(x1, x2)


def matvec(x1, x2):
    x2 = _t(x2)
    return _op("squeeze")(_op("matmul")(_t(x1), _op("unsqueeze")(x2, -1)), -1)


def vecmat(x1, x2):
    x1 = _t(x1)
    return _op("squeeze")(_op("matmul")(_op("unsqueeze")(x1, -2), _t(x2)), -2)


def vecdot(x1, x2):
    return _op("sum")(_t(x1) * _t(x2), dim=-1)


def ufunc_handlers():
    u = {np.remainder: remainder, np.fmod: fmod, np.degrees: degrees, np.rad2deg: degrees,
         np.radians: radians, np.deg2rad: radians, np.fmax: fmax, np.fmin: fmin,
         np.conjugate: conjugate, np.float_power: float_power, np.cbrt: cbrt,
         np.copysign: copysign, np.ldexp: ldexp, np.modf: modf, np.floor_divide: floor_divide,
         np.heaviside: heaviside, np.divmod: divmod_}
    for name, h in (("matvec", matvec), ("vecmat", vecmat), ("vecdot", vecdot)):
        if hasattr(np, name):  # gufuncs of NumPy >= 2.2
            u[getattr(np, name)] = h
    return u


def function_handlers():
    from . import _zero_grad

    return {np.sinc: sinc, np.real: real, np.imag: imag, np.angle: angle,
            np.real_if_close: real_if_close, np.fix: _zero_grad(np.fix)}
