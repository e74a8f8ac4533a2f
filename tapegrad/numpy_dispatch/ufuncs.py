"""Elementwise NumPy functions on real tensors, written with tapegrad ops.

``remainder``/``fmod`` take NumPy's values and PyTorch's derivatives (d/dx1 = 1, d/dx2 = minus
the rounded quotient); ``fmax``/``fmin`` skip NaNs as NumPy does and give a tie's gradient to
the first argument, as PyTorch's; ``real``, ``imag``, ``conj``, ``angle`` and ``real_if_close``
take the complex rules of ``ops/complex.py`` (for real tensors: the value, or a zero gradient).
"""

import math

import numpy as np

from ..ops.record import as_tensor as _t
from . import _float, _from_numpy, _op, _to_float, _values_only, numpy_pair
from ..grad_mode import is_grad_enabled, recording
from ..ops.backward_ops import depends
from ..ops.elementwise import where as _where
from ..ops import copysign_op, rounded_remainder  # (ops of their own: registered at import)


def _vals(x):
    return np.asarray(_t(x)._data)


_pair = numpy_pair  # (the operands as tensors of NumPy's result dtype, a Python number weak)


def _rounded_quotient(np_value, np_round, zero_sign_of_dividend=False):
    def handler(x1, x2):
        x1, x2 = _pair(x1, x2)
        v1, v2 = _vals(x1), _vals(x2)
        with np.errstate(all="ignore"):
            value = np_value(v1, v2)
        if value.dtype.kind != "f":
            return _values_only(np_value)(x1, x2)
        if zero_sign_of_dividend:  # (PyTorch's remainder: a zero keeps fmod's sign, the dividend's)
            value = np.asarray(value)
            value = np.where(value == 0, np.copysign(np.zeros((), value.dtype), v1), value)
        if rounded_remainder.values_only(x1, x2):  # (the composition below loses zeros' signs)
            return _from_numpy(value, ())
        # (a bool divisor beside float32: the ops below would widen where NumPy does not)
        x1, x2 = (x if x.dtype == value.dtype else x.to(value.dtype) for x in (x1, x2))
        if rounded_remainder.applies(x1, x2):  # (one op: PyTorch's divisor gradient at every divisor)
            return rounded_remainder.rounded_remainder(np_value.__name__, value, x1, x2)
        with np.errstate(all="ignore"):
            q = np_round(v1, v2).astype(value.dtype)
            # where the quotient is 0 or the divisor infinite, the result is x1 (or x1 + inf)
            # itself: no 0 * inf
            used = (q != 0) & np.isfinite(v2)
            exact = value - np.where(used, v1 - q * v2, v1)  # the rounding error, a constant
        qt = _t(q)
        if (x1.requires_grad or x2.requires_grad) and is_grad_enabled():
            # PyTorch's divisor gradient is minus the rounded quotient of the inputs: an op of
            # them (its derivative zero), so it requires grad under create_graph
            qt = depends(qt, [t for t in (x1, x2) if t.requires_grad])
        r = x1 - _where(_t(used), x2, 0.0) * qt
        return r + _t(exact.astype(value.dtype))

    return handler


# (the quotients as PyTorch's derivatives take them: Python's floor division, C's truncation)
remainder = _rounded_quotient(np.remainder, np.floor_divide)
fmod = _rounded_quotient(np.fmod, lambda a, b: np.trunc(a / b))
torch_remainder = _rounded_quotient(np.remainder, np.floor_divide, zero_sign_of_dividend=True)


def _scale(k):
    def handler(x):
        return _float(x) * k

    return handler


degrees = _scale(180.0 / math.pi)
radians = _scale(math.pi / 180.0)


_SINC_TAYLOR = 1e-2  # |pi x| below which sinc is its Taylor polynomial (its next term,
# u^6 / 5040, is below the double's precision there)


