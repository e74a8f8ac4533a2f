"""``tapegrad.fft``: PyTorch's ``torch.fft`` functions, differentiable to any order.

Every transform (the Hermitian ``hfft``/``ihfft`` ones too: the real ones of the conjugate with
the dual normalisation) is a composition of one-axis transforms (``ops/fft.py``: ``fft``/``ifft``,
``rfft``, ``irfft`` and the zero-padding or truncation that ``n=``/``s=`` ask for), so its
gradient is PyTorch's: for a real loss of a complex spectrum, ``dL/dRe + i dL/dIm``. ``norm``
is ``"backward"`` (default: the inverse scales by ``1/n``), ``"forward"`` or ``"ortho"``.

Example:
    >>> import tapegrad as tg
    >>> x = tg.tensor([1.0, 2.0, 0.0, -1.0], requires_grad=True)
    >>> (tg.fft.rfft(x).abs() ** 2).sum().backward()
    >>> x.grad
    tensor([ 6., 10.,  2., -2.])
"""

import numpy as np

from .ops import fft as _F
from .ops.record import as_tensor as _t
from .ops.shapes import norm_dim

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
           "hfft2", "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftshift",
           "ifftshift", "fftfreq", "rfftfreq"]


def _n_check(n, what="Invalid number of data points"):
    if n is not None and n < 1:
        raise RuntimeError(f"{what} ({n}) specified")


def _real_check(x, name, what="a real input tensor"):
    if x.dtype.kind == "c":
        from .ops.shapes import torch_dtype_name

        got = torch_dtype_name(x.dtype)
        raise RuntimeError(f"{name} expects {what}, but got {got}" if name else
                           f"Only supports floating-point dtypes, but found: {got}")


def _axis(x, dim):
    if x.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return norm_dim(dim, x.ndim)


def _one(x, n, dim, inverse, norm):
    x = _t(x)
    return _c2c_axes(x, (_axis(x, dim),), (n,), inverse, _F.norm_name(norm))


def _c2c_axes(x, dims, sizes, inverse, norm):
    """One-axis transforms along ``dims``, each input first resized to its ``sizes`` entry
    (None: as it is)."""
    for axis, n in zip(dims, sizes):
        _n_check(x.shape[axis] if n is None else n)  # (an empty axis: PyTorch's error)
        if n is not None:
            x = _F.resize(x, axis, n)
        x = _F.c2c(x, axis, inverse, norm)
    return x


def fft(input, n=None, dim=-1, norm=None):
    """One-dimensional discrete Fourier transform along ``dim`` (``n``: pad or truncate)."""
    return _one(input, n, dim, False, norm)


def ifft(input, n=None, dim=-1, norm=None):
    """Inverse of ``fft``."""
    return _one(input, n, dim, True, norm)


def rfft(input, n=None, dim=-1, norm=None):
    """``fft`` of a real signal: the ``n // 2 + 1`` non-negative frequencies."""
    x = _t(input)
    _real_check(x, "rfft")
    axis = _axis(x, dim)
    _n_check(x.shape[axis] if n is None else n)
    if n is not None:
        x = _F.resize(x, axis, n)
    return _F.r2c(x, axis, _F.norm_name(norm))


def irfft(input, n=None, dim=-1, norm=None):
    """Inverse of ``rfft``: ``n`` real samples (default ``2 * (m - 1)`` for ``m`` bins)."""
    x = _t(input)
    axis = _axis(x, dim)
    if n is None:
        n = 2 * (x.shape[axis] - 1)
    _n_check(n)
    x = _F.resize(x, axis, n // 2 + 1)
    return _F.c2r(x, axis, n, _F.norm_name(norm))


def hfft(input, n=None, dim=-1, norm=None):
    """``fft`` of a Hermitian-symmetric signal given by its ``m`` first samples: ``n`` real
    values (default ``2 * (m - 1)``); ``irfft`` of the conjugate with the dual normalisation."""
    x = _t(input)
    return irfft(_conj(x), n, dim, _F.DUAL[_F.norm_name(norm)])


def ihfft(input, n=None, dim=-1, norm=None):
    """Inverse of ``hfft``: the ``n // 2 + 1`` non-negative frequencies of ``ifft`` of a real
    signal (the conjugate of ``rfft``, dual normalisation)."""
    x = _t(input)
    _real_check(x, "ihfft")
    return _conj(rfft(x, n, dim, _F.DUAL[_F.norm_name(norm)]))


def _conj(x):
    from .ops import conj

    return conj(x) if x.dtype.kind == "c" else x


def _axes(x, s, dim):
    """NumPy's/PyTorch's rule: ``dim`` given, or the last ``len(s)`` axes, or all of them."""
    if dim is None:
        if s is not None and len(s) > x.ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                               f"{x.ndim} dimensions.")
        dims = list(range(x.ndim)) if s is None else list(range(x.ndim - len(s), x.ndim))
    else:
        dims = [dim] if isinstance(dim, (int, np.integer)) else list(dim)
        dims = [norm_dim(int(d), x.ndim) for d in dims]
    if s is not None and len(s) != len(dims):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    sizes = [None] * len(dims) if s is None else [None if k == -1 else int(k) for k in s]
    return dims, sizes


