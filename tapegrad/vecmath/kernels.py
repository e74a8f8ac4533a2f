"""Vectorisable float64 kernels for ``tapegrad.vecmath`` (Numba; imported on first large use).

Every kernel is one branch-free loop over contiguous 1-D arrays, which LLVM turns into SIMD code
(the transcendental calls of NumPy's and Numba's scalar paths cannot be vectorised; this
llvmlite has no SVML). An element the kernel does not handle exactly (nan, inf, zero or
negative log arguments, results outside the normal range, sin/cos arguments beyond the exact
reduction) is computed on a dummy argument, counted, and its index returned: the caller
recomputes those elements with NumPy, so special values, warnings and ``np.errstate`` are
NumPy's own.

Methods (FDLIBM / musl, error < 1 ulp each; sin/cos let LLVM fuse multiply-adds):

* ``exp``: ``x = k ln2 + r`` (Cody-Waite, ``ln2`` in two parts, ``k`` by the 1.5*2**52 rounding
  trick), ``exp(r) = 1 + r + r c / (2 - c)`` with FDLIBM's degree-5 minimax ``c``, scaled by
  ``2**k`` as two exact powers of two.
* ``log``: ``x = 2**k (1 + f)`` with ``1 + f`` in ``[sqrt(2)/2, sqrt(2))``, ``s = f / (2 + f)``,
  FDLIBM's degree-7 minimax in ``s**2``.
* ``sin``/``cos``: ``|x| = n pi/2 + r`` with ``pi/2`` in four parts (33, 33, 33 and 53 bits:
  ``n * part`` is exact for ``n < 2**20``) and the differences accumulated in double-double
  (two-sum), so ``r = y0 + y1`` keeps ~150 bits of ``pi/2`` and stays accurate next to
  multiples of ``pi/2``; then FDLIBM's ``__kernel_sin``/``__kernel_cos`` on ``(y0, y1)``, as
  one polynomial whose coefficients are chosen by quadrant. Exact for ``|x| < 2**20``; larger
  arguments go to NumPy.
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from .. import _numba_cache  # noqa: F401 (before any kernel: where Numba caches them)

_OPTS = dict(cache=True, fastmath=False, error_model="numpy", nogil=True)
# sin/cos may fuse a product and a sum into one fused multiply-add (one rounding instead of
# two): their reduction's exact steps stay exact (a product of a 33-bit part is exact either
# way, the two-sums have no products), the polynomials only get more accurate, and the loop
# runs ~25% faster where the CPU has FMA (2e6 cosines: 8.4 -> 6.3 ms)
_TRIG_OPTS = dict(_OPTS, fastmath={"contract"})


@intrinsic
def _bits(typingctx, x):
    """The IEEE bits of a float64 as int64 (a register move; vectorises)."""

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _float(typingctx, i):
    """The float64 whose IEEE bits are the int64 ``i``."""

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def wide_vectors(typingctx):
    """Let LLVM vectorise the calling loop with the CPU's widest registers: on AVX-512 CPUs its
    default stays at 256 bits (``prefer-vector-width``, a tuning against clock drops in mixed
    code); these loops are long runs of arithmetic alone, and 2e6 sines took 3.6 ms with
    256-bit vectors, 2.3 with 512 (a Xeon with AVX-512). Where the CPU has no wider registers
    the attribute changes nothing."""

    def codegen(context, builder, sig, args):
        # a string attribute of the function being compiled (llvmlite's attribute set accepts
        # only the keywords it knows; the set prints each entry as written)
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen


SHIFT = 6755399441055744.0  # 1.5 * 2**52: (v + SHIFT) - SHIFT rounds |v| < 2**51 to an integer
_SHIFT_BITS = int(np.float64(SHIFT).view(np.int64))
_SIGN = -0x8000000000000000
_ABS = 0x7FFFFFFFFFFFFFFF


def _f(bits):
    return float(np.int64(np.uint64(bits).astype(np.int64)).view(np.float64))


# ---- exp (FDLIBM e_exp.c) ----------------------------------------------------------------
_LN2HI = _f(0x3FE62E42FEE00000)
_LN2LO = _f(0x3DEA39EF35793C76)
_INVLN2 = _f(0x3FF71547652B82FE)
_P1 = _f(0x3FC555555555553E)
_P2 = _f(0xBF66C16C16BEBD93)
_P3 = _f(0x3F11566AAF25DE2C)
_P4 = _f(0xBEBBBD41C5D26BF1)
_P5 = _f(0x3E66376972BEA4D0)
EXP_LO = -708.39  # exp(x) is a normal float64 in [EXP_LO, EXP_HI]; outside: NumPy
EXP_HI = 709.78


@njit(inline="always")
def _exp_core(v):
    """``exp(v)`` for ``EXP_LO <= v <= EXP_HI`` (a normal result), branch-free."""
    kd = v * _INVLN2 + SHIFT
    k = _bits(kd) - _SHIFT_BITS
    kd = kd - SHIFT
    hi = v - kd * _LN2HI  # exact: kd * _LN2HI has at most 43 bits
    lo = kd * _LN2LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = 1.0 + (r * c / (2.0 - c) - lo + hi)
    k1 = k >> 1  # 2**k as two exact factors (k = 1024 at the top of the range)
    return (y * _float((k1 + 1023) << 52)) * _float((k - k1 + 1023) << 52)


@njit(**_OPTS)
def _exp_loop(x, out):
    wide_vectors()
    bad = 0
    for i in range(x.shape[0]):
        v = x[i]
        ok = (v >= EXP_LO) & (v <= EXP_HI)  # False for nan
        bad += not ok
        out[i] = _exp_core(v if ok else 0.0)
    return bad


# ---- log (FDLIBM e_log.c, musl's branch-free reduction) -----------------------------------
_LG1 = _f(0x3FE5555555555593)
_LG2 = _f(0x3FD999999997FA04)
_LG3 = _f(0x3FD2492494229359)
_LG4 = _f(0x3FCC71C51D8E78AF)
_LG5 = _f(0x3FC7466496CB03DE)
_LG6 = _f(0x3FC39A09D078C69F)
_LG7 = _f(0x3FC2F112DF3E5244)
LOG_LO = 2.2250738585072014e-308  # positive normal finite arguments; the rest: NumPy
LOG_HI = 1.7976931348623157e308


@njit(**_OPTS)
def _log_loop(x, out):
    wide_vectors()
    bad = 0
    for i in range(x.shape[0]):
        v = x[i]
        ok = (v >= LOG_LO) & (v <= LOG_HI)
        bad += not ok
        v = v if ok else 1.0
        u = _bits(v)
        hx = (u >> 32) + (0x3FF00000 - 0x3FE6A09E)
        k = (hx >> 20) - 0x3FF
        hx = (hx & 0x000FFFFF) + 0x3FE6A09E
        f = _float((hx << 32) | (u & 0xFFFFFFFF)) - 1.0
        dk = _float(k + _SHIFT_BITS) - SHIFT  # float(k) without a (scalarised) int conversion
        hfsq = 0.5 * f * f
        s = f / (2.0 + f)
        z = s * s
        w = z * z
        t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
        t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
        r = t2 + t1
        out[i] = s * (hfsq + r) + dk * _LN2LO - hfsq + f + dk * _LN2HI
    return bad


# ---- sin, cos (FDLIBM k_sin.c, k_cos.c as in musl; double-double Cody-Waite reduction) ----
_INV_PIO2 = _f(0x3FE45F306DC9C883)
_PIO2_1 = _f(0x3FF921FB54400000)  # first 33 bits of pi/2
_PIO2_2 = _f(0x3DD0B4611A600000)  # next 33 bits
_PIO2_3 = _f(0x3BA3198A2E000000)  # next 33 bits
_PIO2_3T = _f(0x397B839A252049C1)  # pi/2 - (the three above)
_S1 = _f(0xBFC5555555555549)
_S2 = _f(0x3F8111111110F8A6)
_S3 = _f(0xBF2A01A019C161D5)
_S4 = _f(0x3EC71DE357B1FE7D)
_S5 = _f(0xBE5AE5E68A2B9CEB)
_S6 = _f(0x3DE5D93A5ACFD57C)
_C1 = _f(0x3FA555555555554C)
_C2 = _f(0xBF56C16C16C15177)
_C3 = _f(0x3EFA01A019CB1590)
_C4 = _f(0xBE927E4F809C52AD)
_C5 = _f(0x3E21EE9EBDB4B1C4)
_C6 = _f(0xBDA8FAE9BE8838D4)
TRIG_MAX = 1048576.0  # 2**20: n < 2**20, so n * each part of pi/2 is exact


@njit(**_TRIG_OPTS)
def _reduce(v):
    """``(ok, n, y0, y1)``: ``|v| = n pi/2 + y0 + y1``, ``|y0 + y1| <= ~pi/4``."""
    a = abs(v)
    ok = a <= TRIG_MAX  # False for nan, inf
    a = a if ok else 0.0
    nd = a * _INV_PIO2 + SHIFT
    n = _bits(nd) - _SHIFT_BITS
    nd = nd - SHIFT
    t = a - nd * _PIO2_1  # exact (Sterbenz)
    w = -(nd * _PIO2_2)  # exact
    s = t + w  # two-sum: s + e == t + w exactly
    bb = s - t
    e = (t - (s - bb)) + (w - bb)
    w = -(nd * _PIO2_3)  # exact
    s2 = s + w
    bb = s2 - s
    e2 = (s - (s2 - bb)) + (w - bb)
    tail = (e + e2) - nd * _PIO2_3T
    y0 = s2 + tail
    y1 = (s2 - y0) + tail
    return ok, n, y0, y1


@njit(**_TRIG_OPTS)
def _ktrig(x, y, use_cos):
    """FDLIBM's ``__kernel_cos(x, y)`` (``use_cos``) or ``__kernel_sin(x, y)``, ``|x + y| <=
    ~pi/4``, evaluating ONE polynomial: its coefficients are chosen per element (Horner in
    ``z = x*x``, sin's degree-4 polynomial padded with a zero), so a SIMD loop, whose elements
    fall in both kinds of quadrant, pays one polynomial instead of both (2e6 sines: 3.7 ->
    3.0 ms). The two short finishing formulas are FDLIBM's, both computed, one kept."""
    z = x * x
    q = (_C1 if use_cos else _S2) + z * ((_C2 if use_cos else _S3) + z * (
        (_C3 if use_cos else _S4) + z * ((_C4 if use_cos else _S5) + z * (
            (_C5 if use_cos else _S6) + z * (_C6 if use_cos else 0.0)))))
    v = z * x  # sin: x + x**3 (S1 + z q), with y's correction
    s = x - ((z * (0.5 * y - v * q) - y) - v * _S1)
    hz = 0.5 * z  # cos: 1 - z/2 + z*z q, with the rounding of 1 - z/2 and y's correction
    w = 1.0 - hz
    c = w + (((1.0 - w) - hz) + (z * (z * q) - x * y))
    return c if use_cos else s


@njit(**_TRIG_OPTS)
def _trig1(v, cosine):
    """``(ok, sin(v))``, ``(ok, cos(v))`` with ``cosine``; ``ok`` False where NumPy must compute
    it (the value is then a dummy)."""
    ok, n, y0, y1 = _reduce(v)
    if cosine:  # cos's kernel in quadrants 0, 2; negate in quadrants 1, 2
        r = _ktrig(y0, y1, (n & 1) == 0)
        return ok, _float(_bits(r) ^ (((n + 1) & 2) << 62))
    # sin's kernel in quadrants 0, 2; negate in quadrants 2, 3; sin is odd: the sign of x
    # (also of -0.0) goes on top
    r = _ktrig(y0, y1, (n & 1) != 0)
    return ok, _float(_bits(r) ^ (((n & 2) << 62) ^ (_bits(v) & _SIGN)))


@njit(**_TRIG_OPTS)
def _sin_loop(x, out):
    wide_vectors()
    bad = 0
    for i in range(x.shape[0]):
        ok, r = _trig1(x[i], False)
        bad += not ok
        out[i] = r
    return bad


@njit(**_TRIG_OPTS)
def _cos_loop(x, out):
    wide_vectors()
    bad = 0
    for i in range(x.shape[0]):
        ok, r = _trig1(x[i], True)
        bad += not ok
        out[i] = r
    return bad


# g * sin(x), g * cos(x) in one pass (a derivative formula: sin's VJP is g * cos(x)): the same
# product of the same rounded value; where the kernel does not compute f(x), out[i] = g[i]
# and the caller multiplies NumPy's f(x) in. Into g itself, a loop of its own: LLVM checks at
# run time that the array written does not overlap those read, and runs a scalar loop (5x
# slower) when it does, even where each element is read before it is written.
@njit(**_TRIG_OPTS)
def _times_loop(x, g, out, cosine):
    wide_vectors()
    bad = 0
    for i in range(x.shape[0]):  # (the choice is hoisted; _trig1(x[i], cosine) ran scalar)
        ok, r = _trig1(x[i], True) if cosine else _trig1(x[i], False)
        bad += not ok
        out[i] = g[i] * (r if ok else 1.0)
    return bad


@njit(**_TRIG_OPTS)
def _scale_loop(x, g, cosine):
    wide_vectors()
    bad = 0
    for i in range(x.shape[0]):
        ok, r = _trig1(x[i], True) if cosine else _trig1(x[i], False)
        bad += not ok
        g[i] *= r if ok else 1.0
    return bad


# out += g * sin(x) or g * cos(x) (a derivative formula added into an adjoint that already
# holds a gradient): the product of the other loops, then the addition, each rounded (this
# loop has no "contract": the inlined _trig1 keeps its own flags, the addition here is not
# fused into the product); where the kernel does not compute f(x), out[i] is left for the
# caller to add g * NumPy's f(x) into.
@njit(**_OPTS)
def _times_add_loop(x, g, out, cosine):
    wide_vectors()
    bad = 0
    for i in range(x.shape[0]):
        ok, r = _trig1(x[i], True) if cosine else _trig1(x[i], False)
        bad += not ok
        o = out[i]
        s = o + g[i] * r
        out[i] = s if ok else o
    return bad


@njit(**_OPTS)
def outside(x, lo, hi, nbad):
    """Indices of the ``nbad`` elements of ``x`` outside [lo, hi] (or NaN): NumPy does those."""
    idx = np.empty(nbad, np.int64)
    j = 0
    for i in range(x.shape[0]):
        v = x[i]
        if not ((v >= lo) & (v <= hi)):
            idx[j] = i
            j += 1
    return idx


# name -> (loop, the range it computes exactly; NumPy does the rest)
KERNELS = {
    "exp": (_exp_loop, EXP_LO, EXP_HI),
    "log": (_log_loop, LOG_LO, LOG_HI),
    "sin": (_sin_loop, -TRIG_MAX, TRIG_MAX),
    "cos": (_cos_loop, -TRIG_MAX, TRIG_MAX),
}
# g * f(x) (f: sin or cos, the last argument True for cos): into another array, into g, and
# added into another array
TIMES = (_times_loop, _scale_loop, _times_add_loop)
