"""CUDA kernels that move and combine values: casts, fills, strided gathers and scatters
(atomics where targets repeat), indexed take/put/add, where, clamp, rounding and comparisons.

Grid-stride loops; launched through ``kernels.launch``. Imported on first use of a CUDA tensor
(``kernels.k``), never by ``import tapegrad``; Numba caches them on disk.
"""

import math

from numba import cuda
from ...device import simulated

if simulated():  # Python arithmetic raises where the device gives inf/nan
    from ._sim_ieee import *  # noqa: F403


@cuda.jit(cache=True)
def where_fwd(n, c, x, sx, cx, y, sy, cy, out):
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        if c[i]:
            out[i] = x[i * sx] if sx >= 0 else cx
        else:
            out[i] = y[i * sy] if sy >= 0 else cy
        i += st


@cuda.jit(cache=True)
def clamp_fwd(n, x, lo, hi, out):
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        v = float(x[i])
        if v < lo:
            v = lo
        elif v > hi:
            v = hi
        out[i] = v
        i += st



@cuda.jit(cache=True)
def sign_fwd(n, x, out):
    """out[i] = sign(x[i]): -1, 0 or 1 in x's type, 0 for nan (PyTorch's), bool unchanged."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        v = x[i]
        out[i] = int(v > 0) - int(v < 0)
        i += st


@cuda.jit(device=True)
def _rint(v):
    """v rounded half to even: adding and subtracting 2**52 rounds |v| < 2**52 to an integer
    (IEEE's rounding); larger values, inf and nan are already what rint gives."""
    a = abs(v)
    if a < 4503599627370496.0:
        a = (a + 4503599627370496.0) - 4503599627370496.0
        return math.copysign(a, v)
    return v


@cuda.jit(cache=True)
def round_fwd(n, mode, x, s, out):
    """out[i] = x[i] rounded (mode 0 half to even, 1 floor, 2 ceil, 3 trunc; 4 to
    log10(s[0]) decimals, 5 to -log10(s[0]): NumPy's and PyTorch's rint(x * s) / s and
    rint(x / s) * s, in x's type), the zero keeping x's sign (np.ceil(-0.5) is -0.0)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        y = x[i]
        if mode == 4:
            y = y * s[0]
        elif mode == 5:
            y = y / s[0]
        v = float(y)
        r = _rint(v)
        if (mode == 1 or (mode == 3 and v > 0)) and r > v:
            r -= 1.0
        elif (mode == 2 or (mode == 3 and v < 0)) and r < v:
            r += 1.0
        out[i] = math.copysign(r, v)
        if mode == 4:
            out[i] = out[i] / s[0]
        elif mode == 5:
            out[i] = out[i] * s[0]
        i += st


@cuda.jit(cache=True)
def cast(n, x, out):
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[i] = x[i]
        i += st


@cuda.jit(cache=True)
def fill(n, out, v):
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[i] = v
        i += st


@cuda.jit(cache=True)
def add_into(n, x, out):
    """out[i] += x[i] (adjoints handed on: RESHAPE, TO_COPY, seeds)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[i] += x[i]
        i += st


@cuda.jit(device=True)
def _src_index(i, meta):
    """offset + sum_k i_k * strides[k] for flat C-order index i over meta's shape
    (meta = [nd, *shape, *strides, offset])."""
    nd = meta[0]
    idx = meta[1 + 2 * nd]
    rem = i
    k = nd - 1
    while k >= 0:
        s = meta[1 + k]
        ik = rem % s
        rem //= s
        idx += ik * meta[1 + nd + k]
        k -= 1
    return idx


@cuda.jit(cache=True)
def gather(n, src, meta, out, acc):
    """out[i] (+)= src[offset + i . strides]: views, broadcasts, the VJP of a sum."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        j = _src_index(i, meta)
        if acc:
            out[i] += src[j]
        else:
            out[i] = src[j]
        i += st


@cuda.jit(cache=True)
def scatter_add(n, src, meta, out):
    """out[offset + i . strides] += src[i] with atomics (repeated targets: broadcasts)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        j = _src_index(i, meta)
        cuda.atomic.add(out, j, src[i])
        i += st


@cuda.jit(cache=True)
def index_add(n, src, idx, out):
    """out[idx[i]] += src[i] with atomics (VJP of an indexed gather)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        cuda.atomic.add(out, idx[i], src[i])
        i += st


@cuda.jit(cache=True)
def index_gather(n, src, idx, out):
    """out[i] += src[idx[i]] (VJP of an indexed scatter)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[i] += src[idx[i]]
        i += st


@cuda.jit(cache=True)
def scatter_set(n, src, meta, out):
    """out[offset + i . strides] = src[i] (distinct targets: the pieces of a cat)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[_src_index(i, meta)] = src[i]
        i += st


@cuda.jit(cache=True)
def put(n, src, ss, idx, out):
    """out[idx[i]] = src[i * ss] (ss 0: one value everywhere): x[key] = v, in place."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[idx[i]] = src[i * ss]
        i += st


@cuda.jit(cache=True)
def compare(n, op, x, sx, y, sy, out):
    """out[i] = x[i * sx] (op) y[i * sy] as bool: ==, !=, <, <=, >, >=, and, or, xor (0..8)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        a = x[i * sx]
        b = y[i * sy]
        if op == 0:
            r = a == b
        elif op == 1:
            r = a != b
        elif op == 2:
            r = a < b
        elif op == 3:
            r = a <= b
        elif op == 4:
            r = a > b
        elif op == 5:
            r = a >= b
        elif op == 6:
            r = (a != 0) and (b != 0)
        elif op == 7:
            r = (a != 0) or (b != 0)
        else:
            r = (a != 0) != (b != 0)
        out[i] = r
        i += st


@cuda.jit(cache=True)
def finite_or_zero(n, x):
    """x[i] = 0 where x[i] is not finite (a softmax shift, as the CPU's: an all -inf row is
    shifted by 0, so its logsumexp is log(0) = -inf, not -inf - -inf = nan)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        v = x[i]
        if v != v or v == math.inf or v == -math.inf:
            x[i] = 0
        i += st


@cuda.jit(cache=True)
def take(n, src, idx, out):
    """out[i] = src[idx[i]] (an indexed gather's forward)."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        out[i] = src[idx[i]]
        i += st


@cuda.jit(cache=True)
def bitwise(n, op, bits, x, sx, y, sy, out):
    """out[i] = x[i * sx] (op) y[i * sy] of integers of out's dtype (``bits`` wide): and, or,
    xor, <<, >> (0..4). A shift by a negative count or by ``bits`` or more gives PyTorch's
    (and the CPU's) 0, or -1 for >> of a negative value."""
    i = cuda.grid(1)
    st = cuda.gridsize(1)
    while i < n:
        a = x[i * sx]
        b = y[i * sy]
        if op == 0:
            out[i] = a & b
        elif op == 1:
            out[i] = a | b
        elif op == 2:
            out[i] = a ^ b
        elif b < 0 or b >= bits:
            out[i] = -1 if op == 4 and a < 0 else 0
        elif op == 3:
            out[i] = a << b
        else:
            out[i] = a >> b
        i += st