def _many(x, s, dim, inverse, norm):
    x = _t(x)
    dims, sizes = _axes(x, s, dim)
    norm = _F.norm_name(norm)
    return _c2c_axes(x, dims, sizes, inverse, norm)


def fftn(input, s=None, dim=None, norm=None):
    """N-dimensional ``fft`` over ``dim`` (default: all, or the last ``len(s)``)."""
    return _many(input, s, dim, False, norm)


def ifftn(input, s=None, dim=None, norm=None):
    return _many(input, s, dim, True, norm)


def fft2(input, s=None, dim=(-2, -1), norm=None):
    return _many(input, s, dim, False, norm)


def ifft2(input, s=None, dim=(-2, -1), norm=None):
    return _many(input, s, dim, True, norm)


def rfftn(input, s=None, dim=None, norm=None):
    """``rfft`` over the last of ``dim``, then ``fft`` over the others."""
    x = _t(input)
    _real_check(x, "rfftn", "a real-valued input tensor")
    dims, sizes = _axes(x, s, dim)
    norm = _F.norm_name(norm)
    return _c2c_axes(rfft(x, sizes[-1], dims[-1], norm), dims[:-1], sizes[:-1], False, norm)


def irfftn(input, s=None, dim=None, norm=None):
    """Inverse of ``rfftn``: ``ifft`` over all of ``dim`` but the last, then ``irfft``."""
    x = _t(input)
    dims, sizes = _axes(x, s, dim)
    if sizes[-1] is None:  # (an empty axis: PyTorch's error names its size, not 2 * (0 - 1))
        _n_check(x.shape[dims[-1]])
    norm = _F.norm_name(norm)
    return irfft(_c2c_axes(x, dims[:-1], sizes[:-1], True, norm), sizes[-1], dims[-1], norm)


def hfftn(input, s=None, dim=None, norm=None):
    """N-dimensional ``hfft``: real output, the last of ``dim`` the one-sided one (``irfftn``
    of the conjugate, dual normalisation)."""
    x = _t(input)
    return irfftn(_conj(x), s, dim, _F.DUAL[_F.norm_name(norm)])


def ihfftn(input, s=None, dim=None, norm=None):
    """Inverse of ``hfftn``: the conjugate of ``rfftn`` with the dual normalisation."""
    x = _t(input)
    _axes(x, s, dim)  # (its errors first, as PyTorch's)
    _real_check(x, None)  # (PyTorch's words for ihfftn)
    return _conj(rfftn(x, s, dim, _F.DUAL[_F.norm_name(norm)]))


def hfft2(input, s=None, dim=(-2, -1), norm=None):
    return hfftn(input, s, dim, norm)


def ihfft2(input, s=None, dim=(-2, -1), norm=None):
    return ihfftn(input, s, dim, norm)


def rfft2(input, s=None, dim=(-2, -1), norm=None):
    return rfftn(input, s, dim, norm)


def irfft2(input, s=None, dim=(-2, -1), norm=None):
    return irfftn(input, s, dim, norm)


def _shift(x, dim, sign):
    x = _t(x)
    dims = range(x.ndim) if dim is None else \
        [dim] if isinstance(dim, (int, np.integer)) else dim
    for d in dims:
        axis = norm_dim(int(d), x.ndim)
        n = x.shape[axis]
        shift = sign * (n // 2)
        if n < 2 or shift % n == 0:
            continue
        idx = np.roll(np.arange(n), shift)
        x = x[(slice(None),) * axis + (idx,)]
    return x


def fftshift(input, dim=None):
    """Move the zero frequency to the centre (a roll by ``n // 2`` along each of ``dim``)."""
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    """Inverse of ``fftshift``."""
    return _shift(input, dim, -1)


def fftfreq(n, d=1.0, *, dtype=None):
    """Sample frequencies of an ``n``-point ``fft`` (a constant tensor, of the default dtype
    unless ``dtype`` is given)."""
    from .creation import get_default_dtype, tensor

    if n == 0:  # (NumPy divides by zero)
        return tensor(np.zeros(0), dtype=dtype or get_default_dtype())
    return tensor(np.fft.fftfreq(n, d), dtype=dtype or get_default_dtype())


def rfftfreq(n, d=1.0, *, dtype=None):
    """Sample frequencies of an ``n``-point ``rfft`` (the non-negative ones of ``fftfreq``)."""
    from .creation import get_default_dtype, tensor

    if n == 0:  # one frequency, 0 * 1/0: PyTorch's NaN (NumPy divides by zero)
        return tensor(np.array([np.nan]), dtype=dtype or get_default_dtype())
    return tensor(np.fft.rfftfreq(n, d), dtype=dtype or get_default_dtype())