def sinc(x):
    """sin(pi x) / (pi x); near 0 (``|pi x| < 1e-2``) its Taylor polynomial ``1 - u²/6 +
    u⁴/120`` (``u = pi x``): the value, and the derivatives, to the fourth order (the quotient's
    derivative there would be a difference of two huge terms; PyTorch's second is nan).
    Complex ``x`` too (every op here has a complex rule), as NumPy's and PyTorch's."""
    x = _to_float(x)
    with np.errstate(all="ignore"):
        near0 = np.abs(_vals(x) * math.pi) < _SINC_TAYLOR
    safe = _op("where")(near0, _t(np.ones((), x.dtype)), x) * math.pi
    if not near0.any():
        return _op("sin")(safe) / safe
    u2 = _op("where")(near0, x, _t(np.zeros((), x.dtype))) ** 2 * (math.pi ** 2)
    near = 1.0 - u2 * (1.0 / 6.0) + u2 * u2 * (1.0 / 120.0)
    return _op("where")(near0, near, _op("sin")(safe) / safe)


def _nan_skipping(np_compare):
    """``fmax``/``fmin``: ``x1`` where it wins or ties or ``x2`` is NaN, else ``x2`` (PyTorch's
    rule, which gives a tie's gradient to ``x1``)."""
    def handler(x1, x2):
        x1, x2 = _pair(x1, x2)
        v1, v2 = _vals(x1), _vals(x2)
        with np.errstate(invalid="ignore"):
            take = np_compare(v1, v2) | np.isnan(v2)
        return _op("where")(take, x1, x2)

    return handler


fmax, fmin = _nan_skipping(np.greater_equal), _nan_skipping(np.less_equal)


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
    """``x1 ** x2`` in double precision: complex128 if either is complex, else float64."""
    x1, x2 = _t(x1), _t(x2)
    if "c" in (x1.dtype.kind, x2.dtype.kind):
        return _op("pow")(x1.to(np.complex128), x2.to(np.complex128))
    return _op("pow")(x1.to(np.float64), x2.to(np.float64) if x2.dtype.kind != "f" else x2)


def cbrt(x):
    x = _float(x)
    return _op("sign")(x) * _op("pow")(_op("abs")(x), 1.0 / 3.0)


def copysign(x1, x2):
    """|x1| with x2's sign; x2's gradient is zero (its sign is piecewise constant)."""
    x1, x2 = _pair(x1, x2)
    dt = np.result_type(x1.dtype, x2.dtype)
    dt = dt if dt.kind == "f" else np.dtype(np.float64)
    x1 = x1 if x1.dtype == dt else x1.to(dt)
    x2f = x2 if x2.dtype == dt else x2.to(dt)
    if copysign_op.applies(x1, x2f):  # (one op, PyTorch's derivatives)
        return copysign_op.copysign(x1, x2f)
    s = np.where(np.signbit(_vals(x2)), -1.0, 1.0).astype(dt)
    r = _op("abs")(x1) * _t(s)
    if x2.requires_grad:  # a zero gradient for x2, as PyTorch gives
        r = r + _zero_like_grad(x2, np.zeros(x2.shape))
    return r


def ldexp(x1, x2):
    x1 = _float(x1)
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
        if x1.requires_grad and x2.requires_grad and v.dtype.kind == "f":
            from ..grad_mode import is_grad_enabled
            from ..ops.backward_ops import depends

            if is_grad_enabled():  # zero gradients for both (PyTorch's zeros_like for each)
                return depends(_make(_wrap(v)), (x1, x2))
        if v.shape != tuple(like.shape) or v.dtype.kind != "f":
            return _make(_wrap(v)) if not like.requires_grad else \
                zero_grad_like(_op("broadcast_to")(like, v.shape), _wrap(v))
        return zero_grad_like(like, _wrap(v))

    return handler


floor_divide = _piecewise_constant(np.floor_divide)
_step = _piecewise_constant(np.heaviside)


def heaviside(x1, x2):
    """0 below 0, 1 above, ``x2`` where ``x1`` is 0: ``x2`` gets its gradient there (``x1`` a
    zero one)."""
    r = _step(x1, x2)
    x1, x2 = _pair(x1, x2)
    if not (x2.requires_grad and recording()):  # (no_grad in forward mode too: the tangent)
        return r
    return _where(x1 == 0, x2 if x2.dtype == r.dtype else x2.to(r.dtype), r)


