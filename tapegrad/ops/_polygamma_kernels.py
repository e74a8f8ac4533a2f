"""The polygamma functions ``psi^(n)``, n >= 1, of float64 arrays as Numba loops: digamma's
derivative (trigamma) and every one after it, without SciPy (whose ``polygamma`` evaluates
Hurwitz's zeta in several ufunc passes: ~190 ns an element, 20x PyTorch's trigamma).

For ``y > 0``, with ``z = y + N``:

    psi^(n)(y) = (-1)^(n+1) n! sum_{k<N} (y + k)^-(n+1)  +  psi^(n)(z),
    psi^(n)(z) ~ (-1)^(n+1) [(n-1)!/z^n + n!/(2 z^(n+1)) + sum_k B_2k (2k+n-1)!/(2k)! / z^(2k+n)]

(recurrence, then the asymptotic series, 12 Bernoulli terms: below 0.05 ulp once
``z >= n + 7``). The terms are added smallest first. For ``x <= 0`` the reflection formula
``psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi d^n/dx^n cot(pi x)`` with
``d^n/dx^n cot(pi x) = pi^n P_n(cot(pi x))``, ``P_0 = c``, ``P_(k+1) = -(1 + c^2) P_k'``
(one sign for all coefficients: no cancellation inside ``P_n``); ``cot(pi x)`` from
``r = x - round(x)`` (exact), as ``tan(pi (1/2 - |r|))`` where ``|r| > 1/4`` (0 at
half-integers, where even orders have no cot term). At the poles (0, the negative integers, -inf) the values are
SciPy's: +inf for odd n, -inf for even n.

``trigamma`` is one branch-free loop (a fixed N = 8: LLVM vectorises it, ~5 ns an element
here, PyTorch's ~9) computing ``psi1(1 - x)`` where ``x <= 0``; a second loop (``reflect``)
adds the reflection's term there. Errors
against mpmath: tests/test_polygamma_kernels.py.
"""

import math
from fractions import Fraction

import numpy as np
from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)

_B2K = [Fraction(1, 6), Fraction(-1, 30), Fraction(1, 42), Fraction(-1, 30), Fraction(5, 66),
        Fraction(-691, 2730), Fraction(7, 6), Fraction(-3617, 510), Fraction(43867, 798),
        Fraction(-174611, 330), Fraction(854513, 138), Fraction(-236364091, 2730)]
_TRI = np.array([float(b) for b in _B2K])  # trigamma's: B_2k / z^(2k+1)
_SHIFT = 8.0  # trigamma: psi1(z), z = y + 8 >= 8: the 13th term is below 5e-18 relative


@njit(cache=True, nogil=True, error_model="numpy")
def trigamma(x, out):
    """``out = psi1(x)`` where ``x > 0``, ``psi1(1 - x)`` elsewhere (one branch-free loop);
    returns how many elements are not ``> 0`` (``reflect`` finishes them)."""
    left = 0
    for i in range(x.size):
        v = x[i]
        pos = v > 0.0
        left += 0 if pos else 1
        y = v if pos else 1.0 - v
        w = 1.0 / (y + _SHIFT)
        t = w * w
        p = _TRI[11]
        for k in range(10, -1, -1):
            p = p * t + _TRI[k]
        s = w + t * (0.5 + w * p)
        for k in range(7, -1, -1):
            r = 1.0 / (y + k)
            s += r * r
        out[i] = s
    return left


@njit(cache=True, nogil=True, error_model="numpy")
def reflect(x, out):
    """``out = pi^2 / sin^2(pi x) - out`` where ``x <= 0`` (``out`` holding ``psi1(1 - x)``),
    +inf at the poles, NaN at -inf (as PyTorch)."""
    for i in range(x.size):
        v = x[i]
        if v > 0.0 or v != v:
            continue
        r = v - np.round(v)
        if r == 0.0 or r != r:
            out[i] = math.inf if r == 0.0 else math.nan
        else:
            sn = math.sin(math.pi * r)
            out[i] = math.pi * math.pi / (sn * sn) - out[i]


