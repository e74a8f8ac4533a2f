"""Elementwise NumPy functions on real tensors, written with tapegrad ops.

``remainder``/``fmod`` take NumPy's values and PyTorch's derivatives (d/dx1 = 1, d/dx2 = minus
the rounded quotient); ``fmax``/``fmin`` skip NaNs as NumPy does and split ties like
``maximum``; ``real``, ``imag``, ``conj``, ``angle`` and ``real_if_close`` are what they are
for real numbers (tapegrad has no complex tensors).
"""

import math

import numpy as np

from ..ops.record import as_tensor as _t
from . import _op, _values_only


def _vals(x):
    return np.asarray(_t(x)._data)


def _pair(x1, x2):
    """Both operands as tensors; a Python number takes the other's float dtype (NEP 50)."""
    if not isinstance(x1, (np.ndarray, np.generic)) and np.ndim(x1) == 0 and \
            not hasattr(x1, "_data"):
        x2 = _t(x2)
        return _t(np.asarray(x1, dtype=x2.dtype if x2.dtype.kind == "f" else None)), x2
    x1 = _t(x1)
    if not isinstance(x2, (np.ndarray, np.generic)) and np.ndim(x2) == 0 and \
            not hasattr(x2, "_data"):
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
    """sin(pi x) / (pi x), 1 at 0 (whose derivative, 0, is what PyTorch gives)."""
    x = _t(x)
    x = x if x.dtype.kind == "f" else x.to(np.float64)
    zero = _vals(x) == 0
    safe = _op("where")(zero, _t(np.ones((), x.dtype)), x) * math.pi
    return _op("where")(zero, _t(np.ones((), x.dtype)), _op("sin")(safe) / safe)


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


def _refuse_complex(x):
    from ..creation import COMPLEX_MSG

    x = _t(x)
    if x.dtype.kind == "c":
        raise TypeError(COMPLEX_MSG)
    return x


def real(val):
    return _refuse_complex(val)[...]


def imag(val):
    x = _refuse_complex(val)
    return _zero_like_grad(x, np.zeros(x.shape))


def conjugate(x, *args):
    return _refuse_complex(x)[...]


def angle(z, deg=False):
    x = _refuse_complex(z)
    v = np.angle(_vals(x), deg=deg)
    return _zero_like_grad(x, v) if x.dtype.kind == "f" else _t(v)


def real_if_close(a, tol=100):
    return _refuse_complex(a)[...]


def ufunc_handlers():
    return {np.remainder: remainder, np.fmod: fmod, np.degrees: degrees, np.rad2deg: degrees,
            np.radians: radians, np.deg2rad: radians, np.fmax: fmax, np.fmin: fmin,
            np.conjugate: conjugate}


def function_handlers():
    return {np.sinc: sinc, np.real: real, np.imag: imag, np.angle: angle,
            np.real_if_close: real_if_close}
