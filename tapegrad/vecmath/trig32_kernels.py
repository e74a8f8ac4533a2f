"""float32 ``g * sin(x)``, ``g * cos(x)`` in one pass (Numba; imported on first large use).

musl's ``sinf``/``cosf`` method, evaluated in float64 and rounded once to float32: ``|x| = n
pi/2 + y`` with ``pi/2`` in two parts (25 bits, so ``n * part`` is exact, and the next 53
bits), then musl's ``__sindf``/``__cosdf`` polynomials (relative error below ``2**-34`` on
``|y| <= pi/4``). The float64 value is within ``2**-30`` of the exact one relative to it, so
the float32 result is within 0.5 ulp plus that, never a full ulp off (``tests/test_vecmath.py``
checks against mpmath). Both polynomials are evaluated and one kept per element, so the loop
is branch-free and SIMD. Arguments beyond ``TRIG32_MAX``, NaN and infinities are left to the
caller (NumPy's float32 function), as in ``kernels.py``.
"""

import numpy as np
from numba import njit

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)
from .kernels import _SIGN, SHIFT, _bits, _f, _float, wide_vectors

_TRIG_OPTS = dict(cache=True, fastmath={"contract"}, error_model="numpy", nogil=True)
_OPTS = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)

_SHIFT_BITS = int(np.float64(SHIFT).view(np.int64))
_INV_PIO2 = _f(0x3FE45F306DC9C883)
_PIO2_1 = 1.57079631090164184570e00  # first 25 bits of pi/2
_PIO2_1T = 1.58932547735281966916e-08  # pi/2 - _PIO2_1
_S1 = -0.166666666416265235595  # musl __sindf.c
_S2 = 0.0083333293858894631756
_S3 = -0.000198393348360966317347
_S4 = 0.0000027183114939898219064
_C0 = -0.499999997251031003120  # musl __cosdf.c
_C1 = 0.0416666233237390631894
_C2 = -0.00138867637746099294692
_C3 = 0.0000243904487962774090654
TRIG32_MAX = 1048576.0  # 2**20: larger arguments (and NaN, inf) are NumPy's


@njit(**_TRIG_OPTS)
def _trig32(v, cosine):
    """``(ok, sin(v))`` or ``(ok, cos(v))`` (``cosine``) of a float32 ``v``, as float64."""
    a = abs(np.float64(v))
    ok = a <= TRIG32_MAX  # False for nan, inf
    a = a if ok else 0.0
    nd = a * _INV_PIO2 + SHIFT
    n = _bits(nd) - _SHIFT_BITS
    nd = nd - SHIFT
    y = (a - nd * _PIO2_1) - nd * _PIO2_1T
    # one polynomial per element, its coefficients chosen by quadrant: sin(y) = y + y z p,
    # cos(y) = 1 + z p, p = K0 + z K1 + z**2 (K2 + z K3) (musl's terms, regrouped)
    use_cos = ((n & 1) == 0) if cosine else ((n & 1) != 0)
    z = y * y
    p = (_C0 if use_cos else _S1) + z * (_C1 if use_cos else _S2) + (z * z) * (
        (_C2 if use_cos else _S3) + z * (_C3 if use_cos else _S4))
    b = 1.0 if use_cos else y
    r = (1.0 if use_cos else y) + (b * z) * p
    if cosine:  # cos: c, -s, -c, s in quadrants 0-3
        return ok, _float(_bits(r) ^ (((n + 1) & 2) << 62))
    # sin: s, c, -s, -c; odd: the sign of v on top
    return ok, _float(_bits(r) ^ (((n & 2) << 62) ^ (_bits(np.float64(v)) & _SIGN)))


# out = g * f(x), each float32 product of NumPy's form (the value rounded to float32, then
# the product); where the kernel does not compute f(x), out[i] = g[i] and the caller
# multiplies NumPy's f(x) in. Into g itself, a loop of its own (see ``kernels._scale_loop``).
@njit(**_TRIG_OPTS)
def times_loop(x, g, out, cosine):
    wide_vectors()
    bad = 0
    for i in range(x.shape[0]):
        ok, r = _trig32(x[i], True) if cosine else _trig32(x[i], False)
        bad += not ok
        out[i] = g[i] * (np.float32(r) if ok else np.float32(1.0))
    return bad


@njit(**_TRIG_OPTS)
def scale_loop(x, g, cosine):
    wide_vectors()
    bad = 0
    for i in range(x.shape[0]):
        ok, r = _trig32(x[i], True) if cosine else _trig32(x[i], False)
        bad += not ok
        g[i] *= np.float32(r) if ok else np.float32(1.0)
    return bad


# out += g * f(x): the product and the sum each rounded in float32 (no "contract" here);
# where the kernel does not compute f(x), out[i] is left for the caller
@njit(**_OPTS)
def times_add_loop(x, g, out, cosine):
    wide_vectors()
    bad = 0
    for i in range(x.shape[0]):
        ok, r = _trig32(x[i], True) if cosine else _trig32(x[i], False)
        bad += not ok
        o = out[i]
        s = o + g[i] * np.float32(r)
        out[i] = s if ok else o
    return bad


@njit(**_TRIG_OPTS)
def trig_loop(x, out, cosine):
    """``out = f(x)`` rounded to float32; returns how many elements it left (``times``
    computes f(x) so where its one-pass loops do not apply)."""
    wide_vectors()
    bad = 0
    for i in range(x.shape[0]):
        ok, r = _trig32(x[i], True) if cosine else _trig32(x[i], False)
        bad += not ok
        out[i] = np.float32(r)
    return bad
