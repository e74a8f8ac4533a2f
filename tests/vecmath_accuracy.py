"""Accuracy of ``tapegrad.vecmath`` against mpmath (correctly rounded reference), in ulps.

``tests/test_vecmath.py`` uses these helpers on modest samples; run this file for the big
sampling run (millions of arguments; minutes)::

    PYTHONPATH=. python tests/vecmath_accuracy.py [arguments per range, default 250000]

It prints, per function and argument range, the number of arguments and the largest error in
ulps of the kernel path (``vecmath.apply``) and of NumPy.
"""

import sys
import time

import numpy as np

try:
    from mpmath import libmp
except ImportError:  # the tests skip with a reason; this script needs it
    libmp = None

_PREC = 128
_MP = {}


def _mp_funcs():
    if not _MP:
        _MP.update(exp=libmp.mpf_exp, log=libmp.mpf_log, sin=libmp.mpf_sin,
                   cos=libmp.mpf_cos, erf=libmp.mpf_erf)
    return _MP


def reference(name, x):
    """``(e, d)``: the correctly rounded float64 of ``name(x)`` and the rest, exact - e, in
    units of ``np.spacing(|e|)`` (so that it does not underflow)."""
    f = _mp_funcs()[name]
    e = np.empty(x.size)
    d = np.empty(x.size)
    from_float, to_float, sub, shift = libmp.from_float, libmp.to_float, libmp.mpf_sub, \
        libmp.mpf_shift
    for i, v in enumerate(x.tolist()):
        ex = f(from_float(v), _PREC, "n")
        ei = to_float(ex, rnd="n")
        e[i] = ei
        if ei in (np.inf, -np.inf):
            d[i] = 0.0
            continue
        ulp_exp = max(int(np.frexp(ei)[1]) - 53, -1074)  # spacing(|ei|) = 2**ulp_exp
        d[i] = to_float(shift(sub(ex, from_float(ei), 60, "n"), -ulp_exp))
    return e, d


def ulp_error(y, e, d):
    """|y - exact| in ulps of the exact value, for exact = e + d * spacing(|e|)."""
    ae = np.abs(e)
    ulp = np.where(np.isinf(ae), 1.0, np.spacing(ae))
    with np.errstate(invalid="ignore"):
        err = np.abs((y - e) / ulp - d)  # y - e is exact (a few ulps)
    # below a power of two (|exact| < |e|) the exact value's ulp is half e's
    below = (np.signbit(d) != np.signbit(e)) & (d != 0)
    pow2 = (ae.view(np.int64) & ((1 << 52) - 1)) == 0
    err = np.where(pow2 & below & (ae >= 2.0 ** -1021), 2 * err, err)
    return np.where(y == e, np.where(np.isinf(e), 0.0, err), err)


def _signed(rng, x):
    return np.where(rng.random(x.size) < 0.5, -x, x)


def _loguniform(rng, lo, hi, n):
    return np.exp2(rng.uniform(np.log2(lo), np.log2(hi), n))


def near_half_pi(rng, nmax, n):
    """Doubles next to multiples k pi/2 (k < nmax): the nearest and the 2 on each side."""
    k = rng.integers(1, nmax, n)
    half_pi = libmp.mpf_shift(libmp.mpf_pi(_PREC + 40), -1)
    base = np.array([libmp.to_float(libmp.mpf_mul(libmp.from_int(int(j)), half_pi))
                     for j in k.tolist()])
    x = np.concatenate([base] + [np.nextafter(base, np.sign(s) * np.inf)
                                 for s in (-1, 1)])
    x = np.concatenate([x, np.nextafter(x[base.size:2 * base.size], -np.inf),
                        np.nextafter(x[2 * base.size:], np.inf)])
    return _signed(rng, x)


def samples(name, rng, n):
    """``{range label: arguments}`` covering the function's whole domain."""
    if name in ("sin", "cos"):
        return {
            "uniform [-pi, pi]": rng.uniform(-np.pi, np.pi, n),
            "uniform |x| < 100": rng.uniform(-100, 100, n),
            "uniform |x| < 2**20": rng.uniform(-2.0 ** 20, 2.0 ** 20, n),
            "log-uniform 1e-300 < |x| < 2**20": _signed(rng, _loguniform(rng, 1e-300, 2.0 ** 20, n)),
            "near k pi/2, k < 2**16": near_half_pi(rng, 2 ** 16, n // 5),
            "near k pi/2, k < 667000": near_half_pi(rng, 667000, n // 5),
            "NumPy's part: 2**20 < |x| < 1e22": _signed(rng, _loguniform(rng, 2.0 ** 20, 1e22, n // 10)),
        }
    if name == "exp":
        return {
            "uniform [-708.39, 709.78]": rng.uniform(-708.39, 709.78, n),
            "log-uniform 1e-300 < |x| < 709": _signed(rng, _loguniform(rng, 1e-300, 709.0, n)),
            "near overflow [700, 709.78]": rng.uniform(700.0, 709.78, n // 5),
            "NumPy's part: [709.78, 709.79], subnormal [-745.2, -708.39]":
                np.concatenate([rng.uniform(709.78, 709.79, n // 10),
                                rng.uniform(-745.2, -708.39, n // 10)]),
        }
    if name == "log":
        return {
            "log-uniform normal range": _loguniform(rng, 2.3e-308, 1.7e308, n),
            "uniform (0, 10)": rng.uniform(0.0, 10.0, n),
            "near 1: 1 +- 1e-3 (log-uniform offsets to 1e-15)":
                1.0 + _signed(rng, _loguniform(rng, 1e-15, 1e-3, n)),
            "NumPy's part: subnormal": _loguniform(rng, 5e-324, 2.2e-308, n // 10),
        }
    if name == "erf":  # FDLIBM's intervals: 0.84375, 1.25, 1/0.35, 6
        return {
            "uniform |x| < 0.84375": rng.uniform(-0.84375, 0.84375, n),
            "0.84375 <= |x| < 1.25": _signed(rng, rng.uniform(0.84375, 1.25, n)),
            "1.25 <= |x| < 6": _signed(rng, rng.uniform(1.25, 6.0, n)),
            "log-uniform 1e-300 < |x| < 1e-3": _signed(rng, _loguniform(rng, 1e-300, 1e-3, n)),
            "subnormal and |x| >= 6 (+-1)": _signed(rng, np.concatenate([
                _loguniform(rng, 5e-324, 2.2e-308, n // 10),
                _loguniform(rng, 6.0, 1e300, n // 10)])),
        }
    raise KeyError(name)


def measure(name, x):
    """(max ulp error of vecmath's kernel path, of the scalar function it replaces: NumPy's,
    or for erf SciPy's or the C library's) on ``x``."""
    from tapegrad import vecmath

    x = np.ascontiguousarray(x, dtype=np.float64)
    e, d = reference(name, x)
    with np.errstate(over="ignore"):  # exp's overflow range (NumPy's part) is sampled
        y = vecmath.apply(name, x)
        z = vecmath._scalar(name)(x)
    return float(ulp_error(y, e, d).max()), float(ulp_error(z, e, d).max())


def main(n):
    rng = np.random.default_rng(12345)
    total = 0
    for name in ("exp", "log", "sin", "cos", "erf"):
        for label, x in samples(name, rng, n).items():
            t = time.perf_counter()
            k, z = measure(name, x)
            total += x.size
            print(f"{name:4s} {label:58s} n={x.size:8d}  kernel max {k:.4f} ulp  "
                  f"scalar max {z:.4f} ulp  ({time.perf_counter() - t:.0f} s)", flush=True)
    print(f"{total} arguments in all")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 250000)
