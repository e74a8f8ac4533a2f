"""Values of the binary arithmetic ops: NumPy's, in PyTorch's result dtype.

``promoted_operands`` casts operands of different dtypes to PyTorch's result dtype before the op
(``promotion.py``), ``integer_quotient`` divides integers in the default dtype;
``number_op`` makes the forward value of ``x op c`` for a tensor and a Python number, which
``elementwise``'s constant-variant records (``x * 2.0`` is MULC with c0 = 2) wrap.
"""

import operator

import numpy as np

from .._float_warnings import quiet
from ..device import DeviceArray
from ..promotion import float_of, int_exponent, number_dtype, promoted, wrapped_int
from ..registry import TORCH_POWERS
from ..tensor import _wrap
from ..vecmath.short_runs import binary as _broadcast_op
from .numpy_rules import (SCALAR_ERRORS, np_power, pow_py, refuse_bool_subtraction,
                          retried, scalar_fallback)

_ndarray = np.ndarray


def py_div(x, y):
    return x / y


def promoted_operands(np_f, x, y, x_zero_dim, y_zero_dim):
    """``x`` and ``y`` cast to PyTorch's result dtype of ``np_f(x, y)`` where their dtypes
    differ (NumPy would widen ``int64 * float32`` to float64), so the op computes once, in
    that dtype, as PyTorch's does."""
    if np_f is np.subtract:
        refuse_bool_subtraction(x.dtype.kind, y.dtype.kind)
    return promoted(x, y, x_zero_dim, y_zero_dim, np_f is np.true_divide)


def integer_quotient(np_f, x, y, r):
    """``r = np_f(x, y)`` for operands of one integer dtype whose result NumPy made float64:
    true division in the default dtype instead where that is float32 (PyTorch's)."""
    if np_f is np.power and x.dtype.kind == "b" == y.dtype.kind:
        raise NotImplementedError('"pow" not implemented for \'Bool\'')
    dt = float_of(x.dtype)
    if r.dtype == dt:
        return r
    return _broadcast_op(np_f, x.astype(dt), y.astype(dt))


def number_cast(np_f, t, number):
    """``t`` (an ndarray) in the dtype a Python ``number`` gives it in PyTorch's promotion: an
    integer or bool tensor beside a float, or divided, takes the default dtype (NumPy's is
    float64)."""
    if t.dtype.kind in "biu" and (type(number) is float or np_f is np.true_divide):
        dt = number_dtype(t.dtype, number)
        if np_f is np.true_divide:
            dt = float_of(dt)
        if dt != t.dtype:
            return t.astype(dt)
    return t


def number_op(np_f, py_f):
    """Forward value of ``x op c`` / ``c op x`` for a tensor x and Python number c."""

    def value(xd, c, reflected):
        a, b = (c, xd) if reflected else (xd, c)
        if type(xd) is float:
            try:
                r = py_f(a, b)
            except SCALAR_ERRORS:
                return scalar_fallback(np_f, a, b)
            return r if type(r) is float else _wrap(np.float64(r))
        if type(xd) is DeviceArray:
            from . import cuda_ops

            return cuda_ops.number_value(np_f, xd, c, reflected)
        if xd.dtype.kind in "biu":
            xd = number_cast(np_f, xd, c)
            if type(c) is int and xd.dtype.kind in "iu":
                c = int_exponent(c, xd.dtype) if np_f is np.power and not reflected else \
                    wrapped_int(c, xd.dtype)
            a, b = (c, xd) if reflected else (xd, c)
        try:
            return _wrap(np_f(a, b))
        except (TypeError, RuntimeWarning) as e:  # (a user's filter: _float_warnings)
            return _wrap(retried(e, np_f, a, b))
        except ValueError:
            if np_f is not np.power:
                raise
            return _wrap(np_power(a, b))  # integers to negative integer powers

    return value


add_value = number_op(np.add, operator.add)
sub_value = number_op(np.subtract, operator.sub)
mul_value = number_op(np.multiply, operator.mul)
div_value = number_op(np.true_divide, py_div)
_pow_number_value = number_op(np.power, pow_py)


def pow_value(xd, c, reflected):
    """``x ** c`` / ``c ** x``; floats to the power 2, 3, -1, -2 as PyTorch (``TORCH_POWERS``)."""
    if not reflected and type(xd) is _ndarray and xd.dtype.kind == "f" and c in TORCH_POWERS:
        try:
            return _wrap(TORCH_POWERS[c](xd))
        except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
            return _wrap(quiet(TORCH_POWERS[c], xd))
    if type(c) is bool and getattr(xd, "dtype", None) == np.bool_:
        if reflected:  # (PyTorch has no bool pow kernel; a bool tensor to a bool is bool)
            raise NotImplementedError('"pow" not implemented for \'Bool\'')
        return _wrap(xd.copy() if c else np.ones_like(xd))
    return _pow_number_value(xd, c, reflected)
