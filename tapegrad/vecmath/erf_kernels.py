"""A vectorisable float64 ``erf`` for ``tapegrad.vecmath`` (Numba; imported on first large use).

FDLIBM's ``s_erf.c`` (Sun, 1993; also musl's and FreeBSD's), error < 1 ulp, written as one
branch-free loop (LLVM makes SIMD code of it; NumPy has no erf, and SciPy's and the C
library's are scalar). FDLIBM splits ``|x|`` at 0.84375, 1.25, 1/0.35 and 6:

* ``|x| < 0.84375``: ``erf(x) = x + x P(x**2) / Q(x**2)``;
* ``0.84375 <= |x| < 1.25``: ``erf(|x|) = erx + P(|x| - 1) / Q(|x| - 1)``;
* ``1.25 <= |x|``: ``erfc(|x|) = exp(-z*z - 0.5625) exp((z - |x|)(z + |x|) + R(s) / S(s)) / |x|``,
  ``s = 1/x**2``, ``z`` = ``|x|`` with the low 32 bits of its mantissa cleared (so ``z*z`` is
  exact), two coefficient sets split at 1/0.35; ``erf = 1 - erfc``, 1 from 6 on.

Here both rational functions of one side are a single evaluation whose coefficients are
chosen per element (the shorter polynomial padded with zeros: ``c + t*0`` is ``c``, so every
operation is FDLIBM's), the two sides are both computed and one kept, and ``exp`` is
``kernels``' (FDLIBM's ``e_exp.c``, branch-free). NaN and infinities are computed on a dummy,
counted, and recomputed by the caller's scalar function, as in ``kernels``.

No ``erfc``: FDLIBM's, written the same way, measured up to 2.3 ulps off against mpmath (its
``1 - erx - P/Q`` and the product of two exponentials); one ulp needs double-double there.
"""

from numba import njit

from .kernels import _OPTS, _SIGN, _bits, _exp_core, _f, _float, wide_vectors

_ERX = _f(0x3FEB0AC160000000)
# |x| < 0.84375: P and Q of x*x (FDLIBM's pp0-pp4, qq1-qq5); 0.84375 <= |x| < 1.25: of |x| - 1
# (pa0-pa6, qa1-qa6). Numerator then denominator, the first padded to the second's degree.
_PP = [_f(b) for b in (0x3FC06EBA8214DB68, 0xBFD4CD7D691CB913, 0xBF9D2A51DBD7194F,
                       0xBF77A291236668E4, 0xBEF8EAD6120016AC)] + [0.0, 0.0]
_QQ = [_f(b) for b in (0x3FD97779CDDADC09, 0x3FB0A54C5536CEBA, 0x3F74D022C4D36B0F,
                       0x3F215DC9221C1A10, 0xBED09C4342A26120)] + [0.0]
_PA = [_f(b) for b in (0xBF6359B8BEF77538, 0x3FDA8D00AD92B34D, 0xBFD7D240FBB8C3F1,
                       0x3FD45FCA805120E4, 0xBFBC63983D3E28EC, 0x3FA22A36599795EB,
                       0xBF61BF380A96073F)]
_QA = [_f(b) for b in (0x3FBB3E6618EEE323, 0x3FE14AF092EB6F33, 0x3FB2635CD99FE9A7,
                       0x3FC02660E763351F, 0x3F8BEDC26B51DD1C, 0x3F888B545735151D)]
# 1.25 <= |x| < 1/0.35: R and S of 1/x**2 (ra0-ra7, sa1-sa8); from 1/0.35 on: rb0-rb6, sb1-sb7
_RA = [_f(b) for b in (0xBF843412600D6435, 0xBFE63416E4BA7360, 0xC0251E0441B0E726,
                       0xC04F300AE4CBA38D, 0xC0644CB184282266, 0xC067135CEBCCABB2,
                       0xC054526557E4D2F2, 0xC023A0EFC69AC25C)]
_SA = [_f(b) for b in (0x4033A6B9BD707687, 0x4061350C526AE721, 0x407B290DD58A1A71,
                       0x40842B1921EC2868, 0x407AD02157700314, 0x405B28A3EE48AE2C,
                       0x401A47EF8E484A93, 0xBFAEEFF2EE749A62)]
