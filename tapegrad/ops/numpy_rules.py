"""Where NumPy's elementwise answers differ from PyTorch's: its IEEE results where ``math`` raises,
PyTorch's errors and integer powers."""

import math

import numpy as np

from .._float_warnings import quiet
from ..promotion import is_number, number_dtype, result_dtype, wrapped_int
from .record import as_tensor as _t
from .shapes import broadcast_shapes

SCALAR_ERRORS = (ArithmeticError, ValueError)


def scalar_fallback(np_f, *args):
    """``math`` raised (log(0), sqrt(-1), overflow): take NumPy's IEEE answer instead."""
    with np.errstate(all="ignore"):
        return float(np_f(*[np.float64(a) for a in args]))


def retried(e, np_f, *args):
    """A NumPy call raised ``e``: a RuntimeWarning (a floating-point warning that a user's
    filter made an exception: _float_warnings) is computed again without warnings; a TypeError
    is raised as PyTorch's (``bool_error``)."""
    if isinstance(e, RuntimeWarning):
        return quiet(np_f, *args)
    raise bool_error(e) from None


def bool_error(e):
    """NumPy's TypeError for ``-`` on bool arrays as PyTorch's RuntimeError; others unchanged."""
    msg = str(e)
    if "boolean subtract" in msg:
        return RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                            "supported. Use the `^` or `logical_xor()` operator instead.")
    if "boolean negative" in msg:
        return RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                            "you are trying to invert a mask, use the `~` or `logical_not()` "
                            "operator instead.")
    return e


def refuse_bool_subtraction(x_kind, y_kind):
    """PyTorch's errors for ``-`` with a bool operand (a tensor or ``True``/``False``), which
    NumPy computes when only one operand is bool."""
    if x_kind == "b" == y_kind:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if x_kind == "b" or y_kind == "b":
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def pow_py(x, y):
    if x == -math.inf:  # C's pow(-inf, 0.5) is inf, NumPy's and torch's nan: follow NumPy
        return scalar_fallback(np.power, x, y)
    return math.pow(x, y)


def np_power(x, y):
    """``np.power`` with PyTorch's integer rules for negative exponents: an error for a Python
    number exponent, and C's integer division (1, -1 or 0) for an integer tensor exponent
    (called where ``np.power`` raised: the float paths pay nothing)."""
    try:
        return np.power(x, y)
    except ValueError as e:
        if "negative integer powers" not in str(e):
            raise
        if is_number(y):
            raise RuntimeError(str(e)) from None
    x, y = np.asarray(x), np.asarray(y)
    dtype = np.result_type(x, y)
    neg = np.where(x == 1, 1, np.where(x == -1, np.where(y % 2 == 0, 1, -1), 0))
    return np.where(y < 0, neg, np.power(x, np.maximum(y, 0))).astype(dtype, copy=False)


def weak_scalar(v):
    """A NumPy scalar number as the Python number it holds (PyTorch treats ``np.float64(2)``
    and ``np.int64(3)`` as weak, like ``2.0`` and ``3``: ``float32_tensor * np.float64(2)``
    stays float32, ``* np.complex128(1j)`` is complex64); anything else as it is."""
    if isinstance(v, np.number):  # (integer, floating, complexfloating: one check)
        return v.item()
    return v


def _weak(x):
    """A Python number (not a bool): it takes the other operand's dtype (NEP 50)."""
    return is_number(x) and not isinstance(x, bool)


def weak_dtype(number, other):
    """The dtype a Python number takes beside tensor ``other`` (NEP 50, PyTorch alike): a
    float tensor's dtype, an integer tensor's for an int; otherwise its own default."""
    kind = other.dtype.kind
    if kind == "f" or kind in "iu" and not isinstance(number, float):
        return other.dtype
    return None


def tensors_weak(x1, x2):
    """Both operands as tensors; a Python number takes the other's dtype where it is weak
    (NumPy 2's rule, and PyTorch's)."""
    if _weak(x1) and not _weak(x2):
        x2 = _t(x2)
        return _t(np.asarray(x1, dtype=weak_dtype(x1, x2))), x2
    x1 = _t(x1)
    if _weak(x2):
        return x1, _t(np.asarray(x2, dtype=weak_dtype(x2, x1)))
    return x1, _t(x2)


def tensors_promoted(x1, x2):
    """Both operands as tensors in the dtype PyTorch computes a binary function in
    (``promotion.py``): a Python or NumPy scalar number is weak, a 0-d tensor gives way to a
    dimensioned one of its category. ``tensors_weak`` keeps NumPy's promotion (for the NumPy
    functions), which widens float32 beside an integer tensor or a 0-d float64 one."""
    x1, x2 = weak_scalar(x1), weak_scalar(x2)
    n1, n2 = is_number(x1), is_number(x2)
    if n1 and n2:
        return tensors_weak(x1, x2)
    if n1 or n2:
        t = _t(x2 if n1 else x1)
        number = x1 if n1 else x2
        dt = number_dtype(t.dtype, number)
        if type(number) is int:
            number = wrapped_int(number, dt)  # (PyTorch's cast: -1 beside uint8 is 255)
        number = _t(np.asarray(number, dtype=dt))
        t = t if t.dtype == dt else t.to(dt)
        return (number, t) if n1 else (t, number)
    a, b = _t(x1), _t(x2)
    if a.shape != b.shape:  # PyTorch's error, before NumPy's ValueError in the op's values
        broadcast_shapes(a.shape, b.shape)
    if a.dtype == b.dtype:
        return a, b
    dt = result_dtype(a.dtype, a.ndim == 0, b.dtype, b.ndim == 0)
    return (a if a.dtype == dt else a.to(dt)), (b if b.dtype == dt else b.to(dt))
