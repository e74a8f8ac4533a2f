"""Compiled kernel of accurate_dot (imported on its first use)."""

import numpy as np
from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def dot_f32(x, y):
    """The sum of ``x[i] * y[i]`` (float32 vectors) in float64, rounded to float32 once (the
    products are exact in float64; the sum may be reordered into vector lanes)."""
    s = 0.0
    for i in range(x.shape[0]):
        s += np.float64(x[i]) * np.float64(y[i])
    return np.float32(s)
