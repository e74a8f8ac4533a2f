"""Floating-point tests and repairs: isnan, isinf, isfinite, nan_to_num, isclose, allclose
(PyTorch's, broadcasting with PyTorch's error)."""

import numpy as np

from ..device import DeviceArray
from ..tensor import _make
from . import record as R
from .cuda_linalg import on_host
from .elementwise import abs, where
from .out_variants import refuse_out
from .shapes import broadcast_shapes as _broadcast2


# CUDA tensors: comparisons on the device (nan is unequal to itself, inf is |x| == inf); the
# values of an integer or bool tensor are all finite (x == x), none nan or inf (x != x)
def isnan(input):
    x = R.as_tensor(input)
    if type(x._data) is DeviceArray:
        from .compare import ne

        return ne(x, x)
    return _make(np.isnan(np.asarray(x._data)))


def isinf(input):
    x = R.as_tensor(input)
    if type(x._data) is DeviceArray:
        from .compare import eq, ne

        return eq(abs(x.detach()), np.inf) if x.dtype.kind == "f" else ne(x, x)
    return _make(np.isinf(np.asarray(x._data)))


def isfinite(input):
    x = R.as_tensor(input)
    if type(x._data) is DeviceArray:
        from .compare import eq, lt

        return lt(abs(x.detach()), np.inf) if x.dtype.kind == "f" else eq(x, x)
    return _make(np.isfinite(np.asarray(x._data)))


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """nan/inf replaced by finite numbers (the dtype's extremes by default); the gradient
    passes where ``input`` is finite, as PyTorch's (and, unlike PyTorch's, through the real
    and imaginary parts of complex values)."""
    x = R.as_tensor(input)
    if x._inference:  # (PyTorch's out= variant: refused for one requiring grad)
        refuse_out("nan_to_num", x)
    xd = np.asarray(x._data)
    if xd.dtype.kind == "c":  # each part repaired (the extremes of the part's dtype)
        from .complex import complex as make_complex, imag, real

        return make_complex(nan_to_num(real(x), nan, posinf, neginf),
                            nan_to_num(imag(x), nan, posinf, neginf))
    if xd.dtype.kind != "f":
        return _make(xd.copy())
    fill = np.nan_to_num(xd, nan=nan, posinf=posinf, neginf=neginf)
    return where(_make(np.isfinite(xd)), x, _make(fill))


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    a = np.asarray(R.as_tensor(input)._data)
    b = np.asarray(R.as_tensor(other)._data)
    _broadcast2(a.shape, b.shape)  # (PyTorch's error, not NumPy's)
    with np.errstate(all="ignore"):
        close = (a == b) | (np.abs(a - b) <= atol + rtol * np.abs(b))
        close &= np.isfinite(a) & np.isfinite(b) | (a == b)
    if equal_nan:
        close |= np.isnan(a) & np.isnan(b)
    return _make(np.asarray(close))


@on_host  # CUDA tensors: through the host (ops/cuda_linalg.py)
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(np.all(np.asarray(isclose(input, other, rtol, atol, equal_nan)._data)))
