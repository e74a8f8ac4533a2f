"""``x * x``'s VJP of a large record in one pass: both inputs' gradients, ``g * x`` each,
added in the order two separate formulas would add them (``(dst + t) + t``, ``t + t``), so the
same values; NumPy makes two passes. Loaded with the first such record (not at import)."""

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)

_OPTS = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_OPTS)
def product_twice(dst, g, x):
    # dst = g * x + g * x  (dst shares no memory with g or x)
    for i in range(dst.shape[0]):
        t = g[i] * x[i]
        dst[i] = t + t


@njit(**_OPTS)
def product_twice_over_g(g, x):
    # g = g * x + g * x, in place
    for i in range(g.shape[0]):
        t = g[i] * x[i]
        g[i] = t + t


@njit(**_OPTS)
def add_product_twice(dst, g, x):
    # dst += g * x; dst += g * x
    for i in range(dst.shape[0]):
        t = g[i] * x[i]
        dst[i] = (dst[i] + t) + t
