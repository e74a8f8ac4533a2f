"""Branch-free selects for ``tapegrad.vecmath.where`` (Numba; imported on first large use).

NumPy's ``where`` runs a branch per element: on a condition that is true half the time at
random (relu's derivative) it takes ~3.5 ns an element on the development VM, 1.4 ms for 4e5
elements, ~13x a multiplication of the same size. These loops select without a branch (LLVM
turns the conditional into a vector blend), each result one of its operands exactly. A
float condition selects where it is nonzero (NaN included), as NumPy's truth test does.

Beside them, short loops that do in one pass what NumPy does in two or more, each rounding as
NumPy's expression does (no fused multiply-adds: Numba's default flags): ``-|x|``, the
division after ``exp`` in a sigmoid, and ``out += g * f``.
"""

from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)

_OPTS = dict(cache=True, nogil=True)


@njit(**_OPTS)
def select(cond, a, b, out):
    """``out[i] = a[i] if cond[i] else b[i]`` (1-D, one length)."""
    for i in range(len(out)):
        out[i] = a[i] if cond[i] else b[i]


@njit(**_OPTS)
def select_first_const(cond, a, b, out):
    """``out[i] = a if cond[i] else b[i]`` (``a`` a number of ``out``'s dtype)."""
    for i in range(len(out)):
        out[i] = a if cond[i] else b[i]


@njit(**_OPTS)
def select_second_const(cond, a, b, out):
    """``out[i] = a[i] if cond[i] else b`` (``b`` a number of ``out``'s dtype)."""
    for i in range(len(out)):
        out[i] = a[i] if cond[i] else b


# error_model="numpy": a division by zero gives inf/nan, as NumPy's, and the loop vectorises
# (Python's model tests every divisor: 0.32 instead of 0.08 ms for 2.5e5 elements)
@njit(**_OPTS, error_model="numpy")
def logistic(x, e, one, out):
    """``out[i] = 1/(1+e[i])`` where ``x[i] >= 0``, else ``e[i]/(1+e[i])`` (``one``: 1 in the
    arrays' dtype): the tail of an overflow-free sigmoid, ``e = exp(-|x|)``, in one pass."""
    for i in range(len(out)):
        num = one if x[i] >= 0 else e[i]
        out[i] = num / (one + e[i])


@njit(**_OPTS)
def negative_abs(x, out):
    """``out[i] = -|x[i]|`` (NumPy's ``negative(abs(x))``, exact) in one pass instead of two."""
    for i in range(len(out)):
        out[i] = -abs(x[i])


@njit(**_OPTS, error_model="numpy")
def over_one_plus(num, e):
    """In place: ``e[i] = num[i] / (1 + e[i])`` (``num``: an array, or 1 in ``e``'s dtype), the
    two roundings of NumPy's ``num / (1.0 + e)`` in one pass instead of two (and no array)."""
    one = e.dtype.type(1)
    for i in range(len(e)):
        e[i] = num / (one + e[i])


@njit(**_OPTS, error_model="numpy")
def over_one_plus_array(num, e):
    """``over_one_plus`` of an array ``num`` of ``e``'s dtype and size."""
    one = e.dtype.type(1)
    for i in range(len(e)):
        e[i] = num[i] / (one + e[i])


@njit(**_OPTS)
def add_product(out, g, f):
    """In place: ``out[i] += g[i] * f[i]`` (NumPy's ``out += g * f``: the product rounded, then
    the sum) in one pass, without the product's array."""
    for i in range(len(out)):
        out[i] = out[i] + g[i] * f[i]


@njit(**_OPTS)
def relu(x, out):
    """``out[i] = 0 if x[i] <= 0 else x[i]``: NumPy's ``maximum(x, 0)`` (NaN kept, -0.0 made
    0.0), whose loop here takes ~3x as long."""
    zero = x.dtype.type(0)
    for i in range(len(out)):
        v = x[i]
        out[i] = zero if v <= zero else v


@njit(**_OPTS)
def leaky_relu(x, slope, out):
    """``out[i] = x[i] if x[i] > 0 else x[i] * slope`` (``slope`` in the arrays' dtype)."""
    zero = x.dtype.type(0)
    for i in range(len(out)):
        v = x[i]
        out[i] = v if v > zero else v * slope
