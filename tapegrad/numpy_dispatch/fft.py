"""``np.fft.*`` on tensors: NumPy's signatures (``axis``/``axes``) mapped onto ``tapegrad.fft``."""

import numpy as np

from .. import fft as F


def _no_out(out):
    if out is not None:
        from . import _Unsupported

        raise _Unsupported("out=")


def _one(f):
    def handler(a, n=None, axis=-1, norm=None, out=None):
        _no_out(out)
        return f(a, n=n, dim=axis, norm=norm)

    return handler


def _many(f, default_axes):
    def handler(a, s=None, axes=default_axes, norm=None, out=None):
        _no_out(out)
        return f(a, s=None if s is None else tuple(s),
                 dim=None if axes is None else tuple(axes), norm=norm)

    return handler


def _shift(f):
    def handler(x, axes=None):
        return f(x, dim=axes)

    return handler


def function_handlers():
    return {
        np.fft.fft: _one(F.fft), np.fft.ifft: _one(F.ifft), np.fft.rfft: _one(F.rfft),
        np.fft.irfft: _one(F.irfft),
        np.fft.fft2: _many(F.fftn, (-2, -1)), np.fft.ifft2: _many(F.ifftn, (-2, -1)),
        np.fft.rfft2: _many(F.rfftn, (-2, -1)), np.fft.irfft2: _many(F.irfftn, (-2, -1)),
        np.fft.fftn: _many(F.fftn, None), np.fft.ifftn: _many(F.ifftn, None),
        np.fft.rfftn: _many(F.rfftn, None), np.fft.irfftn: _many(F.irfftn, None),
        np.fft.fftshift: _shift(F.fftshift), np.fft.ifftshift: _shift(F.ifftshift),
    }
