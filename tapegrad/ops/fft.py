"""Discrete Fourier transforms along one axis, the primitives of ``tapegrad.fft``.

Three linear maps, recorded as complex records (``ops/complex.py``), with the VJPs PyTorch
uses (``fft_r2c_backward``, ``fft_c2r_backward`` in its derivatives):

* ``c2c``: ``fft``/``ifft``; the VJP is the other transform with the dual normalisation
  (``backward`` <-> ``forward``, ``ortho`` stays), as the DFT matrix is symmetric;
* ``r2c``: ``rfft`` of a real signal; the VJP zero-pads the half spectrum back to ``n`` bins,
  takes the inverse transform (dual normalisation) and keeps the real part;
* ``c2r``: ``irfft`` to ``n`` real samples from ``n // 2 + 1`` bins; the VJP is ``rfft`` of the
  cotangent (dual normalisation) with the bins that stand for two (``1 .. n - n//2 - 1``)
  doubled. As in NumPy and PyTorch, the imaginary parts of bin 0 (and of bin ``n/2`` for
  even ``n``) do not reach the output, and get a zero gradient.

``resize`` zero-pads or truncates one axis (the ``n=``/``s=`` arguments); its VJP is the
opposite resize. The multi-axis transforms are compositions of these (``tapegrad/fft.py``).
"""

import numpy as np

from .._float_warnings import quiet
from ..tensor import _make, _wrap
from . import complex as C
from . import record as R

# the normalisation of the adjoint transform (the VJPs'; hfft's of irfft's)
DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def norm_name(norm):
    if norm is None:
        return "backward"
    if norm not in DUAL:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _resize_value(a, axis, n):
    m = a.shape[axis]
    if n == m:
        return a
    if n < m:
        key = [slice(None)] * a.ndim
        key[axis] = slice(0, n)
        return np.ascontiguousarray(a[tuple(key)])
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, n - m)
    return np.pad(a, pad)


def _c2c_value(a, axis, inverse, norm):
    f = np.fft.ifft if inverse else np.fft.fft
    try:
        return f(a, axis=axis, norm=norm)
    except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
        return quiet(f, a, axis=axis, norm=norm)


def _weights(n, m, axis, ndim):
    """Per bin of a one-sided spectrum of ``m`` bins for ``n`` samples: 2 where the bin stands
    for itself and its mirror image, else 1 (shaped to broadcast along ``axis``)."""
    w = np.ones(m)
    w[1 : n - m + 1] = 2.0
    shape = [1] * ndim
    shape[axis] = m
    return w.reshape(shape)


# ---- the rules (namespace ``ns``: NumPy or tapegrad ops) -------------------------------------

def _rule_resize(ns, g, ins, out, axis, n_in):
    return (ns.fft_resize(g, axis, n_in),)


def _rule_c2c(ns, g, ins, out, axis, inverse, norm):
    return (ns.fft_c2c(g, axis, not inverse, DUAL[norm]),)


def _rule_r2c(ns, g, ins, out, axis, n, norm):
    full = ns.fft_resize(g, axis, n)
    return (ns.real(ns.fft_c2c(full, axis, True, DUAL[norm])),)


def _rule_c2r(ns, g, ins, out, axis, n, norm):
    m = ins[0].shape[axis]
    gi = ns.fft_r2c(g, axis, DUAL[norm])
    return (gi * _weights(n, m, axis, len(ins[0].shape)),)


C.RULES.update(fft_resize=_rule_resize, fft_c2c=_rule_c2c, fft_r2c=_rule_r2c,
               fft_c2r=_rule_c2r)
C.NP.fft_resize = _resize_value
C.NP.fft_c2c = _c2c_value
C.NP.fft_r2c = lambda a, axis, norm: np.fft.rfft(a, axis=axis, norm=norm)


def _tg_ns(ns):
    ns.fft_resize = resize
    ns.fft_c2c = c2c
    ns.fft_r2c = r2c


C.NAMESPACE_HOOKS.append(_tg_ns)


# ---- the recorded primitives ----------------------------------------------------------------

def resize(x, axis, n):
    """``x`` zero-padded or truncated to ``n`` along ``axis``."""
    x = R.as_tensor(x)
    if x.shape[axis] == n:
        return x
    value = _resize_value(x._arr(), axis, n)
    return C.record(value, (x,), "fft_resize", axis=axis, n_in=x.shape[axis])


def c2c(x, axis, inverse, norm):
    x = R.as_tensor(x)
    value = _c2c_value(x._arr(), axis, inverse, norm)
    return C.record(value, (x,), "fft_c2c", axis=axis, inverse=inverse, norm=norm)


def r2c(x, axis, norm):
    x = R.as_tensor(x)
    if x.dtype.kind == "c":
        raise RuntimeError("rfft expects a real input tensor, but got "
                           f"{x.dtype}")
    a = x._arr()
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    try:
        value = np.fft.rfft(a, axis=axis, norm=norm)
    except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
        value = quiet(np.fft.rfft, a, axis=axis, norm=norm)
    return C.record(value, (x,), "fft_r2c", axis=axis, n=a.shape[axis], norm=norm)


def c2r(x, axis, n, norm):
    """``n`` real samples from the one-sided spectrum ``x`` (``n // 2 + 1`` bins on ``axis``)."""
    x = R.as_tensor(x)
    try:
        value = np.fft.irfft(x._arr(), n=n, axis=axis, norm=norm)
    except RuntimeWarning:  # (a user's warnings filter: _float_warnings)
        value = quiet(np.fft.irfft, x._arr(), n=n, axis=axis, norm=norm)
    if not C.needs_record(x):
        return _make(_wrap(value))
    return C.record(value, (x,), "fft_c2r", axis=axis, n=n, norm=norm)
