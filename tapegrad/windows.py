"""Spectral windows (``tg.hann_window`` & co.): NumPy's symmetric windows, in PyTorch's
periodic convention by default."""

import numpy as np

from .creation import _default, _finish, _on


def _window(n, periodic, dtype, device, requires_grad, values):
    """A window of ``n`` points: ``values(m)`` of a symmetric window of m points, with one more
    point computed and dropped when ``periodic`` (PyTorch's spectral-analysis convention)."""
    n = int(n)
    if n < 0:
        raise RuntimeError(f"window length must be non-negative, got {n}")
    if n <= 1:
        arr = np.ones(n)
    else:
        arr = values(n + 1)[:-1] if periodic else values(n)
    return _on(device, _finish(arr.astype(dtype or _default()), requires_grad))


def hann_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False):
    return _window(window_length, periodic, dtype, device, requires_grad, np.hanning)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   device=None, requires_grad=False):
    return _window(window_length, periodic, dtype, device, requires_grad,
                   lambda m: alpha - beta * np.cos(2 * np.pi * np.arange(m) / (m - 1)))


def blackman_window(window_length, periodic=True, *, dtype=None, device=None,
                    requires_grad=False):
    return _window(window_length, periodic, dtype, device, requires_grad, np.blackman)


def bartlett_window(window_length, periodic=True, *, dtype=None, device=None,
                    requires_grad=False):
    return _window(window_length, periodic, dtype, device, requires_grad, np.bartlett)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, device=None,
                  requires_grad=False):
    return _window(window_length, periodic, dtype, device, requires_grad,
                   lambda m: np.kaiser(m, beta))