def divmod_(x1, x2):
    return floor_divide(x1, x2), remainder(x1, x2)


def _core_dims(name, signature, x1, x2, ndims, inner):
    """NumPy's gufunc checks (``ValueError``): each operand has its core dimensions
    (``ndims``), and the contracted ones (``inner``: one axis of each) agree; matmul and
    broadcasting would take a vector for a matrix, or raise another error."""
    for i, (x, k) in enumerate(zip((x1, x2), ndims)):
        if x.ndim < k:
            raise ValueError(f"{name}: Input operand {i} does not have enough dimensions (has "
                             f"{x.ndim}, gufunc core with signature {signature} requires {k})")
    a, b = x1.shape[inner[0]], x2.shape[inner[1]]
    if a != b:
        raise ValueError(f"{name}: Input operand 1 has a mismatch in its core dimension 0, with "
                         f"gufunc signature {signature} (size {b} is different from {a})")


def matvec(x1, x2):
    x1, x2 = numpy_pair(x1, x2)
    _core_dims("matvec", "(m,n),(n)->(m)", x1, x2, (2, 1), (-1, -1))
    return _op("squeeze")(_op("matmul")(x1, _op("unsqueeze")(x2, -1)), -1)


def _conj_vector(x1, x2):
    """NumPy's vecdot and vecmat conjugate their first operand (a complex vector), as
    ``np.vdot``; the two in NumPy's result dtype."""
    x1, x2 = numpy_pair(x1, x2)
    return (_op("conj")(x1) if x1.dtype.kind == "c" else x1), x2


def vecmat(x1, x2):
    x1, x2 = _conj_vector(x1, x2)
    _core_dims("vecmat", "(n),(n,m)->(m)", x1, x2, (1, 2), (-1, -2))
    return _op("squeeze")(_op("matmul")(_op("unsqueeze")(x1, -2), x2), -2)


def vecdot(x1, x2, axis=-1):
    """``sum(conj(x1) * x2)`` over ``axis`` (``np.linalg.vecdot``'s), which NumPy takes in each
    operand before broadcasting them."""
    x1, x2 = _conj_vector(x1, x2)
    if axis != -1:
        from .shaping import _moveaxis

        x1, x2 = _moveaxis(x1, axis, -1), _moveaxis(x2, axis, -1)
    _core_dims("vecdot", "(n),(n)->()", x1, x2, (1, 1), (-1, -1))
    r = _op("sum")(x1 * x2, dim=-1)
    dt = np.result_type(x1.dtype, x2.dtype)  # (sum makes int32 and bool int64: NumPy keeps
    return r if r.dtype == dt else r.to(dt)  # them, a bool sum being "any")


def ufunc_handlers():
    from .composites import real_only

    u = {np.remainder: remainder, np.fmod: fmod, np.degrees: degrees, np.rad2deg: degrees,
         np.radians: radians, np.deg2rad: radians, np.fmax: fmax, np.fmin: fmin,
         np.conjugate: conjugate, np.float_power: float_power, np.cbrt: cbrt,
         np.copysign: real_only(copysign), np.ldexp: ldexp, np.modf: modf,
         np.floor_divide: floor_divide, np.heaviside: heaviside, np.divmod: divmod_}
    for name, h in (("matvec", matvec), ("vecmat", vecmat), ("vecdot", vecdot)):
        if hasattr(np, name):  # gufuncs of NumPy >= 2.2
            u[getattr(np, name)] = h
    return u


def function_handlers():
    from . import _zero_grad

    return {np.sinc: sinc, np.real: real, np.imag: imag, np.angle: angle,
            np.real_if_close: real_if_close, np.fix: _zero_grad(np.fix), np.i0: i0}


def i0(x):
    """The modified Bessel function of order 0 (``tapegrad.special.i0``: SciPy's values)."""
    try:
        import scipy.special  # noqa: F401 (tapegrad.special.i0 takes its values from SciPy)
    except ImportError:
        from . import _Unsupported

        raise _Unsupported("SciPy not installed") from None
    from . import provided

    return provided("special").i0(x)