@njit(cache=True, nogil=True, error_model="numpy")
def _positive(n, y, coef, factorial):
    """``psi^(n)(y)`` for ``y > 0``: recurrence up to ``z >= n + 10``, then the series."""
    steps = int(math.ceil(n + 10.0 - y)) if y < n + 10.0 else 0
    z = y + steps
    w = 1.0 / z
    t = w * w
    q = coef[coef.size - 1]
    for k in range(coef.size - 2, -1, -1):
        q = q * t + coef[k]
    s = w ** n * (1.0 / n + w * (0.5 + w * q))
    for k in range(steps - 1, -1, -1):
        s += (y + k) ** -(n + 1.0)
    return s * factorial


@njit(cache=True, nogil=True, error_model="numpy")
def polygamma(n, x, out, coef, factorial, cot_poly, pi_power):
    """``out = psi^(n)(x)`` for any x; ``coef``: the series' coefficients divided by n!,
    ``factorial``: ``(-1)^(n+1) n!``, ``cot_poly``: ``P_n``'s coefficients by power,
    ``pi_power``: ``pi^(n+1)``."""
    pole = math.inf if n % 2 else -math.inf
    for i in range(x.size):
        v = x[i]
        if v > 0.0:  # (+inf: NaN, as PyTorch's series for n >= 2)
            out[i] = _positive(n, v, coef, factorial) if v != math.inf else math.nan
        elif v != v:
            out[i] = v
        else:
            r = v - np.round(v)
            if r == 0.0 or r != r:  # 0, a negative integer, -inf
                out[i] = pole
                continue
            a = abs(r)  # cot(pi r) = tan(pi (1/2 - |r|)) sign(r): exact 0 at half-integers
            c = math.tan(math.pi * (0.5 - a)) if a > 0.25 else 1.0 / math.tan(math.pi * a)
            c = c if r > 0.0 else -c
            p = cot_poly[cot_poly.size - 1]
            for k in range(cot_poly.size - 2, -1, -1):
                p = p * c + cot_poly[k]
            refl = _positive(n, 1.0 - v, coef, factorial)
            out[i] = (refl if n % 2 == 0 else -refl) - pi_power * p


_PARAMS = {}


def _float(v):
    """``float(v)``, infinite beyond the float range (orders past ~150)."""
    try:
        return float(v)
    except OverflowError:
        return math.copysign(math.inf, v)


def _params(n):
    """``polygamma``'s constants for order n (exact rationals, rounded once)."""
    p = _PARAMS.get(n)
    if p is None:
        fact = math.factorial(n)
        coef = [_float(b * Fraction(math.factorial(2 * k + n - 1), math.factorial(2 * k) * fact))
                for k, b in enumerate(_B2K, 1)]  # B_2k (2k+n-1)! / ((2k)! n!)
        poly = [0, 1]  # P_0 = c; P_(k+1) = -(1 + c^2) P_k'
        for _ in range(n):
            d = [j * poly[j] for j in range(1, len(poly))] + [0, 0]
            poly = [-(d[j] + (d[j - 2] if j >= 2 else 0)) for j in range(len(d))]
        p = _PARAMS[n] = (np.array(coef), _float((-1) ** (n + 1) * fact),
                          np.array([_float(c) for c in poly]),
                          _float(Fraction(math.pi) ** (n + 1)))
    return p


def values(n, a):
    """``psi^(n)`` (n >= 1) of an array, computed in float64 (a new float64 array)."""
    x = np.ascontiguousarray(a, np.float64).reshape(-1)
    out = np.empty_like(x)
    if n == 1:
        if trigamma(x, out):
            reflect(x, out)
    else:
        polygamma(int(n), x, out, *_params(n))
    return out.reshape(np.shape(a))
