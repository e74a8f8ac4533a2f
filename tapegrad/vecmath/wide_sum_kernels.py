"""Compiled loops for ``tapegrad.vecmath.wide_sums`` (Numba; imported on first use).

A float32 sum over a long axis that is not the innermost one: NumPy adds the rows one after
another into a float32 accumulator, whose rounding error grows with the number of rows
(~7e-6 relative over 500000 rows, where PyTorch's cascade sum keeps ~2e-7). These loops add
the rows in that order into a float64 accumulator and round once at the end.
"""

import numpy as np
from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)

_OPTS = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)


@njit(**_OPTS)
def sum_middle(x, out):
    """``out[o, :] = sum over r of x[o, r, :]`` (C-contiguous ``x`` of shape (O, n, I)),
    accumulated in float64; returns whether every sum is finite."""
    n_outer, n, inner = x.shape
    acc = np.empty(inner, np.float64)
    finite = True
    for o in range(n_outer):
        acc[:] = 0.0
        for r in range(n):
            row = x[o, r]
            for i in range(inner):
                acc[i] += row[i]
        res = out[o]
        for i in range(inner):
            res[i] = acc[i]
            finite &= res[i] - res[i] == 0
    return finite


@njit(**_OPTS)
def dot_middle(x, y, out):
    """``sum_middle`` of ``x * y`` (each product rounded to float32, as NumPy's), without
    the product array."""
    n_outer, n, inner = x.shape
    acc = np.empty(inner, np.float64)
    finite = True
    for o in range(n_outer):
        acc[:] = 0.0
        for r in range(n):
            a, b = x[o, r], y[o, r]
            for i in range(inner):
                acc[i] += a[i] * b[i]
        res = out[o]
        for i in range(inner):
            res[i] = acc[i]
            finite &= res[i] - res[i] == 0
    return finite