_RB = [_f(b) for b in (0xBF84341239E86F4A, 0xBFE993BA70C285DE, 0xC031C209555F995A,
                       0xC064145D43C5ED98, 0xC083EC881375F228, 0xC09004616A2E5992,
                       0xC07E384E9BDC383F)] + [0.0]
_SB = [_f(b) for b in (0x403E568B261D5190, 0x40745CAE221B9F0A, 0x409802EB189D5118,
                       0x40A8FFB7688C246A, 0x40A3F219CEDF3BE6, 0x407DA874E79FE763,
                       0xC03670E242712D62)] + [0.0]
(_P0, _P1, _P2, _P3, _P4, _P5, _P6), (_Q1, _Q2, _Q3, _Q4, _Q5, _Q6) = zip(_PP, _PA), \
    zip(_QQ, _QA)
(_R0, _R1, _R2, _R3, _R4, _R5, _R6, _R7), (_S1, _S2, _S3, _S4, _S5, _S6, _S7, _S8) = \
    zip(_RA, _RB), zip(_SA, _SB)
_SPLIT = _f(0x4006DB6E00000000)  # ~1/0.35, where FDLIBM's erf changes coefficient sets
_HI32 = -0x100000000  # the int64 mask that clears the low 32 bits
MAX = 1.7976931348623157e308
ERF_LO, ERF_HI = -MAX, MAX  # every finite argument (erf is +-1 from |x| = 6 on)


@njit(inline="always")
def _pick(small, pair):
    return pair[0] if small else pair[1]


@njit(inline="always")
def _near(x, a):
    """``(|x| < 0.84375, P/Q)``: the rational function of FDLIBM's inner interval that holds
    ``x`` (of ``x**2`` below 0.84375, of ``|x| - 1`` up to 1.25; ``a`` is ``|x|``)."""
    small = a < 0.84375
    t = x * x if small else a - 1.0
    p = _pick(small, _P0) + t * (_pick(small, _P1) + t * (_pick(small, _P2) + t * (
        _pick(small, _P3) + t * (_pick(small, _P4) + t * (_pick(small, _P5) + t * _pick(
            small, _P6))))))
    q = 1.0 + t * (_pick(small, _Q1) + t * (_pick(small, _Q2) + t * (_pick(small, _Q3) + t * (
        _pick(small, _Q4) + t * (_pick(small, _Q5) + t * _pick(small, _Q6))))))
    return small, p / q


@njit(inline="always")
def _tail(a):
    """``erfc(a)`` for ``1.25 <= a <= 6`` (erf's range; ``exp``'s arguments stay normal)."""
    s = 1.0 / (a * a)
    low = a < _SPLIT
    r = _pick(low, _R0) + s * (_pick(low, _R1) + s * (_pick(low, _R2) + s * (_pick(low, _R3) + s * (
        _pick(low, _R4) + s * (_pick(low, _R5) + s * (_pick(low, _R6) + s * _pick(low, _R7)))))))
    q = 1.0 + s * (_pick(low, _S1) + s * (_pick(low, _S2) + s * (_pick(low, _S3) + s * (
        _pick(low, _S4) + s * (_pick(low, _S5) + s * (_pick(low, _S6) + s * (_pick(
            low, _S7) + s * _pick(low, _S8))))))))
    z = _float(_bits(a) & _HI32)
    return _exp_core(-z * z - 0.5625) * _exp_core((z - a) * (z + a) + r / q) / a


@njit(**_OPTS)
def _erf_loop(x, out):
    wide_vectors()
    bad = 0
    for i in range(x.shape[0]):
        v = x[i]
        ok = (v >= ERF_LO) & (v <= ERF_HI)  # False for nan
        bad += not ok
        v = v if ok else 0.0
        a = abs(v)
        small, y = _near(v, a)
        near = v + v * y if small else _ERX + y  # (the second for |x|; its sign below)
        # (clamped: elements of the other side compute a dummy; 1 - erfc(6) rounds to 1.0)
        far = 1.0 - _tail(min(max(a, 1.25), 6.0))
        r = near if a < 1.25 else far
        out[i] = r if small else _float(_bits(r) | (_bits(v) & _SIGN))  # erf is odd
    return bad


# name -> (loop, the range it computes; the caller's scalar function does the rest)
KERNELS = {"erf": (_erf_loop, ERF_LO, ERF_HI)}
