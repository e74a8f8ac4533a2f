"""``pow_c``'s derivative formula ``g * (c0 * x ** (c0 - 1.0))`` at the exponents users square
and cube with, as loops for the large float64 records NumPy sweeps (``numpy_records``).

A loop generated from a formula calls no power (it would not round as NumPy's). At these two
exponents the formula's power is exact or PyTorch's product: ``x ** 1.0`` is ``x``, and
``x ** 2.0`` is PyTorch's (and so the formula's) square ``x * x``; so these loops give the
formula's values, in one pass instead of NumPy's power, two products, a select and a copy.
"""

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)


@njit(cache=True, nogil=True, error_model="numpy")
def square_dx(dst, g, x, c):
    """``g * (2.0 * x)`` (``c`` = 2.0)."""
    for i in range(dst.shape[0]):
        dst[i] = g[i] * (c * x[i])


@njit(cache=True, nogil=True, error_model="numpy")
def cube_dx(dst, g, x, c):
    """``g * (3.0 * (x * x))`` (``c`` = 3.0)."""
    for i in range(dst.shape[0]):
        xi = x[i]
        dst[i] = g[i] * (c * (xi * xi))
